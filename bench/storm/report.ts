// The boot storm's report: per family, a row per phase and contender, the
// per-plug growth from 10 to 1000 ports, ovs-vif / stock, and what went wrong.
import { fmt, stats } from "../lib/stats.ts";
import type { PhaseResult } from "./phase.ts";

export interface StormReport {
  results: PhaseResult[];
  families: string[];
  vms: number;
  binary: string;
  small: number;
  large: number;
  notes: string[];
  /** Problems so far; ovs-vif's failures and missing syslog lines are added. */
  problems: string[];
}

export function stormReport(r: StormReport): string[] {
  const { vms, small, large, problems } = r;
  const lines: string[] = [];
  lines.push("", `boot storm: ${vms} NICs on sw1 (own VLANs each), binary ${r.binary}; production syslog on, default log level`);
  for (const family of r.families) {
    const fam = r.results.filter((x) => x.contender.family === family);
    if (fam.length === 0) continue;
    const daemonNames = family === "xen" ? ["ovsdb-server", "ovs-vswitchd", "xenstored"] : ["ovsdb-server", "ovs-vswitchd"];
    lines.push("", family === "xen" ? "Xen (vif-openvswitch online)" : "Ganeti KVM (kvm-ifup, openvswitch mode)");
    const head = `  ${"phase".padEnd(24)} ${"contender".padEnd(28)} ${"wall s".padStart(7)} ${"fail".padStart(4)} ${"plug med/p90/max ms".padStart(22)} ${daemonNames.map((d) => `${d} CPU ms`.padStart(20)).join("")} ${"hooks CPU ms".padStart(13)} ${"syslog".padStart(7)} ${"ports ok".padStart(9)}${family === "xen" ? "  connected" : ""}`;
    lines.push(head, "  " + "-".repeat(head.length - 2));
    for (const x of fam) {
      const s = x.latencies.length ? stats(x.latencies) : undefined;
      lines.push(
        `  ${x.phase.padEnd(24)} ${x.contender.label.padEnd(28)} ${fmt(x.wallMs / 1000).padStart(7)} ${String(x.failures).padStart(4)} ${(s ? `${fmt(s.median, 1)}/${fmt(s.p90, 1)}/${fmt(s.max, 1)}` : "-").padStart(22)} ${daemonNames.map((d) => fmt(x.cpu.get(d), 0).padStart(20)).join("")} ${fmt(x.hooksCpuMs, 0).padStart(13)} ${String(x.syslogLines).padStart(7)} ${`${vms - x.badPorts.length}/${vms}`.padStart(9)}${family === "xen" ? `${`${vms - x.notConnected.length}/${vms}`.padStart(11)}` : ""}`,
      );
    }
    const get = (phase: string, ovsVif: boolean) => fam.find((x) => x.phase === phase && x.contender.ovsVif === ovsVif);
    const med = (x: PhaseResult | undefined) => (x && x.latencies.length ? stats(x.latencies).median : undefined);
    lines.push("");
    for (const ovsVif of [false, true]) {
      const a = med(get(`sequential, ${small} ports`, ovsVif));
      const b = med(get(`sequential, ${large} ports`, ovsVif));
      const label = fam.find((x) => x.contender.ovsVif === ovsVif)?.contender.label ?? "?";
      lines.push(
        `  per-plug cost, sequential median: ${label}: ${fmt(a, 1)} ms at ${small} ports, ${fmt(b, 1)} ms at ${large} ports (${fmt(a && b ? b / a : undefined)}x)`,
      );
    }
    for (const phase of [`concurrent, ${large} ports`, `sequential, ${large} ports`, `sequential, ${small} ports`]) {
      const st = get(phase, false);
      const ov = get(phase, true);
      if (st && ov) {
        const cpuRatio = (d: string) => fmt((ov.cpu.get(d) ?? 0) / Math.max(1, st.cpu.get(d) ?? 0));
        lines.push(
          `  ${phase}: ovs-vif / stock wall ${fmt(ov.wallMs / st.wallMs, 3)}x; ovsdb-server CPU ${cpuRatio("ovsdb-server")}x, ovs-vswitchd CPU ${cpuRatio("ovs-vswitchd")}x, hooks' CPU ${fmt(ov.hooksCpuMs / Math.max(1, st.hooksCpuMs))}x`,
        );
      }
    }
    for (const x of fam) {
      const who = `${x.phase}, ${x.contender.label}`;
      if (x.firstFailure) lines.push(`  ! ${who}: ${x.failures} failed; first: ${x.firstFailure}`);
      if (x.badPorts.length) lines.push(`  ! ${who}: ${x.badPorts.length} ports wrong: ${x.badPorts.slice(0, 3).join("; ")}`);
      if (x.notConnected.length) lines.push(`  ! ${who}: ${x.notConnected.length} not connected: ${x.notConnected.slice(0, 3).join("; ")}`);
      if (x.contender.ovsVif && (x.failures || x.badPorts.length || x.notConnected.length))
        problems.push(`${who}: ${x.failures} failed, ${x.badPorts.length} ports wrong, ${x.notConnected.length} not connected`);
      if (x.contender.ovsVif && x.syslogLines !== vms - x.failures) problems.push(`${who}: ${x.syslogLines} syslog lines for ${vms - x.failures} plugs`);
    }
  }
  lines.push(
    "",
    "notes",
    ...r.notes.map((n) => `  - ${n}`),
    "  - wall: from the first spawn to the last hook's exit (the concurrent phase spawns all hooks from one event loop, within a few ms); CPU: utime+stime deltas (10 ms ticks); hooks' CPU: this process's reaped children (hooks and what they ran).",
    "  - the stock scripts leave vlan_mode empty (OVS then ignores the trunks of a tagged port); only tag and trunks are checked for them.",
  );
  if (problems.length) lines.push("", "PROBLEMS", ...problems.map((p) => `  ! ${p}`));
  return lines;
}
