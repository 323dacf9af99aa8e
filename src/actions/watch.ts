// `ovs-vif watch`: the service (ovs-vif-watch.service) removing ovs-vif's
// port of a device that disappears without any hook, until SIGTERM.
import { out, type RunContext } from "../context.ts";
import { watchDevices } from "../watch.ts";

/** Watches until SIGTERM or SIGINT; one log line (dry run: one printed line) per removed port. */
export async function watchUntilStopped(ctx: RunContext, sweepSeconds: number): Promise<number> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => stop());
  await watchDevices(ctx, {
    sweepMs: sweepSeconds * 1000,
    stop: stopped,
    report: (o) => {
      if (ctx.dryRun) out(o.line + "\n");
      else ctx.log.info(`watch: ${o.line}`);
    },
  });
  return 0;
}
