// A VM's Logical_Switch_Port in OVN's Northbound database, read by name and
// written in one guarded transaction (RFC 7047, as for the Open_vSwitch
// database). Facts it relies on (checked against ovsdb-server): an insert
// without a `wait` on the switch, when the switch is missing, answers
// success and the port is garbage-collected; a map `insert` does not
// overwrite an existing key, so options are changed by deleting the keys and
// inserting them in one mutate.
import { StateError } from "../errors.ts";
import { OvsdbClient, type Endpoint } from "../ovsdb/client.ts";
import type { Json, Row } from "../ovsdb/json.ts";
import { checkResults } from "../ovsdb/transact.ts";
import type { Deadline } from "../deadline.ts";
import { map, mapEntries, set, uuid, uuidOf } from "../ovsdb/values.ts";
import { ID, LSP_OPTION } from "../ovsdb/keys.ts";

export const NB_DATABASE = "OVN_Northbound";

export interface DesiredLsp {
  name: string;
  /** The logical switch it belongs on. */
  ls: string;
  /** "MAC" or "MAC IP": addresses and port_security alike. */
  address: string;
  externalIds: Record<string, string>;
}

export interface LspState {
  lsUuid: string;
  lsp?: {
    uuid: string;
    type: string;
    options: Record<string, string>;
    holder?: string;
    externalIds: Record<string, string>;
    /** The columns an attach changes, as read: what an undo puts back. */
    row: Row;
  };
}

export function connectNb(nb: Endpoint, timeoutMs: number): Promise<OvsdbClient> {
  return OvsdbClient.connect(nb, timeoutMs, NB_DATABASE);
}

const byName = (name: string): Json => [["name", "==", name]];

/** The columns of a logical port that a plug writes (and an undo restores). */
const WRITTEN = ["addresses", "port_security", "options", "external_ids"];

/** The switch (which must exist, and be the only one of its name) and the
 * port, with the switch now holding it. A port that exists must be a VM's
 * (type "") and ovs-vif's own (external_ids ovs-vif-owner): a router,
 * localnet or other port, or one someone else made, is refused, naming
 * `lspField`, before anything is changed. */
export async function readLsp(
  nb: OvsdbClient,
  name: string,
  ls: string,
  deadline: Deadline,
  field = "logical switch",
  lspField = "logical port",
): Promise<LspState> {
  const ops: Json[] = [
    { op: "select", table: "Logical_Switch", where: byName(ls), columns: ["_uuid"] },
    { op: "select", table: "Logical_Switch_Port", where: byName(name), columns: ["_uuid", "type", ...WRITTEN] },
  ];
  const r = await nb.transact(ops, deadline.left());
  checkResults(ops, r, `read logical switch port ${name}`);
  const switches = r[0]?.rows ?? [];
  const sw = switches[0];
  if (!sw) throw new StateError(field, ls, `no such logical switch in OVN's Northbound database ${nb.endpoint.text}`);
  if (switches.length > 1)
    throw new StateError(
      field,
      ls,
      `${switches.length} logical switches have that name in ${nb.endpoint.text} (ovn-nbctl refuses such a name too): cannot tell which is meant; rename all but one`,
    );
  const state: LspState = { lsUuid: uuidOf(sw._uuid) };
  const row = r[1]?.rows?.[0];
  if (row) {
    const id = uuidOf(row._uuid);
    const type = typeof row.type === "string" ? row.type : "";
    const externalIds = mapEntries(row.external_ids);
    if (type !== "")
      throw new StateError(
        lspField,
        name,
        `names a logical port of type "${type}" in ${nb.endpoint.text}, not a VM's (type ""): ovs-vif changes only VM ports`,
      );
    if (!externalIds[ID.owner])
      throw new StateError(
        lspField,
        name,
        `names a logical port in ${nb.endpoint.text} that ovs-vif did not make (no external_ids:${ID.owner}): ovs-vif changes only its own; remove it or name another port`,
      );
    const hops: Json[] = [{ op: "select", table: "Logical_Switch", where: [["ports", "includes", uuid(id)]], columns: ["_uuid"] }];
    const h = await nb.transact(hops, deadline.left());
    checkResults(hops, h, `read the switch of ${name}`);
    const holder = h[0]?.rows?.[0];
    const kept: Row = {};
    for (const col of WRITTEN) if (row[col] !== undefined) kept[col] = row[col]!;
    state.lsp = { uuid: id, type, options: mapEntries(row.options), externalIds, row: kept, ...(holder ? { holder: uuidOf(holder._uuid) } : {}) };
  }
  return state;
}

/** The mutate that adds `port` to the ports of the logical switch `ls` (its
 * row UUID), or takes it off them. */
function switchPorts(ls: string, how: "insert" | "delete", port: Json): Json {
  return { op: "mutate", table: "Logical_Switch", where: [["_uuid", "==", uuid(ls)]], mutations: [["ports", how, set([port])]] };
}

/** Undoes what upsertLspOps did (an attach that failed after it): the port
 * it created goes again; a port that was there gets back its columns and
 * its switch. `created`: the new port's uuid. */
export function undoLspOps(d: DesiredLsp, before: LspState, created: string | undefined): Json[] {
  if (!before.lsp) {
    if (created === undefined) return [];
    return [switchPorts(before.lsUuid, "delete", uuid(created))];
  }
  const target = [["_uuid", "==", uuid(before.lsp.uuid)]];
  const ops: Json[] = [{ op: "update", table: "Logical_Switch_Port", where: target, row: before.lsp.row }];
  if (before.lsp.holder !== before.lsUuid) {
    ops.push(switchPorts(before.lsUuid, "delete", uuid(before.lsp.uuid)));
    if (before.lsp.holder) ops.push(switchPorts(before.lsp.holder, "insert", uuid(before.lsp.uuid)));
  }
  ops.push({ op: "comment", comment: `ovs-vif: undo the logical port ${d.name} of a failed attach` });
  return ops;
}

/** Which chassis the port should be bound to, and how. */
export interface Placement {
  chassis: string[];
  /** "rarp": an additional chassis gets traffic only once the VM sent a RARP from there. */
  activation?: "rarp";
}

/** options:requested-chassis (and activation-strategy) set to `p`, other options kept. */
function optionsMutation(target: Json, p: Placement): Json {
  const keys = [LSP_OPTION.requestedChassis, LSP_OPTION.activationStrategy];
  const values: [string, string][] = [[LSP_OPTION.requestedChassis, p.chassis.join(",")]];
  if (p.activation) values.push([LSP_OPTION.activationStrategy, p.activation]);
  return {
    op: "mutate",
    table: "Logical_Switch_Port",
    where: target,
    mutations: [["options", "delete", set(keys)], ...(p.chassis.length > 0 ? [["options", "insert", ["map", values]]] : [])],
  };
}

/** Creates or updates the port, on the right switch, placed as `p`. Guarded:
 * the switch must still exist, the port be what was read. */
export function upsertLspOps(d: DesiredLsp, s: LspState, p: Placement): Json[] {
  const ops: Json[] = [
    { op: "wait", table: "Logical_Switch", where: byName(d.ls), columns: ["name"], until: "==", rows: [{ name: d.ls }], timeout: 0 },
    // The port as read (its kind and owner checked): a concurrent change fails the guard and is read again.
    {
      op: "wait",
      table: "Logical_Switch_Port",
      where: byName(d.name),
      columns: ["_uuid", "type", "external_ids"],
      until: "==",
      rows: s.lsp ? [{ _uuid: uuid(s.lsp.uuid), type: s.lsp.type, external_ids: map(s.lsp.externalIds) }] : [],
      timeout: 0,
    },
  ];
  const cols = { addresses: set([d.address]), port_security: set([d.address]) };
  if (!s.lsp) {
    const options: [string, string][] = [
      [LSP_OPTION.requestedChassis, p.chassis.join(",")],
      ...(p.activation ? [[LSP_OPTION.activationStrategy, p.activation] as [string, string]] : []),
    ];
    ops.push(
      {
        op: "insert",
        table: "Logical_Switch_Port",
        "uuid-name": "lsp",
        row: { name: d.name, ...cols, options: ["map", options], external_ids: map(d.externalIds) },
      },
      switchPorts(s.lsUuid, "insert", ["named-uuid", "lsp"]),
    );
    return ops;
  }
  const target = [["_uuid", "==", uuid(s.lsp.uuid)]];
  ops.push(
    { op: "update", table: "Logical_Switch_Port", where: target, row: { ...cols, external_ids: map({ ...s.lsp.externalIds, ...d.externalIds }) } },
    optionsMutation(target, p),
  );
  if (s.lsp.holder !== s.lsUuid) {
    // Moved to another switch (the NIC's network changed): in one transaction, so it is never unreferenced.
    if (s.lsp.holder) ops.push(switchPorts(s.lsp.holder, "delete", uuid(s.lsp.uuid)));
    ops.push(switchPorts(s.lsUuid, "insert", uuid(s.lsp.uuid)));
  }
  return ops;
}

/** The placement of a port now being plugged on `me`: alone, unless another
 * chassis still has it (requested-chassis names it first: a live migration
 * to here), then both, this one waiting for the VM's RARP. Read from the
 * port alone: no Ganeti release tells a NIC script of an openvswitch NIC
 * that it runs for an incoming migration (3.2's MIGRATION_PHASE is for
 * routed and ext NICs only). */
export function placementFor(me: string, current: Record<string, string> | undefined): Placement {
  const now = (current?.[LSP_OPTION.requestedChassis] ?? "").split(",").filter(Boolean);
  const source = now[0];
  if (source !== undefined && source !== me) return { chassis: [source, me], activation: "rarp" };
  return { chassis: [me] };
}

/** Reads a port's options by name; undefined when there is no such port. */
export async function lspOptions(nb: OvsdbClient, name: string, deadline: Deadline): Promise<Record<string, string> | undefined> {
  const ops: Json[] = [{ op: "select", table: "Logical_Switch_Port", where: byName(name), columns: ["options", "type", "external_ids"] }];
  const r = await nb.transact(ops, deadline.left());
  checkResults(ops, r, `read logical switch port ${name}`);
  const row = r[0]?.rows?.[0];
  // Only ovs-vif's own VM ports are placed; any other port of that name is left alone, as an absent one.
  if (!row || (row.type !== undefined && row.type !== "") || !mapEntries(row.external_ids)[ID.owner]) return undefined;
  return mapEntries(row.options);
}

/** Sets a port's placement (promotion after a migration, release at unplug). */
export async function place(nb: OvsdbClient, name: string, p: Placement, deadline: Deadline): Promise<void> {
  const ops = [optionsMutation(byName(name), p)];
  const r = await nb.transact(ops, deadline.left());
  checkResults(ops, r, `place logical switch port ${name}`);
}

/** Deletes ports by name from whatever switch holds them (absent is fine). */
export async function deleteLsps(nb: OvsdbClient, names: string[], deadline: Deadline): Promise<string[]> {
  if (names.length === 0) return [];
  const ops: Json[] = names.map((n) => ({ op: "select", table: "Logical_Switch_Port", where: byName(n), columns: ["_uuid", "name"] }));
  const r = await nb.transact(ops, deadline.left());
  checkResults(ops, r, "read logical switch ports");
  const rows = r.flatMap((x) => x.rows ?? []) as Row[];
  if (rows.length === 0) return [];
  const ids = rows.map((row) => uuid(uuidOf(row._uuid)));
  const del: Json[] = [{ op: "mutate", table: "Logical_Switch", where: [], mutations: [["ports", "delete", set(ids)]] }];
  const d = await nb.transact(del, deadline.left());
  checkResults(del, d, "delete logical switch ports");
  return rows.map((row) => String(row.name));
}

/** The chassis a port's options name. */
export function requestedChassis(options: Record<string, string> | undefined): string[] {
  return (options?.[LSP_OPTION.requestedChassis] ?? "").split(",").filter(Boolean);
}
