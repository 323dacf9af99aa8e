// One phase of the boot storm for one contender: every NIC plugged, all at
// once or one after another, from the same clean state; wall time, failures,
// per-plug latency, the daemons' and the hooks' CPU, syslog lines, every port checked.
import { childrenCpuMs, cpuSample } from "../lib/cpu.ts";
import { fmt } from "../lib/stats.ts";
import type { SyslogReceiver } from "../lib/syslog-receiver.ts";
import { timedSpawn, type Run } from "../lib/timed-spawn.ts";
import type { Contender } from "./contenders.ts";
import { checkPorts, cleanState, hotplugError, type Nic, type StormNode } from "./node.ts";

const HOOK_TIMEOUT_MS = 180_000;

export interface PhaseResult {
  phase: string;
  contender: Contender;
  wallMs: number;
  failures: number;
  firstFailure?: string;
  latencies: number[];
  cpu: Map<string, number>;
  hooksCpuMs: number;
  syslogLines: number;
  badPorts: string[];
  notConnected: string[];
}

export interface PhaseContext {
  node: StormNode;
  /** The OVS daemons whose CPU time is sampled (xenstored is added for Xen). */
  daemons: { name: string; pid: number }[];
  receiver: SyslogReceiver;
  log(m: string): void;
}

/** Untimed warm-up: each contender plugs a few NICs once, so no phase pays for cold caches. */
export async function warmUp(ctx: PhaseContext, contenders: Contender[], base: number): Promise<void> {
  for (const c of contenders) {
    await cleanState(ctx.node, base);
    for (const n of ctx.node.nics.slice(0, 3)) {
      const r = await timedSpawn(c.file, c.args, c.env(n), HOOK_TIMEOUT_MS);
      if (r.code !== 0) throw new Error(`${c.label} warm-up failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
  }
}

export async function runPhase(ctx: PhaseContext, phase: string, c: Contender, concurrent: boolean, base: number): Promise<PhaseResult> {
  const { node } = ctx;
  const nics = node.nics;
  await cleanState(node, base);
  const cpuPids = c.family === "xen" ? [...ctx.daemons, { name: "xenstored", pid: node.xs.pid }] : ctx.daemons;
  const before = cpuPids.map((d) => cpuSample(d.pid));
  const childBefore = childrenCpuMs();
  const t0 = performance.now();
  const windowStart = performance.timeOrigin + t0;
  let runs: (Run | Error)[];
  if (concurrent) {
    runs = await Promise.all(nics.map((n) => timedSpawn(c.file, c.args, c.env(n), HOOK_TIMEOUT_MS).catch((e: Error) => e)));
  } else {
    runs = [];
    for (const n of nics) runs.push(await timedSpawn(c.file, c.args, c.env(n), HOOK_TIMEOUT_MS).catch((e: Error) => e));
  }
  const wallMs = performance.now() - t0;
  const windowEnd = performance.timeOrigin + performance.now();
  const after = cpuPids.map((d) => cpuSample(d.pid));
  const hooksCpuMs = childrenCpuMs() - childBefore;
  const cpu = new Map(cpuPids.map((d, i) => [d.name, after[i]!.statMs - before[i]!.statMs]));
  const failed = runs.map((r, i) => ({ r, n: nics[i]! })).filter(({ r }) => r instanceof Error || r.code !== 0);
  const why = async (f: { r: Run | Error; n: Nic }): Promise<string> => {
    if (f.r instanceof Error) return f.r.message;
    const said = (f.r.stderr || f.r.stdout).trim().split("\n").slice(-2).join(" | ");
    return `exit ${f.r.code}: ${said || (c.family === "xen" ? await hotplugError(node.xs, f.n) : "")}`;
  };
  const firstFailure = failed[0] ? `${failed[0].n.dev}: ${await why(failed[0])}` : undefined;
  await new Promise((r) => setTimeout(r, 300)); // the last lines of the stock scripts' loggers
  const lines = ctx.receiver.lines().filter((l) => l.t >= windowStart && l.t <= windowEnd + 300 && c.own(l.text));
  const { badPorts, notConnected } = await checkPorts(node, c.ovsVif, c.family);
  const res: PhaseResult = {
    phase,
    contender: c,
    wallMs,
    failures: failed.length,
    latencies: runs.filter((r): r is Run => !(r instanceof Error)).map((r) => r.ms),
    cpu,
    hooksCpuMs,
    syslogLines: lines.length,
    badPorts,
    notConnected,
  };
  if (firstFailure) res.firstFailure = firstFailure;
  ctx.log(`${phase}, ${c.label}: ${fmt(wallMs / 1000)} s, ${failed.length} failed, ${badPorts.length} ports wrong, ${notConnected.length} not connected`);
  return res;
}
