// bench/run.ts's sizes and counts, and the VM NIC it plugs.

/** Timed runs per contender and port count. */
export const RUNS = Math.max(15, Number(process.env.OVS_VIF_BENCH_RUNS ?? 20) || 20);
export const WARMUPS = 2;
export const FLOOR_RUNS = 40;
export const CONTEXT_RUNS = 20;
/** Other ports on the bridge. */
export const SMALL = 10;
export const LARGE = 1000;
export const TARGET_XEN = 0.2;

/** Domain 7's first NIC: Xen names its backend device vif7.0. */
export const VIF_DOMID = 7;
export const VIF_DEVICE = `vif${VIF_DOMID}.0`;
export const VIF_BRIDGE_KEY = "sw1.3:10:20";
/** Its backend's `ip` key for the port-security contender (xl ip=). */
export const VIF_IP = "198.51.100.7";
/** Port security adds at most this much at SMALL ports (ms, difference of medians). */
export const TARGET_PORT_SECURITY_MS = 2;
