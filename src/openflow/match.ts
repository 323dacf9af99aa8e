// OpenFlow flows as data: the match fields ovs-vif uses (OXM, OpenFlow
// basic class), a flow's actions, and one canonical text for each, so a
// flow built by the port-security policy and a flow decoded from the
// switch's flow table compare as strings. The text is ovs-ofctl's flow
// syntax: it is also what `ovs-ofctl add-flows` takes and what an operator
// reads.

/** OXM class of the OpenFlow basic fields. */
export const OXM_BASIC = 0x8000;

type Format = "port" | "mac" | "ipv4" | "ipv6" | "hex8" | "hex16" | "dec8" | "dec16";

interface FieldInfo {
  id: number;
  bytes: number;
  format: Format;
  /** ovs-ofctl's name of the field. */
  text: string;
}

/** The basic fields ovs-vif matches on, by OXM field id (OpenFlow 1.4, 7.2.3.7). */
export const FIELDS = {
  in_port: { id: 0, bytes: 4, format: "port", text: "in_port" },
  eth_dst: { id: 3, bytes: 6, format: "mac", text: "dl_dst" },
  eth_src: { id: 4, bytes: 6, format: "mac", text: "dl_src" },
  eth_type: { id: 5, bytes: 2, format: "hex16", text: "dl_type" },
  vlan_vid: { id: 6, bytes: 2, format: "hex16", text: "vlan_vid" },
  ip_proto: { id: 10, bytes: 1, format: "dec8", text: "nw_proto" },
  ipv4_src: { id: 11, bytes: 4, format: "ipv4", text: "nw_src" },
  ipv4_dst: { id: 12, bytes: 4, format: "ipv4", text: "nw_dst" },
  tcp_src: { id: 13, bytes: 2, format: "dec16", text: "tcp_src" },
  tcp_dst: { id: 14, bytes: 2, format: "dec16", text: "tcp_dst" },
  udp_src: { id: 15, bytes: 2, format: "dec16", text: "udp_src" },
  udp_dst: { id: 16, bytes: 2, format: "dec16", text: "udp_dst" },
  icmpv4_type: { id: 19, bytes: 1, format: "dec8", text: "icmp_type" },
  arp_op: { id: 21, bytes: 2, format: "dec16", text: "arp_op" },
  arp_spa: { id: 22, bytes: 4, format: "ipv4", text: "arp_spa" },
  arp_tpa: { id: 23, bytes: 4, format: "ipv4", text: "arp_tpa" },
  arp_sha: { id: 24, bytes: 6, format: "mac", text: "arp_sha" },
  arp_tha: { id: 25, bytes: 6, format: "mac", text: "arp_tha" },
  ipv6_src: { id: 26, bytes: 16, format: "ipv6", text: "ipv6_src" },
  ipv6_dst: { id: 27, bytes: 16, format: "ipv6", text: "ipv6_dst" },
  icmpv6_type: { id: 29, bytes: 1, format: "dec8", text: "icmpv6_type" },
  icmpv6_code: { id: 30, bytes: 1, format: "dec8", text: "icmpv6_code" },
  nd_target: { id: 31, bytes: 16, format: "ipv6", text: "nd_target" },
  nd_sll: { id: 32, bytes: 6, format: "mac", text: "nd_sll" },
  nd_tll: { id: 33, bytes: 6, format: "mac", text: "nd_tll" },
} as const satisfies Record<string, FieldInfo>;

export type FieldName = keyof typeof FIELDS;

const BY_ID = new Map<number, FieldName>(Object.entries(FIELDS).map(([name, info]) => [info.id, name as FieldName]));

/** One OXM entry: a basic field (class 0x8000) or, as decoded from a
 * switch, any other class, kept whole so it still compares. */
export interface MatchField {
  oxmClass: number;
  field: number;
  value: Uint8Array;
  /** Absent: exact match. */
  mask?: Uint8Array;
}

export type Actions = { kind: "normal" } | { kind: "drop" } | { kind: "other"; text: string };

export interface Flow {
  cookie: bigint;
  priority: number;
  match: MatchField[];
  actions: Actions;
}

export const NORMAL: Actions = Object.freeze({ kind: "normal" });
export const DROP: Actions = Object.freeze({ kind: "drop" });

/** Numeric fields are 1, 2 or 4 bytes. */
function uint(bytes: number, n: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[bytes - 1] = n & 0xff;
  if (bytes >= 2) out[bytes - 2] = (n >>> 8) & 0xff;
  if (bytes === 4) {
    out[0] = n >>> 24;
    out[1] = (n >>> 16) & 0xff;
  }
  return out;
}

/** A basic field with an exact value: a number for the numeric fields,
 * bytes for addresses. */
export function field(name: FieldName, value: number | Uint8Array, mask?: Uint8Array): MatchField {
  const info = FIELDS[name];
  const bytes = typeof value === "number" ? uint(info.bytes, value) : value;
  if (bytes.length !== info.bytes) throw new Error(`${name}: ${bytes.length} bytes, expected ${info.bytes}`);
  const f: MatchField = { oxmClass: OXM_BASIC, field: info.id, value: bytes };
  if (mask) {
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] !== 0xff) {
        f.mask = mask;
        break;
      }
    }
  }
  return f;
}

export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function formatMac(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

export function formatIpv4(b: Uint8Array): string {
  return [...b].join(".");
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more
 * zero groups (the first of equals) as "::". */
export function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (best < 0) return text(groups);
  return `${text(groups.slice(0, best))}::${text(groups.slice(best + bestLen))}`;
}

/** The prefix length of a contiguous mask, or undefined. */
export function prefixLength(mask: Uint8Array): number | undefined {
  let n = 0;
  let ended = false;
  for (const b of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (b >> bit) & 1;
      if (set && ended) return undefined;
      if (set) n++;
      else ended = true;
    }
  }
  return n;
}

function formatValue(format: Format, b: Uint8Array): string {
  switch (format) {
    case "mac":
      return formatMac(b);
    case "ipv4":
      return formatIpv4(b);
    case "ipv6":
      return formatIpv6(b);
    case "hex8":
    case "hex16":
      return `0x${hex(b).padStart(format === "hex8" ? 2 : 4, "0")}`;
    case "port":
    case "dec8":
    case "dec16":
      return String(b.reduce((n, x) => n * 256 + x, 0));
  }
}

function formatField(f: MatchField): string {
  const name = f.oxmClass === OXM_BASIC ? BY_ID.get(f.field) : undefined;
  if (!name) return `oxm_${f.oxmClass.toString(16)}_${f.field}=0x${hex(f.value)}${f.mask ? `/0x${hex(f.mask)}` : ""}`;
  const info: FieldInfo = FIELDS[name];
  const value = formatValue(info.format, f.value);
  if (!f.mask) return `${info.text}=${value}`;
  const len = info.format === "ipv4" || info.format === "ipv6" ? prefixLength(f.mask) : undefined;
  return `${info.text}=${value}/${len !== undefined ? String(len) : formatValue(info.format, f.mask)}`;
}

/** Fields in OXM order (class, then field id): prerequisites come first
 * (eth_type before ip_proto before the ports), as OpenFlow asks. */
export function sortedMatch(match: MatchField[]): MatchField[] {
  return [...match].sort((a, b) => a.oxmClass - b.oxmClass || a.field - b.field);
}

/** ovs-ofctl's match text, fields in OXM order; the same match always
 * gives the same text. */
export function matchText(match: MatchField[]): string {
  return sortedMatch(match).map(formatField).join(",");
}

export function actionsText(a: Actions): string {
  return a.kind === "normal" ? "NORMAL" : a.kind === "drop" ? "drop" : a.text;
}

export function cookieText(cookie: bigint): string {
  return `0x${cookie.toString(16).padStart(16, "0")}`;
}

/** The flow without its cookie: what identifies a flow in a table
 * (OpenFlow: the same priority and match is the same flow). */
export function flowKey(f: Pick<Flow, "priority" | "match">): string {
  const m = matchText(f.match);
  return m ? `priority=${f.priority},${m}` : `priority=${f.priority}`;
}

/** One line in ovs-ofctl's add-flow syntax. */
export function flowText(f: Flow): string {
  return `cookie=${cookieText(f.cookie)},${flowKey(f)},actions=${actionsText(f.actions)}`;
}
