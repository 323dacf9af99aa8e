// `ovs-vif vlan add|remove|set` (src/actions/vlan.ts).
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { out } from "../src/context.ts";
import { changeNicVlan } from "../src/actions/vlan.ts";
import { parseVlanEdit, parseVlanEditArgs } from "../src/ganeti/vlan-edit.ts";
import { parseInstanceName } from "../src/names.ts";
import { vlanFormsHelp } from "../src/vlan.ts";

const HELP = `usage: ovs-vif vlan add INSTANCE NIC VLAN...
       ovs-vif vlan remove INSTANCE NIC VLAN...
       ovs-vif vlan set INSTANCE NIC VLANSTRING|none

Changes a Ganeti NIC's vlan without retyping it: add makes VLANs tagged on
the NIC (an access port .3 becomes hybrid .3:20); remove drops them (the last
tagged VLAN of a hybrid leaves an access port; its native VLAN makes it a
trunk). set takes a whole Ganeti vlan string:
${vlanFormsHelp()}
The new string is validated, then set with
'gnt-instance modify --net NIC:modify,vlan=NEW INSTANCE' (on the master), and
applied to the running port in place (here, and by the instance-modify hook
where the instance runs). --dry-run prints the new string and the port change.

${GLOBAL_HELP}`;

async function run({ args, ctx }: Invocation): Promise<number> {
  const action = args.positionals[0];
  if (action === undefined) {
    out(HELP + "\n");
    return 2;
  }
  const kind = parseVlanEdit("vlan action", action);
  const instance = parseInstanceName("INSTANCE", args.required(1, "INSTANCE"));
  const nicId = args.required(2, "NIC", "required (index, name or UUID)");
  return changeNicVlan(instance, nicId, parseVlanEditArgs(kind, args.positionals.slice(3)), ctx);
}

export const vlanCommand: EntryPoint = { tag: "ovs-vif", help: HELP, run };
