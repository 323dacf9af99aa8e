// The policy of one NIC (src/port-security/policy.ts, addresses.ts): what
// it derives (EUI-64 link-local and /64 addresses), what it keeps as given,
// and every bad input refused in one line naming the field and the value.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { expectInputError } from "../harness/assert.ts";
import { eui64Address, ipv4Bytes, ipv6Bytes, LINK_LOCAL_PREFIX, macBytes, parsePrefix, prefixText } from "../../src/port-security/addresses.ts";
import { buildPolicy, describePolicy, MAX_ALLOW_ADDRESSES, parseAllowAddress, type PolicyInput } from "../../src/port-security/policy.ts";

const MAC = { field: "MAC", value: "AA:00:00:00:0A:0A" };
const base = (more: Partial<PolicyInput> = {}): PolicyInput => ({ mac: MAC, ...more });

test("the link-local address is the MAC's modified EUI-64 (RFC 4291): U/L bit flipped, ff:fe inserted", () => {
  assert.is(prefixText({ family: 6, bytes: eui64Address(LINK_LOCAL_PREFIX, macBytes("aa:00:00:00:0a:0a")), length: 128 }), "fe80::a800:ff:fe00:a0a");
  assert.is(prefixText({ family: 6, bytes: eui64Address(LINK_LOCAL_PREFIX, macBytes("52:54:00:12:34:56")), length: 128 }), "fe80::5054:ff:fe12:3456");
  assert.is(prefixText({ family: 6, bytes: eui64Address(LINK_LOCAL_PREFIX, macBytes("00:16:3e:00:00:0e")), length: 128 }), "fe80::216:3eff:fe00:e");
});

test("a NIC with only a MAC: its MAC, no IPv4, the link-local address; servers and RAs not allowed", () => {
  const p = buildPolicy(base());
  assert.is(p.mac, "aa:00:00:00:0a:0a", "lower case");
  assert.equal(p.ipv4, []);
  assert.equal(p.ipv6.map(prefixText), ["fe80::a800:ff:fe00:a0a"]);
  assert.is(p.allowDhcpServer, false);
  assert.is(p.allowRouterAdv, false);
  assert.is(describePolicy(p), "mac=aa:00:00:00:0a:0a ipv4=none ipv6=fe80::a800:ff:fe00:a0a");
});

test("IPv4 addresses as given; a /64 prefix gives the EUI-64 address in it; another length gives none and says why", () => {
  const p = buildPolicy(
    base({
      ipv4: [
        { field: "IP", value: "198.51.100.11" },
        { field: "--ip", value: "198.51.100.12" },
        { field: "--ip", value: "198.51.100.11" },
      ],
      ipv6Prefixes: [
        { field: "SUBNET6", value: "2001:db8:1::/64" },
        { field: "SUBNET6", value: "2001:db8:2::/48" },
      ],
    }),
  );
  assert.equal(p.ipv4.map(prefixText), ["198.51.100.11", "198.51.100.12"], "duplicates once");
  assert.equal(p.ipv6.map(prefixText), ["fe80::a800:ff:fe00:a0a", "2001:db8:1:0:a800:ff:fe00:a0a"]);
  assert.equal(p.skippedPrefixes, [{ field: "SUBNET6", value: "2001:db8:2::/48", reason: "a /48, not a /64: no EUI-64 address in it" }]);
});

test("allow-address: a MAC, an address or a prefix of either family; the NIC's own MAC is not repeated", () => {
  const p = buildPolicy(
    base({
      allowAddresses: [
        { field: "a", value: "00:00:5e:00:01:01" },
        { field: "a", value: "aa:00:00:00:0a:0a" },
        { field: "a", value: "198.51.100.50" },
        { field: "a", value: "198.51.100.128/25" },
        { field: "a", value: "2001:db8::50" },
        { field: "a", value: "2001:db8:5::/64" },
      ],
      allowDhcpServer: true,
      allowRouterAdv: true,
    }),
  );
  assert.equal(p.extraMacs, ["00:00:5e:00:01:01"]);
  assert.equal(p.ipv4.map(prefixText), ["198.51.100.50", "198.51.100.128/25"]);
  assert.equal(p.ipv6.map(prefixText), ["fe80::a800:ff:fe00:a0a", "2001:db8::50", "2001:db8:5::/64"]);
  assert.match(describePolicy(p), /allow-dhcp-server allow-router-adv$/);
});

test("address parsing agrees with the project's grammar: no leading zeros, one ::, an IPv4 tail, no zone", () => {
  assert.ok(ipv4Bytes("198.51.100.1"));
  for (const bad of ["198.51.100.01", "198.51.100", "198.51.100.256", "1.2.3.4.5", "", " 1.2.3.4"]) assert.is(ipv4Bytes(bad), undefined, bad);
  assert.ok(ipv6Bytes("2001:db8::1"));
  assert.ok(ipv6Bytes("::ffff:198.51.100.1"));
  for (const bad of ["2001:db8:::1", "2001::db8::1", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "12345::1", ":1::", "2001:db8::1.2.3"])
    assert.is(ipv6Bytes(bad), undefined, bad);
  assert.equal(parsePrefix("f", "2001:db8::/32"), { family: 6, bytes: ipv6Bytes("2001:db8::")!, length: 32 });
});

// --- bad input: one line naming the field and the value ----------------------

test("the MAC: malformed, group (multicast), zero", () => {
  expectInputError(() => buildPolicy({ mac: { field: "MAC", value: "aa:00:00:00:0a" } }), "MAC", "aa:00:00:00:0a", /not a MAC/);
  expectInputError(() => buildPolicy({ mac: { field: "MAC", value: "01:00:5e:00:00:01" } }), "MAC", "01:00:5e:00:00:01", /group \(multicast\) MAC/);
  expectInputError(() => buildPolicy({ mac: { field: "MAC", value: "00:00:00:00:00:00" } }), "MAC", "00:00:00:00:00:00", /the zero MAC/);
  expectInputError(() => buildPolicy({ mac: { field: "MAC", value: "" } }), "MAC", "", /not a MAC/);
});

test("the NIC's IPv4 addresses: malformed, IPv6 (wrong family), a prefix, not a unicast source", () => {
  const ip = (value: string) => () => buildPolicy(base({ ipv4: [{ field: "IP", value }] }));
  expectInputError(ip("198.51.100.300"), "IP", "198.51.100.300", /not an IPv4 address/);
  expectInputError(ip("198.51.100.1 "), "IP", "198.51.100.1 ", /not an IPv4 address/);
  expectInputError(ip("2001:db8::1"), "IP", "2001:db8::1", /IPv6 address where IPv4 is expected/);
  expectInputError(ip("198.51.100.0/24"), "IP", "198.51.100.0/24", /without a prefix length/);
  expectInputError(ip("198.51.100.7/24"), "IP", "198.51.100.7/24", /host bits set \(the prefix is 198\.51\.100\.0\/24\)/);
  expectInputError(ip("aa:00:00:00:0a:0b"), "IP", "aa:00:00:00:0a:0b", /not an IPv4 address/);
  expectInputError(ip("0.0.0.0"), "IP", "0.0.0.0", /not an address a VM sends from/);
  expectInputError(ip("224.0.0.5"), "IP", "224.0.0.5", /multicast/);
  expectInputError(ip("255.255.255.255"), "IP", "255.255.255.255", /broadcast/);
  expectInputError(ip("127.0.0.1"), "IP", "127.0.0.1", /loopback/);
});

test("IPv6 prefixes: IPv4 (wrong family), no length, host bits, multicast, too many", () => {
  const pre = (value: string) => () => buildPolicy(base({ ipv6Prefixes: [{ field: "SUBNET6", value }] }));
  expectInputError(pre("198.51.100.0/24"), "SUBNET6", "198.51.100.0/24", /IPv4 address where IPv6 is expected/);
  expectInputError(pre("2001:db8::"), "SUBNET6", "2001:db8::", /expected an IPv6 prefix/);
  expectInputError(pre("2001:db8::1/64"), "SUBNET6", "2001:db8::1/64", /host bits set \(the prefix is 2001:db8::\/64\)/);
  expectInputError(pre("2001:db8::/129"), "SUBNET6", "2001:db8::/129", /1\.\.128/);
  expectInputError(pre("2001:db8::/064"), "SUBNET6", "2001:db8::/064", /1\.\.128/);
  expectInputError(pre("ff02::/64"), "SUBNET6", "ff02::/64", /multicast/);
  const five = ["1", "2", "3", "4", "5"].map((n) => ({ field: "SUBNET6", value: `2001:db8:${n}::/64` }));
  expectInputError(() => buildPolicy(base({ ipv6Prefixes: five })), "SUBNET6", "2001:db8:5::/64", /more than 4/);
});

test("allow-address: malformed, /0, host bits, multicast MAC or address, the unspecified address, too many", () => {
  const allow = (value: string) => () => buildPolicy(base({ allowAddresses: [{ field: "--allow-address", value }] }));
  expectInputError(allow("vrrp"), "--allow-address", "vrrp", /not a MAC .*, an IP address or ADDRESS\/LENGTH/);
  expectInputError(allow("aa:bb:cc:dd:ee"), "--allow-address", "aa:bb:cc:dd:ee", /not a MAC/);
  expectInputError(allow("198.51.100.0/0"), "--allow-address", "198.51.100.0/0", /\/0 prefix allows every source/);
  expectInputError(allow("198.51.100.1/24"), "--allow-address", "198.51.100.1/24", /host bits/);
  expectInputError(allow("198.51.100.0/33"), "--allow-address", "198.51.100.0/33", /1\.\.32/);
  expectInputError(allow("01:00:5e:00:00:12"), "--allow-address", "01:00:5e:00:00:12", /group \(multicast\) MAC/);
  expectInputError(allow("ff02::1"), "--allow-address", "ff02::1", /multicast/);
  expectInputError(allow("::"), "--allow-address", "::", /unspecified/);
  const many = Array.from({ length: MAX_ALLOW_ADDRESSES + 1 }, (_, i) => ({ field: "--allow-address", value: `198.51.100.${i + 1}` }));
  expectInputError(() => buildPolicy(base({ allowAddresses: many })), "--allow-address", `198.51.100.${MAX_ALLOW_ADDRESSES + 1}`, /more than 16/);
});

test("an allow-address from a tag is refused naming the whole tag", () => {
  const tag = "ovs-vif:allow-address:198.51.100.1/24";
  expectInputError(
    () => buildPolicy(base({ allowAddresses: [{ field: "instance tag", value: "198.51.100.1/24", shown: tag }] })),
    "instance tag",
    tag,
    /host bits/,
  );
});

test("parseAllowAddress tells a MAC from an address", () => {
  assert.equal(parseAllowAddress("f", "00:00:5E:00:01:01"), { kind: "mac", mac: "00:00:5e:00:01:01" });
  const a = parseAllowAddress("f", "2001:db8::/64");
  assert.is(a.kind, "ip");
});

test.run();
