// The receive limit of a VM port: a linux-htb QoS row on the Port with one
// queue (0), both marked external_ids:ovs-vif-port=NAME. QoS and Queue are
// root tables: a row nothing deletes stays forever, so every transaction
// that replaces, changes or removes a port removes or updates the rows it
// created (found by that mark), and never a row without it. Pure builders.
import type { Shaping } from "../qos.ts";
import type { Json, Row } from "./json.ts";
import { map, mapEntries, set, setItems, uuid, uuidOf } from "./values.ts";
import { ID } from "./keys.ts";
import { marked, type Select } from "./select.ts";

/** Rows marked for a port name: what reads of that port also select. */
export function ownQosSelect(name: string): Select[] {
  return [
    { table: "QoS", where: marked({ [ID.qosPort]: name }), columns: ["_uuid", "queues", "other_config", "type"] },
    { table: "Queue", where: marked({ [ID.qosPort]: name }), columns: ["_uuid", "other_config"] },
  ];
}

export interface OwnQos {
  qos: Row[];
  queues: Row[];
}

export function ownQosFrom(qosRows: Row[] | undefined, queueRows: Row[] | undefined): OwnQos {
  return { qos: qosRows ?? [], queues: queueRows ?? [] };
}

const uuids = (rows: Row[]) => rows.map((r) => uuidOf(r._uuid));

/** Guards: the marked rows are still exactly the ones read. */
export function ownQosGuards(name: string, own: OwnQos): Json[] {
  const where = marked({ [ID.qosPort]: name });
  return [
    { op: "wait", table: "QoS", where, columns: ["_uuid"], until: "==", rows: uuids(own.qos).map((u) => ({ _uuid: uuid(u) })), timeout: 0 },
    { op: "wait", table: "Queue", where, columns: ["_uuid"], until: "==", rows: uuids(own.queues).map((u) => ({ _uuid: uuid(u) })), timeout: 0 },
  ];
}

/** Deletes the given marked rows (the Ports referencing them must let go
 * in the same transaction: the references are strong). */
export function deleteOwnQos(own: OwnQos): Json[] {
  return [
    ...uuids(own.qos).map((u) => ({ op: "delete", table: "QoS", where: [["_uuid", "==", uuid(u)]] })),
    ...uuids(own.queues).map((u) => ({ op: "delete", table: "Queue", where: [["_uuid", "==", uuid(u)]] })),
  ];
}

function queueConfig(s: Shaping): Record<string, string> {
  return s.burst !== undefined ? { "max-rate": String(s.rate), burst: String(s.burst) } : { "max-rate": String(s.rate) };
}

/** Inserts the QoS and its queue; `ref` is the value for Port.qos. */
export function insertShaping(name: string, owner: string, s: Shaping, tag = "rxqos"): { ops: Json[]; ref: Json } {
  const ids = map({ [ID.qosPort]: name, [ID.owner]: owner });
  return {
    ops: [
      { op: "insert", table: "Queue", "uuid-name": `${tag}q`, row: { other_config: map(queueConfig(s)), external_ids: ids } },
      {
        op: "insert",
        table: "QoS",
        "uuid-name": tag,
        row: { type: "linux-htb", other_config: map({ "max-rate": String(s.rate) }), queues: ["map", [[0, ["named-uuid", `${tag}q`]]]], external_ids: ids },
      },
    ],
    ref: ["named-uuid", tag],
  };
}

/** The shaping an own QoS row holds (rate from queue 0, or the QoS). */
export function shapingOf(own: OwnQos, qosUuid: string): Shaping | undefined {
  const row = own.qos.find((r) => uuidOf(r._uuid) === qosUuid);
  if (!row) return undefined;
  const q0 = queuesOf(row)[0];
  const queue = q0 !== undefined ? own.queues.find((r) => uuidOf(r._uuid) === q0) : undefined;
  const cfg = mapEntries(queue?.other_config ?? row.other_config);
  const rate = Number(cfg["max-rate"] ?? NaN);
  if (!Number.isFinite(rate)) return undefined;
  return cfg.burst !== undefined ? { rate, burst: Number(cfg.burst) } : { rate };
}

export const describeShaping = (s: Shaping | undefined): string => (s ? `${s.rate}${s.burst !== undefined ? `/${s.burst}` : ""}` : "none");

function queuesOf(row: Row): string[] {
  const entries = Array.isArray(row.queues) && row.queues[0] === "map" ? (row.queues[1] as [number, Json][]) : [];
  return entries.map(([, q]) => uuidOf(q));
}

/** Brings a port's receive limit to `want` in place: the same rows updated,
 * new ones when there were none, removed when the limit is lifted. Marked
 * rows the port does not use (left by a crash) go too. A QoS row on the port
 * that ovs-vif did not create is left alone (`foreign`). */
export function reconcileShaping(o: { name: string; owner: string; portUuid: string; portQos: string | undefined; own: OwnQos; want: Shaping | undefined }): {
  ops: Json[];
  changes: string[];
  foreign: boolean;
} {
  const foreign = o.portQos !== undefined && !uuids(o.own.qos).includes(o.portQos);
  if (foreign) return { ops: [], changes: [], foreign };
  const ops: Json[] = [];
  const changes: string[] = [];
  const current = o.portQos !== undefined ? shapingOf(o.own, o.portQos) : undefined;
  const kept = o.want !== undefined ? o.portQos : undefined;
  if (describeShaping(current) !== describeShaping(o.want)) changes.push(`rx-rate/rx-burst: ${describeShaping(current)} -> ${describeShaping(o.want)}`);
  if (o.want && kept !== undefined) {
    if (changes.length > 0) {
      ops.push({ op: "update", table: "QoS", where: [["_uuid", "==", uuid(kept)]], row: { other_config: map({ "max-rate": String(o.want.rate) }) } });
      for (const q of queuesOf(o.own.qos.find((r) => uuidOf(r._uuid) === kept)!))
        ops.push({ op: "update", table: "Queue", where: [["_uuid", "==", uuid(q)]], row: { other_config: map(queueConfig(o.want)) } });
    }
  } else if (o.want) {
    const ins = insertShaping(o.name, o.owner, o.want);
    ops.push(...ins.ops, { op: "update", table: "Port", where: [["_uuid", "==", uuid(o.portUuid)]], row: { qos: ins.ref } });
  } else if (o.portQos !== undefined) {
    ops.push({ op: "update", table: "Port", where: [["_uuid", "==", uuid(o.portUuid)]], row: { qos: set([]) } });
  }
  // Every marked row but the one kept goes: the lifted one, and orphans.
  const keptQueues = kept !== undefined ? queuesOf(o.own.qos.find((r) => uuidOf(r._uuid) === kept)!) : [];
  const drop: OwnQos = { qos: o.own.qos.filter((r) => uuidOf(r._uuid) !== kept), queues: o.own.queues.filter((r) => !keptQueues.includes(uuidOf(r._uuid))) };
  const orphans = drop.qos.filter((r) => uuidOf(r._uuid) !== o.portQos).length;
  if (orphans > 0) changes.push(`removed ${orphans} orphaned QoS row(s) of ${o.name}`);
  ops.push(...deleteOwnQos(drop));
  return { ops, changes, foreign };
}

/** Port.qos of a read Port row, when set. */
export function portQosOf(row: Row | undefined): string | undefined {
  const item = setItems(row?.qos)[0];
  return item === undefined ? undefined : uuidOf(item);
}
