// Helpers for the demo: reading ovs-vsctl's JSON output, reading
// ofproto/trace datapath actions, printing a table.

/** One row of `ovs-vsctl --format=json list TABLE`, OVSDB values decoded:
 * sets become arrays, maps objects, uuids strings. */
export type VsctlRow = Record<string, unknown>;

function decode(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const [kind, body] = v as [string, unknown];
  if (kind === "uuid" || kind === "named-uuid") return body;
  if (kind === "set") return (body as unknown[]).map(decode);
  if (kind === "map") return Object.fromEntries((body as [unknown, unknown][]).map(([k, x]) => [String(decode(k)), decode(x)]));
  return v;
}

export function parseVsctlJson(text: string): VsctlRow[] {
  const doc = JSON.parse(text) as { headings: string[]; data: unknown[][] };
  return doc.data.map((row) => {
    const out: VsctlRow = {};
    doc.headings.forEach((h, i) => {
      const value = decode(row[i]);
      // An optional column (tag, vlan_mode) is an empty set or a bare atom: always an array here.
      out[h] = ["tag", "vlan_mode", "trunks", "ports"].includes(h) && !Array.isArray(value) ? [value] : value;
    });
    return out;
  });
}

export type Row = Record<string, string>;

export function formatTable(rows: Row[]): string[] {
  if (rows.length === 0) return ["(no rows)"];
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join("  ")
      .trimEnd();
  return [line(cols), line(width.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c] ?? "")))];
}

/** Splits an action list at top-level commas: "push_vlan(vid=10,pcp=0),3,pop_vlan,4". */
function splitActions(actions: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of actions) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export interface TraceOutput {
  port: string;
  /** VLAN the frame carries on that port; undefined: untagged. */
  vlan?: number;
}

export interface TraceVerdict {
  outputs: TraceOutput[];
  reason?: string;
}

/**
 * Follows the datapath actions of an ofproto/trace ("push_vlan(vid=10,pcp=0),
 * 3,pop_vlan,4" or "drop") for a frame that entered with `inVlan`, and says
 * which ports receive it with which VLAN tag. `odp` maps datapath port
 * numbers to names (ovs-appctl dpif/show).
 */
export function traceVerdict(actions: string, inVlan: number | undefined, odp: Map<string, string>): TraceVerdict {
  if (actions === "drop") return { outputs: [], reason: "no port in its VLAN accepts it" };
  const outputs: TraceOutput[] = [];
  let vlan = inVlan;
  for (const a of splitActions(actions)) {
    const push = /^push_vlan\((?:.*,)?vid=(\d+)/.exec(a);
    if (push) vlan = Number(push[1]);
    else if (a === "pop_vlan") vlan = undefined;
    else if (/^\d+$/.test(a)) outputs.push(vlan === undefined ? { port: odp.get(a) ?? `odp${a}` } : { port: odp.get(a) ?? `odp${a}`, vlan });
    else if (/^set\(vlan\(vid=(\d+)/.test(a)) vlan = Number(/vid=(\d+)/.exec(a)![1]);
    // anything else (e.g. set(...) of other fields) does not change where the frame goes
  }
  return { outputs };
}
