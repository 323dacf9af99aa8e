// Reading OVSDB: typed selects, sent as one transaction, their rows checked.
// Every read of ovs-vif names the rows it needs (by name, by uuid, by a mark
// in external_ids): never a whole table on a hook's path.
import { checkResults } from "./transact.ts";
import type { Json, OvsdbClient, Row } from "./client.ts";
import type { Deadline } from "../deadline.ts";
import { optionalAtom, uuid } from "./values.ts";

export type Table = "Open_vSwitch" | "Bridge" | "Port" | "Interface" | "QoS" | "Queue" | "Logical_Switch" | "Logical_Switch_Port";

export interface Select {
  table: Table;
  where: Json;
  columns: readonly string[];
}

export const byName = (name: string): Json => [["name", "==", name]];
export const byUuid = (id: string): Json => [["_uuid", "==", uuid(id)]];
/** Rows whose external_ids hold all of `entries`. */
export const marked = (entries: Record<string, string>): Json => [["external_ids", "includes", ["map", Object.entries(entries)]]];
/** Every row of the table (status, gc: not on a hook's path). */
export const everyRow: Json = [];

export function selectOp(s: Select): Json {
  return { op: "select", table: s.table, where: s.where, columns: [...s.columns] };
}

/** Runs the selects as one transaction; the rows of each, in order. */
export async function read(client: OvsdbClient, deadline: Deadline, what: string, selects: readonly Select[]): Promise<Row[][]> {
  if (selects.length === 0) return [];
  const ops = selects.map(selectOp);
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, what);
  return ops.map((_, i) => results[i]?.rows ?? []);
}

/** The MTU a VM port on `bridge` takes: that of the bridge's own interface. */
export function bridgeMtuSelect(bridge: string): Select {
  return { table: "Interface", where: byName(bridge), columns: ["mtu"] };
}

/** The MTU from bridgeMtuSelect's rows; undefined without the interface (or its MTU). */
export function bridgeMtuOf(rows: readonly Row[]): number | undefined {
  const mtu = optionalAtom(rows[0]?.mtu);
  return typeof mtu === "number" ? mtu : undefined;
}

/** The bridge's MTU in a read of its own. */
export async function bridgeMtu(client: OvsdbClient, bridge: string, deadline: Deadline): Promise<number | undefined> {
  const [rows] = await read(client, deadline, `read bridge ${bridge}`, [bridgeMtuSelect(bridge)]);
  return bridgeMtuOf(rows!);
}
