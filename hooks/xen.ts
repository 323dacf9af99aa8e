// Xen's vif-openvswitch: `vif-openvswitch online|offline|add|remove [k=v...]`
// with vif / XENBUS_PATH / INTERFACE in the environment.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { xenVif } from "../src/actions/xen-vif.ts";
import { parseXenInvocation, reportXenFailure, xenLogFile } from "../src/sources/xen.ts";
import { mark } from "../src/trace.ts";
import { vlanFormsHelp } from "../src/vlan.ts";

const HELP = `usage: vif-openvswitch online|offline|add|remove [bridge=BR[.N][:A:B...]] [type_if=vif|tap] [options]
       ovs-vif xen-vif online|offline|add|remove ...

Xen hotplug script: attaches the backend device ($vif, or $INTERFACE for
the emulated tap twin) to the Open vSwitch bridge named by xenstore's
$XENBUS_PATH/bridge (or the bridge= argument), in one OVSDB transaction with
an explicit vlan_mode:
${vlanFormsHelp("BR")}
A backend 'vlan' key (xl vlan=) overrides the suffix. Writes hotplug-status /
hotplug-error.

${GLOBAL_HELP}`;

async function run({ args, ctx, env, failure }: Invocation): Promise<number> {
  mark("xen hook loaded");
  failure.prefix = `${args.positionals[0] ?? "hotplug"} failed`;
  const inv = parseXenInvocation(args.positionals, env);
  if (!inv) return 0;
  failure.fields = { device: inv.device };
  const fields = await xenVif(inv, ctx);
  ctx.log.info(`${inv.command} ok`, fields);
  return 0;
}

export const xenHook: EntryPoint = {
  tag: "vif-openvswitch",
  help: HELP,
  logFile: xenLogFile,
  run,
  reportFailure: reportXenFailure,
};
