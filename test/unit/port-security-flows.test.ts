// The flows of one port (src/port-security/flows.ts): their shape (cookie,
// in_port, priorities, count), and what they decide for each kind of frame
// a VM may send, read through a small OpenFlow table lookup (highest
// priority whose every field matches under its mask; a frame no flow of
// the port matches falls to the bridge's own NORMAL flow).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { StateError } from "../../src/errors.ts";
import { actionsText, FIELDS, flowKey, type FieldName, type Flow } from "../../src/openflow/match.ts";
import { ipv4Bytes, ipv6Bytes, macBytes } from "../../src/port-security/addresses.ts";
import { ALL_PORTS_MASK, COOKIE_PREFIX, cookieOfport, MAX_OFPORT, portCookie, portFlows, PRIORITY } from "../../src/port-security/flows.ts";
import { buildPolicy, type PolicyInput } from "../../src/port-security/policy.ts";

const OWN = "aa:00:00:00:0a:0a";
const OTHER = "aa:00:00:00:0b:0b";
const OWN_LL = "fe80::a800:ff:fe00:a0a";
const OWN_GLOBAL = "2001:db8:1:0:a800:ff:fe00:a0a";
const OFPORT = 7;
const INPUT: PolicyInput = {
  mac: { field: "MAC", value: OWN },
  ipv4: [{ field: "IP", value: "198.51.100.11" }],
  ipv6Prefixes: [{ field: "SUBNET6", value: "2001:db8:1::/64" }],
};

const flowsOf = (input: Partial<PolicyInput> = {}) => portFlows(buildPolicy({ ...INPUT, ...input }), OFPORT, portCookie(OFPORT));

type Frame = Partial<Record<FieldName, number | string>>;

function bytesOf(name: FieldName, v: number | string): Uint8Array {
  const info = FIELDS[name];
  if (typeof v === "string") return info.format === "mac" ? macBytes(v) : info.format === "ipv4" ? ipv4Bytes(v)! : ipv6Bytes(v)!;
  const out = new Uint8Array(info.bytes);
  for (let i = info.bytes - 1, n = v; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n & 0xff;
  return out;
}

const BY_ID = new Map<number, FieldName>(Object.entries(FIELDS).map(([n, i]): [number, FieldName] => [i.id, n as FieldName]));

/** The action the table takes for a frame from in_port 7 (or `inPort`). */
function decide(flows: Flow[], frame: Frame, inPort = OFPORT): string {
  const pkt: Frame = { in_port: inPort, ...frame };
  let best: Flow | undefined;
  for (const f of flows) {
    const ok = f.match.every((m) => {
      const name = BY_ID.get(m.field)!;
      if (pkt[name] === undefined) return false;
      const have = bytesOf(name, pkt[name]!);
      return have.every((b, i) => (b & (m.mask?.[i] ?? 0xff)) === (m.value[i]! & (m.mask?.[i] ?? 0xff)));
    });
    if (ok && (!best || f.priority > best.priority)) best = f;
  }
  return best ? actionsText(best.actions) : "bridge NORMAL";
}

const ip4 = (src: string, mac = OWN): Frame => ({ eth_src: mac, eth_type: 0x0800, ipv4_src: src, ip_proto: 1 });
const udp4 = (src: string, sport: number, dport: number): Frame => ({
  eth_src: OWN,
  eth_type: 0x0800,
  ipv4_src: src,
  ip_proto: 17,
  udp_src: sport,
  udp_dst: dport,
});
const arp = (spa: string, sha = OWN, mac = OWN): Frame => ({ eth_src: mac, eth_type: 0x0806, arp_spa: spa, arp_sha: sha, arp_op: 2 });
const ip6 = (src: string, more: Frame = {}): Frame => ({ eth_src: OWN, eth_type: 0x86dd, ipv6_src: src, ip_proto: 17, ...more });
const icmp6 = (src: string, type: number, more: Frame = {}): Frame => ({
  eth_src: OWN,
  eth_type: 0x86dd,
  ipv6_src: src,
  ip_proto: 58,
  icmpv6_type: type,
  ...more,
});
// OVS reads an absent link-layer option as 00:00:00:00:00:00.
const ns = (src: string, target: string, sll: string): Frame => icmp6(src, 135, { nd_target: target, nd_sll: sll, nd_tll: "00:00:00:00:00:00" });
const na = (src: string, target: string, tll: string): Frame => icmp6(src, 136, { nd_target: target, nd_tll: tll, nd_sll: "00:00:00:00:00:00" });
const NONE = "00:00:00:00:00:00";

test("every flow: the port's cookie, in_port, a priority of its tier; no two flows with the same priority and match", () => {
  const flows = flowsOf();
  assert.is(flows.length, 29, "one MAC, one IPv4, two IPv6: 1*(2*4 + 4*2 + 2*1 + 3) + 8");
  const keys = new Set(flows.map(flowKey));
  assert.is(keys.size, flows.length);
  const tiers = new Map<number, Set<string>>();
  for (const f of flows) {
    assert.is(f.cookie, 0x6f76737600000007n);
    assert.match(flowKey(f), /^priority=\d+,in_port=7(,|$)/);
    assert.ok((Object.values(PRIORITY) as number[]).includes(f.priority), `priority ${f.priority}`);
    tiers.set(f.priority, (tiers.get(f.priority) ?? new Set()).add(actionsText(f.actions)));
  }
  for (const [p, actions] of tiers) assert.is(actions.size, 1, `tier ${p}: one action, so overlapping flows of a tier cannot disagree`);
  assert.ok(flows.every((f) => f.priority > 0));
});

test("flow count: M * (2*A6^2 + 4*A6 + 2*A4 + 3) + 8, less the drops an allowance lifts", () => {
  const extra = flowsOf({
    allowAddresses: [
      { field: "a", value: "00:00:5e:00:01:01" },
      { field: "a", value: "2001:db8::50" },
      { field: "a", value: "198.51.100.50" },
    ],
  });
  assert.is(extra.length, 2 * (2 * 9 + 4 * 3 + 2 * 2 + 3) + 8);
  assert.is(flowsOf({ allowDhcpServer: true }).length, 27);
  assert.is(flowsOf({ allowRouterAdv: true }).length, 26);
});

test("the cookie: prefix 0x6f767376, the ofport in the low 16 bits; another owner's cookie is not ours", () => {
  assert.is(portCookie(1), COOKIE_PREFIX | 1n);
  assert.is(portCookie(MAX_OFPORT), 0x6f7673760000feffn);
  assert.is(cookieOfport(portCookie(4242)), 4242);
  assert.is(cookieOfport(0x1234n), undefined);
  assert.is(cookieOfport(0x6f76737600010005n), undefined, "reserved bits set");
  assert.is(portCookie(9) & ALL_PORTS_MASK, COOKIE_PREFIX);
  for (const bad of [0, -1, 1.5, MAX_OFPORT + 1, 0xfffffffe]) {
    assert.throws(
      () => portCookie(bad),
      (e: Error) =>
        e instanceof StateError && e.message === `ofport ${JSON.stringify(String(bad))}: not a port number 1..65279: the port has no OpenFlow number to filter`,
    );
  }
});

test("IPv4: only from its MAC and its address; DHCP discover from 0.0.0.0; a DHCP offer even from its address is dropped", () => {
  const f = flowsOf();
  assert.is(decide(f, ip4("198.51.100.11")), "NORMAL");
  assert.is(decide(f, ip4("198.51.100.11", OTHER)), "drop", "forged source MAC");
  assert.is(decide(f, ip4("198.51.100.12")), "drop", "forged IPv4 source");
  assert.is(decide(f, udp4("0.0.0.0", 68, 67)), "NORMAL", "DHCP discover");
  assert.is(decide(f, udp4("0.0.0.0", 67, 68)), "drop");
  assert.is(decide(f, udp4("198.51.100.11", 67, 68)), "drop", "DHCP offer");
  assert.is(decide(flowsOf({ allowDhcpServer: true }), udp4("198.51.100.11", 67, 68)), "NORMAL", "allow-dhcp-server");
  assert.is(decide(f, udp4("198.51.100.11", 68, 67)), "NORMAL", "renewal from its address");
});

test("no IPv4 address: no IPv4 at all but DHCP client traffic from 0.0.0.0 and ARP probes", () => {
  const f = flowsOf({ ipv4: [] });
  assert.is(decide(f, ip4("198.51.100.11")), "drop");
  assert.is(decide(f, udp4("0.0.0.0", 68, 67)), "NORMAL");
  assert.is(decide(f, arp("0.0.0.0")), "NORMAL");
  assert.is(decide(f, arp("198.51.100.11")), "drop");
});

test("ARP: sender MAC = source MAC = its MAC, sender IP its own or 0.0.0.0; RARP only with its MAC", () => {
  const f = flowsOf();
  assert.is(decide(f, arp("198.51.100.11")), "NORMAL");
  assert.is(decide(f, arp("0.0.0.0")), "NORMAL", "probe");
  assert.is(decide(f, arp("198.51.100.12")), "drop", "gratuitous ARP or reply for a neighbour's address");
  assert.is(decide(f, arp("198.51.100.11", OTHER)), "drop", "sender MAC not the source MAC");
  assert.is(decide(f, arp("198.51.100.11", OTHER, OTHER)), "drop", "another MAC altogether");
  assert.is(decide(f, { eth_src: OWN, eth_type: 0x8035, arp_sha: OWN }), "NORMAL", "RARP (QEMU after migration)");
  assert.is(decide(f, { eth_src: OWN, eth_type: 0x8035, arp_sha: OTHER }), "drop");
});

test("IPv6: from its link-local and /64 EUI-64 addresses only; DHCPv6 replies, RA, redirect, renumbering dropped unless allowed", () => {
  const f = flowsOf();
  assert.is(decide(f, ip6(OWN_LL)), "NORMAL");
  assert.is(decide(f, ip6(OWN_GLOBAL)), "NORMAL");
  assert.is(decide(f, ip6("2001:db8:1::b")), "drop", "forged IPv6 source");
  assert.is(decide(f, ip6(OWN_LL, { eth_src: OTHER })), "drop");
  assert.is(decide(f, ip6(OWN_LL, { udp_src: 547, udp_dst: 546 })), "drop", "DHCPv6 reply");
  assert.is(decide(f, ip6(OWN_LL, { udp_src: 546, udp_dst: 547 })), "NORMAL", "DHCPv6 request");
  for (const type of [134, 137, 138]) assert.is(decide(f, icmp6(OWN_LL, type)), "drop", `ICMPv6 ${type}`);
  assert.is(decide(f, icmp6(OWN_LL, 133)), "NORMAL", "router solicitation");
  assert.is(decide(flowsOf({ allowRouterAdv: true }), icmp6(OWN_LL, 134)), "NORMAL", "allow-router-adv");
  assert.is(decide(flowsOf({ allowDhcpServer: true }), ip6(OWN_LL, { udp_src: 547, udp_dst: 546 })), "NORMAL");
});

test("NS and NA: its addresses, its link-layer address or none; DAD from :: only for its own addresses", () => {
  const f = flowsOf();
  assert.is(decide(f, ns(OWN_LL, "fe80::1", OWN)), "NORMAL");
  assert.is(decide(f, ns(OWN_GLOBAL, "2001:db8:1::1", NONE)), "NORMAL", "NS without the option");
  assert.is(decide(f, ns(OWN_LL, "fe80::1", OTHER)), "drop", "NS with another link-layer address");
  assert.is(decide(f, ns("fe80::b", "fe80::1", OWN)), "drop", "NS from another address");
  assert.is(decide(f, ns("::", OWN_GLOBAL, NONE)), "NORMAL", "DAD");
  assert.is(decide(f, ns("::", "2001:db8:1::b", NONE)), "drop", "DAD for a neighbour's address");
  assert.is(decide(f, na(OWN_LL, OWN_GLOBAL, OWN)), "NORMAL");
  assert.is(decide(f, na(OWN_GLOBAL, OWN_GLOBAL, NONE)), "NORMAL");
  assert.is(decide(f, na(OWN_LL, "2001:db8:1::b", OWN)), "drop", "NA for a neighbour's address");
  assert.is(decide(f, na(OWN_LL, OWN_LL, OTHER)), "drop", "NA with another link-layer address");
  assert.is(decide(f, na("fe80::b", OWN_LL, OWN)), "drop", "NA from another address");
});

test("allow-address: an extra MAC with every allowed address; an extra prefix for IPv4, ARP, IPv6 and ND", () => {
  const f = flowsOf({
    allowAddresses: [
      { field: "a", value: "00:00:5e:00:01:01" },
      { field: "a", value: "198.51.100.128/25" },
      { field: "a", value: "2001:db8:9::/64" },
    ],
  });
  assert.is(decide(f, ip4("198.51.100.200")), "NORMAL");
  assert.is(decide(f, ip4("198.51.100.50")), "drop");
  assert.is(decide(f, ip4("198.51.100.11", "00:00:5e:00:01:01")), "NORMAL");
  assert.is(decide(f, arp("198.51.100.129", "00:00:5e:00:01:01", "00:00:5e:00:01:01")), "NORMAL", "VRRP gratuitous ARP");
  assert.is(decide(f, ip6("2001:db8:9::77")), "NORMAL");
  assert.is(decide(f, na(OWN_LL, "2001:db8:9::77", OWN)), "NORMAL");
});

test("non-IP from the port is dropped; another port's frames meet none of these flows", () => {
  const f = flowsOf();
  assert.is(decide(f, { eth_src: OWN, eth_type: 0x88cc }), "drop", "LLDP");
  assert.is(decide(f, ip4("198.51.100.99", OTHER), 8), "bridge NORMAL");
});

test.run();
