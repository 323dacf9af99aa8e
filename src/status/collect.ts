// `ovs-vif status` on one node: every VM port on any bridge, compared with
// what it should be (Ganeti's view for Ganeti's ports, xenstore for Xen's),
// the switches' drift, and QoS rows nothing uses. Read-only.
import type { RunContext } from "../context.ts";
import type { GanetiInstance } from "../ganeti/query.ts";
import { configuredNicFields, ganetiNicPort, nicParamsOf } from "../ganeti/nic-port.ts";
import { deviceExists, isHardwareNic } from "../netdev.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import type { Json, Row } from "../ovsdb/json.ts";
import { portDrift } from "../ovsdb/port-drift.ts";
import { ownQosFrom, shapingOf, portQosOf } from "../ovsdb/port-qos.ts";
import { findOrphanQos, type OrphanQos } from "../ovsdb/qos-orphans.ts";
import { checkResults } from "../ovsdb/transact.ts";
import { mapEntries, optionalAtom, setItems, uuidOf } from "../ovsdb/values.ts";
import { type DesiredPort } from "../port.ts";
import { nodeDefaultsLevel, nodePortSecurityLevel } from "../sources/defaults.ts";
import type { XenStore } from "../sources/xenstore.ts";

/** What status knows of an OVN port (filled in by src/status/ovn.ts). */
export interface OvnFacts {
  lsp: string;
  ovn_installed: boolean;
  port_security?: string[];
  requested_chassis?: string[];
  /** The chassis SB binds it to (absent: unbound or SB not reachable). */
  bound_to?: string;
}
import { readXenVifKeys, xenDesiredPort, type XenInvocation } from "../sources/xen.ts";
import { ID } from "../ovsdb/keys.ts";
import { selectColumns } from "../ovsdb/port-columns.ts";
import type { GanetiNetworkInfo } from "../nic.ts";
import { hasFlows } from "../ovsdb/ports.ts";

export type PortState = "ok" | "drift" | "stale" | "foreign" | "unknown";
export const PORT_STATES: readonly PortState[] = ["ok", "drift", "stale", "foreign", "unknown"];

export interface PortStatus {
  bridge: string;
  port: string;
  /** ovs-vif-owner (xen, ganeti, qemu, cli); absent for a foreign port. */
  owner?: string;
  instance?: string;
  domain?: string;
  nic_index?: number;
  nic_name?: string;
  vlan_mode: string;
  tag?: number;
  trunks: number[];
  /** What the VM may send: kbps / kb (0: no limit). */
  rate_kbps: number;
  burst_kb: number;
  /** What the VM may receive: bit/s / bits (absent: no limit). */
  rx_rate?: number;
  rx_burst?: number;
  mtu?: number;
  ofport?: number;
  link: "up" | "down" | "absent";
  state: PortState;
  /** For drift: the differing fields, `column: now -> wanted`. */
  drift: string[];
  note?: string;
  /** Port security as its desired state says (src/status/port-security.ts). */
  port_security?: "on" | "off" | "unknown";
  /** When on: what the VM may send from. */
  filter?: string;
  /** ovs-vif's flows of its ofport on the bridge. */
  flows?: number;
  /** An OVN port's logical port and binding (src/status/ovn.ts). */
  ovn?: OvnFacts;
}

/** Where the desired state of Ganeti's ports came from. */
export interface GanetiView {
  source: "cli" | "file" | "none";
  instances: GanetiInstance[];
  networks: Map<string, GanetiNetworkInfo>;
  file?: string;
  taken?: string;
  /** Why there is none. */
  why?: string;
}

/** The one read: every table status looks at, whole (status is not a hot path). */
async function readTables(db: OvsdbClient, ctx: RunContext): Promise<Record<string, Row[]>> {
  const tables: [string, string[]][] = [
    ["Bridge", ["_uuid", "name", "ports", "external_ids"]],
    // Every column ovs-vif sets (compared by portDrift), and what status shows besides.
    ["Port", selectColumns("Port", ["name", "interfaces", "qos"])],
    ["Interface", selectColumns("Interface", ["name", "type", "ofport", "error", "link_state", "mtu"])],
    ["QoS", ["_uuid", "queues", "other_config", "type", "external_ids"]],
    ["Queue", ["_uuid", "other_config", "external_ids"]],
  ];
  const ops: Json[] = tables.map(([table, columns]) => ({ op: "select", table, where: [], columns: [...new Set(columns)] }));
  const results = await db.transact(ops, ctx.deadline.left());
  checkResults(ops, results, "read the node's ports");
  return Object.fromEntries(tables.map(([t], i) => [t, results[i]?.rows ?? []]));
}

/** Device types that are VM ports here; the rest (internal, patch, tunnels) are not. */
const VM_TYPES = new Set(["", "tap", "system"]);

export interface CollectInput {
  ganeti: GanetiView;
  /** xenstore, when there is one here: Xen's ports are compared with it. */
  xs?: XenStore;
  /** Only this instance's ports. */
  instance?: string;
}

interface Desired {
  desired?: DesiredPort;
  state?: PortState;
  note?: string;
  nicName?: string;
}

function ganetiDesired(view: GanetiView, port: string, ids: Record<string, string>): Desired {
  if (view.source === "none") return { state: "unknown", note: `no Ganeti view to compare with (${view.why ?? "none"})` };
  const inst = view.instances.find((i) => i.name === ids[ID.instance]);
  if (!inst) return { state: "stale", note: `Ganeti does not know instance ${JSON.stringify(ids[ID.instance] ?? "")}` };
  const nic = inst.nics.find((n) => n.uuid === ids[ID.nicUuid]);
  if (!nic) return { state: "stale", note: "the instance has no such NIC any more" };
  if (nic.mode !== "openvswitch") return { state: "drift", note: `NIC ${nic.index} is now mode ${nic.mode}` };
  try {
    const desired = ganetiNicPort(
      nicParamsOf(inst, nic, view.networks.get(nic.network ?? "")),
      port,
      [nodeDefaultsLevel(nic.link)],
      configuredNicFields(inst, nic),
    );
    return nic.name ? { desired, nicName: nic.name } : { desired };
  } catch (err) {
    return { state: "drift", note: `its Ganeti configuration cannot be applied: ${(err as Error).message}` };
  }
}

/** Xen's backend directory of a device: vifD.N by name, else by its vifname key. */
async function xenBackend(xs: XenStore, device: string): Promise<string | undefined> {
  const m = /^vif([0-9]+)\.([0-9]+)(-emu)?$/.exec(device);
  if (m) return `/local/domain/0/backend/vif/${m[1]}/${m[2]}`;
  for (const domid of await xs.directory("/local/domain/0/backend/vif")) {
    for (const devid of await xs.directory(`/local/domain/0/backend/vif/${domid}`)) {
      const path = `/local/domain/0/backend/vif/${domid}/${devid}`;
      const vifname = await xs.read(`${path}/vifname`);
      if (vifname === device || `${vifname}-emu` === device) return path;
    }
  }
  return undefined;
}

async function xenDesired(xs: XenStore | undefined, port: string): Promise<Desired> {
  if (!xs) return { state: "unknown", note: "no xenstore here to compare with" };
  const path = await xenBackend(xs, port);
  if (!path) return { state: "stale", note: "no Xen backend for this device in xenstore" };
  const keys = await readXenVifKeys(xs, path, true);
  const inv: XenInvocation = { command: "online", typeIf: port.endsWith("-emu") ? "tap" : "vif", device: port, xenbusPath: path, vars: {} };
  try {
    return {
      desired: xenDesiredPort(
        inv,
        keys,
        port,
        (b) => [nodeDefaultsLevel(b)],
        (b) => [nodePortSecurityLevel(b)],
      ).desired,
    };
  } catch (err) {
    return { state: "drift", note: `its xenstore keys cannot be applied: ${(err as Error).message}` };
  }
}

export interface Collected {
  ports: PortStatus[];
  orphans: OrphanQos[];
  ifaceIds: Map<string, Record<string, string>>;
  /** Each compared port's desired state (port security is checked from it). */
  desired: Map<string, DesiredPort>;
  /** Bridges that carry ovs-vif's port-security flows. */
  flowBridges: Set<string>;
}

export async function collectPorts(db: OvsdbClient, ctx: RunContext, input: CollectInput): Promise<Collected> {
  const t = await readTables(db, ctx);
  const ifaces = new Map(t.Interface!.map((r) => [uuidOf(r._uuid), r]));
  const holder = new Map<string, string>();
  for (const b of t.Bridge!) for (const p of setItems(b.ports)) holder.set(uuidOf(p), String(b.name));
  const bridgeMtu = new Map(t.Bridge!.map((b) => [String(b.name), optionalAtom(t.Interface!.find((i) => i.name === b.name)?.mtu)]));
  const out: PortStatus[] = [];
  const desiredOf = new Map<string, DesiredPort>();
  for (const port of t.Port!) {
    const name = String(port.name);
    const bridge = holder.get(uuidOf(port._uuid));
    const ifaceRefs = setItems(port.interfaces);
    if (!bridge || ifaceRefs.length !== 1) continue; // not on a bridge, or a bond
    const iface = ifaces.get(uuidOf(ifaceRefs[0]!));
    if (!iface || !VM_TYPES.has(String(optionalAtom(iface.type) ?? ""))) continue;
    const portIds = mapEntries(port.external_ids);
    const ids = mapEntries(iface.external_ids);
    if (name === bridge || portIds[ID.uplink] !== undefined) continue;
    const owner = portIds[ID.owner];
    if (owner === undefined && isHardwareNic(name)) continue;
    if (input.instance !== undefined && ids[ID.instance] !== input.instance) continue;
    const own = ownQosFrom(
      t.QoS!.filter((q) => mapEntries(q.external_ids)[ID.qosPort] === name),
      t.Queue!.filter((q) => mapEntries(q.external_ids)[ID.qosPort] === name),
    );
    const qos = portQosOf(port);
    const shaping = qos !== undefined ? shapingOf(own, qos) : undefined;
    const ofport = optionalAtom(iface.ofport);
    const error = optionalAtom(iface.error);
    const linkState = optionalAtom(iface.link_state);
    const tag = optionalAtom(port.tag);
    const mtu = optionalAtom(iface.mtu);
    const row: PortStatus = {
      bridge,
      port: name,
      vlan_mode: String(optionalAtom(port.vlan_mode) ?? ""),
      trunks: setItems(port.trunks).map(Number),
      rate_kbps: Number(iface.ingress_policing_rate ?? 0),
      burst_kb: Number(iface.ingress_policing_burst ?? 0),
      link: deviceExists(name) ? (linkState === "up" ? "up" : "down") : "absent",
      state: "ok",
      drift: [],
    };
    if (owner !== undefined) row.owner = owner;
    if (ids[ID.instance]) row.instance = ids[ID.instance];
    if (ids[ID.xenVmName]) row.domain = ids[ID.xenVmName];
    const nicIndex = ids[ID.nicIndex];
    if (nicIndex !== undefined && /^[0-9]+$/.test(nicIndex)) row.nic_index = Number(nicIndex);
    if (typeof tag === "number") row.tag = tag;
    if (shaping) {
      row.rx_rate = shaping.rate;
      if (shaping.burst !== undefined) row.rx_burst = shaping.burst;
    } else if (qos !== undefined) row.note = "a QoS row ovs-vif did not make";
    if (typeof mtu === "number") row.mtu = mtu;
    if (typeof ofport === "number") row.ofport = ofport;
    const broken =
      row.link === "absent"
        ? "device gone"
        : typeof error === "string" && error !== ""
          ? `ovs-vswitchd: ${error}`
          : typeof ofport !== "number" || ofport < 0
            ? "no OpenFlow port"
            : undefined;
    if (owner === undefined) {
      row.state = "foreign";
      row.note = broken ? `not ovs-vif's; ${broken}` : "not ovs-vif's";
    } else if (broken) {
      row.state = "stale";
      row.note = broken;
    } else {
      const want =
        owner === "ganeti"
          ? ganetiDesired(input.ganeti, name, ids)
          : owner === "xen"
            ? await xenDesired(input.xs, name)
            : { note: "attached by hand: no desired state to compare with" };
      if (want.desired) {
        desiredOf.set(name, want.desired);
        const mtuOfBridge = bridgeMtu.get(want.desired.bridge);
        row.drift = portDrift({ port, iface, bridge, own, ...(typeof mtuOfBridge === "number" ? { bridgeMtu: mtuOfBridge } : {}) }, want.desired);
        if (row.drift.length > 0) row.state = "drift";
      } else if (want.state) {
        row.state = want.state;
      }
      if (want.note) row.note = want.note;
      if (want.nicName) row.nic_name = want.nicName;
    }
    out.push(row);
  }
  out.sort((a, b) => (a.bridge === b.bridge ? (a.port < b.port ? -1 : 1) : a.bridge < b.bridge ? -1 : 1));
  const flowBridges = new Set(t.Bridge!.filter(hasFlows).map((b) => String(b.name)));
  const ifaceIds = new Map(t.Interface!.map((i) => [String(i.name), mapEntries(i.external_ids)]));
  return { ports: out, orphans: input.instance === undefined ? await findOrphanQos(db, ctx.deadline) : [], ifaceIds, desired: desiredOf, flowBridges };
}
