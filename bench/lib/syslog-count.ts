// Whose syslog lines arrived: each line goes to the contender run that was
// going on when it arrived (by time) and counts when its content is that
// contender's (by sender tag or text).
import type { SyslogLine } from "./syslog-receiver.ts";

/** The sender's tag: RFC 3164 `<PRI>Mmm dd hh:mm:ss TAG[PID]: ` or RFC 5424 `<PRI>1 TIME HOST APP ...`. */
export function syslogTag(text: string): string {
  const m3164 = /^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d ([^\s[:]+)(\[\d+\])?:/.exec(text);
  if (m3164) return m3164[1]!;
  const m5424 = /^<\d+>1 \S+ \S+ (\S+) /.exec(text);
  return m5424 ? m5424[1]! : "(unparsed)";
}

/** Counts per tag, largest first: "tag N, tag N". */
export function tagSummary(lines: SyslogLine[]): string {
  const n = new Map<string, number>();
  for (const l of lines) n.set(syslogTag(l.text), (n.get(syslogTag(l.text)) ?? 0) + 1);
  return [...n]
    .sort((a, b) => b[1] - a[1])
    .map(([t, c]) => `${t} ${c}`)
    .join(", ");
}

/** A spawned contender run, to attribute the syslog lines that arrive during it. */
export interface SpawnRecord {
  key: string;
  start: number;
}

/** Each line goes to the latest run that started before it arrived. */
export function attributeLines(lines: SyslogLine[], runs: SpawnRecord[]): Map<string, SyslogLine[]> {
  const sorted = [...runs].sort((a, b) => a.start - b.start);
  const out = new Map<string, SyslogLine[]>();
  for (const line of lines) {
    let owner: SpawnRecord | undefined;
    for (const r of sorted) {
      if (r.start <= line.t) owner = r;
      else break;
    }
    const key = owner?.key ?? "(before any run)";
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push(line);
  }
  return out;
}

/** Syslog lines per contender: each contender's own lines (by content) in its runs' windows (by time). */
export interface SyslogCount {
  label: string;
  runs: number;
  lines: number;
  /** Lines each run must send; undefined: at least one. */
  expectedPerRun?: number;
}

export function countSyslog(
  lines: SyslogLine[],
  spawns: SpawnRecord[],
  contenders: { key: string; label: string; expectedPerRun?: number | undefined; own(text: string): boolean }[],
): { counts: SyslogCount[]; ok: boolean; report: string[] } {
  const byRun = attributeLines(lines, spawns);
  const counts = contenders.map((c) => {
    const count: SyslogCount = {
      label: c.label,
      runs: spawns.filter((s) => s.key === c.key).length,
      lines: (byRun.get(c.key) ?? []).filter((l) => c.own(l.text)).length,
    };
    if (c.expectedPerRun !== undefined) count.expectedPerRun = c.expectedPerRun;
    return count;
  });
  const ok = counts.every((c) => (c.expectedPerRun !== undefined ? c.lines === c.expectedPerRun * c.runs : c.lines >= c.runs));
  const w = Math.max(...counts.map((c) => c.label.length));
  const report = counts.map((c) => {
    const per = c.runs > 0 ? c.lines / c.runs : 0;
    return `  ${c.label.padEnd(w)}  ${String(c.lines).padStart(5)} lines / ${String(c.runs).padStart(3)} runs = ${per.toFixed(2)} per run${c.expectedPerRun !== undefined ? ` (expected ${c.expectedPerRun})` : " (expected >= 1)"}`;
  });
  report.push(`  all lines by sender tag: ${tagSummary(lines)}`);
  const shown = new Set<string>();
  for (const c of contenders) {
    const sample = lines.find((l) => c.own(l.text));
    if (sample && !shown.has(syslogTag(sample.text))) {
      shown.add(syslogTag(sample.text));
      report.push(`  e.g. ${c.label}: ${JSON.stringify(sample.text)}`);
    }
  }
  return { counts, ok, report };
}
