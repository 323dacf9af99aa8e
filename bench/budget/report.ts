// bench/budget.ts's report: per binary, the median traced run step by step
// and the untraced marks; per category, the median share; the floor; the
// same online twice in one process.
import { fmt, stats } from "../lib/stats.ts";
import { untracedSteps } from "./marks.ts";
import type { Budget } from "./segments.ts";
import type { Twice } from "./twice.ts";

/** One binary's runs. */
export interface BinaryResult {
  binary: string;
  budgets: Budget[];
  /** Untraced, with OVS_VIF_TRACE=1 and without. */
  untraced: number[];
  untracedNoMarks: number[];
  marks: Map<string, number>[];
}

export interface BudgetReport {
  ports: number;
  untracedRuns: number;
  results: BinaryResult[];
  floorTotals: number[];
  floorRuntime: number[];
  floorUntraced: number[];
  twice: Twice;
  notes: string[];
}

export function budgetReport({ ports, untracedRuns, results, floorTotals, floorRuntime, floorUntraced, twice, notes }: BudgetReport): string[] {
  const lines: string[] = [];
  lines.push("", `Xen hook budget: vif-openvswitch online, ${ports} other ports, strace -f -ttt -T; ms since execve`);
  for (const res of results) {
    const totals = res.budgets.map((b) => b.total);
    const medianRun = [...res.budgets].sort((a, b) => a.total - b.total)[Math.floor(res.budgets.length / 2)]!;
    lines.push("", `== ${res.binary}`);
    lines.push(
      `   traced total: median ${fmt(stats(totals).median)} ms (${res.budgets.length} runs, min ${fmt(stats(totals).min)}); untraced: median ${fmt(stats(res.untraced).median)} ms with OVS_VIF_TRACE=1, ${fmt(stats(res.untracedNoMarks).median)} ms without (${untracedRuns} runs each)`,
    );
    lines.push("", `   the median traced run (${fmt(medianRun.total)} ms), step by step:`);
    lines.push(`   ${"start".padStart(7)} ${"ms".padStart(7)}  ${"category".padEnd(22)} step`);
    for (const s of medianRun.segments) {
      lines.push(`   ${fmt(s.start).padStart(7)} ${fmt(s.end - s.start).padStart(7)}  ${s.category.padEnd(22)} ${s.label}${s.detail ? `  [${s.detail}]` : ""}`);
    }
    for (const n of medianRun.notes) lines.push(`   - ${n}`);
    lines.push("", ...untracedSteps(res.marks, res.untraced));
  }
  // Per category: the median over runs of each run's sum.
  const categories = [...new Set(results.flatMap((r) => r.budgets.flatMap((b) => b.segments.map((s) => s.category))))];
  const perCat = (b: Budget, c: string) => b.segments.filter((s) => s.category === c).reduce((a, s) => a + s.end - s.start, 0);
  lines.push("", "per category, median over the traced runs (ms; share of the traced total)");
  lines.push(`   ${"category".padEnd(22)} ${results.map((r, i) => `#${i + 1}`.padStart(16)).join("")}`);
  for (const c of categories) {
    lines.push(
      `   ${c.padEnd(22)} ${results
        .map((r) => {
          const v = stats(r.budgets.map((b) => perCat(b, c))).median;
          const share = v / stats(r.budgets.map((b) => b.total)).median;
          return `${fmt(v).padStart(8)} (${(share * 100).toFixed(0).padStart(2)}%)`;
        })
        .join("")}`,
    );
  }
  lines.push(`   ${"total".padEnd(22)} ${results.map((r) => fmt(stats(r.budgets.map((b) => b.total)).median).padStart(8) + "      ").join("")}`);
  results.forEach((r, i) => lines.push(`   #${i + 1} = ${r.binary}`));
  lines.push(
    "",
    `runtime floor (empty program, product build flags), traced alike: total median ${fmt(stats(floorTotals).median)} ms, of which exec + runtime start (to its event loop) ${fmt(stats(floorRuntime).median)} ms; untraced ${fmt(stats(floorUntraced).median)} ms`,
  );
  lines.push(
    "",
    `the same online twice in one process (bench/plug-twice.ts, product build flags, modules loaded before; ${untracedRuns} runs): first ${fmt(stats(twice.first).median)} ms, second ${fmt(stats(twice.second).median)} ms (median); the difference is the runtime's first use of what the hook runs`,
    `   ${"first".padStart(7)} ${"second".padStart(7)} ${"diff".padStart(7)}  step (median of each step's time, ms)`,
    ...twice.order.map((name) => {
      const [a, b] = [0, 1].map((k) => stats(twice.steps[k as 0 | 1].get(name) ?? [0]).median) as [number, number];
      return `   ${fmt(a).padStart(7)} ${fmt(b).padStart(7)} ${fmt(a - b).padStart(7)}  ${name}`;
    }),
  );
  lines.push(
    "",
    "notes",
    ...notes.map((n) => `  - ${n}`),
    "  - strace stops the process at every syscall: absolute numbers are inflated (see traced vs untraced); compare shares and before/after.",
  );
  return lines;
}
