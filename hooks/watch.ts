// `ovs-vif watch`: the service that removes ovs-vif's port of a device that
// disappears without any hook (src/watch.ts). Run by systemd
// (ovs-vif-watch.service) on every node.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { out } from "../src/context.ts";
import { InputError } from "../src/errors.ts";
import { watchDevices } from "../src/watch.ts";

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
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => stop());
  await watchDevices(ctx, {
    sweepMs: Number(raw) * 1000,
    stop: stopped,
    report: (o) => {
      if (ctx.dryRun) out(o.line + "\n");
      else ctx.log.info(`watch: ${o.line}`);
    },
  });
  return 0;
}

export const watchCommand: EntryPoint = { tag: "ovs-vif watch", help: HELP, options: { sweep: "string" }, run };
