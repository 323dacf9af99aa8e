// Transaction builders for VM ports. Pure: they take what was read and the
// desired state and return the operations of one transaction.
import type { Json } from "./json.ts";
import { portColumns, type DesiredPort } from "../port.ts";
import { insertRow } from "./port-columns.ts";
import { namedUuid, set, uuid } from "./values.ts";

/** What the read phase found. */
export interface AttachState {
  bridgeUuid: string;
  /** Ports (any bridge) with the device's name; removed in the same transaction. */
  sameNamePorts: string[];
  bridgeMtu?: number;
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

/** Insert Interface + Port with every VLAN and policing column set, add it
 * to the bridge, and drop any port of the same name from whatever bridge
 * holds it: all in one transaction, so the port never exists half-set. */
export function attachOps(desired: DesiredPort, state: AttachState, comment: string): Json[] {
  const ops: Json[] = [
    guard("Bridge", where("name", desired.bridge), [state.bridgeUuid]),
    guard("Port", where("name", desired.name), state.sameNamePorts),
  ];
  if (state.sameNamePorts.length > 0) {
    ops.push({ op: "mutate", table: "Bridge", where: [], mutations: [["ports", "delete", set(state.sameNamePorts.map(uuid))]] });
  }
  const cols = portColumns(desired, state.bridgeMtu);
  ops.push(
    { op: "insert", table: "Interface", row: insertRow("Interface", desired.name, cols), "uuid-name": "iface" },
    { op: "insert", table: "Port", row: { ...insertRow("Port", desired.name, cols), interfaces: namedUuid("iface") }, "uuid-name": "port" },
    { op: "mutate", table: "Bridge", where: where("_uuid", uuid(state.bridgeUuid)), mutations: [["ports", "insert", set([namedUuid("port")])]] },
    ...bumpNextCfg(),
    { op: "comment", comment },
  );
  return ops;
}

/** Remove ports by uuid from every bridge (unreferenced rows are collected). */
export function detachOps(name: string, portUuids: string[], comment: string): Json[] {
  return [
    guard("Port", where("name", name), portUuids),
    { op: "mutate", table: "Bridge", where: [], mutations: [["ports", "delete", set(portUuids.map(uuid))]] },
    ...bumpNextCfg(),
    { op: "comment", comment },
  ];
}
