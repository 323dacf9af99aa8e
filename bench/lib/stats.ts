// Statistics of timed runs, and the table every bench prints them in.

export interface Stats {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)]!;
  return { n, median, p90, min: s[0]!, max: s[n - 1]! };
}

export function fmt(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(digits);
}

/** Table rows: label, runs, median, min, max, p90 (ms). */
export function statsTable(rows: { label: string; xs: number[] }[], title = "measurement (ms)"): string[] {
  const w = Math.max(title.length, ...rows.map((r) => r.label.length));
  const cols = ["runs", "median", "min", "max", "p90"];
  const out = [`${title.padEnd(w)}  ${cols.map((c, i) => c.padStart(i === 0 ? 4 : 8)).join("  ")}`, "-".repeat(w + 46)];
  for (const r of rows) {
    if (r.xs.length === 0) continue;
    const s = stats(r.xs);
    out.push(`${r.label.padEnd(w)}  ${String(s.n).padStart(4)}  ${[s.median, s.min, s.max, s.p90].map((x) => fmt(x).padStart(8)).join("  ")}`);
  }
  return out;
}
