// Where port security is set (src/port-security/sources.ts): Ganeti tags
// at NIC, instance and network level, attach's options, Xen's `ip` key,
// the node default; precedence as QoS's; conflicting input refused in one
// line naming the field and the value.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { expectInputError } from "../harness/assert.ts";
import {
  defaultLevel,
  explicitLevel,
  ganetiLevels,
  parseOnOff,
  parsePortSecurityTag,
  resolvePortSecurity,
  xenIpLevel,
} from "../../src/port-security/sources.ts";
import { buildPolicy } from "../../src/port-security/policy.ts";
import { prefixText } from "../../src/port-security/addresses.ts";

const NIC = { index: 0, name: "web", uuid: "11111111-0000-4000-8000-000000000000" };

test("tags: every keyword, with and without a NIC id; other ovs-vif tags are not port security's", () => {
  assert.equal(parsePortSecurityTag("instance tag", "ovs-vif:port-security:on"), { tag: "ovs-vif:port-security:on", keyword: "port-security", value: "on" });
  assert.equal(parsePortSecurityTag("instance tag", "ovs-vif:nic:web:allow-address:2001:db8::50"), {
    tag: "ovs-vif:nic:web:allow-address:2001:db8::50",
    keyword: "allow-address",
    nic: "web",
    value: "2001:db8::50",
  });
  assert.equal(parsePortSecurityTag("instance tag", "ovs-vif:nic:0:allow-address:00:00:5e:00:01:01")?.value, "00:00:5e:00:01:01");
  assert.is(parsePortSecurityTag("instance tag", "ovs-vif:allow-dhcp-server")?.keyword, "allow-dhcp-server");
  assert.is(parsePortSecurityTag("instance tag", "ovs-vif:nic:1:allow-router-adv")?.nic, "1");
  for (const other of ["ovs-vif:rate:100M", "ovs-vif:nic:0:rx-rate:1G", "ovs-vif:ovn-switch:ls1", "web", "ovs-vif:port-securityx:on"])
    assert.is(parsePortSecurityTag("instance tag", other), undefined, other);
});

test("malformed port-security tags name the whole tag", () => {
  const bad: [string, RegExp][] = [
    ["ovs-vif:port-security:yes", /on or :off/],
    ["ovs-vif:port-security", /on or :off/],
    ["ovs-vif:allow-address:", /ADDRESS/],
    ["ovs-vif:allow-address:198.51.100.1/24", /host bits/],
    ["ovs-vif:allow-address:2001:db8::/0", /\/0/],
    ["ovs-vif:allow-dhcp-server:on", /without a value/],
    ["ovs-vif:nic:0:allow-router-adv:1", /without a value/],
  ];
  for (const [tag, reason] of bad) expectInputError(() => parsePortSecurityTag("instance tag", tag), "instance tag", tag, reason);
});

test("precedence: NIC tag over instance tag over network tag over the explicit level over the node default", () => {
  const net = ganetiLevels([], ["ovs-vif:port-security:on"], NIC);
  assert.equal(resolvePortSecurity([...net, defaultLevel(false, "defaults.json")]).on, true);
  const inst = ganetiLevels(["ovs-vif:port-security:off"], ["ovs-vif:port-security:on"], NIC);
  assert.equal(resolvePortSecurity(inst), {
    on: false,
    source: 'instance tag "ovs-vif:port-security:off"',
    allowAddresses: [],
    allowDhcpServer: false,
    allowRouterAdv: false,
  });
  const nic = ganetiLevels(["ovs-vif:port-security:off", `ovs-vif:nic:${NIC.uuid}:port-security:on`], [], NIC);
  assert.is(resolvePortSecurity(nic).source, `instance tag "ovs-vif:nic:${NIC.uuid}:port-security:on"`);
  const otherNic = ganetiLevels(["ovs-vif:nic:1:port-security:on"], [], NIC);
  assert.is(resolvePortSecurity([...otherNic, defaultLevel(false, "node default")]).on, false, "a tag for NIC 1 is not NIC 0's");
  assert.equal(resolvePortSecurity([]), { on: false, source: "none: off by default", allowAddresses: [], allowDhcpServer: false, allowRouterAdv: false });
});

test("allowances add up over every level, and count only while port security is on", () => {
  const levels = ganetiLevels(
    ["ovs-vif:nic:web:allow-address:198.51.100.50", "ovs-vif:allow-router-adv"],
    ["ovs-vif:port-security:on", "ovs-vif:allow-address:198.51.100.1"],
    NIC,
  );
  const r = resolvePortSecurity(levels);
  assert.equal(
    r.allowAddresses.map((a) => a.value),
    ["198.51.100.50", "198.51.100.1"],
  );
  assert.equal([r.allowDhcpServer, r.allowRouterAdv], [false, true]);
  const p = buildPolicy({ mac: { field: "MAC", value: "aa:00:00:00:0a:0a" }, allowAddresses: r.allowAddresses });
  assert.equal(p.ipv4.map(prefixText), ["198.51.100.50", "198.51.100.1"]);
  const off = resolvePortSecurity([...ganetiLevels(["ovs-vif:port-security:off"], ["ovs-vif:allow-address:198.51.100.1"], NIC)]);
  assert.equal([off.on, off.allowAddresses], [false, []]);
});

test("conflicts at one level: on and off; off with an allowance; a per-NIC tag on a network", () => {
  expectInputError(
    () => ganetiLevels(["ovs-vif:port-security:on", "ovs-vif:port-security:off"], [], NIC),
    "instance tag",
    "ovs-vif:port-security:off",
    /conflicts with "ovs-vif:port-security:on"/,
  );
  expectInputError(
    () => ganetiLevels([], ["ovs-vif:allow-address:198.51.100.1", "ovs-vif:port-security:off"], NIC),
    "network tag",
    "ovs-vif:allow-address:198.51.100.1",
    /conflicts with "ovs-vif:port-security:off"/,
  );
  expectInputError(
    () => ganetiLevels(["ovs-vif:nic:0:port-security:off", "ovs-vif:nic:0:allow-dhcp-server"], [], NIC),
    "instance tag",
    "ovs-vif:nic:0:allow-dhcp-server",
    /port security is off/,
  );
  expectInputError(() => ganetiLevels([], ["ovs-vif:nic:0:port-security:on"], NIC), "network tag", "ovs-vif:nic:0:port-security:on", /belong on the instance/);
  // The same value twice is no conflict.
  assert.is(resolvePortSecurity(ganetiLevels(["ovs-vif:port-security:on", "ovs-vif:port-security:on"], [], NIC)).on, true);
});

test("attach's options: on/off, repeatable --allow-address, flags; off with an allowance conflicts", () => {
  const l = explicitLevel({ portSecurity: "on", allowAddresses: ["198.51.100.50", "00:00:5e:00:01:01"], allowDhcpServer: true });
  const r = resolvePortSecurity([l]);
  assert.equal([r.on, r.source, r.allowAddresses.length, r.allowDhcpServer, r.allowRouterAdv], [true, "--port-security on", 2, true, false]);
  expectInputError(() => explicitLevel({ portSecurity: "yes" }), "--port-security", "yes", /on or off/);
  expectInputError(
    () => explicitLevel({ portSecurity: "off", allowAddresses: ["198.51.100.50"] }),
    "--allow-address",
    "198.51.100.50",
    /conflicts with --port-security off/,
  );
  expectInputError(() => explicitLevel({ portSecurity: "off", allowRouterAdv: true }), "--allow-router-adv", "", /conflicts/);
  expectInputError(() => explicitLevel({ allowAddresses: ["198.51.100.500"] }), "--allow-address", "198.51.100.500", /not an IPv4 or IPv6 address/);
  expectInputError(() => parseOnOff("defaults.json: port-security", "true"), "defaults.json: port-security", "true", /on or off/);
});

test("Xen's ip key: present turns it on; plain IPv4 addresses are the NIC's, prefixes and IPv6 are allowances", () => {
  const KEY = "/local/domain/0/backend/vif/5/0/ip";
  const { level, ipv4 } = xenIpLevel(KEY, "198.51.100.11  198.51.100.12 198.51.100.128/25 2001:db8::5");
  assert.equal(
    ipv4.map((f) => f.value),
    ["198.51.100.11", "198.51.100.12"],
  );
  assert.equal(
    level.allow.map((f) => f.value),
    ["198.51.100.128/25", "2001:db8::5"],
  );
  assert.is(resolvePortSecurity([level, defaultLevel(false, "node default")]).on, true);
  const none = xenIpLevel(KEY, undefined);
  assert.equal([none.level.state, none.ipv4], [undefined, []]);
  expectInputError(() => xenIpLevel(KEY, "  "), KEY, "  ", /empty/);
  expectInputError(() => xenIpLevel(KEY, "198.51.100.11 aa:00:00:00:0a:0a"), KEY, "aa:00:00:00:0a:0a", /a MAC in the ip key/);
  expectInputError(() => xenIpLevel(KEY, "198.51.100.11,198.51.100.12"), KEY, "198.51.100.11,198.51.100.12", /not a MAC .*IP address/);
});

test.run();
