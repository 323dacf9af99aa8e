// `ovs-vif switch show`: switches, uplinks and bonds from OVSDB, with the
// live member and LACP state from ovs-vswitchd (ovs-appctl bond/show and
// lacp/show, through execa).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "../exec.ts";
import { checkResults } from "../ovsdb/transact.ts";
import type { Deadline } from "../deadline.ts";
import type { Json, OvsdbClient } from "../ovsdb/client.ts";
import { describePortVlans } from "./plan.ts";
import { classifyPort, readSwitch, SWITCH_KEY, type IfaceState, type PortState } from "./state.ts";

/** The unixctl socket of ovs-vswitchd: $OVS_RUNDIR/ovs-vswitchd.<pid>.ctl
 * (pid from ovs-vswitchd.pid), else an ovs-vswitchd*.ctl in OVS_RUNDIR,
 * else plain "ovs-vswitchd" (ovs-appctl resolves it itself). */
export function vswitchdTarget(env: NodeJS.ProcessEnv, dbPath?: string): string {
  const rundir = env.OVS_RUNDIR || (dbPath ? dirname(dbPath) : "/var/run/openvswitch");
  try {
    const pid = readFileSync(join(rundir, "ovs-vswitchd.pid"), "utf8").trim();
    if (/^[0-9]+$/.test(pid) && existsSync(join(rundir, `ovs-vswitchd.${pid}.ctl`))) return join(rundir, `ovs-vswitchd.${pid}.ctl`);
  } catch {
    // no pidfile: look for the socket
  }
  try {
    const ctl = readdirSync(rundir)
      .filter((f) => /^ovs-vswitchd(\.[0-9]+)?\.ctl$/.test(f))
      .sort();
    if (ctl.length > 0) return join(rundir, ctl[ctl.length - 1]!);
  } catch {
    // no such directory
  }
  return "ovs-vswitchd";
}

export interface BondLive {
  lacpStatus?: string;
  members: Map<string, { enabled: boolean; active: boolean; lacp?: string }>;
  error?: string;
}

/** Parses `ovs-appctl bond/show BOND` (OVS >= 2.14 says member, older slave). */
export function parseBondShow(text: string): BondLive {
  const out: BondLive = { members: new Map() };
  let current: string | undefined;
  for (const line of text.split("\n")) {
    const status = /^lacp_status: (\S+)/.exec(line);
    if (status) out.lacpStatus = status[1];
    const m = /^(?:member|slave) (\S+): (enabled|disabled)/.exec(line);
    if (m) {
      current = m[1]!;
      out.members.set(current, { enabled: m[2] === "enabled", active: false });
    } else if (current && /^\s+active (member|slave)/.test(line)) {
      out.members.get(current)!.active = true;
    }
  }
  return out;
}

/** Parses `ovs-appctl lacp/show BOND`: the status line and each member's state words. */
export function parseLacpShow(text: string): { status?: string; members: Map<string, string> } {
  const out: { status?: string; members: Map<string, string> } = { members: new Map() };
  for (const line of text.split("\n")) {
    const s = /^\s+status: (.+)$/.exec(line);
    if (s && out.status === undefined) out.status = s[1]!.trim();
    const m = /^(?:member|slave): (\S+): (.+)$/.exec(line);
    if (m) out.members.set(m[1]!, m[2]!.trim());
  }
  return out;
}

async function appctl(target: string, args: string[], deadline: Deadline): Promise<string> {
  const r = await run("ovs-appctl", ["-t", target, ...args], { timeoutMs: Math.min(deadline.left(), 5000) });
  return r.stdout;
}

export async function bondLive(target: string, bond: string, lacp: boolean, deadline: Deadline): Promise<BondLive> {
  try {
    const live = parseBondShow(await appctl(target, ["bond/show", bond], deadline));
    if (lacp) {
      const l = parseLacpShow(await appctl(target, ["lacp/show", bond], deadline));
      if (l.status) live.lacpStatus = l.status;
      for (const [name, state] of l.members) {
        const m = live.members.get(name) ?? { enabled: false, active: false };
        m.lacp = state;
        live.members.set(name, m);
      }
    }
    return live;
  } catch (err) {
    return { members: new Map(), error: (err as Error).message };
  }
}

function ifaceWords(i: IfaceState | undefined): string {
  if (!i) return "(missing)";
  const parts: string[] = [];
  if (i.linkState) parts.push(`link ${i.linkState}`);
  if (i.mtuRequest !== undefined) parts.push(`mtu ${i.mtuRequest}`);
  if (i.error) parts.push(`error: ${i.error}`);
  else if (i.ofport !== undefined && i.ofport < 0) parts.push("not attached");
  return parts.join(", ");
}

/** The text for one switch (several lines), or a line saying it is absent. */
export async function showSwitch(client: OvsdbClient, name: string, target: string, deadline: Deadline, specNote?: string): Promise<string> {
  const state = await readSwitch(client, name, [], [], deadline);
  if (!state.bridge) return `${name}: not present on this node${specNote ? ` (${specNote})` : ""}\n`;
  const b = state.bridge;
  const ports = [...state.ports.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const internal = ports.find((p) => classifyPort(state, p) === "internal");
  const internalIface = internal?.interfaces.map((u) => state.ifaces.get(u)).find((i) => i?.name === name);
  const head = [`datapath_type ${b.datapathType || "system"}`, `fail_mode ${b.failMode ?? "standalone"}`];
  if (internalIface?.mtuRequest !== undefined) head.push(`mtu ${internalIface.mtuRequest}`);
  head.push(`${SWITCH_KEY} ${b.externalIds[SWITCH_KEY] ?? "(unset)"}`);
  if (specNote) head.push(specNote);
  const lines = [`${name}: ${head.join(", ")}`];
  const others: string[] = [];
  for (const p of ports) {
    const kind = classifyPort(state, p);
    if (kind === "internal") continue;
    if (kind !== "uplink") {
      others.push(`${p.name} (${kind === "instance" ? "VM" : "foreign"})`);
      continue;
    }
    lines.push(...(await uplinkLines(state.ifaces, p, target, deadline)));
  }
  if (!ports.some((p) => classifyPort(state, p) === "uplink")) lines.push("  no uplinks");
  if (others.length > 0) lines.push(`  other ports: ${others.join(", ")}`);
  return lines.join("\n") + "\n";
}

async function uplinkLines(ifaces: Map<string, IfaceState>, p: PortState, target: string, deadline: Deadline): Promise<string[]> {
  const members = p.interfaces
    .map((u) => ifaces.get(u))
    .filter((i): i is IfaceState => i !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const vlans = `vlans ${describePortVlans(p)}`;
  if (members.length <= 1 && p.bondMode === undefined) {
    return [`  uplink ${p.name}: ${[ifaceWords(members[0]), vlans].filter(Boolean).join(", ")}`];
  }
  const lacpOn = p.lacp === "active" || p.lacp === "passive";
  const head = [`bond_mode ${p.bondMode ?? "active-backup"}`, `lacp ${p.lacp ?? "off"}`];
  if (lacpOn) head.push(`lacp-time ${p.otherConfig["lacp-time"] ?? "slow"}`);
  if (p.updelay) head.push(`bond-updelay ${p.updelay}`);
  if (p.downdelay) head.push(`bond-downdelay ${p.downdelay}`);
  head.push(vlans);
  const live = await bondLive(target, p.name, lacpOn, deadline);
  if (live.lacpStatus) head.push(`lacp status ${live.lacpStatus}`);
  const out = [`  bond ${p.name}: ${head.join(", ")}`];
  if (live.error) out.push(`    (live state unavailable: ${live.error})`);
  for (const m of members) {
    const l = live.members.get(m.name);
    const words = [l ? (l.enabled ? "enabled" : "disabled") : live.error ? "" : "unknown"];
    if (l?.active) words.push("active");
    if (l?.lacp) words.push(`lacp ${l.lacp}`);
    const iw = ifaceWords(m);
    if (iw) words.push(iw);
    out.push(`    member ${m.name}: ${words.filter(Boolean).join(", ")}`);
  }
  return out;
}

/** Bridges on this node that ovs-vif applied a spec to (external_ids marker). */
export async function markedBridges(client: OvsdbClient, deadline: Deadline): Promise<string[]> {
  const ops: Json[] = [
    { op: "select", table: "Bridge", where: [["external_ids", "includes", ["map", [[SWITCH_KEY, "managed"]]]]], columns: ["name"] },
    { op: "select", table: "Bridge", where: [["external_ids", "includes", ["map", [[SWITCH_KEY, "spec"]]]]], columns: ["name"] },
    { op: "select", table: "Bridge", where: [["external_ids", "includes", ["map", [[SWITCH_KEY, "bare"]]]]], columns: ["name"] },
  ];
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, "read switches");
  const names = new Set<string>();
  for (const r of results) for (const row of r.rows ?? []) if (typeof row.name === "string") names.add(row.name);
  return [...names].sort();
}
