// What one run hands to every adapter: the validated global options, its
// log, its time budget, and (in a dry run) where planned changes are printed.
import { writeFd } from "./files.ts";
import type { Log } from "./log.ts";
import { OvsdbClient } from "./ovsdb/client.ts";
import { resolveEndpoint } from "./remote.ts";
import { Deadline } from "./deadline.ts";
import type { DryRun } from "./dry-run.ts";
import type { ApplyOptions } from "./ovsdb/ports.ts";

/** The options every entry point shares, validated (src/cli/args.ts). */
export interface GlobalOptions {
  db?: string;
  timeoutMs: number;
  dryRun: boolean;
  wait: boolean;
  verbose: boolean;
}

export interface RunContext {
  opts: GlobalOptions;
  log: Log;
  deadline: Deadline;
  /** A dry run: where the changes that would be made are printed. */
  dryRun?: DryRun;
}

/** Synchronous stdout: Bun's process.stdout stream costs ~10 ms to set up. */
export function out(text: string): void {
  writeFd(1, text);
}

export function makeContext(opts: GlobalOptions, log: Log): RunContext {
  const ctx: RunContext = { opts, log, deadline: new Deadline(opts.timeoutMs) };
  if (opts.dryRun) ctx.dryRun = { print: (text) => out(text.endsWith("\n") ? text : text + "\n") };
  return ctx;
}

/** What a write of this run is told: its budget, whether it waits for
 * ovs-vswitchd, and its dry run (OVSDB writes print themselves there). */
export function applyOf(ctx: Pick<RunContext, "opts" | "deadline" | "dryRun">): ApplyOptions {
  return { deadline: ctx.deadline, wait: ctx.opts.wait, ...(ctx.dryRun ? { dryRun: ctx.dryRun } : {}) };
}

/** The OVSDB of this run (--db, else $OVS_RUNDIR/db.sock). */
export function connectOvsdb(ctx: Pick<RunContext, "opts" | "deadline">): Promise<OvsdbClient> {
  return OvsdbClient.connect(resolveEndpoint(ctx.opts.db), Math.min(ctx.deadline.left(), 5000));
}

/** Runs `fn` on a connection to this run's OVSDB, closed afterwards. */
export async function withOvsdb<T>(ctx: Pick<RunContext, "opts" | "deadline">, fn: (db: OvsdbClient) => Promise<T>): Promise<T> {
  const db = await connectOvsdb(ctx);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
