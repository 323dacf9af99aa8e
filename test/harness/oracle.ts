// Reading OVS state back with ovs-vsctl (the oracle), never with our client.
import type { OvsHandle } from "./ovs.ts";

type J = unknown;

function decode(v: J): J {
  if (Array.isArray(v) && v[0] === "set") return (v[1] as J[]).map(decode);
  if (Array.isArray(v) && v[0] === "map") return Object.fromEntries((v[1] as [string, J][]).map(([k, x]) => [k, decode(x)]));
  if (Array.isArray(v) && (v[0] === "uuid" || v[0] === "named-uuid")) return v[1];
  return v;
}

/** Rows of `ovs-vsctl list TABLE [RECORD]` as plain objects (sets -> arrays, maps -> objects). */
export async function listRows(ovs: OvsHandle, table: string, record?: string): Promise<Record<string, J>[]> {
  const out = await ovs.vsctl("-f", "json", "list", table, ...(record ? [record] : []));
  const parsed = JSON.parse(out) as { headings: string[]; data: J[][] };
  return parsed.data.map((row) => Object.fromEntries(parsed.headings.map((h, i) => [h, decode(row[i])])));
}

export interface PortView {
  name: string;
  uuid: string;
  vlan_mode: string;
  tag: number | null;
  trunks: number[];
  portIds: Record<string, string>;
  ifaceIds: Record<string, string>;
  rate: number;
  burst: number;
  mtu_request: number | null;
  ofport: number | null;
  bridge: string | null;
}

/** Several whole tables read in one ovs-vsctl call (one transaction: a
 * port removed meanwhile is gone from all of them or from none). */
export async function listTables(ovs: OvsHandle, tables: string[]): Promise<Record<string, J>[][]> {
  const out = await ovs.vsctl("-f", "json", ...tables.flatMap((t, i) => [...(i ? ["--"] : []), "list", t]));
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const parsed = JSON.parse(l) as { headings: string[]; data: J[][] };
      return parsed.data.map((row) => Object.fromEntries(parsed.headings.map((h, i) => [h, decode(row[i])])));
    });
}

export async function portView(ovs: OvsHandle, name: string): Promise<PortView | undefined> {
  const [allPorts, ifaces, bridges] = (await listTables(ovs, ["Port", "Interface", "Bridge"])) as [
    Record<string, J>[],
    Record<string, J>[],
    Record<string, J>[],
  ];
  const ports = allPorts.filter((p) => p.name === name);
  if (ports.length === 0) return undefined;
  if (ports.length > 1) throw new Error(`${ports.length} ports named ${name}`);
  const port = ports[0]!;
  const iface = ifaces.find((i) => i.name === name);
  if (!iface) throw new Error(`port ${name} has no Interface row of its name`);
  const holder = bridges.find((b) => (Array.isArray(b.ports) ? b.ports : [b.ports]).includes(port._uuid));
  const one = (v: J) => (Array.isArray(v) ? ((v[0] as number | undefined) ?? null) : (v as number));
  return {
    name,
    uuid: String(port._uuid),
    vlan_mode: Array.isArray(port.vlan_mode) ? "" : String(port.vlan_mode),
    tag: one(port.tag),
    trunks: (Array.isArray(port.trunks) ? port.trunks : [port.trunks]) as number[],
    portIds: port.external_ids as Record<string, string>,
    ifaceIds: iface.external_ids as Record<string, string>,
    rate: Number(iface.ingress_policing_rate),
    burst: Number(iface.ingress_policing_burst),
    mtu_request: one(iface.mtu_request),
    ofport: one(iface.ofport),
    bridge: holder ? String(holder.name) : null,
  };
}

export async function listPorts(ovs: OvsHandle, bridge: string): Promise<string[]> {
  return (await ovs.vsctl("list-ports", bridge)).split("\n").filter(Boolean).sort();
}

/** OpenFlow port name -> datapath port number, from dpif/show. */
export async function odpPorts(ovs: OvsHandle): Promise<Map<string, number>> {
  const text = await ovs.appctl("dpif/show");
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^\s+(\S+) (?:\d+|LOCAL)\/(\d+):/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}
