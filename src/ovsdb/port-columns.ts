// Every OVSDB column ovs-vif sets on a VM port, declared once: its table,
// its name and how the desired state encodes it. The insert rows, the
// select lists and reconcile's comparison are all derived from this list,
// so a new column is one line here (and its value in port.ts).
import type { PortColumns } from "../port.ts";
import type { Json, Row } from "./json.ts";
import { map, mapEntries, optional, set, setItems } from "./values.ts";

export type PortTable = "Port" | "Interface";

interface ColumnDef {
  table: PortTable;
  name: string;
  encode(c: PortColumns): Json;
  /** A map that others may add keys to: reconcile keeps their keys, ours win. */
  shared?: true;
}

export const VM_PORT_COLUMNS: readonly ColumnDef[] = [
  { table: "Port", name: "vlan_mode", encode: (c) => c.port.vlan_mode },
  { table: "Port", name: "tag", encode: (c) => optional(c.port.tag) },
  { table: "Port", name: "trunks", encode: (c) => set(c.port.trunks) },
  { table: "Port", name: "external_ids", encode: (c) => map(c.port.external_ids), shared: true },
  { table: "Interface", name: "external_ids", encode: (c) => map(c.iface.external_ids), shared: true },
  { table: "Interface", name: "ingress_policing_rate", encode: (c) => c.iface.ingress_policing_rate },
  { table: "Interface", name: "ingress_policing_burst", encode: (c) => c.iface.ingress_policing_burst },
  { table: "Interface", name: "mtu_request", encode: (c) => optional(c.iface.mtu_request) },
];

const of = (table: PortTable) => VM_PORT_COLUMNS.filter((c) => c.table === table);

/** The row to insert (name included). */
export function insertRow(table: PortTable, name: string, cols: PortColumns): Row {
  const row: Row = { name };
  for (const c of of(table)) row[c.name] = c.encode(cols);
  return row;
}

/** The columns reconcile reads, besides `extra`. */
export function selectColumns(table: PortTable, extra: string[] = []): string[] {
  return ["_uuid", ...extra, ...of(table).map((c) => c.name)];
}

/** A value in a form that compares equal when OVSDB means the same thing. */
export function describeValue(v: Json | undefined): string {
  if (Array.isArray(v) && v[0] === "map") return JSON.stringify(mapEntries(v));
  const items = setItems(v);
  return items.length === 1 ? JSON.stringify(items[0]) : JSON.stringify(items);
}

/** The update that brings `current` to `cols`, and the changes as
 * `column: old -> new` (empty when it already matches). */
export function diffRow(table: PortTable, current: Row, cols: PortColumns): { update: Row; changes: string[] } {
  const update: Row = {};
  const changes: string[] = [];
  for (const c of of(table)) {
    let want = c.encode(cols);
    if (c.shared) want = map({ ...mapEntries(current[c.name]), ...mapEntries(want) });
    const before = describeValue(current[c.name]);
    const after = describeValue(want);
    if (before === after) continue;
    update[c.name] = want;
    changes.push(`${c.name}: ${before} -> ${after}`);
  }
  return { update, changes };
}
