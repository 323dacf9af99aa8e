// The Xen hook's `online` twice in one process, with an `offline` between,
// compiled with the product's flags by bench/budget.ts: the first run pays
// the runtime's first use of everything the hook runs (the engine still
// interpreting, each built-in and runtime facility set up once), the second
// mostly the work itself (the round trips, ovs-vswitchd, the syscalls).
// Module loading happens before either (static imports). Prints one line:
//   plug-twice first=MS offline=MS second=MS
// and with OVS_VIF_TRACE=1 the hook's step marks, each run's after a mark
// naming the run (first online, offline, second online).
import { runEntry } from "../src/cli/runner.ts";
import { mark } from "../src/trace.ts";
import { xenHook } from "../hooks/xen.ts";

const online = ["online", "type_if=vif"];
const t0 = performance.now();
mark("first online");
const first = await runEntry(xenHook, online);
const t1 = performance.now();
mark("offline");
const offline = await runEntry(xenHook, ["offline", "type_if=vif"]);
const t2 = performance.now();
mark("second online");
const second = await runEntry(xenHook, online);
const t3 = performance.now();
console.error(`plug-twice first=${(t1 - t0).toFixed(2)} offline=${(t2 - t1).toFixed(2)} second=${(t3 - t2).toFixed(2)}`);
process.exit(first || offline || second);
