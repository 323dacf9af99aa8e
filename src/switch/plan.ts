// The diff between a desired switch and what OVSDB holds, as lines for the
// operator and as ONE transaction. Pure: it takes what was read (state.ts)
// and returns operations; the caller commits them (apply.ts).
//
// Ownership rules:
// - ports ovs-vif created as uplinks carry external_ids ovs-vif-uplink=SWITCH;
//   only those are ever removed, and only when the spec no longer lists them;
// - VM ports and foreign ports are never touched; a spec device that is in
//   use by one of them is refused with the reason;
// - a foreign port whose name the spec lists as an uplink is adopted (changed
//   to the spec and marked), never removed to make room.
import type { Json, Row } from "../ovsdb/client.ts";
import { StateError } from "../errors.ts";
import { bumpNextCfg, guard, where } from "../ovsdb/port-ops.ts";
import { map, namedUuid, optional, set, uuid } from "../ovsdb/values.ts";
import { compactRanges, describeVlans, type DesiredSwitch, type DesiredUplink } from "./spec-resolve.ts";
import {
  BRIDGE_COLUMNS,
  classifyPort,
  IFACE_COLUMNS,
  PORT_COLUMNS,
  SWITCH_KEY,
  UPLINK_KEY,
  type IfaceState,
  type PortState,
  type SwitchState,
} from "./state.ts";

export interface SwitchPlan {
  name: string;
  /** One line per change: "+ ..." create, "~ ..." change, "- ..." remove. */
  changes: string[];
  /** Things worth knowing that are not changes (missing devices). */
  notes: string[];
  /** The transaction (guards first); empty when there is nothing to do. */
  ops: Json[];
  /** Uplink device names, to check after ovs-vswitchd applied the change. */
  devices: string[];
}

/** Port names and device names whose use elsewhere the planner must know. */
export function namesToRead(desired: DesiredSwitch): { ports: string[]; devices: string[] } {
  const ports: string[] = [];
  const devices: string[] = [];
  for (const u of desired.uplinks ?? []) {
    ports.push(u.name);
    devices.push(...(u.bond ? u.bond.members : [u.name]));
  }
  return { ports, devices };
}

interface PortWant {
  bondMode?: string;
  lacp?: string;
  updelay: number;
  downdelay: number;
  lacpTime?: string;
  trunks: number[];
  vlanMode?: string;
}

function want(u: DesiredUplink): PortWant {
  const w: PortWant = { updelay: 0, downdelay: 0, trunks: [] };
  if (u.bond) {
    w.bondMode = u.bond.mode;
    w.lacp = u.bond.lacp;
    w.updelay = u.bond.updelay;
    w.downdelay = u.bond.downdelay;
    if (u.bond.lacp !== "off") w.lacpTime = u.bond.lacpTime ?? "slow";
  }
  if (u.vlans !== "all") {
    w.trunks = [...(u.untagged ? [0] : []), ...u.vlans];
    w.vlanMode = "trunk";
  }
  return w;
}

/** The VLAN setting of an existing port in the spec's words. */
export function describePortVlans(p: Pick<PortState, "trunks" | "tag" | "vlanMode">): string {
  if (p.tag === undefined && (p.vlanMode === undefined || p.vlanMode === "trunk")) {
    if (p.trunks.length === 0) return "all";
    const untagged = p.trunks[0] === 0;
    const ids = p.trunks.filter((t) => t !== 0);
    if (ids.length > 0) return `${compactRanges(ids)}${untagged ? "+untagged" : ""}`;
  }
  const parts = [`vlan_mode=${p.vlanMode ?? "(default)"}`];
  if (p.tag !== undefined) parts.push(`tag=${p.tag}`);
  if (p.trunks.length) parts.push(`trunks=${compactRanges(p.trunks)}`);
  return parts.join(" ");
}

function portRowFor(u: DesiredUplink, sw: string, w: PortWant, otherConfig: Record<string, string>, externalIds: Record<string, string>): Row {
  const other = { ...otherConfig };
  delete other["lacp-time"];
  if (w.lacpTime !== undefined) other["lacp-time"] = w.lacpTime;
  return {
    name: u.name,
    bond_mode: optional(w.bondMode),
    lacp: optional(w.lacp),
    bond_updelay: w.updelay,
    bond_downdelay: w.downdelay,
    trunks: set(w.trunks),
    tag: set([]),
    vlan_mode: optional(w.vlanMode),
    other_config: map(other),
    external_ids: map({ ...externalIds, [UPLINK_KEY]: sw }),
  };
}

function ifaceRowFor(name: string, uplink: string, mtu: number | undefined): Row {
  const row: Row = { name, type: "", external_ids: map({ [UPLINK_KEY]: uplink }) };
  if (mtu !== undefined) row.mtu_request = mtu;
  return row;
}

function describeNewUplink(u: DesiredUplink): string {
  const w = want(u);
  const vl = `vlans ${describeVlans(u)}`;
  if (!u.bond) return `+ uplink ${u.name} (${vl})`;
  const parts = [`bond_mode ${u.bond.mode}`, `lacp ${u.bond.lacp}`];
  if (w.lacpTime) parts.push(`lacp-time ${w.lacpTime}`);
  if (u.bond.updelay) parts.push(`bond-updelay ${u.bond.updelay}`);
  if (u.bond.downdelay) parts.push(`bond-downdelay ${u.bond.downdelay}`);
  parts.push(vl);
  return `+ uplink ${u.name}: bond of ${u.bond.members.join(",")} (${parts.join(", ")})`;
}

const shown = (v: string | number | undefined): string => (v === undefined ? "(unset)" : String(v));

function waitRow(table: string, rowUuid: string, columns: string[], raw: Row): Json {
  const row: Row = {};
  for (const c of columns) if (raw[c] !== undefined) row[c] = raw[c]!;
  return { op: "wait", table, where: where("_uuid", uuid(rowUuid)), columns: Object.keys(row), until: "==", rows: [row], timeout: 0 };
}

export function planSwitch(desired: DesiredSwitch, state: SwitchState, deviceExists: (name: string) => boolean = () => true): SwitchPlan {
  const sw = desired.name;
  const changes: string[] = [];
  const notes: string[] = [];
  const writes: Json[] = [];
  const guards: Json[] = [guard("Bridge", where("name", sw), state.bridge ? [state.bridge.uuid] : [])];
  for (const [table, byName] of [
    ["Port", state.portsByName],
    ["Interface", state.ifacesByName],
  ] as const)
    for (const [n, list] of byName)
      guards.push(
        guard(
          table,
          where("name", n),
          list.map((e) => e.uuid),
        ),
      );
  const guardedPorts = new Set<string>();
  const guardedIfaces = new Set<string>();
  const guardPort = (p: PortState) => {
    if (!guardedPorts.has(p.uuid)) guards.push(waitRow("Port", p.uuid, PORT_COLUMNS, p.raw));
    guardedPorts.add(p.uuid);
  };
  const guardIface = (i: IfaceState) => {
    if (!guardedIfaces.has(i.uuid)) guards.push(waitRow("Interface", i.uuid, IFACE_COLUMNS, i.raw));
    guardedIfaces.add(i.uuid);
  };
  let seq = 0;
  const newName = (prefix: string) => `${prefix}${seq++}`;
  const uplinks = desired.uplinks;
  const devices = uplinks ? namesToRead(desired).devices : [];
  for (const d of devices) if (!deviceExists(d)) notes.push(`! device ${d}: not present on this node (ovs-vswitchd cannot attach it until it exists)`);

  // ---- a new bridge
  if (!state.bridge) {
    checkDatapath(sw, desired.datapathType ?? "system", state.datapathTypes);
    const portRefs: Json[] = [namedUuid("brport")];
    const parts = [`datapath_type ${desired.datapathType ?? "system"}`];
    if (desired.failMode) parts.push(`fail_mode ${desired.failMode}`);
    if (desired.mtu !== undefined) parts.push(`mtu ${desired.mtu}`);
    changes.push(`+ bridge ${sw} (${parts.join(", ")})`);
    const brIface: Row = { name: sw, type: "internal" };
    if (desired.mtu !== undefined) brIface.mtu_request = desired.mtu;
    writes.push(
      { op: "insert", table: "Interface", row: brIface, "uuid-name": "brif" },
      { op: "insert", table: "Port", row: { name: sw, interfaces: namedUuid("brif") }, "uuid-name": "brport" },
    );
    for (const u of uplinks ?? []) {
      const conflict = (state.portsByName.get(u.name) ?? [])[0];
      if (conflict) throw new StateError(`${sw} uplink`, u.name, `already a port of bridge ${conflict.bridge ?? "(unknown)"}; remove it there first`);
      const ifaceRefs = insertInterfaces(u, sw, desired.mtu, state, new Set(), writes, newName);
      const pn = newName("port");
      writes.push({ op: "insert", table: "Port", row: { ...portRowFor(u, sw, want(u), {}, {}), interfaces: set(ifaceRefs) }, "uuid-name": pn });
      portRefs.push(namedUuid(pn));
      changes.push(describeNewUplink(u));
    }
    const bridgeRow: Row = {
      name: sw,
      ports: set(portRefs),
      datapath_type: desired.datapathType ?? "system",
      fail_mode: optional(desired.failMode),
      external_ids: map({ [SWITCH_KEY]: desired.origin }),
    };
    writes.push(
      { op: "insert", table: "Bridge", row: bridgeRow, "uuid-name": "br" },
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", set([namedUuid("br")])]] },
    );
    return finish(sw, changes, notes, guards, writes, devices, desired);
  }

  // ---- an existing bridge
  const bridge = state.bridge;
  if (desired.origin === "bare") {
    // Not in the spec: it exists, which is all that was asked.
    return { name: sw, changes: [], notes, ops: [], devices: [] };
  }
  guards.push(waitRow("Bridge", bridge.uuid, BRIDGE_COLUMNS, bridge.raw));
  const bridgeUpdate: Row = {};
  const bridgeParts: string[] = [];
  if (desired.datapathType !== undefined && desired.datapathType !== (bridge.datapathType || "system")) {
    checkDatapath(sw, desired.datapathType, state.datapathTypes);
    bridgeUpdate.datapath_type = desired.datapathType;
    bridgeParts.push(`datapath_type ${bridge.datapathType || "system"} -> ${desired.datapathType}`);
  }
  if (desired.failMode !== undefined && desired.failMode !== (bridge.failMode ?? "standalone")) {
    bridgeUpdate.fail_mode = desired.failMode;
    bridgeParts.push(`fail_mode ${bridge.failMode ?? "(unset)"} -> ${desired.failMode}`);
  }
  if (bridge.externalIds[SWITCH_KEY] !== desired.origin) {
    bridgeUpdate.external_ids = map({ ...bridge.externalIds, [SWITCH_KEY]: desired.origin });
    bridgeParts.push(`${SWITCH_KEY} ${shown(bridge.externalIds[SWITCH_KEY])} -> ${desired.origin}`);
  }
  const ports = [...state.ports.values()];
  const internal = ports.find((p) => classifyPort(state, p) === "internal");
  const internalIface = internal?.interfaces.map((u) => state.ifaces.get(u)).find((i) => i?.name === sw);
  if (desired.mtu !== undefined && internalIface && internalIface.mtuRequest !== desired.mtu) {
    guardIface(internalIface);
    writes.push({ op: "update", table: "Interface", where: where("_uuid", uuid(internalIface.uuid)), row: { mtu_request: desired.mtu } });
    bridgeParts.push(`mtu ${shown(internalIface.mtuRequest)} -> ${desired.mtu}`);
  }
  if (Object.keys(bridgeUpdate).length > 0) writes.push({ op: "update", table: "Bridge", where: where("_uuid", uuid(bridge.uuid)), row: bridgeUpdate });
  if (bridgeParts.length > 0) changes.push(`~ bridge ${sw}: ${bridgeParts.join(", ")}`);

  if (uplinks === undefined) return finish(sw, changes, notes, guards, writes, devices, desired);

  const byName = new Map(ports.map((p) => [p.name, p]));
  const wanted = new Set(uplinks.map((u) => u.name));
  const removed = ports
    .filter((p) => classifyPort(state, p) === "uplink" && !wanted.has(p.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Interfaces leaving their port in this transaction (may be reused by name).
  const released = new Set<string>();
  for (const p of removed) for (const i of p.interfaces) released.add(i);
  const existingFor = new Map<string, PortState>();
  for (const u of uplinks) {
    const p = byName.get(u.name);
    if (!p) {
      const other = (state.portsByName.get(u.name) ?? []).find((e) => e.bridge !== sw);
      if (other) throw new StateError(`${sw} uplink`, u.name, `already a port of bridge ${other.bridge ?? "(unknown)"}; remove it there first`);
      continue;
    }
    const kind = classifyPort(state, p);
    if (kind === "instance") throw new StateError(`${sw} uplink`, u.name, "is a VM port on this bridge; ovs-vif will not take it over");
    existingFor.set(u.name, p);
    const members = new Set(u.bond ? u.bond.members : [u.name]);
    for (const iu of p.interfaces) {
      const iface = state.ifaces.get(iu);
      if (!iface || !members.has(iface.name)) released.add(iu);
    }
  }

  const addedPorts: Json[] = [];
  for (const u of uplinks) {
    const p = existingFor.get(u.name);
    const w = want(u);
    if (!p) {
      const ifaceRefs = insertInterfaces(u, sw, desired.mtu, state, released, writes, newName);
      const pn = newName("port");
      writes.push({ op: "insert", table: "Port", row: { ...portRowFor(u, sw, w, {}, {}), interfaces: set(ifaceRefs) }, "uuid-name": pn });
      addedPorts.push(namedUuid(pn));
      changes.push(describeNewUplink(u));
      continue;
    }
    const adopt = classifyPort(state, p) !== "uplink";
    // Port-level differences (any of them rewrites the Port row).
    const diffs: string[] = [];
    if (adopt) diffs.push(`adopt existing port (mark ${UPLINK_KEY}=${sw})`);
    else if (p.externalIds[UPLINK_KEY] !== sw) diffs.push(`${UPLINK_KEY} ${p.externalIds[UPLINK_KEY]} -> ${sw}`);
    if (p.bondMode !== w.bondMode) diffs.push(`bond_mode ${shown(p.bondMode)} -> ${shown(w.bondMode)}`);
    // An unset lacp is off, an unset lacp-time (with LACP on) is slow.
    const curLacp = p.lacp ?? (w.lacp === "off" ? "off" : undefined);
    if (curLacp !== w.lacp) diffs.push(`lacp ${shown(p.lacp)} -> ${shown(w.lacp)}`);
    const curTime = p.otherConfig["lacp-time"] ?? (w.lacpTime === "slow" ? "slow" : undefined);
    if (curTime !== w.lacpTime) diffs.push(`lacp-time ${shown(p.otherConfig["lacp-time"])} -> ${shown(w.lacpTime)}`);
    if (p.updelay !== w.updelay) diffs.push(`bond-updelay ${p.updelay} -> ${w.updelay}`);
    if (p.downdelay !== w.downdelay) diffs.push(`bond-downdelay ${p.downdelay} -> ${w.downdelay}`);
    const curVlans = describePortVlans(p);
    const newVlans = describeVlans(u);
    if (curVlans !== newVlans) diffs.push(`vlans ${curVlans} -> ${newVlans}`);
    // Members: keep those listed, drop the others, add the missing ones.
    const members = u.bond ? u.bond.members : [u.name];
    const kept: IfaceState[] = [];
    const dropped: string[] = [];
    for (const iu of p.interfaces) {
      const iface = state.ifaces.get(iu);
      if (iface && members.includes(iface.name)) kept.push(iface);
      else dropped.push(iface?.name ?? iu);
    }
    const missing = members.filter((m) => !kept.some((k) => k.name === m));
    const memberDiff = [...missing.map((m) => `+${m}`), ...dropped.map((m) => `-${m}`)];
    if (memberDiff.length > 0) diffs.push(`members ${memberDiff.join(" ")}`);
    const portChanged = diffs.length > 0;
    // Interface-level differences of the members kept.
    for (const k of kept) {
      const ifaceRow: Row = {};
      if (desired.mtu !== undefined && k.mtuRequest !== desired.mtu) {
        ifaceRow.mtu_request = desired.mtu;
        diffs.push(`${k.name} mtu ${shown(k.mtuRequest)} -> ${desired.mtu}`);
      }
      if (k.externalIds[UPLINK_KEY] !== u.name) {
        ifaceRow.external_ids = map({ ...k.externalIds, [UPLINK_KEY]: u.name });
        if (!adopt) diffs.push(`mark ${k.name}`);
      }
      if (Object.keys(ifaceRow).length > 0) {
        guardIface(k);
        writes.push({ op: "update", table: "Interface", where: where("_uuid", uuid(k.uuid)), row: ifaceRow });
      }
    }
    if (portChanged) {
      guardPort(p);
      const row = portRowFor(u, sw, w, p.otherConfig, p.externalIds);
      delete row.name; // immutable
      if (missing.length > 0 || dropped.length > 0) {
        const refs: Json[] = kept.map((k) => uuid(k.uuid));
        refs.push(...insertInterfaces(u, sw, desired.mtu, state, released, writes, newName, missing));
        row.interfaces = set(refs);
      }
      writes.push({ op: "update", table: "Port", where: where("_uuid", uuid(p.uuid)), row });
    }
    if (diffs.length > 0) changes.push(`~ uplink ${u.name}: ${diffs.join(", ")}`);
  }
  for (const p of removed) {
    guardPort(p);
    changes.push(`- uplink ${p.name} (no longer in the spec)`);
  }
  const bridgeMutations: Json[] = [];
  if (addedPorts.length > 0) bridgeMutations.push(["ports", "insert", set(addedPorts)]);
  if (removed.length > 0) bridgeMutations.push(["ports", "delete", set(removed.map((p) => uuid(p.uuid)))]);
  if (bridgeMutations.length > 0) writes.push({ op: "mutate", table: "Bridge", where: where("_uuid", uuid(bridge.uuid)), mutations: bridgeMutations });
  return finish(sw, changes, notes, guards, writes, devices, desired);
}

/** Inserts the Interface rows of an uplink (all members, or `only`), after
 * checking that no other port holds a device of the same name. */
function insertInterfaces(
  u: DesiredUplink,
  sw: string,
  mtu: number | undefined,
  state: SwitchState,
  released: Set<string>,
  writes: Json[],
  newName: (prefix: string) => string,
  only?: string[],
): Json[] {
  const names = only ?? (u.bond ? u.bond.members : [u.name]);
  const refs: Json[] = [];
  for (const dev of names) {
    for (const e of state.ifacesByName.get(dev) ?? []) {
      if (released.has(e.uuid)) continue;
      const holder = e.port !== undefined ? state.ports.get(e.port) : undefined;
      const where_ = holder ? `port ${holder.name} of bridge ${sw}` : e.bridge ? `a port of bridge ${e.bridge}` : "another port";
      throw new StateError(`${sw} uplink ${u.name} device`, dev, `already attached as ${where_} (not an uplink ovs-vif manages there); remove it first`);
    }
    const n = newName("iface");
    writes.push({ op: "insert", table: "Interface", row: ifaceRowFor(dev, u.name, mtu), "uuid-name": n });
    refs.push(namedUuid(n));
  }
  return refs;
}

function finish(sw: string, changes: string[], notes: string[], guards: Json[], writes: Json[], devices: string[], desired: DesiredSwitch): SwitchPlan {
  if (writes.length === 0) return { name: sw, changes, notes, ops: [], devices };
  const ops = [...guards, ...writes, ...bumpNextCfg(), { op: "comment", comment: `ovs-vif: switch apply ${sw} (${desired.origin})` }];
  return { name: sw, changes, notes, ops, devices };
}

/** A bridge on a datapath ovs-vswitchd cannot run is accepted by OVSDB and
 * never works (no kernel module for "system", say): refused before any
 * change. Nothing is known before ovs-vswitchd has filled datapath_types. */
function checkDatapath(sw: string, wanted: string, available: string[]): void {
  if (available.length === 0 || available.includes(wanted)) return;
  throw new StateError(
    `${sw} datapath_type`,
    wanted,
    `ovs-vswitchd on this node runs only ${available.join(", ")}; set datapath_type for ${sw} (or defaults.datapath_type) in the switch spec`,
  );
}
