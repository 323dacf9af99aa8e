// `ovs-vif watch` (src/actions/watch.ts, src/watch.ts).
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { InputError } from "../src/errors.ts";
import { watchUntilStopped } from "../src/actions/watch.ts";

const HELP = `usage: ovs-vif watch [--sweep SECONDS] [options]

Removes the OVS port of a VM device that disappears without any hook (a
failed migration's target, a crashed QEMU, Ganeti 3.0's missing down
script) as soon as the kernel reports the link deleted (ip -o monitor link),
and sweeps every ovs-vif port at start and every SECONDS (default 300).
Only ports ovs-vif created, and only when their device is gone. Runs until
SIGTERM; one log line per removed port. Shipped as ovs-vif-watch.service.

${GLOBAL_HELP}`;

async function run({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "watch takes options only");
  const raw = args.string("sweep") ?? "300";
  if (!/^[0-9]{1,6}$/.test(raw) || Number(raw) < 1) throw new InputError("--sweep", raw, "expected whole seconds, at least 1");
  return watchUntilStopped(ctx, Number(raw));
}

export const watchCommand: EntryPoint = { tag: "ovs-vif watch", help: HELP, options: { sweep: "string" }, run };
