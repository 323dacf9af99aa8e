// Ganeti on Xen: Ganeti's vif-ganeti execs /etc/xen/scripts/vif-custom with
// Xen's arguments (`online|offline|add|remove [type_if=..]`, vif and
// XENBUS_PATH in the environment); the NIC comes from Ganeti's NIC file
// (src/actions/ganeti-xen-vif.ts). Xen contract: hotplug-status `connected`
// after online; on failure hotplug-error + hotplug-status `error` and exit 1.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { ganetiXenVif } from "../src/actions/ganeti-xen-vif.ts";
import { parseXenInvocation, reportXenFailure, xenLogFile } from "../src/sources/xen.ts";

const HELP = `usage: vif-custom online|offline|add|remove [type_if=vif|tap] [bridge=..] [options]
       ovs-vif vif-custom ...

Ganeti's Xen NIC script (vif-ganeti execs /etc/xen/scripts/vif-custom).
Reads the NIC file $GANETI_ROOTDIR/var/run/ganeti/xen-hypervisor/nic/INSTANCE/DEVID
(MODE, LINK, VLAN, IP, MAC, INTERFACE_*, TAGS, NETWORK_*) and sets the vif
up as openvswitch (one OVSDB transaction), bridged or routed, like the KVM
scripts. Without the NIC file (Ganeti issue 944, after migration), xenstore's
bridge key is used. offline/remove undo it. Writes hotplug-status/-error.

${GLOBAL_HELP}`;

async function run({ args, ctx, env, failure }: Invocation): Promise<number> {
  failure.prefix = `${args.positionals[0] ?? "hotplug"} failed`;
  const inv = parseXenInvocation(args.positionals, env);
  if (!inv) return 0;
  failure.fields = { device: inv.device };
  const fields = await ganetiXenVif(inv, ctx);
  ctx.log.info(`${inv.command} ok`, fields);
  return 0;
}

export const vifCustom: EntryPoint = { tag: "vif-custom", help: HELP, logFile: xenLogFile, run, reportFailure: reportXenFailure };
