// QoS and Queue rows ovs-vif made (marked external_ids:ovs-vif-port) that
// no Port uses any more: left by a crash between two transactions, or by a
// tool that removed a port without them. Rows without the mark are never
// looked at twice.
import type { OvsdbClient } from "./client.ts";
import type { Json, Row } from "./json.ts";
import { checkResults, commit, type WriteRun } from "./transact.ts";
import type { Deadline } from "../deadline.ts";
import { mapEntries, setItems, uuid, uuidOf } from "./values.ts";
import { ID } from "./keys.ts";

export interface OrphanQos {
  table: "QoS" | "Queue";
  uuid: string;
  /** The port name it was made for. */
  port: string;
}

export async function findOrphanQos(client: OvsdbClient, deadline: Deadline): Promise<OrphanQos[]> {
  const ops: Json[] = [
    { op: "select", table: "QoS", where: [], columns: ["_uuid", "queues", "external_ids"] },
    { op: "select", table: "Queue", where: [], columns: ["_uuid", "external_ids"] },
    { op: "select", table: "Port", where: [], columns: ["qos"] },
  ];
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, "read QoS rows");
  const used = new Set((results[2]?.rows ?? []).flatMap((r) => setItems(r.qos).map((u) => uuidOf(u))));
  const mark = (r: Row) => mapEntries(r.external_ids)[ID.qosPort];
  const out: OrphanQos[] = [];
  const liveQueues = new Set<string>();
  for (const q of results[0]?.rows ?? []) {
    const id = uuidOf(q._uuid);
    const queues = Array.isArray(q.queues) && q.queues[0] === "map" ? (q.queues[1] as [number, Json][]).map(([, v]) => uuidOf(v)) : [];
    if (mark(q) !== undefined && !used.has(id)) out.push({ table: "QoS", uuid: id, port: mark(q)! });
    else for (const v of queues) liveQueues.add(v);
  }
  for (const q of results[1]?.rows ?? []) {
    const id = uuidOf(q._uuid);
    if (mark(q) !== undefined && !liveQueues.has(id)) out.push({ table: "Queue", uuid: id, port: mark(q)! });
  }
  return out;
}

/** Deletes them in one transaction; a row that changed meanwhile fails it (the next gc sees it again). */
export async function removeOrphanQos(client: OvsdbClient, orphans: OrphanQos[], run: WriteRun): Promise<void> {
  if (orphans.length === 0) return;
  // A QoS row still unused at commit (a Port taking it meanwhile fails the delete: the reference is strong).
  const ops: Json[] = [
    ...orphans.map((o) => ({ op: "delete", table: o.table, where: [["_uuid", "==", uuid(o.uuid)]] })),
    { op: "comment", comment: `ovs-vif: gc ${orphans.length} orphaned QoS/Queue rows` },
  ];
  await commit(client, "remove orphaned QoS rows", async () => ({ ops, done: () => undefined }), { ...run, tries: 1 });
}
