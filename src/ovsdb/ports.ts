// VM ports in OVSDB: plan and commit an attach, detach by name, reconcile in
// place, list and remove ovs-vif's ports. Each reads what it needs by name
// (never whole tables on a hook's path), builds one transaction, and
// commits it through commit() (transact.ts), which also prints it in a dry run.
import { StateError } from "../errors.ts";
import { effectivePolicing, effectiveShaping, portColumns, type DesiredPort } from "../port.ts";
import type { Policing, Shaping } from "../qos.ts";
import type { Json, OperationResult, OvsdbClient, Row } from "./client.ts";
import { ID } from "./keys.ts";
import { attachOps, bumpNextCfg, detachOps, guard, markFlowsOp, removeManyOps, type AttachState } from "./port-ops.ts";
import { diffRow, selectColumns } from "./port-columns.ts";
import { ownQosFrom, ownQosGuards, ownQosSelect, portQosOf, reconcileShaping, type OwnQos } from "./port-qos.ts";
import { bridgeMtuOf, bridgeMtuSelect, byName, byUuid, everyRow, read } from "./select.ts";
import { commit, nextCfgFrom, transactWithRetry, waitCommitted, type WriteRun } from "./transact.ts";
import type { Deadline } from "../deadline.ts";
import { mapEntries, optionalAtom, set, setItems, uuid, uuidOf } from "./values.ts";

/** A write and, unless told not to, the wait for ovs-vswitchd to apply it. */
export interface ApplyOptions extends WriteRun {
  wait: boolean;
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

async function readAttachState(client: OvsdbClient, desired: DesiredPort, deadline: Deadline, markFlows: boolean): Promise<AttachState> {
  const [bridges, sameName, mtu, qos, queues] = await read(client, deadline, `read bridge ${desired.bridge}`, [
    { table: "Bridge", where: byName(desired.bridge), columns: ["_uuid", "external_ids"] },
    { table: "Port", where: byName(desired.name), columns: ["_uuid"] },
    bridgeMtuSelect(desired.bridge),
    ...ownQosSelect(desired.name),
  ]);
  const bridge = bridges![0];
  if (!bridge) throw new StateError(desired.bridgeField ?? "bridge", desired.bridge, "no such bridge in OVSDB");
  const state: AttachState = {
    bridgeUuid: uuidOf(bridge._uuid),
    sameNamePorts: sameName!.map((r) => uuidOf(r._uuid)),
    own: ownQosFrom(qos, queues),
    flows: hasFlows(bridge),
    markFlows,
  };
  const bridgeMtu = bridgeMtuOf(mtu!);
  if (bridgeMtu !== undefined) state.bridgeMtu = bridgeMtu;
  return state;
}

/** Does the bridge carry ovs-vif's port-security flows (its mark)? */
export function hasFlows(bridge: Row | undefined): boolean {
  return mapEntries(bridge?.external_ids)[ID.portSecurity] === "true";
}

/** Reads what the attach depends on and builds its one transaction
 * (`markFlows`: the port gets port-security flows, the bridge is marked). */
export async function planAttach(client: OvsdbClient, desired: DesiredPort, deadline: Deadline, markFlows = false): Promise<AttachPlan> {
  const state = await readAttachState(client, desired, deadline, markFlows);
  const { shaping } = effectiveShaping(desired, state.bridgeMtu);
  const comment = `ovs-vif: attach ${desired.name} to ${desired.bridge} (${desired.owner})`;
  return { state, ops: attachOps(desired, state, comment), policing: effectivePolicing(desired, state.bridgeMtu).policing, ...(shaping ? { shaping } : {}) };
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
 * reads again and retries with a new plan. (A dry run never gets here: the
 * plug prints the plan with its device steps.) */
export async function commitAttach(client: OvsdbClient, desired: DesiredPort, first: AttachPlan, deadline: Deadline): Promise<CommittedAttach> {
  let plan: AttachPlan | undefined = first;
  return transactWithRetry(client, deadline, `attach ${desired.name}`, async () => {
    const p = plan ?? (await planAttach(client, desired, deadline, first.state.markFlows));
    plan = undefined;
    return {
      ops: p.ops,
      done: (results) => ({
        portUuid: insertedUuid(p.ops, results!, "Port"),
        interfaceUuid: insertedUuid(p.ops, results!, "Interface"),
        nextCfg: nextCfgFrom(results!),
        plan: p,
      }),
    };
  });
}

/** The QoS rows ovs-vif made for ports of these names, in one read. */
async function readOwnQos(client: OvsdbClient, names: string[], deadline: Deadline): Promise<Map<string, OwnQos>> {
  const rows = await read(client, deadline, "read QoS rows", names.flatMap(ownQosSelect));
  return new Map(names.map((n, i) => [n, ownQosFrom(rows[2 * i], rows[2 * i + 1])]));
}

/** Removes one port by its uuid, with its QoS rows (a port re-created
 * meanwhile is left alone: the guard fails). A rollback: never a dry run. */
export async function removePort(client: OvsdbClient, name: string, portUuid: string, deadline: Deadline): Promise<void> {
  await commit(
    client,
    `detach ${name}`,
    async () => {
      const own = (await readOwnQos(client, [name], deadline)).get(name)!;
      return { ops: detachOps(name, [portUuid], own, `ovs-vif: detach ${name}`), done: () => undefined };
    },
    { deadline, tries: 1 },
  );
}

export interface DetachResult {
  removed: number;
  bridges: string[];
  /** The removed ports' ofports on bridges that carry port-security flows:
   * those flows go next (src/port-flows.ts). */
  flowPorts: FlowPort[];
}

/** A port whose ofport may have ovs-vif's port-security flows on its bridge. */
export interface FlowPort {
  bridge: string;
  name: string;
  ofport: number;
}

/** The committed change's next_cfg (none in a dry run or for an empty one). */
const nextCfgOf = (ops: Json[], results: OperationResult[] | undefined) => (results && ops.length > 0 ? nextCfgFrom(results) : undefined);

/** Removes every port named `name` (absent is fine). */
export async function detachPort(client: OvsdbClient, name: string, opts: ApplyOptions): Promise<DetachResult> {
  const outcome = await commit(
    client,
    `detach ${name}`,
    async () => {
      const [ports, ifaces, qos, queues] = await read(client, opts.deadline, `read port ${name}`, [
        { table: "Port", where: byName(name), columns: ["_uuid"] },
        { table: "Interface", where: byName(name), columns: ["ofport"] },
        ...ownQosSelect(name),
      ]);
      const portUuids = ports!.map((r) => uuidOf(r._uuid));
      const own = ownQosFrom(qos, queues);
      const [holders] =
        portUuids.length > 0
          ? await read(client, opts.deadline, `read bridge of ${name}`, [
              { table: "Bridge", where: [["ports", "includes", set(portUuids.map(uuid))]], columns: ["name", "external_ids"] },
            ])
          : [[]];
      const bridges = holders!.map((r) => String(r.name));
      const ofport = optionalAtom(ifaces![0]?.ofport);
      const flowPorts = typeof ofport === "number" && ofport > 0 ? holders!.filter(hasFlows).map((b) => ({ bridge: String(b.name), name, ofport })) : [];
      const nothing = portUuids.length === 0 && own.qos.length === 0 && own.queues.length === 0;
      const ops = nothing ? [] : detachOps(name, portUuids, own, `ovs-vif: detach ${name}`);
      return { ops, done: (results) => ({ removed: portUuids.length, bridges, flowPorts, nextCfg: nextCfgOf(ops, results) }) };
    },
    opts,
  );
  if (opts.wait && outcome.nextCfg !== undefined) await waitCommitted(client, outcome.nextCfg, opts.deadline, `the removal of ${name}`);
  return { removed: outcome.removed, bridges: outcome.bridges, flowPorts: outcome.flowPorts };
}

export interface ReconcileResult {
  status: "absent" | "unchanged" | "updated";
  portUuid?: string;
  bridge?: string;
  /** Column changes, `column: old -> new`. */
  changes: string[];
  policing?: Policing;
}

interface ReconcilePlan {
  ops: Json[];
  changes: string[];
  portUuid: string;
  policing: Policing;
}

/** Reads the port as it is and builds the transaction that brings it to
 * `desired`; undefined when there is no such port. */
async function planReconcile(client: OvsdbClient, desired: DesiredPort, deadline: Deadline, markFlows: boolean): Promise<ReconcilePlan | undefined> {
  const [ports, ifaces, bridges, mtu, qos, queues] = await read(client, deadline, `read port ${desired.name}`, [
    { table: "Port", where: byName(desired.name), columns: selectColumns("Port", ["interfaces", "qos"]) },
    { table: "Interface", where: byName(desired.name), columns: selectColumns("Interface") },
    { table: "Bridge", where: byName(desired.bridge), columns: ["_uuid", "external_ids"] },
    bridgeMtuSelect(desired.bridge),
    ...ownQosSelect(desired.name),
  ]);
  const port = ports![0];
  const iface = ifaces![0];
  if (!port || !iface) return undefined;
  const bridge = bridges![0];
  if (!bridge) throw new StateError(desired.bridgeField ?? "bridge", desired.bridge, "no such bridge in OVSDB");
  const bridgeUuid = uuidOf(bridge._uuid);
  const bridgeMtu = bridgeMtuOf(mtu!);
  const portUuid = uuidOf(port._uuid);
  const [holders] = await read(client, deadline, `read bridge of ${desired.name}`, [
    { table: "Bridge", where: [["ports", "includes", uuid(portUuid)]], columns: ["_uuid", "name"] },
  ]);
  const holder = holders![0];
  const cols = portColumns(desired, bridgeMtu);
  const portDiff = diffRow("Port", port, cols);
  const ifaceDiff = diffRow("Interface", iface, cols);
  const own = ownQosFrom(qos, queues);
  const rx = reconcileShaping({ name: desired.name, owner: desired.owner, portUuid, portQos: portQosOf(port), own, want: cols.shaping });
  if (rx.foreign && cols.shaping)
    throw new StateError("port", desired.name, "has a QoS row ovs-vif did not create; remove it (ovs-vsctl clear port NAME qos) or lift the receive limit");
  const changes = [...portDiff.changes, ...ifaceDiff.changes, ...rx.changes];
  const ops: Json[] = [
    guard("Port", byName(desired.name), [portUuid]),
    guard("Bridge", byName(desired.bridge), [bridgeUuid]),
    ...ownQosGuards(desired.name, own),
  ];
  const holderUuid = holder ? uuidOf(holder._uuid) : undefined;
  if (holderUuid !== bridgeUuid) {
    changes.push(`bridge: ${holder ? String(holder.name) : "none"} -> ${desired.bridge}`);
    if (holderUuid) ops.push({ op: "mutate", table: "Bridge", where: byUuid(holderUuid), mutations: [["ports", "delete", set([uuid(portUuid)])]] });
    ops.push({ op: "mutate", table: "Bridge", where: byUuid(bridgeUuid), mutations: [["ports", "insert", set([uuid(portUuid)])]] });
  }
  if (markFlows && !hasFlows(bridge)) {
    changes.push(`bridge ${desired.bridge}: marked as carrying port-security flows`);
    ops.push(markFlowsOp(bridgeUuid));
  }
  if (Object.keys(portDiff.update).length) ops.push({ op: "update", table: "Port", where: byUuid(portUuid), row: portDiff.update });
  if (Object.keys(ifaceDiff.update).length) ops.push({ op: "update", table: "Interface", where: byUuid(uuidOf(iface._uuid)), row: ifaceDiff.update });
  ops.push(...rx.ops, ...bumpNextCfg(), { op: "comment", comment: `ovs-vif: reconcile ${desired.name} (${desired.owner})` });
  return { ops: changes.length > 0 ? ops : [], changes, portUuid, policing: effectivePolicing(desired, bridgeMtu).policing };
}

/** Brings an existing port to the desired state in place: same Port and
 * Interface rows (same _uuid), one transaction, moved to another bridge only
 * if the desired bridge differs. A port that does not exist is left alone. */
export async function reconcilePort(client: OvsdbClient, desired: DesiredPort, opts: ApplyOptions, markFlows = false): Promise<ReconcileResult> {
  const outcome = await commit(
    client,
    `reconcile ${desired.name}`,
    async () => {
      const p = await planReconcile(client, desired, opts.deadline, markFlows);
      const ops = p?.ops ?? [];
      return { ops, done: (results) => ({ p, nextCfg: nextCfgOf(ops, results) }) };
    },
    opts,
  );
  const p = outcome.p;
  if (!p) return { status: "absent", changes: [] };
  if (opts.wait && outcome.nextCfg !== undefined) await waitCommitted(client, outcome.nextCfg, opts.deadline, `the change of ${desired.name}`);
  return { status: p.changes.length ? "updated" : "unchanged", portUuid: p.portUuid, bridge: desired.bridge, changes: p.changes, policing: p.policing };
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
  /** Its bridge carries ovs-vif's port-security flows. */
  bridgeFlows?: boolean;
}

/** ovs-vif's ports (`name`: only the ports of that name). */
export async function listManagedPorts(client: OvsdbClient, deadline: Deadline, name?: string): Promise<ManagedPort[]> {
  // A map "includes" condition needs the value too, so the owner key is
  // filtered here; only names, ids and uuids travel, not statistics.
  const [ports, bridges] = await read(client, deadline, "list managed ports", [
    { table: "Port", where: name === undefined ? everyRow : byName(name), columns: ["_uuid", "name", "external_ids", "interfaces"] },
    { table: "Bridge", where: everyRow, columns: ["name", "ports", "external_ids"] },
  ]);
  const holder = new Map<string, string>();
  for (const b of bridges!) for (const p of setItems(b.ports)) holder.set(uuidOf(p), String(b.name));
  const flowBridges = new Set(bridges!.filter(hasFlows).map((b) => String(b.name)));
  const managed = ports!.filter((r) => mapEntries(r.external_ids)[ID.owner] !== undefined);
  if (managed.length === 0) return [];
  const ifaceUuids = managed.flatMap((r) => setItems(r.interfaces).map((u) => uuidOf(u)));
  const rows = await read(
    client,
    deadline,
    "read managed interfaces",
    ifaceUuids.map((u) => ({ table: "Interface" as const, where: byUuid(u), columns: ["_uuid", "external_ids", "ofport", "error"] })),
  );
  const ifaces = new Map<string, Row>();
  for (const r of rows) for (const row of r) ifaces.set(uuidOf(row._uuid), row);
  return managed.map((r) => {
    const portUuid = uuidOf(r._uuid);
    const first = setItems(r.interfaces)[0];
    const iface = first ? ifaces.get(uuidOf(first)) : undefined;
    const out: ManagedPort = { name: String(r.name), portUuid, owner: mapEntries(r.external_ids)[ID.owner]!, ifaceIds: mapEntries(iface?.external_ids) };
    const bridge = holder.get(portUuid);
    if (bridge) out.bridge = bridge;
    if (bridge && flowBridges.has(bridge)) out.bridgeFlows = true;
    const ofport = optionalAtom(iface?.ofport);
    if (typeof ofport === "number") out.ofport = ofport;
    const error = optionalAtom(iface?.error);
    if (typeof error === "string" && error) out.error = error;
    return out;
  });
}

/** The bridges that carry ovs-vif's port-security flows (their mark). */
export async function flowBridges(client: OvsdbClient, deadline: Deadline): Promise<string[]> {
  const [bridges] = await read(client, deadline, "read bridges", [{ table: "Bridge", where: everyRow, columns: ["name", "external_ids"] }]);
  return bridges!.filter(hasFlows).map((b) => String(b.name));
}

/** Removes these ports in one transaction, each guarded by its uuid (a port
 * re-created meanwhile under the same name is left alone: retry re-reads). */
export async function removeManagedPorts(client: OvsdbClient, ports: ManagedPort[], opts: ApplyOptions): Promise<void> {
  const names = ports.map((p) => p.name).join(" ");
  const nextCfg = await commit(
    client,
    "remove stale ports",
    async () => {
      const own = await readOwnQos(client, [...new Set(ports.map((p) => p.name))], opts.deadline);
      const ops = removeManyOps(
        ports.map((p) => ({ name: p.name, portUuid: p.portUuid, own: own.get(p.name)! })),
        `ovs-vif: gc ${names}`,
      );
      return { ops, done: (results) => nextCfgOf(ops, results) };
    },
    { ...opts, tries: 1 },
  );
  if (opts.wait && nextCfg !== undefined) await waitCommitted(client, nextCfg, opts.deadline, `the removal of ${ports.map((p) => p.name).join(", ")}`);
}
