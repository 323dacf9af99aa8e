// Reading one switch's state from OVSDB: the Bridge by name, its Ports and
// their Interfaces by uuid, and where the names the spec wants are in use
// elsewhere. Selects by name/uuid only (never whole tables).
import type { Json, OvsdbClient, Row } from "../ovsdb/client.ts";
import { where } from "../ovsdb/port-ops.ts";
import { checkResults } from "../ovsdb/transact.ts";
import type { Deadline } from "../deadline.ts";
import { mapEntries, optionalAtom, setItems, uuid, uuidOf } from "../ovsdb/values.ts";
import { ID } from "../ovsdb/keys.ts";

/** Bridge external_ids key: how ovs-vif came to manage this bridge (managed | spec | bare). */
export const SWITCH_KEY = ID.switch;
/** Port and Interface external_ids key marking an uplink ovs-vif created:
 * on the Port the switch's name, on the Interface the uplink (port) name. */
export const UPLINK_KEY = ID.uplink;
/** Interface external_ids keys that mark a VM's port (Xen, libvirt, Neutron). */
export const VM_IFACE_KEYS = [ID.attachedMac, ID.ifaceId, "vm-id", "vm-uuid", ID.xenVmUuid, ID.xenVmName];

export const BRIDGE_COLUMNS = ["name", "ports", "fail_mode", "datapath_type", "external_ids"];
/** Configuration columns of a Port that the plan compares and guards. */
export const PORT_COLUMNS = [
  "name",
  "interfaces",
  "bond_mode",
  "lacp",
  "bond_updelay",
  "bond_downdelay",
  "trunks",
  "tag",
  "vlan_mode",
  "other_config",
  "external_ids",
];
/** Configuration columns of an Interface that the plan compares and guards. */
export const IFACE_COLUMNS = ["name", "type", "mtu_request", "external_ids"];
/** Status columns, read for reports, never guarded (ovs-vswitchd changes them). */
const IFACE_STATUS = ["ofport", "error", "link_state", "lacp_current"];

export interface BridgeState {
  uuid: string;
  name: string;
  ports: string[];
  failMode?: string;
  datapathType: string;
  externalIds: Record<string, string>;
  raw: Row;
}

export interface PortState {
  uuid: string;
  name: string;
  interfaces: string[];
  bondMode?: string;
  lacp?: string;
  updelay: number;
  downdelay: number;
  trunks: number[];
  tag?: number;
  vlanMode?: string;
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  raw: Row;
}

export interface IfaceState {
  uuid: string;
  name: string;
  type: string;
  mtuRequest?: number;
  externalIds: Record<string, string>;
  ofport?: number;
  error?: string;
  linkState?: string;
  lacpCurrent?: boolean;
  /** The guarded configuration columns as read. */
  raw: Row;
}

/** Where a name is used outside the bridge being read. */
export interface Elsewhere {
  uuid: string;
  /** The Port holding an Interface (for interfaces). */
  port?: string;
  /** The Bridge holding the Port. */
  bridge?: string;
}

export interface SwitchState {
  name: string;
  bridge?: BridgeState;
  /** The bridge's Ports, by uuid. */
  ports: Map<string, PortState>;
  /** Interfaces of the bridge's Ports, by uuid. */
  ifaces: Map<string, IfaceState>;
  /** Port rows (any bridge) with each looked-up port name. */
  portsByName: Map<string, Elsewhere[]>;
  /** Interface rows (any port) with each looked-up device name. */
  ifacesByName: Map<string, Elsewhere[]>;
  /** The datapath types ovs-vswitchd says it can run (empty before it has
   * started: then nothing is known). */
  datapathTypes: string[];
}

function str(v: Json | undefined): string | undefined {
  const a = optionalAtom(v);
  return typeof a === "string" ? a : undefined;
}
function num(v: Json | undefined): number | undefined {
  const a = optionalAtom(v);
  return typeof a === "number" ? a : undefined;
}
function pick(row: Row, cols: string[]): Row {
  const out: Row = {};
  for (const c of cols) if (row[c] !== undefined) out[c] = row[c]!;
  return out;
}

export function portFromRow(row: Row): PortState {
  const p: PortState = {
    uuid: uuidOf(row._uuid),
    name: String(row.name),
    interfaces: setItems(row.interfaces).map(uuidOf),
    updelay: typeof row.bond_updelay === "number" ? row.bond_updelay : 0,
    downdelay: typeof row.bond_downdelay === "number" ? row.bond_downdelay : 0,
    trunks: setItems(row.trunks)
      .filter((t): t is number => typeof t === "number")
      .sort((a, b) => a - b),
    otherConfig: mapEntries(row.other_config),
    externalIds: mapEntries(row.external_ids),
    raw: pick(row, PORT_COLUMNS),
  };
  const bondMode = str(row.bond_mode);
  if (bondMode) p.bondMode = bondMode;
  const lacp = str(row.lacp);
  if (lacp) p.lacp = lacp;
  const tag = num(row.tag);
  if (tag !== undefined) p.tag = tag;
  const vlanMode = str(row.vlan_mode);
  if (vlanMode) p.vlanMode = vlanMode;
  return p;
}

export function ifaceFromRow(row: Row): IfaceState {
  const i: IfaceState = {
    uuid: uuidOf(row._uuid),
    name: String(row.name),
    type: typeof row.type === "string" ? row.type : "",
    externalIds: mapEntries(row.external_ids),
    raw: pick(row, IFACE_COLUMNS),
  };
  const mtu = num(row.mtu_request);
  if (mtu !== undefined) i.mtuRequest = mtu;
  const ofport = num(row.ofport);
  if (ofport !== undefined) i.ofport = ofport;
  const error = str(row.error);
  if (error) i.error = error;
  const link = str(row.link_state);
  if (link) i.linkState = link;
  const lc = optionalAtom(row.lacp_current);
  if (typeof lc === "boolean") i.lacpCurrent = lc;
  return i;
}

async function select(client: OvsdbClient, ops: Json[], deadline: Deadline, what: string) {
  if (ops.length === 0) return [];
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, what);
  return results;
}

/**
 * Reads what planning a switch needs: its Bridge, Ports and Interfaces, and
 * where `portNames` (uplink names) and `deviceNames` (devices) are in use.
 * Three round trips at most, whatever the number of names.
 */
export async function readSwitch(client: OvsdbClient, name: string, portNames: string[], deviceNames: string[], deadline: Deadline): Promise<SwitchState> {
  const state: SwitchState = { name, ports: new Map(), ifaces: new Map(), portsByName: new Map(), ifacesByName: new Map(), datapathTypes: [] };
  const what = `read switch ${name}`;

  // 1: the bridge, and the looked-up names anywhere.
  const ops1: Json[] = [{ op: "select", table: "Bridge", where: where("name", name), columns: ["_uuid", ...BRIDGE_COLUMNS] }];
  for (const n of portNames) ops1.push({ op: "select", table: "Port", where: where("name", n), columns: ["_uuid"] });
  for (const n of deviceNames) ops1.push({ op: "select", table: "Interface", where: where("name", n), columns: ["_uuid"] });
  ops1.push({ op: "select", table: "Open_vSwitch", where: [], columns: ["datapath_types"] });
  const r1 = await select(client, ops1, deadline, what);
  state.datapathTypes = setItems(r1[ops1.length - 1]?.rows?.[0]?.datapath_types).filter((t): t is string => typeof t === "string");
  const brow = r1[0]?.rows?.[0];
  if (brow) {
    const b: BridgeState = {
      uuid: uuidOf(brow._uuid),
      name,
      ports: setItems(brow.ports).map(uuidOf),
      datapathType: typeof brow.datapath_type === "string" ? brow.datapath_type : "",
      externalIds: mapEntries(brow.external_ids),
      raw: pick(brow, BRIDGE_COLUMNS),
    };
    const fm = str(brow.fail_mode);
    if (fm) b.failMode = fm;
    state.bridge = b;
  }
  portNames.forEach((n, i) =>
    state.portsByName.set(
      n,
      (r1[1 + i]?.rows ?? []).map((r) => ({ uuid: uuidOf(r._uuid) })),
    ),
  );
  deviceNames.forEach((n, i) =>
    state.ifacesByName.set(
      n,
      (r1[1 + portNames.length + i]?.rows ?? []).map((r) => ({ uuid: uuidOf(r._uuid) })),
    ),
  );

  // 2: the bridge's ports; the port holding each found interface; the bridge holding each found port.
  const ops2: Json[] = [];
  for (const p of state.bridge?.ports ?? []) ops2.push({ op: "select", table: "Port", where: where("_uuid", uuid(p)), columns: ["_uuid", ...PORT_COLUMNS] });
  const ifaceRefs = [...state.ifacesByName.values()].flat();
  const portRefs = [...state.portsByName.values()].flat();
  for (const e of ifaceRefs) ops2.push({ op: "select", table: "Port", where: [["interfaces", "includes", uuid(e.uuid)]], columns: ["_uuid"] });
  for (const e of portRefs) ops2.push({ op: "select", table: "Bridge", where: [["ports", "includes", uuid(e.uuid)]], columns: ["name"] });
  const r2 = await select(client, ops2, deadline, what);
  const nPorts = state.bridge?.ports.length ?? 0;
  for (let i = 0; i < nPorts; i++) {
    const row = r2[i]?.rows?.[0];
    if (row) {
      const p = portFromRow(row);
      state.ports.set(p.uuid, p);
    }
  }
  ifaceRefs.forEach((e, i) => {
    const row = r2[nPorts + i]?.rows?.[0];
    if (row) e.port = uuidOf(row._uuid);
  });
  portRefs.forEach((e, i) => {
    const row = r2[nPorts + ifaceRefs.length + i]?.rows?.[0];
    if (row && typeof row.name === "string") e.bridge = row.name;
  });

  // 3: interfaces of the bridge's ports; the bridge of ports holding found interfaces.
  const ops3: Json[] = [];
  const ifaceUuids = [...state.ports.values()].flatMap((p) => p.interfaces);
  for (const i of ifaceUuids)
    ops3.push({ op: "select", table: "Interface", where: where("_uuid", uuid(i)), columns: ["_uuid", ...IFACE_COLUMNS, ...IFACE_STATUS] });
  const holders = ifaceRefs.filter((e) => e.port !== undefined && !state.ports.has(e.port));
  for (const e of holders) ops3.push({ op: "select", table: "Bridge", where: [["ports", "includes", uuid(e.port!)]], columns: ["name"] });
  const r3 = await select(client, ops3, deadline, what);
  ifaceUuids.forEach((_, i) => {
    const row = r3[i]?.rows?.[0];
    if (row) {
      const iface = ifaceFromRow(row);
      state.ifaces.set(iface.uuid, iface);
    }
  });
  holders.forEach((e, i) => {
    const row = r3[ifaceUuids.length + i]?.rows?.[0];
    if (row && typeof row.name === "string") e.bridge = row.name;
  });
  for (const e of ifaceRefs) if (e.port !== undefined && state.ports.has(e.port)) e.bridge = name;
  return state;
}

export type PortKind = "internal" | "uplink" | "instance" | "foreign";

/** What a port on the bridge is: the bridge's internal port, an uplink
 * ovs-vif created, a VM's port, or anything else (foreign). */
export function classifyPort(state: SwitchState, port: PortState): PortKind {
  const ifaces = port.interfaces.map((u) => state.ifaces.get(u)).filter((i): i is IfaceState => i !== undefined);
  if (port.name === state.name && ifaces.some((i) => i.name === state.name && i.type === "internal")) return "internal";
  if (port.externalIds[UPLINK_KEY] !== undefined) return "uplink";
  if (port.externalIds[ID.owner] !== undefined) return "instance";
  if (ifaces.some((i) => VM_IFACE_KEYS.some((k) => i.externalIds[k] !== undefined))) return "instance";
  return "foreign";
}
