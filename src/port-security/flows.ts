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
// 32 bits, zero (reserved) in bits 31..16, the ofport in the low 16 bits
// (OVS numbers ports 1..65279). So:
//   - a port's flows are found, replaced and removed knowing its ofport,
//     with an exact cookie: OVS indexes flows by cookie only for an exact
//     mask (any other mask walks the whole table: a replacement on a bridge
//     of 1000 protected ports took ~9 ms more in bench/openflow-client.ts);
//   - all of ovs-vif's flows are found with mask 0xffffffff00000000, and a
//     sweep tells stale ones: flows whose ofport is no ovs-vif port's.
//     Flows `in_port=N` are not removed with the port in OVS (checked on
//     OVS 3.1.0 by test/system/port-security-flows.test.ts) and would apply
//     to the next port given N, so whoever plugs a port at N removes the
//     flows of N first (port security on or off) and unplug removes them;
//   - no other owner's flow is touched: every delete carries the prefix.
import { StateError } from "../errors.ts";
import { DROP, field, NORMAL, type Actions, type Flow, type MatchField } from "../openflow/match.ts";
import { macBytes, maskOf, type IpPrefix } from "./addresses.ts";
import type { PortPolicy } from "./policy.ts";

export const COOKIE_PREFIX = 0x6f767376n << 32n;
/** Every port-security flow of ovs-vif. */
export const ALL_PORTS_MASK = 0xffffffff00000000n;
export const EXACT_MASK = 0xffffffffffffffffn;

export const PRIORITY = { serverDrop: 40400, ndAllow: 40300, ndDrop: 40200, allow: 40100, dropAll: 40000 } as const;

/** OVS's largest OpenFlow port number for a port (OFPP_MAX - 1). */
export const MAX_OFPORT = 0xfeff;

/** An Interface.ofport from OVSDB: -1 (not attached) or anything out of
 * OVS's range has no flows. */
function checkOfport(ofport: number): void {
  if (!Number.isInteger(ofport) || ofport < 1 || ofport > MAX_OFPORT)
    throw new StateError("ofport", String(ofport), `not a port number 1..${MAX_OFPORT}: the port has no OpenFlow number to filter`);
}

/** The cookie of the port-security flows of the port at `ofport`. */
export function portCookie(ofport: number): bigint {
  checkOfport(ofport);
  return COOKIE_PREFIX | BigInt(ofport);
}

/** The ofport of one of ovs-vif's cookies, or undefined for another
 * owner's cookie (or reserved bits set). */
export function cookieOfport(cookie: bigint): number | undefined {
  if ((cookie & ~0xffffn) !== COOKIE_PREFIX) return undefined;
  return Number(cookie & 0xffffn);
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

/** The flows for one port, highest priority first. Each shared match
 * field is made once (this runs on a hook's path, cold). */
export function portFlows(policy: PortPolicy, ofport: number, cookie: bigint): Flow[] {
  checkOfport(ofport);
  const flows: Flow[] = [];
  const inPort = field("in_port", ofport);
  const add = (priority: number, match: MatchField[], actions: Actions) => {
    match.unshift(inPort);
    flows.push({ cookie, priority, match, actions });
  };
  const ipv4 = field("eth_type", ETH_IPV4);
  const ipv6 = field("eth_type", ETH_IPV6);
  const udp = field("ip_proto", UDP);
  const icmp6 = field("ip_proto", ICMPV6);
  const ns = field("icmpv6_type", 135);
  const na = field("icmpv6_type", 136);
  const zeroLla = { sll: field("nd_sll", ZERO_MAC), tll: field("nd_tll", ZERO_MAC) };

  if (!policy.allowDhcpServer) {
    add(PRIORITY.serverDrop, [ipv4, udp, field("udp_src", 67), field("udp_dst", 68)], DROP);
    add(PRIORITY.serverDrop, [ipv6, udp, field("udp_src", 547), field("udp_dst", 546)], DROP);
  }
  if (!policy.allowRouterAdv) {
    for (const type of [134, 137, 138]) add(PRIORITY.serverDrop, [ipv6, icmp6, field("icmpv6_type", type)], DROP);
  }

  const macs = [policy.mac, ...policy.extraMacs];
  const v6src: MatchField[] = [];
  const v6target: MatchField[] = [];
  for (const a of policy.ipv6) {
    v6src.push(addr("ipv6_src", a));
    v6target.push(addr("nd_target", a));
  }
  const unspecified = field("ipv6_src", ZERO_V6);
  for (const text of macs) {
    const mac = macBytes(text);
    const src = field("eth_src", mac);
    const own = { sll: field("nd_sll", mac), tll: field("nd_tll", mac) };
    for (const lla of [own.sll, zeroLla.sll]) for (const s of v6src) add(PRIORITY.ndAllow, [src, ipv6, icmp6, s, ns, lla], NORMAL);
    for (const t of v6target) add(PRIORITY.ndAllow, [src, ipv6, icmp6, unspecified, ns, t, zeroLla.sll], NORMAL);
    for (const lla of [own.tll, zeroLla.tll]) for (const s of v6src) for (const t of v6target) add(PRIORITY.ndAllow, [src, ipv6, icmp6, s, na, t, lla], NORMAL);
  }
  add(PRIORITY.ndDrop, [ipv6, icmp6, ns], DROP);
  add(PRIORITY.ndDrop, [ipv6, icmp6, na], DROP);

  const v4src: MatchField[] = [];
  const v4spa: MatchField[] = [field("arp_spa", ZERO_V4)];
  for (const a of policy.ipv4) {
    v4src.push(addr("ipv4_src", a));
    v4spa.push(addr("arp_spa", a));
  }
  const arp = field("eth_type", ETH_ARP);
  const rarp = field("eth_type", ETH_RARP);
  const dhcpClient = [ipv4, field("ipv4_src", ZERO_V4), udp, field("udp_src", 68), field("udp_dst", 67)];
  for (const text of macs) {
    const mac = macBytes(text);
    const src = field("eth_src", mac);
    const sha = field("arp_sha", mac);
    for (const spa of v4spa) add(PRIORITY.allow, [src, arp, spa, sha], NORMAL);
    add(PRIORITY.allow, [src, rarp, sha], NORMAL);
    add(PRIORITY.allow, [src, ...dhcpClient], NORMAL);
    for (const s of v4src) add(PRIORITY.allow, [src, ipv4, s], NORMAL);
    for (const s of v6src) add(PRIORITY.allow, [src, ipv6, s], NORMAL);
  }
  add(PRIORITY.dropAll, [], DROP);
  return flows;
}
