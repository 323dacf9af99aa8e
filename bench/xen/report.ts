// bench/run.ts's report: the table, the ratios, the floor, peak RSS, the
// syslog counts, the targets, notes and problems.
import { join } from "node:path";
import { targetLines, type Target } from "../lib/report.ts";
import { aboveFloorLines, versionTarget } from "../lib/runtime-floor.ts";
import type { Samples } from "../lib/samples.ts";
import { fmt, statsTable } from "../lib/stats.ts";
import { countSyslog, syslogTag, type SpawnRecord } from "../lib/syslog-count.ts";
import type { SyslogLine } from "../lib/syslog-receiver.ts";
import type { XenStock } from "../lib/xen-stock.ts";
import type { Contender } from "./contenders.ts";
import { LARGE, RUNS, SMALL, TARGET_PORT_SECURITY_MS, TARGET_XEN, VIF_BRIDGE_KEY, VIF_DEVICE, WARMUPS } from "./settings.ts";

export type SyslogCounts = ReturnType<typeof countSyslog>;

/** Syslog: what arrived, from whom. */
export function syslogCounts(lines: SyslogLine[], spawns: SpawnRecord[], contenders: Contender[], stock: XenStock | undefined): SyslogCounts {
  const stockPath = stock ? join(stock.scriptsDir, "vif-openvswitch") : undefined;
  // logger(1) as the stock script calls it: tag = user name, message "$0: ...".
  const isStock = (t: string) => stockPath !== undefined && t.includes(` ${stockPath}: `);
  const isOvsVif = (t: string) => syslogTag(t) === "vif-openvswitch";
  return countSyslog(
    lines,
    spawns,
    contenders.map((c) => ({
      key: c.key,
      label: c.label,
      expectedPerRun: c.syslogPerRun,
      own: c.syslogTag ? (t: string) => syslogTag(t) === c.syslogTag : c.ovsVif ? isOvsVif : isStock,
    })),
  );
}

export interface XenReport {
  binary: string;
  stock: XenStock | undefined;
  samples: Samples;
  /** Row labels by sample key (the key itself where none). */
  labels: Map<string, string>;
  rss: Map<string, number | undefined>;
  syslog: SyslogCounts | undefined;
  fv: { floor: number[]; version: number[] };
  notes: string[];
  /** Problems so far; the report adds the syslog's. */
  problems: string[];
}

/** Prints the report; true when there is no problem and every gate passes. */
export function printReport(r: XenReport): boolean {
  const { samples, fv, syslog, problems } = r;
  const row = (k: string) => ({ label: r.labels.get(k) ?? k, xs: samples.get(k)! });
  const ratio = (a: string, b: string) => samples.ratio(a, b);
  const lines: string[] = [];
  lines.push("");
  lines.push(`ovs-vif bench — binary ${r.binary}; stock vif-openvswitch ${r.stock ? `from xen-utils-common ${r.stock.version}` : "NOT AVAILABLE"}`);
  lines.push(
    `VM vif ${VIF_DEVICE}, xenstore bridge=${VIF_BRIDGE_KEY}; ${RUNS} timed runs per contender (after ${WARMUPS} warm-ups), interleaved; wall clock spawn-to-exit`,
  );
  lines.push(
    `syslog on (/dev/log a datagram socket read by the bench), default log level, hotplug log in /var/log/xen${syslog ? "" : " — NOT under production conditions, see PROBLEMS"}`,
  );
  lines.push("");
  lines.push(
    ...statsTable([
      ...samples.keys().map(row),
      { label: "runtime floor: empty program, product build", xs: fv.floor },
      { label: "ovs-vif --version", xs: fv.version },
    ]),
  );
  lines.push("");
  lines.push("ratios (of medians)");
  const r10 = ratio(`ovsvif@${SMALL}`, `stock@${SMALL}`);
  const r1000 = ratio(`ovsvif@${LARGE}`, `stock@${LARGE}`);
  const scaleWait = ratio(`ovsvif@${LARGE}`, `ovsvif@${SMALL}`);
  const scaleNoWait = ratio(`nowait@${LARGE}`, `nowait@${SMALL}`);
  lines.push(`  ovs-vif / stock             at ${SMALL} ports: ${fmt(r10, 3)}   at ${LARGE} ports: ${fmt(r1000, 3)}`);
  lines.push(`  cold, ovs-vif watch running (the package's service) / stock cold: ${fmt(ratio(`coldwatch@${SMALL}`, `cold-stock@${SMALL}`), 3)}`);
  lines.push(
    `  cold: ovs-vif / stock       at ${SMALL} ports: ${fmt(ratio(`cold-ovsvif@${SMALL}`, `cold-stock@${SMALL}`), 3)}   (the page cache dropped before each run; ovs-vif cold / warm: ${fmt(ratio(`cold-ovsvif@${SMALL}`, `ovsvif@${SMALL}`), 2)}, stock cold / warm: ${fmt(ratio(`cold-stock@${SMALL}`, `stock@${SMALL}`), 2)})`,
  );
  lines.push(
    `  least Bun hook / stock      at ${SMALL} ports: ${fmt(ratio(`least@${SMALL}`, `stock@${SMALL}`), 3)}   at ${LARGE} ports: ${fmt(ratio(`least@${LARGE}`, `stock@${LARGE}`), 3)}   (the runtime's floor for a hook)`,
  );
  lines.push(
    `  ovs-vif / least Bun hook    at ${SMALL} ports: ${fmt(ratio(`ovsvif@${SMALL}`, `least@${SMALL}`), 3)}   at ${LARGE} ports: ${fmt(ratio(`ovsvif@${LARGE}`, `least@${LARGE}`), 3)}`,
  );
  lines.push(`  ovs-vif ${LARGE} / ${SMALL} ports     waited: ${fmt(scaleWait, 3)}   --no-wait: ${fmt(scaleNoWait, 3)}`);
  const diff = (a: string, b: string) => {
    const ma = samples.median(a);
    const mb = samples.median(b);
    return ma === undefined || mb === undefined ? undefined : ma - mb;
  };
  const psAdded = diff(`pson@${SMALL}`, `ovsvif@${SMALL}`);
  lines.push(
    `  port security on / stock    at ${SMALL} ports: ${fmt(ratio(`pson@${SMALL}`, `stock@${SMALL}`), 3)}   at ${LARGE} ports: ${fmt(ratio(`pson@${LARGE}`, `stock@${LARGE}`), 3)}`,
    `  port security on - off      at ${SMALL} ports: ${fmt(psAdded)} ms   at ${LARGE} ports: ${fmt(diff(`pson@${LARGE}`, `ovsvif@${LARGE}`))} ms   (medians; on / off: ${fmt(ratio(`pson@${SMALL}`, `ovsvif@${SMALL}`), 3)}, ${fmt(ratio(`pson@${LARGE}`, `ovsvif@${LARGE}`), 3)})`,
  );
  if (samples.get(`other@${SMALL}`))
    lines.push(
      `  other binary / stock        at ${SMALL} ports: ${fmt(ratio(`other@${SMALL}`, `stock@${SMALL}`), 3)}   at ${LARGE} ports: ${fmt(ratio(`other@${LARGE}`, `stock@${LARGE}`), 3)}`,
      `  ovs-vif / other binary      at ${SMALL} ports: ${fmt(ratio(`ovsvif@${SMALL}`, `other@${SMALL}`), 3)}   at ${LARGE} ports: ${fmt(ratio(`ovsvif@${LARGE}`, `other@${LARGE}`), 3)}   (ovs-vif - other: ${fmt(diff(`ovsvif@${SMALL}`, `other@${SMALL}`))} ms, ${fmt(diff(`ovsvif@${LARGE}`, `other@${LARGE}`))} ms)`,
    );
  lines.push(
    `  stock ${LARGE} / ${SMALL} ports: ${fmt(ratio(`stock@${LARGE}`, `stock@${SMALL}`), 3)}   ovs-vsctl list-ports ${LARGE} / ${SMALL}: ${fmt(ratio(`vsctl@${LARGE}`, `vsctl@${SMALL}`), 3)}`,
  );
  lines.push("");
  const ours = samples.keys().filter((k) => /^(ovsvif|pson|other|nowait|logerr|least)@/.test(k));
  lines.push(...aboveFloorLines([...ours.map(row), { label: "ovs-vif --version", xs: fv.version }], fv.floor));
  if (r.rss.size > 0) {
    lines.push("");
    lines.push("peak RSS of one online (largest process of the tree, GNU time %M)");
    for (const [label, kb] of r.rss) lines.push(`  ${label.padEnd(52)} ${kb === undefined ? "n/a" : `${(kb / 1024).toFixed(1)} MiB`}`);
  }
  if (syslog) {
    lines.push("");
    lines.push("syslog lines received at /dev/log, per contender (all its runs: warm-ups, timed, RSS):");
    lines.push(...syslog.report);
    if (!syslog.ok) problems.push("syslog: not every contender's lines arrived as expected (see the syslog counts)");
  }
  lines.push("");
  lines.push("targets");
  const targets: Target[] = [
    {
      name: `Xen online at ${SMALL} ports <= ${TARGET_XEN}x stock (waited)`,
      value: r10 === undefined ? "stock not measured" : `${r10.toFixed(3)}x`,
      pass: r10 !== undefined && r10 <= TARGET_XEN,
      gate: true,
    },
    {
      name: `port security adds at most ${TARGET_PORT_SECURITY_MS} ms at ${SMALL} ports`,
      value: `${fmt(psAdded)} ms`,
      pass: psAdded !== undefined && psAdded <= TARGET_PORT_SECURITY_MS,
      gate: true,
    },
    versionTarget(fv.version, fv.floor),
    {
      name: `ovs-vif --no-wait at ${LARGE} <= 1.5x at ${SMALL} ports`,
      value: `${fmt(scaleNoWait, 3)}x`,
      pass: scaleNoWait !== undefined && scaleNoWait <= 1.5,
      gate: true,
    },
    {
      name: "syslog lines of every contender arrived",
      value: syslog ? syslog.counts.map((c) => c.lines).join(" / ") : "no syslog",
      pass: syslog?.ok ?? false,
      gate: true,
    },
    {
      name: `ovs-vif waited at ${LARGE} <= 1.5x at ${SMALL} ports`,
      value: `${fmt(scaleWait, 3)}x`,
      pass: scaleWait !== undefined && scaleWait <= 1.5,
      gate: false,
    },
  ];
  lines.push(...targetLines(targets));
  if (r.notes.length) {
    lines.push("");
    lines.push("notes");
    for (const n of r.notes) lines.push(`  - ${n}`);
  }
  if (problems.length) {
    lines.push("");
    lines.push("PROBLEMS");
    for (const p of problems) lines.push(`  ! ${p}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  return problems.length === 0 && targets.every((t) => t.pass || !t.gate);
}
