// The private OVS as a node's: its daemons' syslog level as Debian starts them,
// and a bridge filled with other ports.
import { join } from "node:path";
import { must } from "../../test/harness/proc.ts";
import type { OvsHandle } from "../../test/harness/ovs.ts";

/** OVS's daemons log to syslog at error level only, as Debian's ovs-ctl starts them (-vsyslog:err); the test harness leaves info. */
export async function productionOvsLogLevels(ovs: OvsHandle): Promise<string> {
  await ovs.appctl("vlog/set", "syslog:err");
  await must("ovs-appctl", ["-t", join(ovs.dir, "ovsdb-server.ctl"), "vlog/set", "syslog:err"]);
  return "ovsdb-server and ovs-vswitchd log to syslog at error level (vlog/set syslog:err), as Debian's ovs-ctl starts them; ovs-vsctl keeps its default (info: it logs each changing call)";
}

/** Adds internal ports p{from}..p{to} to BRIDGE, 100 per ovs-vsctl call. */
export async function addInternalPorts(vsctl: (...args: string[]) => Promise<string>, bridge: string, from: number, to: number): Promise<void> {
  for (let start = from; start <= to; start += 100) {
    const args: string[] = ["--timeout=120"];
    for (let i = start; i <= Math.min(to, start + 99); i++) args.push("--", "add-port", bridge, `p${i}`, "--", "set", "interface", `p${i}`, "type=internal");
    await vsctl(...args);
  }
}
