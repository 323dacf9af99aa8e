// The OpenFlow flows that enforce one NIC's policy (policy.ts) on its port:
// a pure function of the policy, the port's ofport and its cookie.
//
// Every flow matches in_port (the NIC's ofport) in table 0; dl_type and the
// IP fields look past an 802.1Q tag in OVS, so a trunk's tagged frames are
// filtered like untagged ones. Allowed frames go on with NORMAL, so OVS
// still does the port's VLAN handling (access, trunk, native-untagged).
// Priorities are 40000..40400: above the bridge's priority-0 NORMAL flow,
// which stays for every other port. Within a tier all flows have the same
// action, so flows of one tier that overlap cannot disagree:
//   40400 drop   DHCP server replies, RA, redirect, router renumbering
//   40300 allow  NS / DAD / NA that pass the address and link-layer checks
//   40200 drop   any other NS or NA
//   40100 allow  ARP, RARP, DHCP discover, IPv4 and IPv6 from its addresses
//   40000 drop   everything else from the port
// Flows: with M MACs, A4 IPv4 and A6 IPv6 entries, M * (2*A6^2 + 4*A6 +
// 2*A4 + 3) + 8 (fewer with allow-dhcp-server or allow-router-adv); a NIC
// with one MAC, one IPv4 address and two IPv6 addresses has 29.
//
// The cookie (64 bits): 0x6f767376 ("ovsv", ovs-vif's prefix) in the top
// 32 bits, a 16-bit hash of the port's name, then the ofport in the low 16
// bits (OVS numbers ports 1..65279). So:
//   - a port's flows are found and removed knowing its ofport alone
//     (cookie mask 0xffffffff0000ffff), whatever name they were made for;
//   - all of ovs-vif's flows are found with mask 0xffffffff00000000, and a
//     sweep tells stale ones: flows whose ofport is no ovs-vif port's, or is
//     a port of another name now (flows `in_port=N` are not removed with
//     the port in OVS: checked on OVS 3.1.0 by
//     test/system/port-security-flows.test.ts, so whoever installs them
//     must remove them);
//   - no other owner's flow is touched: every delete carries the prefix.
import { DROP, field, NORMAL, type Actions, type Flow, type MatchField } from "../openflow/match.ts";
import { macBytes, maskOf, type IpPrefix } from "./addresses.ts";
import type { PortPolicy } from "./policy.ts";

export const COOKIE_PREFIX = 0x6f767376n << 32n;
/** Every port-security flow of ovs-vif. */
export const ALL_PORTS_MASK = 0xffffffff00000000n;
/** The flows of one ofport, whatever port name they were made for. */
export const OFPORT_MASK = 0xffffffff0000ffffn;
export const EXACT_MASK = 0xffffffffffffffffn;

export const PRIORITY = { serverDrop: 40400, ndAllow: 40300, ndDrop: 40200, allow: 40100, dropAll: 40000 } as const;

/** OVS's largest OpenFlow port number for a port (OFPP_MAX - 1). */
export const MAX_OFPORT = 0xfeff;

/** FNV-1a over the name's UTF-8 bytes, folded to 16 bits. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return ((h >>> 16) ^ h) & 0xffff;
}

function checkOfport(ofport: number): void {
  if (!Number.isInteger(ofport) || ofport < 1 || ofport > MAX_OFPORT) throw new RangeError(`ofport ${ofport} is not a port number 1..${MAX_OFPORT}`);
}

/** The cookie of the port-security flows of port `name` at `ofport`. */
export function portCookie(ofport: number, name: string): bigint {
  checkOfport(ofport);
  return COOKIE_PREFIX | (BigInt(nameHash(name)) << 16n) | BigInt(ofport);
}

/** Cookie and mask that select an ofport's flows (any port name). */
export function ofportSelector(ofport: number): { cookie: bigint; mask: bigint } {
  checkOfport(ofport);
  return { cookie: COOKIE_PREFIX | BigInt(ofport), mask: OFPORT_MASK };
}

/** The parts of one of ovs-vif's cookies, or undefined for another owner's. */
export function cookieParts(cookie: bigint): { ofport: number; nameHash: number } | undefined {
  if ((cookie & ALL_PORTS_MASK) !== COOKIE_PREFIX) return undefined;
  return { ofport: Number(cookie & 0xffffn), nameHash: Number((cookie >> 16n) & 0xffffn) };
}

const ETH_IPV4 = 0x0800;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_IPV6 = 0x86dd;
const UDP = 17;
const ICMPV6 = 58;
const ZERO_MAC = new Uint8Array(6);
const ZERO_V4 = new Uint8Array(4);
const ZERO_V6 = new Uint8Array(16);

function addr(name: "ipv4_src" | "arp_spa" | "ipv6_src" | "nd_target", p: IpPrefix): MatchField {
  return field(name, p.bytes, maskOf(p.family, p.length));
}

/** The flows for one port, highest priority first. */
export function portFlows(policy: PortPolicy, ofport: number, cookie: bigint): Flow[] {
  checkOfport(ofport);
  const flows: Flow[] = [];
  const add = (priority: number, match: MatchField[], actions: Actions) => flows.push({ cookie, priority, match: [field("in_port", ofport), ...match], actions });
  const icmp6 = (type: number) => [field("eth_type", ETH_IPV6), field("ip_proto", ICMPV6), field("icmpv6_type", type)];

  if (!policy.allowDhcpServer) {
    add(PRIORITY.serverDrop, [field("eth_type", ETH_IPV4), field("ip_proto", UDP), field("udp_src", 67), field("udp_dst", 68)], DROP);
    add(PRIORITY.serverDrop, [field("eth_type", ETH_IPV6), field("ip_proto", UDP), field("udp_src", 547), field("udp_dst", 546)], DROP);
  }
  if (!policy.allowRouterAdv) for (const type of [134, 137, 138]) add(PRIORITY.serverDrop, icmp6(type), DROP);

  const macs = [policy.mac, ...policy.extraMacs].map(macBytes);
  for (const mac of macs) {
    const src = field("eth_src", mac);
    for (const lla of [mac, ZERO_MAC]) {
      for (const s of policy.ipv6) add(PRIORITY.ndAllow, [src, ...icmp6(135), addr("ipv6_src", s), field("nd_sll", lla)], NORMAL);
    }
    for (const t of policy.ipv6) add(PRIORITY.ndAllow, [src, ...icmp6(135), field("ipv6_src", ZERO_V6), addr("nd_target", t), field("nd_sll", ZERO_MAC)], NORMAL);
    for (const lla of [mac, ZERO_MAC]) {
      for (const s of policy.ipv6) for (const t of policy.ipv6) add(PRIORITY.ndAllow, [src, ...icmp6(136), addr("ipv6_src", s), addr("nd_target", t), field("nd_tll", lla)], NORMAL);
    }
  }
  add(PRIORITY.ndDrop, icmp6(135), DROP);
  add(PRIORITY.ndDrop, icmp6(136), DROP);

  for (const mac of macs) {
    const src = field("eth_src", mac);
    for (const a of [...policy.ipv4, { family: 4 as const, bytes: ZERO_V4, length: 32 }]) add(PRIORITY.allow, [src, field("eth_type", ETH_ARP), addr("arp_spa", a), field("arp_sha", mac)], NORMAL);
    add(PRIORITY.allow, [src, field("eth_type", ETH_RARP), field("arp_sha", mac)], NORMAL);
    add(PRIORITY.allow, [src, field("eth_type", ETH_IPV4), field("ipv4_src", ZERO_V4), field("ip_proto", UDP), field("udp_src", 68), field("udp_dst", 67)], NORMAL);
    for (const a of policy.ipv4) add(PRIORITY.allow, [src, field("eth_type", ETH_IPV4), addr("ipv4_src", a)], NORMAL);
    for (const a of policy.ipv6) add(PRIORITY.allow, [src, field("eth_type", ETH_IPV6), addr("ipv6_src", a)], NORMAL);
  }
  add(PRIORITY.dropAll, [], DROP);
  return flows;
}
