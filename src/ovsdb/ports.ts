// attachPort / detachPort: read what is needed by name (never whole tables),
// build one transaction, commit it, wait for ovs-vswitchd, verify.
import { StateError } from "../errors.ts";
import { effectivePolicing, effectiveShaping, OWNER_KEY, portColumns, type DesiredPort } from "../port.ts";
import type { Policing, Shaping } from "../qos.ts";
import type { Json, OperationResult, OvsdbClient, Row } from "./client.ts";
import { attachOps, bumpNextCfg, detachOps, guard, removeManyOps, where, type AttachState } from "./port-ops.ts";
import { ownQosFrom, ownQosGuards, ownQosSelects, portQosOf, reconcileShaping, type OwnQos } from "./port-qos.ts";
import { diffRow, selectColumns } from "./port-columns.ts";
import { checkResults, nextCfgFrom, transactWithRetry, waitCommitted } from "./transact.ts";
import { Deadline } from "../deadline.ts";
import { mapEntries, optionalAtom, set, setItems, uuid, uuidOf } from "./values.ts";

export interface ApplyOptions {
  deadline: Deadline;
  /** Wait for ovs-vswitchd and check the device (ovs-vsctl's default). */
  wait: boolean;
  /** Print the write transaction instead of sending it. */
  dryRun?: (transaction: Json[]) => void;
}

/** What an attach will do, read and built before anything changes: a
 * missing bridge or an impossible QoS value fails here. */
export interface AttachPlan {
  state: AttachState;
  ops: Json[];
  /** The policing applied (QoS sources resolved against the MTU). */
  policing: Policing;
  /** The receive limit applied, if any. */
  shaping?: Shaping;
}

async function readAttachState(client: OvsdbClient, desired: DesiredPort, deadline: Deadline): Promise<AttachState> {
  const ops: Json[] = [
    { op: "select", table: "Bridge", where: where("name", desired.bridge), columns: ["_uuid"] },
    { op: "select", table: "Port", where: where("name", desired.name), columns: ["_uuid"] },
    { op: "select", table: "Interface", where: where("name", desired.bridge), columns: ["mtu"] },
    ...ownQosSelects(desired.name),
  ];
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, `read bridge ${desired.bridge}`);
  const bridge = results[0]?.rows?.[0];
  if (!bridge) throw new StateError(desired.bridgeField ?? "bridge", desired.bridge, "no such bridge in OVSDB");
  const mtu = optionalAtom(results[2]?.rows?.[0]?.mtu);
  const state: AttachState = {
    bridgeUuid: uuidOf(bridge._uuid),
    sameNamePorts: (results[1]?.rows ?? []).map((r) => uuidOf(r._uuid)),
    own: ownQosFrom(results[3]?.rows, results[4]?.rows),
  };
  if (typeof mtu === "number") state.bridgeMtu = mtu;
  return state;
}

/** The MTU of a bridge's internal interface, undefined when there is none. */
export async function bridgeMtu(client: OvsdbClient, bridge: string, deadline: Deadline): Promise<number | undefined> {
  const ops: Json[] = [{ op: "select", table: "Interface", where: where("name", bridge), columns: ["mtu"] }];
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, `read bridge ${bridge}`);
  const mtu = optionalAtom(results[0]?.rows?.[0]?.mtu);
  return typeof mtu === "number" ? mtu : undefined;
}

export function attachComment(desired: DesiredPort): string {
  return `ovs-vif: attach ${desired.name} to ${desired.bridge} (${desired.owner})`;
}

/** Reads what the attach depends on and builds its one transaction. */
export async function planAttach(client: OvsdbClient, desired: DesiredPort, deadline: Deadline): Promise<AttachPlan> {
  const state = await readAttachState(client, desired, deadline);
  const { shaping } = effectiveShaping(desired, state.bridgeMtu);
  return { state, ops: attachOps(desired, state, attachComment(desired)), policing: effectivePolicing(desired, state.bridgeMtu).policing, ...(shaping ? { shaping } : {}) };
}

function insertedUuid(ops: Json[], results: OperationResult[], table: string): string {
  const i = ops.findIndex((op) => (op as { op?: string; table?: string }).op === "insert" && (op as { table?: string }).table === table);
  return uuidOf(results[i]?.uuid as Json);
}

export interface CommittedAttach {
  portUuid: string;
  interfaceUuid: string;
  nextCfg: number;
  plan: AttachPlan;
}

/** Sends the planned transaction; when a guard shows a concurrent change,
 * reads again and retries with a new plan. */
export async function commitAttach(client: OvsdbClient, desired: DesiredPort, first: AttachPlan, deadline: Deadline): Promise<CommittedAttach> {
  let plan: AttachPlan | undefined = first;
  return transactWithRetry(client, deadline, `attach ${desired.name}`, async () => {
    const p = plan ?? (await planAttach(client, desired, deadline));
    plan = undefined;
    return {
      ops: p.ops,
      done: (results: OperationResult[]) => ({ portUuid: insertedUuid(p.ops, results, "Port"), interfaceUuid: insertedUuid(p.ops, results, "Interface"), nextCfg: nextCfgFrom(results), plan: p }),
    };
  });
}

/** The QoS rows ovs-vif made for ports of these names, in one read. */
async function readOwnQos(client: OvsdbClient, names: string[], deadline: Deadline): Promise<Map<string, OwnQos>> {
  const ops = names.flatMap(ownQosSelects);
  const results = ops.length > 0 ? await client.transact(ops, deadline.left()) : [];
  checkResults(ops, results, "read QoS rows");
  return new Map(names.map((n, i) => [n, ownQosFrom(results[2 * i]?.rows, results[2 * i + 1]?.rows)]));
}

/** Removes one port by its uuid, with its QoS rows (a port re-created
 * meanwhile is left alone: the guard fails). */
export async function removePort(client: OvsdbClient, name: string, portUuid: string, deadline: Deadline): Promise<void> {
  const own = (await readOwnQos(client, [name], deadline)).get(name)!;
  const ops = detachOps(name, [portUuid], own, `ovs-vif: detach ${name}`);
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, `detach ${name}`);
}

export interface DetachResult {
  removed: number;
  bridges: string[];
}

/** Removes every port named `name` (absent is fine). */
export async function detachPort(client: OvsdbClient, name: string, opts: ApplyOptions): Promise<DetachResult> {
  const { deadline } = opts;
  const read = async () => {
    const ops: Json[] = [{ op: "select", table: "Port", where: where("name", name), columns: ["_uuid"] }, ...ownQosSelects(name)];
    const results = await client.transact(ops, deadline.left());
    checkResults(ops, results, `read port ${name}`);
    const ports = (results[0]?.rows ?? []).map((r) => uuidOf(r._uuid));
    const own = ownQosFrom(results[1]?.rows, results[2]?.rows);
    let bridges: string[] = [];
    if (ports.length > 0) {
      const bops: Json[] = [{ op: "select", table: "Bridge", where: [["ports", "includes", ["set", ports.map(uuid)]]], columns: ["name"] }];
      const bres = await client.transact(bops, deadline.left());
      checkResults(bops, bres, `read bridge of ${name}`);
      bridges = (bres[0]?.rows ?? []).map((r) => String(r.name));
    }
    return { ports, bridges, own, nothing: ports.length === 0 && own.qos.length === 0 && own.queues.length === 0 };
  };
  if (opts.dryRun) {
    const { ports, bridges, own, nothing } = await read();
    if (!nothing) opts.dryRun([client.database, ...detachOps(name, ports, own, `ovs-vif: detach ${name}`)]);
    return { removed: ports.length, bridges };
  }
  const outcome = await transactWithRetry(client, deadline, `detach ${name}`, async () => {
    const { ports, bridges, own, nothing } = await read();
    if (nothing) return { ops: [] as Json[], done: () => ({ removed: 0, bridges, nextCfg: undefined as number | undefined }) };
    const ops = detachOps(name, ports, own, `ovs-vif: detach ${name}`);
    return { ops, done: (results: OperationResult[]) => ({ removed: ports.length, bridges, nextCfg: nextCfgFrom(results) as number | undefined }) };
  });
  if (opts.wait && outcome.nextCfg !== undefined) await waitCommitted(client, outcome.nextCfg, deadline, `the removal of ${name}`);
  return { removed: outcome.removed, bridges: outcome.bridges };
}

export interface ReconcileResult {
  status: "absent" | "unchanged" | "updated";
  portUuid?: string;
  bridge?: string;
  /** Column changes, `column: old -> new`. */
  changes: string[];
  policing?: Policing;
}

/** Brings an existing port to the desired state in place: same Port and
 * Interface rows (same _uuid), one transaction, moved to another bridge only
 * if the desired bridge differs. A port that does not exist is left alone. */
export async function reconcilePort(client: OvsdbClient, desired: DesiredPort, opts: ApplyOptions): Promise<ReconcileResult> {
  const { deadline } = opts;
  const read = async () => {
    const ops: Json[] = [
      { op: "select", table: "Port", where: where("name", desired.name), columns: selectColumns("Port", ["interfaces", "qos"]) },
      { op: "select", table: "Interface", where: where("name", desired.name), columns: selectColumns("Interface") },
      { op: "select", table: "Bridge", where: where("name", desired.bridge), columns: ["_uuid"] },
      { op: "select", table: "Interface", where: where("name", desired.bridge), columns: ["mtu"] },
      ...ownQosSelects(desired.name),
    ];
    const results = await client.transact(ops, deadline.left());
    checkResults(ops, results, `read port ${desired.name}`);
    return results;
  };
  const plan = async () => {
    const results = await read();
    const port = results[0]?.rows?.[0];
    const iface = results[1]?.rows?.[0];
    if (!port || !iface) return undefined;
    const bridge = results[2]?.rows?.[0];
    if (!bridge) throw new StateError(desired.bridgeField ?? "bridge", desired.bridge, "no such bridge in OVSDB");
    const bridgeUuid = uuidOf(bridge._uuid);
    const mtu = optionalAtom(results[3]?.rows?.[0]?.mtu);
    const bridgeMtu = typeof mtu === "number" ? mtu : undefined;
    const portUuid = uuidOf(port._uuid);
    const ifaceUuid = uuidOf(iface._uuid);
    const holderOps: Json[] = [{ op: "select", table: "Bridge", where: [["ports", "includes", uuid(portUuid)]], columns: ["_uuid", "name"] }];
    const holderRes = await client.transact(holderOps, deadline.left());
    checkResults(holderOps, holderRes, `read bridge of ${desired.name}`);
    const holder = holderRes[0]?.rows?.[0];
    const cols = portColumns(desired, bridgeMtu);
    const portDiff = diffRow("Port", port, cols);
    const ifaceDiff = diffRow("Interface", iface, cols);
    const own = ownQosFrom(results[4]?.rows, results[5]?.rows);
    const rx = reconcileShaping({ name: desired.name, owner: desired.owner, portUuid, portQos: portQosOf(port), own, want: cols.shaping });
    if (rx.foreign && cols.shaping) throw new StateError("port", desired.name, "has a QoS row ovs-vif did not create; remove it (ovs-vsctl clear port NAME qos) or lift the receive limit");
    const changes = [...portDiff.changes, ...ifaceDiff.changes, ...rx.changes];
    const portUpdate = portDiff.update;
    const ifaceUpdate = ifaceDiff.update;
    const ops: Json[] = [guard("Port", where("name", desired.name), [portUuid]), guard("Bridge", where("name", desired.bridge), [bridgeUuid]), ...ownQosGuards(desired.name, own)];
    const holderUuid = holder ? uuidOf(holder._uuid) : undefined;
    if (holderUuid !== bridgeUuid) {
      changes.push(`bridge: ${holder ? String(holder.name) : "none"} -> ${desired.bridge}`);
      if (holderUuid) ops.push({ op: "mutate", table: "Bridge", where: where("_uuid", uuid(holderUuid)), mutations: [["ports", "delete", set([uuid(portUuid)])]] });
      ops.push({ op: "mutate", table: "Bridge", where: where("_uuid", uuid(bridgeUuid)), mutations: [["ports", "insert", set([uuid(portUuid)])]] });
    }
    if (Object.keys(portUpdate).length) ops.push({ op: "update", table: "Port", where: where("_uuid", uuid(portUuid)), row: portUpdate });
    if (Object.keys(ifaceUpdate).length) ops.push({ op: "update", table: "Interface", where: where("_uuid", uuid(ifaceUuid)), row: ifaceUpdate });
    ops.push(...rx.ops, ...bumpNextCfg(), { op: "comment", comment: `ovs-vif: reconcile ${desired.name} (${desired.owner})` });
    return { ops, changes, portUuid, policing: effectivePolicing(desired, bridgeMtu).policing };
  };

  if (opts.dryRun) {
    const p = await plan();
    if (!p) return { status: "absent", changes: [] };
    if (p.changes.length) opts.dryRun([client.database, ...p.ops]);
    return { status: p.changes.length ? "updated" : "unchanged", portUuid: p.portUuid, bridge: desired.bridge, changes: p.changes, policing: p.policing };
  }
  const outcome = await transactWithRetry(client, deadline, `reconcile ${desired.name}`, async () => {
    const p = await plan();
    if (!p || p.changes.length === 0) return { ops: [] as Json[], done: () => ({ p, nextCfg: undefined as number | undefined }) };
    return { ops: p.ops, done: (results: OperationResult[]) => ({ p, nextCfg: nextCfgFrom(results) as number | undefined }) };
  });
  if (!outcome.p) return { status: "absent", changes: [] };
  if (opts.wait && outcome.nextCfg !== undefined) await waitCommitted(client, outcome.nextCfg, deadline, `the change of ${desired.name}`);
  return { status: outcome.p.changes.length ? "updated" : "unchanged", portUuid: outcome.p.portUuid, bridge: desired.bridge, changes: outcome.p.changes, policing: outcome.p.policing };
}

/** Ports ovs-vif created (Port external_ids ovs-vif-owner), with their
 * Interface external_ids: the index that reconcile, hooks and gc work from. */
export interface ManagedPort {
  name: string;
  portUuid: string;
  owner: string;
  bridge?: string;
  ifaceIds: Record<string, string>;
  ofport?: number;
  error?: string;
}

/** ovs-vif's ports (`name`: only the ports of that name). */
export async function listManagedPorts(client: OvsdbClient, deadline: Deadline, name?: string): Promise<ManagedPort[]> {
  // A map "includes" condition needs the value too, so the owner key is
  // filtered here; only names, ids and uuids travel, not statistics.
  const q: Json[] = [
    { op: "select", table: "Port", where: name === undefined ? [] : where("name", name), columns: ["_uuid", "name", "external_ids", "interfaces"] },
    { op: "select", table: "Bridge", where: [], columns: ["name", "ports"] },
  ];
  const results = await client.transact(q, deadline.left());
  checkResults(q, results, "list managed ports");
  const holder = new Map<string, string>();
  for (const b of results[1]?.rows ?? []) for (const p of setItems(b.ports)) holder.set(uuidOf(p), String(b.name));
  const managed = (results[0]?.rows ?? []).filter((r) => mapEntries(r.external_ids)[OWNER_KEY] !== undefined);
  if (managed.length === 0) return [];
  const ifaceUuids = managed.flatMap((r) => setItems(r.interfaces).map((u) => uuidOf(u)));
  const iq: Json[] = ifaceUuids.map((u) => ({ op: "select", table: "Interface", where: where("_uuid", uuid(u)), columns: ["_uuid", "external_ids", "ofport", "error"] }));
  const ires = await client.transact(iq, deadline.left());
  checkResults(iq, ires, "read managed interfaces");
  const ifaces = new Map<string, Row>();
  for (const r of ires) for (const row of r?.rows ?? []) ifaces.set(uuidOf(row._uuid), row);
  return managed.map((r) => {
    const portUuid = uuidOf(r._uuid);
    const first = setItems(r.interfaces)[0];
    const iface = first ? ifaces.get(uuidOf(first)) : undefined;
    const out: ManagedPort = { name: String(r.name), portUuid, owner: mapEntries(r.external_ids)[OWNER_KEY]!, ifaceIds: mapEntries(iface?.external_ids) };
    const bridge = holder.get(portUuid);
    if (bridge) out.bridge = bridge;
    const ofport = optionalAtom(iface?.ofport);
    if (typeof ofport === "number") out.ofport = ofport;
    const error = optionalAtom(iface?.error);
    if (typeof error === "string" && error) out.error = error;
    return out;
  });
}

/** Removes these ports in one transaction, each guarded by its uuid (a port
 * re-created meanwhile under the same name is left alone: retry re-reads). */
export async function removeManagedPorts(client: OvsdbClient, ports: ManagedPort[], opts: ApplyOptions): Promise<void> {
  const { deadline } = opts;
  const own = await readOwnQos(client, [...new Set(ports.map((p) => p.name))], deadline);
  const ops = removeManyOps(ports.map((p) => ({ name: p.name, portUuid: p.portUuid, own: own.get(p.name)! })), `ovs-vif: gc ${ports.map((p) => p.name).join(" ")}`);
  if (opts.dryRun) {
    opts.dryRun([client.database, ...ops]);
    return;
  }
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, "remove stale ports");
  if (opts.wait) await waitCommitted(client, nextCfgFrom(results), deadline, `the removal of ${ports.map((p) => p.name).join(", ")}`);
}
