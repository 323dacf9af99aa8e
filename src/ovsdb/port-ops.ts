// Transaction builders for VM ports. Pure: they take what was read and the
// desired state and return the operations of one transaction.
import type { Json, Row } from "./json.ts";
import { portColumns, type DesiredPort } from "../port.ts";
import { insertRow } from "./port-columns.ts";
import { deleteOwnQos, insertShaping, ownQosGuards, type OwnQos } from "./port-qos.ts";
import { ID } from "./keys.ts";
import { map, namedUuid, set, uuid } from "./values.ts";

/** What the read phase found. */
export interface AttachState {
  bridgeUuid: string;
  /** Ports (any bridge) with the device's name; removed in the same transaction. */
  sameNamePorts: string[];
  bridgeMtu?: number;
  /** QoS/Queue rows ovs-vif made for a port of this name: replaced too. */
  own: OwnQos;
  /** The bridge carries ovs-vif's port-security flows (its external_ids mark). */
  flows?: boolean;
  /** This port gets port-security flows: the bridge is marked in the same transaction. */
  markFlows?: boolean;
}

/** Marks a bridge as carrying ovs-vif's port-security flows. */
export function markFlowsOp(bridgeUuid: string): Json {
  return {
    op: "mutate",
    table: "Bridge",
    where: where("_uuid", uuid(bridgeUuid)),
    mutations: [["external_ids", "insert", map({ [ID.portSecurity]: "true" })]],
  };
}

export const where = (column: string, value: Json): Json => [[column, "==", value]];

/** Makes the transaction fail (and be retried) when rows matching `cond` are
 * not exactly `uuids`: optimistic concurrency for what the read phase saw. */
export function guard(table: string, cond: Json, uuids: string[]): Json {
  return { op: "wait", table, where: cond, columns: ["_uuid"], until: "==", rows: uuids.map((u) => ({ _uuid: uuid(u) })), timeout: 0 };
}

export function bumpNextCfg(): Json[] {
  return [
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
    { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] },
  ];
}

/** Takes ports out of every bridge, with the QoS rows ovs-vif made for them
 * (a Port lets go of its QoS in the same transaction: the reference is strong). */
function removePortsOps(portUuids: string[], own: OwnQos): Json[] {
  if (portUuids.length === 0 && own.qos.length === 0 && own.queues.length === 0) return [];
  const ops: Json[] = [];
  if (portUuids.length > 0) ops.push({ op: "mutate", table: "Bridge", where: [], mutations: [["ports", "delete", set(portUuids.map(uuid))]] });
  if (own.qos.length > 0) for (const p of portUuids) ops.push({ op: "update", table: "Port", where: where("_uuid", uuid(p)), row: { qos: set([]) } });
  return [...ops, ...deleteOwnQos(own)];
}

/** Insert Interface + Port with every VLAN and QoS column set (and the
 * receive limit's QoS row), add it to the bridge, and drop any port of the
 * same name from whatever bridge holds it: all in one transaction, so the
 * port never exists half-set. */
export function attachOps(desired: DesiredPort, state: AttachState, comment: string): Json[] {
  const ops: Json[] = [
    guard("Bridge", where("name", desired.bridge), [state.bridgeUuid]),
    guard("Port", where("name", desired.name), state.sameNamePorts),
    ...ownQosGuards(desired.name, state.own),
    ...removePortsOps(state.sameNamePorts, state.own),
  ];
  const cols = portColumns(desired, state.bridgeMtu);
  const portRow: Row = { ...insertRow("Port", desired.name, cols), interfaces: namedUuid("iface") };
  if (cols.shaping) {
    const rx = insertShaping(desired.name, desired.owner, cols.shaping);
    ops.push(...rx.ops);
    portRow.qos = rx.ref;
  }
  ops.push(
    { op: "insert", table: "Interface", row: insertRow("Interface", desired.name, cols), "uuid-name": "iface" },
    { op: "insert", table: "Port", row: portRow, "uuid-name": "port" },
    { op: "mutate", table: "Bridge", where: where("_uuid", uuid(state.bridgeUuid)), mutations: [["ports", "insert", set([namedUuid("port")])]] },
    ...(state.markFlows && !state.flows ? [markFlowsOp(state.bridgeUuid)] : []),
    ...bumpNextCfg(),
    { op: "comment", comment },
  );
  return ops;
}

/** Remove ports by uuid from every bridge (unreferenced rows are
 * collected), with the QoS rows ovs-vif made for that name. */
export function detachOps(name: string, portUuids: string[], own: OwnQos, comment: string): Json[] {
  return [
    guard("Port", where("name", name), portUuids),
    ...ownQosGuards(name, own),
    ...removePortsOps(portUuids, own),
    ...bumpNextCfg(),
    { op: "comment", comment },
  ];
}

/** Several ports at once (gc, the watcher, a hook's collection), each
 * guarded by the uuid that was read. */
export function removeManyOps(ports: { name: string; portUuid: string; own: OwnQos }[], comment: string): Json[] {
  const all: OwnQos = { qos: ports.flatMap((p) => p.own.qos), queues: ports.flatMap((p) => p.own.queues) };
  return [
    ...ports.flatMap((p) => [guard("Port", where("name", p.name), [p.portUuid]), ...ownQosGuards(p.name, p.own)]),
    ...removePortsOps(
      ports.map((p) => p.portUuid),
      all,
    ),
    ...bumpNextCfg(),
    { op: "comment", comment },
  ];
}
