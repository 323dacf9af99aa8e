// What the NIC modes share: the run context, planned link-level steps (so a
// dry run can print them and tests can compare them), /sys readers, and the
// OVS leftovers a NIC must not keep when it is not (or no longer) on OVS.
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { GlobalOptions } from "../cli/common.ts";
import { connectOvsdb, out } from "../cli/common.ts";
import { OvsdbError } from "../errors.ts";
import { run } from "../exec.ts";
import type { Log } from "../log.ts";
import { resolveEndpoint, type OvsdbClient } from "../ovsdb/client.ts";
import { detachPort } from "../ovsdb/ports.ts";
import { Deadline } from "../ovsdb/transact.ts";

export interface ModeContext {
  opts: GlobalOptions;
  log: Log;
  deadline: Deadline;
  /** Dry run: where planned steps and transactions are printed. */
  print?: (line: string) => void;
}

export function makeContext(opts: GlobalOptions, log: Log): ModeContext {
  const ctx: ModeContext = { opts, log, deadline: new Deadline(opts.timeoutMs) };
  if (opts.dryRun) ctx.print = (line) => out(line + "\n");
  return ctx;
}

/** One link-level change: an `ip` or `bridge` batch, or a sysctl write. */
export type Step =
  | {
      kind: "ip" | "bridge";
      /** Global options (e.g. -6), before the batch. */
      options?: string[];
      lines: string[];
      /** Failure is not an error (stock: `|| true`). */
      tolerate?: boolean;
    }
  | { kind: "sysctl"; path: string; value: string };

export function describeStep(step: Step): string[] {
  if (step.kind === "sysctl") return [`echo ${step.value} > ${step.path}`];
  const prefix = [step.kind, ...(step.options ?? [])].join(" ");
  return step.lines.map((l) => `${prefix} ${l}${step.tolerate ? " || true" : ""}`);
}

/** Runs steps in order; each ip/bridge step is one process (-batch). */
export async function runSteps(steps: Step[], ctx: ModeContext): Promise<void> {
  if (ctx.print) {
    for (const s of steps) for (const line of describeStep(s)) ctx.print(line);
    return;
  }
  for (const step of steps) {
    if (step.kind === "sysctl") {
      writeFileSync(step.path, step.value + "\n");
      continue;
    }
    if (step.lines.length === 0) continue;
    const timeoutMs = Math.max(1000, ctx.deadline.left());
    if (step.lines.length === 1) {
      await run(step.kind, [...(step.options ?? []), ...step.lines[0]!.split(" ")], { timeoutMs, reject: !step.tolerate });
    } else {
      await run(step.kind, [...(step.options ?? []), "-batch", "-"], { input: step.lines.join("\n") + "\n", timeoutMs, reject: !step.tolerate });
    }
  }
}

// ----------------------------------------------------------------- /sys

const SYSFS = "/sys/class/net";

export function readSys(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function linkExists(dev: string): boolean {
  return existsSync(`${SYSFS}/${dev}`);
}

export function isLinuxBridge(dev: string): boolean {
  return existsSync(`${SYSFS}/${dev}/bridge`);
}

export function linkAttr(dev: string, attr: string): string | undefined {
  return readSys(`${SYSFS}/${dev}/${attr}`);
}

/** The bridge (or other master) a device is enslaved to, if any. */
export function masterOf(dev: string): string | undefined {
  try {
    return basename(readlinkSync(`${SYSFS}/${dev}/master`));
  } catch {
    return undefined;
  }
}

/** A bridge's ports (its lower_* links). */
export function bridgePorts(bridge: string): string[] {
  try {
    return readdirSync(`${SYSFS}/${bridge}`)
      .filter((e) => e.startsWith("lower_"))
      .map((e) => e.slice("lower_".length))
      .sort();
  } catch {
    return [];
  }
}

// ----------------------------------------------------------------- OVS

/** Connects only when an OVSDB is there: undefined (and a debug line) when
 * the socket is missing or refuses, so nodes without OVS keep working. */
export async function optionalOvsdb(ctx: ModeContext): Promise<OvsdbClient | undefined> {
  const endpoint = resolveEndpoint(ctx.opts.db);
  if (endpoint.kind === "unix" && !existsSync(endpoint.path!)) {
    ctx.log.debug("no OVSDB socket, skipping the OVS leftover check", { db: endpoint.text });
    return undefined;
  }
  try {
    return await connectOvsdb(ctx.opts, new Deadline(Math.min(2000, ctx.deadline.left())));
  } catch (err) {
    if (err instanceof OvsdbError) {
      ctx.log.debug("OVSDB not reachable, skipping the OVS leftover check", { db: endpoint.text, error: err.message });
      return undefined;
    }
    throw err;
  }
}

/** A NIC that moved from openvswitch to another mode must not leave its old
 * port behind (Ganeti issue 1412): vswitchd would grab the new device of the
 * same name. Waits for vswitchd so the device is released before it is used. */
export async function removeLeftoverOvsPort(device: string, ctx: ModeContext): Promise<number> {
  const db = await optionalOvsdb(ctx);
  if (!db) return 0;
  try {
    // Bounded: a stopped ovs-vswitchd holds no device, so not hearing from
    // it is no reason to fail a bridged or routed NIC.
    const deadline = new Deadline(Math.min(5000, ctx.deadline.left()));
    const res = await detachPort(db, device, { deadline, wait: ctx.opts.wait, ...(ctx.print ? { dryRun: printTxn(ctx) } : {}) }).catch((err: unknown) => {
      if (err instanceof OvsdbError && err.cause_ === "vswitchd") {
        ctx.log.info("removed leftover OVS port; ovs-vswitchd did not confirm", { device });
        return { removed: 1, bridges: [] as string[] };
      }
      throw err;
    });
    if (res.removed > 0) ctx.log.info("removed leftover OVS port", { device, bridge: res.bridges.join(",") || undefined });
    return res.removed;
  } finally {
    db.close();
  }
}

export function printTxn(ctx: ModeContext): (txn: unknown) => void {
  return (txn) => ctx.print?.(JSON.stringify({ method: "transact", params: txn }));
}
