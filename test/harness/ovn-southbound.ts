// A logical port's SB Port_Binding as the OVN tests read it (chassis and
// additional chassis by name, up, options), decoded from one raw ovsdb-client
// transact: OVSDB's <set>, <map> and uuid atoms. Apart from ovn.ts, which
// runs the daemons: this is reading the Southbound database.

export interface Binding {
  /** Names, not uuids; null when unbound. */
  chassis: string | null;
  additional: string[];
  up: boolean;
  options: Record<string, string>;
}

/** One raw JSON-RPC transact (OvnHandle.transact). */
type Transact = (db: "nb" | "sb", ops: unknown[]) => Promise<unknown[]>;

/** An OVSDB <set> or single atom as a list of atoms. */
function setAtoms(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === "set") return v[1] as unknown[];
  return [v];
}
function uuidOf(atom: unknown): string {
  if (Array.isArray(atom) && atom[0] === "uuid") return String(atom[1]);
  throw new Error(`not a uuid: ${JSON.stringify(atom)}`);
}
function mapOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v) && v[0] === "map") for (const [k, val] of v[1] as Array<[string, string]>) out[k] = val;
  return out;
}

/** SB Port_Binding of a logical port (null when there is none). */
export async function readBinding(transact: Transact, lsp: string): Promise<Binding | null> {
  const [pb, ch] = (await transact("sb", [
    { op: "select", table: "Port_Binding", where: [["logical_port", "==", lsp]], columns: ["chassis", "additional_chassis", "up", "options"] },
    { op: "select", table: "Chassis", where: [], columns: ["_uuid", "name"] },
  ])) as Array<{ rows?: Array<Record<string, unknown>>; error?: string }>;
  if (!pb?.rows || !ch?.rows) throw new Error(`SB select failed: ${JSON.stringify([pb, ch])}`);
  const row = pb.rows[0];
  if (!row) return null;
  const byUuid = new Map(ch.rows.map((r) => [uuidOf(r._uuid), String(r.name)]));
  const nameOf = (atom: unknown) => byUuid.get(uuidOf(atom)) ?? `?${uuidOf(atom)}`;
  const chassis = setAtoms(row.chassis).map(nameOf);
  return {
    chassis: chassis[0] ?? null,
    additional: setAtoms(row.additional_chassis).map(nameOf),
    up: setAtoms(row.up)[0] === true,
    options: mapOf(row.options),
  };
}
