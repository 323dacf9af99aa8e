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

// Plain loops, no Array/TypedArray methods with callbacks: on a hook's path
// each of those is engine code compiled on first use (bench/openflow-client.ts).
const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

export function ipv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!OCTET.test(parts[i]!)) return undefined;
    out[i] = Number(parts[i]);
  }
  return out;
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
  const left = halves[0] === "" ? [] : halves[0]!.split(":");
  const right = halves.length < 2 || halves[1] === "" ? [] : halves[1]!.split(":");
  const n = left.length + right.length;
  if (halves.length === 2 ? n > 7 : n !== 8) return undefined;
  const out = new Uint8Array(16);
  const put = (words: string[], at: number): boolean => {
    for (let i = 0; i < words.length; i++) {
      if (!HEXTET.test(words[i]!)) return false;
      const v = parseInt(words[i]!, 16);
      out[2 * (at + i)] = v >> 8;
      out[2 * (at + i) + 1] = v & 0xff;
    }
    return true;
  };
  if (!put(left, 0) || !put(right, 8 - right.length)) return undefined;
  if (tail) out.set(tail, 12);
  return out;
}

/** A MAC already checked by parseMac (xx:xx:xx:xx:xx:xx). */
export function macBytes(mac: string): Uint8Array {
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(mac.slice(3 * i, 3 * i + 2), 16);
  return out;
}

export function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function samePrefix(a: IpPrefix, b: IpPrefix): boolean {
  if (a.family !== b.family || a.length !== b.length) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
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
  if (!family || !bytes)
    throw new InputError(
      field,
      value,
      `not an ${families.length === 2 ? "IPv4 or IPv6" : `IPv${families[0]}`} address${slash < 0 ? "" : " with a prefix length"}`,
    );
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
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i]! & ~mask[i]!) !== 0) {
      const net = bytes.map((b, j) => b & mask[j]!);
      throw new InputError(field, value, `host bits set (the prefix is ${prefixText({ family, bytes: net, length })})`);
    }
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
    if (b[0] === 255 && b[1] === 255 && b[2] === 255 && b[3] === 255) return "the limited broadcast address";
    if (b[0]! >= 240) return "in the reserved range 240.0.0.0/4";
    return undefined;
  }
  if (b[0] === 0xff) return "a multicast address";
  if (allZero(b.subarray(0, 15))) return b[15] === 0 ? "the unspecified address" : b[15] === 1 ? "the loopback address" : undefined;
  return undefined;
}

/** The interface identifier of modified EUI-64 (RFC 4291, appendix A):
 * the MAC with the universal/local bit flipped and ff:fe in the middle. */
export function eui64(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  out[0] = mac[0]! ^ 0x02;
  out[1] = mac[1]!;
  out[2] = mac[2]!;
  out[3] = 0xff;
  out[4] = 0xfe;
  out[5] = mac[3]!;
  out[6] = mac[4]!;
  out[7] = mac[5]!;
  return out;
}

/** The EUI-64 address of `mac` in a /64 prefix. */
export function eui64Address(prefix: Uint8Array, mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(prefix.subarray(0, 8), 0);
  out.set(eui64(mac), 8);
  return out;
}

export const LINK_LOCAL_PREFIX = new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0]);

export function host(family: Family, bytes: Uint8Array): IpPrefix {
  return { family, bytes, length: family === 4 ? 32 : 128 };
}

export { formatMac };
