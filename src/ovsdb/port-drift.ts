// How a VM port in OVSDB differs from its desired state, column by column,
// in the words reconcile uses for its changes (`tag: 3 -> 9`). Pure: the
// same comparison as reconcilePort's, for status.
import { portColumns, type DesiredPort } from "../port.ts";
import type { Row } from "./json.ts";
import { diffRow } from "./port-columns.ts";
import { portQosOf, reconcileShaping, type OwnQos } from "./port-qos.ts";

export interface PortRows {
  port: Row;
  iface: Row;
  /** The bridge holding the port. */
  bridge?: string;
  /** The QoS rows ovs-vif made for this port name. */
  own: OwnQos;
  bridgeMtu?: number;
}

/** The differing fields; [] when the port is as desired. */
export function portDrift(rows: PortRows, desired: DesiredPort): string[] {
  const cols = portColumns(desired, rows.bridgeMtu);
  const changes = [...diffRow("Port", rows.port, cols).changes, ...diffRow("Interface", rows.iface, cols).changes];
  const rx = reconcileShaping({ name: desired.name, owner: desired.owner, portUuid: "", portQos: portQosOf(rows.port), own: rows.own, want: cols.shaping });
  if (rx.foreign && cols.shaping) changes.push("qos: a QoS row ovs-vif did not create");
  changes.push(...rx.changes);
  if (rows.bridge !== desired.bridge) changes.push(`bridge: ${rows.bridge ?? "none"} -> ${desired.bridge}`);
  return changes;
}
