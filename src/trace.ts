// OVS_VIF_TRACE=1: milliseconds since process start at each step, on stderr,
// to see where a hook spends its time on a given node. console.error writes
// synchronously and loads nothing: a mark must not move the costs it times
// (writeFd's first call loads libc).
export const mark: (step: string) => void =
  process.env.OVS_VIF_TRACE === "1" ? (step) => console.error(`trace ${performance.now().toFixed(2)} ms ${step}`) : () => undefined;
