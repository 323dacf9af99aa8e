// `ovs-vif gc` (src/actions/gc.ts).
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { collectGarbage } from "../src/actions/gc.ts";
import { parseInstanceName } from "../src/names.ts";

const HELP = `usage: ovs-vif gc [--instance NAME] [--dry-run]

Removes ports that ovs-vif created (Port external_ids ovs-vif-owner) whose
device no longer exists or that ovs-vswitchd cannot open, in one
transaction, with their receive-limit QoS rows; without --instance also the
QoS/Queue rows ovs-vif made (external_ids ovs-vif-port) that no port uses.
Never touches ports or rows it did not create. Prints what it removed.

${GLOBAL_HELP}`;

async function run({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "gc takes options only; use --instance NAME for one instance");
  const instance = args.string("instance");
  return collectGarbage(ctx, instance === undefined ? undefined : parseInstanceName("--instance", instance));
}

export const gcCommand: EntryPoint = { tag: "ovs-vif", help: HELP, options: { instance: "string" }, run };
