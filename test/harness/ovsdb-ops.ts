// Reading the operations of an OVSDB transaction in tests, and the
// operations every VM-port transaction holds (RFC 7047 section 5.2).
import type { Json } from "../../src/ovsdb/json.ts";

export type Op = { [key: string]: Json };

/** The operations, each checked to be a JSON object. */
export function asOps(ops: Json[]): Op[] {
  return ops.map((op) => {
    if (op === null || typeof op !== "object" || Array.isArray(op)) throw new Error(`not an operation: ${JSON.stringify(op)}`);
    return op;
  });
}

export function opAt(ops: Op[], i: number): Op {
  const op = ops[i];
  if (op === undefined) throw new Error(`no operation ${i} in ${JSON.stringify(ops)}`);
  return op;
}

export function rowOf(op: Op): { [key: string]: Json } {
  const row = op.row;
  if (row === null || row === undefined || typeof row !== "object" || Array.isArray(row)) throw new Error(`no row in ${JSON.stringify(op)}`);
  return row;
}

/** The insert into `table`; throws when there is none. */
export function insertOp(ops: Op[], table: string): Op {
  const op = ops.find((o) => o.op === "insert" && o.table === table);
  if (!op) throw new Error(`no ${table} insert in ${JSON.stringify(ops)}`);
  return op;
}

/** The guard that rows of `table` named `name` are exactly `uuids`. */
export function waitGuard(table: string, name: string, uuids: string[]): Json {
  return { op: "wait", table, where: [["name", "==", name]], columns: ["_uuid"], until: "==", rows: uuids.map((u) => ({ _uuid: ["uuid", u] })), timeout: 0 };
}

/** next_cfg incremented and read back: ovs-vswitchd's acknowledgement. */
export const BUMP: Json[] = [
  { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
  { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] },
];
