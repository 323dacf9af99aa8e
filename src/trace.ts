// OVS_VIF_TRACE=1: milliseconds since process start at each step, on stderr,
// to see where a hook spends its time on a given node.
import { writeFd } from "./files.ts";

export const mark: (step: string) => void = process.env.OVS_VIF_TRACE === "1" ? (step) => writeFd(2, `trace ${performance.now().toFixed(2)} ms ${step}\n`) : () => undefined;
