// Addresses as bytes, for flows: IPv4 and IPv6 text to bytes (the same
// grammar as src/names.ts's isIpAddress: dotted quads without leading
// zeros, IPv6 with one "::" and an optional IPv4 tail, no zone), prefixes
// with their host bits checked, and the EUI-64 addresses of a MAC.
import { InputError } from "../errors.ts";
import { formatIpv4, formatIpv6, formatMac } from "../openflow/match.ts";

export type Family = 4 | 6;

/** An address with a prefix length; host bits are zero. */
export interface IpPrefix {
  family: Family;
  bytes: Uint8Array;
  length: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function ipv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return Uint8Array.from(parts.map(Number));
}

export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (!text.includes(":")) return undefined;
  let head = text;
  let tail: Uint8Array | undefined;
  const v4 = /:((?:\d{1,3}\.){3}\d{1,3})$/.exec(text);
  if (v4) {
    tail = ipv4Bytes(v4[1]!);
    if (!tail) return undefined;
    head = text.slice(0, text.length - v4[1]!.length) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
  if (!groups.every((g) => g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)))) return undefined;
  const n = groups[0]!.length + (groups[1]?.length ?? 0);
  if (halves.length === 2 ? n > 7 : n !== 8) return undefined;
  const words = halves.length === 2 ? [...groups[0]!, ...Array<string>(8 - n).fill("0"), ...groups[1]!] : groups[0]!;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    const v = parseInt(w, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(":").map((x) => parseInt(x, 16)));
}

export function maskOf(family: Family, length: number): Uint8Array {
  const out = new Uint8Array(family === 4 ? 4 : 16);
  for (let i = 0; i < out.length; i++) out[i] = length >= 8 * (i + 1) ? 0xff : length > 8 * i ? (0xff << (8 - (length - 8 * i))) & 0xff : 0;
  return out;
}

export function prefixText(p: IpPrefix): string {
  const addr = p.family === 4 ? formatIpv4(p.bytes) : formatIpv6(p.bytes);
  return p.length === (p.family === 4 ? 32 : 128) ? addr : `${addr}/${p.length}`;
}

/** Parses ADDR or ADDR/LEN (LEN 1..32 or 1..128, decimal, no leading
 * zero); `families` limits what the field takes. Host bits must be zero:
 * 198.51.100.7/24 is refused with the prefix it probably meant. */
export function parsePrefix(field: string, value: string, families: Family[] = [4, 6], opts: { requireLength?: boolean } = {}): IpPrefix {
  const slash = value.indexOf("/");
  const addrText = slash < 0 ? value : value.slice(0, slash);
  const lenText = slash < 0 ? undefined : value.slice(slash + 1);
  const v4 = ipv4Bytes(addrText);
  const v6 = v4 ? undefined : ipv6Bytes(addrText);
  const family: Family | undefined = v4 ? 4 : v6 ? 6 : undefined;
  const bytes = v4 ?? v6;
  if (!family || !bytes) throw new InputError(field, value, `not an ${families.length === 2 ? "IPv4 or IPv6" : `IPv${families[0]}`} address${slash < 0 ? "" : " with a prefix length"}`);
  if (!families.includes(family)) {
    throw new InputError(field, value, `an IPv${family} address where IPv${families[0]} is expected`);
  }
  const max = family === 4 ? 32 : 128;
  if (lenText === undefined && opts.requireLength) throw new InputError(field, value, `expected an IPv${family} prefix ADDRESS/LENGTH`);
  let length = max;
  if (lenText !== undefined) {
    if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > max) throw new InputError(field, value, `prefix length must be 1..${max}`);
    length = Number(lenText);
    if (length === 0) throw new InputError(field, value, "a /0 prefix allows every source address (turn port security off instead)");
  }
  const mask = maskOf(family, length);
  if (bytes.some((b, i) => (b & ~mask[i]!) !== 0)) {
    const net = bytes.map((b, i) => b & mask[i]!);
    throw new InputError(field, value, `host bits set (the prefix is ${prefixText({ family, bytes: net, length })})`);
  }
  return { family, bytes, length };
}

/** Is this an address a NIC may send from (not unspecified, multicast,
 * loopback or limited broadcast)? */
export function unicastProblem(p: IpPrefix): string | undefined {
  const b = p.bytes;
  if (p.family === 4) {
    if (b[0] === 0) return "in 0.0.0.0/8 (this network), not a source address";
    if (b[0] === 127) return "a loopback address";
    if (b[0]! >= 224 && b[0]! <= 239) return "a multicast address";
    if (b.every((x) => x === 255)) return "the limited broadcast address";
    if (b[0]! >= 240) return "in the reserved range 240.0.0.0/4";
    return undefined;
  }
  if (b.every((x) => x === 0)) return "the unspecified address";
  if (b[0] === 0xff) return "a multicast address";
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return "the loopback address";
  return undefined;
}

/** The interface identifier of modified EUI-64 (RFC 4291, appendix A):
 * the MAC with the universal/local bit flipped and ff:fe in the middle. */
export function eui64(mac: Uint8Array): Uint8Array {
  return Uint8Array.from([mac[0]! ^ 0x02, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!]);
}

/** The EUI-64 address of `mac` in a /64 prefix. */
export function eui64Address(prefix: Uint8Array, mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(prefix.subarray(0, 8), 0);
  out.set(eui64(mac), 8);
  return out;
}

export const LINK_LOCAL_PREFIX = Uint8Array.from([0xfe, 0x80, 0, 0, 0, 0, 0, 0]);

export function host(family: Family, bytes: Uint8Array): IpPrefix {
  return { family, bytes, length: family === 4 ? 32 : 128 };
}

export { formatMac };
