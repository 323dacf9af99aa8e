// The hook's own step marks (OVS_VIF_TRACE=1) in untraced runs: no strace
// overhead, at the marks' resolution.
import { fmt, stats } from "../lib/stats.ts";
import type { Run } from "../lib/timed-spawn.ts";

/** The hook's own marks (OVS_VIF_TRACE=1: "trace N ms STEP" on stderr, ms since the runtime's time origin) plus the spawn-to-exit time. */
export function marksOf(r: Run): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of r.stderr.split("\n")) {
    const x = /^trace ([\d.]+) ms (.+)$/.exec(l);
    if (x) m.set(x[2]!, Number(x[1]));
  }
  m.set("exit: spawn to exit as the parent sees it (also counts exec and Bun before its time origin)", r.ms);
  return m;
}

/** Untraced step times from the marks: the median of each step's increment over the runs. */
export function untracedSteps(runs: Map<string, number>[], totals: number[]): string[] {
  const names = [...(runs[0]?.keys() ?? [])];
  const out = [
    `   untraced, from the hook's own marks (${runs.length} runs, total median ${fmt(stats(totals).median)} ms; no strace overhead, mark resolution):`,
  ];
  out.push(`   ${"at".padStart(7)} ${"step".padStart(7)}  to`);
  names.forEach((name, i) => {
    const at = runs.map((m) => m.get(name)).filter((x): x is number => x !== undefined);
    const step = runs.map((m) => (i === 0 ? m.get(name)! : m.get(name)! - m.get(names[i - 1]!)!)).filter((x) => Number.isFinite(x));
    if (at.length)
      out.push(
        `   ${fmt(stats(at).median).padStart(7)} ${fmt(stats(step).median).padStart(7)}  ${i === 0 ? `${name} (from the runtime's time origin)` : name}`,
      );
  });
  return out;
}
