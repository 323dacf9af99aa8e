// The port of a device that disappears without any hook (a failed
// migration's target, a crashed QEMU, Ganeti 3.0, which has no down script)
// must not wait for a periodic gc: a stale row captures the next VM that
// reuses the tap's name. The watcher listens to the kernel's link events
// (`ip -o monitor link`, so no netlink code of our own) and removes
// ovs-vif's port of a deleted device at once; it also sweeps at start and
// every few minutes, for events it could not see (while it was not running).
// Only ports ovs-vif created are touched, and only when their device is
// gone; a port re-created meanwhile under the same name has another uuid and
// is left alone (the removal is guarded by the uuid it saw).
import { connectOvsdb, type RunContext } from "./context.ts";
import { monitorLinkDeletions } from "./netdev.ts";
import { OvsdbError } from "./errors.ts";
import { collectOrphanQos, collectStalePorts } from "./stale.ts";
import { type Outcome } from "./outcome.ts";
import type { OvsdbClient } from "./ovsdb/client.ts";
import { listManagedPorts } from "./ovsdb/ports.ts";
import { GuardConflict } from "./ovsdb/transact.ts";
import { Deadline } from "./deadline.ts";
import { resolveEndpoint } from "./remote.ts";

export interface WatchOptions {
  /** Between sweeps of every ovs-vif port (default 5 minutes). */
  sweepMs: number;
  /** Called with each removal line (tests, the log). */
  report: (line: Outcome) => void;
  /** Resolves when the watcher should stop (SIGTERM). */
  stop: Promise<void>;
}

class Watcher {
  private db: OvsdbClient | undefined;
  private queue = new Set<string>();
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: RunContext,
    private readonly opts: WatchOptions,
  ) {}

  private async client(): Promise<OvsdbClient> {
    if (!this.db) this.db = await connectOvsdb({ opts: this.ctx.opts, deadline: new Deadline(5000) });
    return this.db;
  }

  /** One pass over `names` (undefined: every ovs-vif port); never throws. */
  private async pass(names?: string[], tries = 3): Promise<void> {
    const run: RunContext = { ...this.ctx, deadline: new Deadline(this.ctx.opts.timeoutMs) };
    try {
      const db = await this.client();
      const ports =
        names === undefined ? await listManagedPorts(db, run.deadline) : (await Promise.all(names.map((n) => listManagedPorts(db, run.deadline, n)))).flat();
      for (const line of await collectStalePorts(db, run, ports)) this.opts.report(line);
      if (names === undefined) for (const line of await collectOrphanQos(db, run)) this.opts.report(line);
    } catch (err) {
      // A port re-created meanwhile: read again (it is no longer stale).
      if (err instanceof GuardConflict && tries > 1) return this.pass(names, tries - 1);
      if (err instanceof OvsdbError) {
        this.db?.close();
        this.db = undefined;
      }
      this.ctx.log.warn(`watch: ${err instanceof Error ? err.message : String(err)}`);
      // What could not be done now is looked at again by the next sweep.
    }
  }

  /** Serialised: one pass at a time, deletions batched while one runs. */
  deleted(name: string): void {
    this.queue.add(name);
    this.running = this.running.then(async () => {
      if (this.queue.size === 0) return;
      const names = [...this.queue];
      this.queue.clear();
      await this.pass(names);
    });
  }

  sweep(): Promise<void> {
    this.running = this.running.then(() => this.pass());
    return this.running;
  }

  close(): void {
    this.db?.close();
  }
}

/** Runs until opts.stop resolves. */
export async function watchDevices(ctx: RunContext, opts: WatchOptions): Promise<void> {
  // Before anything starts waiting: a remote that can never be used (--db,
  // OVS_RUNDIR) fails now, in one line, instead of a warning every sweep.
  resolveEndpoint(ctx.opts.db);
  const watcher = new Watcher(ctx, opts);
  let monitor: { stop(): void } | undefined;
  let stopping = false;
  const start = (): { stop(): void } =>
    monitorLinkDeletions(
      (name) => watcher.deleted(name),
      () => {
        if (stopping) return;
        ctx.log.warn("watch: ip monitor ended; restarting it and sweeping");
        setTimeout(() => {
          if (stopping) return;
          monitor = start();
          void watcher.sweep();
        }, 1000);
      },
    );
  monitor = start();
  // After the monitor runs: a device deleted now is seen by one or the other.
  await watcher.sweep();
  ctx.log.info("watch: watching link deletions", { sweep_s: opts.sweepMs / 1000 });
  const timer = setInterval(() => void watcher.sweep(), opts.sweepMs);
  await opts.stop;
  stopping = true;
  clearInterval(timer);
  monitor?.stop();
  watcher.close();
}
