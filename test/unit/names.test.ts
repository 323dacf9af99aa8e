// Name and scalar validation (src/names.ts): device and bridge names,
// external_ids entries, MAC addresses, MTUs, Ganeti names, tags and NIC
// UUIDs, port owners.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InputError } from "../../src/errors.ts";
import { expectInputError } from "../harness/assert.ts";
import { isIP } from "node:net";
import {
  isIpAddress,
  parseBridgeName,
  parseExternalId,
  parseGanetiObjectName,
  parseGanetiTag,
  parseInstanceName,
  parseInterfaceName,
  parseIpAddress,
  parseLogicalPortName,
  parseLogicalSwitchName,
  parseMac,
  parseMacSyntax,
  parseMtu,
  parseNicUuid,
  parseNodeName,
  parseOwner,
} from "../../src/names.ts";

const FIFTEEN = "abcdefghijklmno";
const SIXTEEN = "abcdefghijklmnop";

// --- interface names ---------------------------------------------------------

const ifaceGood = ["vif5.0", "vif5.0-emu", "tap0", "gnt.com.0", FIFTEEN, "a", "veth_1", "eth0.100", "tap+1", "x@y", "A-Z_0.9", "..a", "a.."];

for (const name of ifaceGood) {
  test(`parseInterfaceName accepts ${JSON.stringify(name)}`, () => {
    assert.is(parseInterfaceName("vif", name), name);
  });
}

const ifaceBad: Array<[string, RegExp?]> = [
  ["", /empty/],
  [SIXTEEN, /15/],
  ["vif123456.1234-emu", /15/],
  ["a/b", /"\/"/],
  ["a b", /whitespace/],
  ["a\tb", /control character 0x09/],
  ["a\nb", /control character 0x0a/],
  ["a\x01b", /control character 0x01/],
  ["a\x7fb", /control character 0x7f/],
  ["a\x00b", /control character 0x00/],
  [".", /not a valid/],
  ["..", /not a valid/],
  ["a:b", /":"/],
  ["a;b", /";"/],
  ["$(x)", /"\$"/],
  ["`x`"],
  ["a'b", /"'"/],
  ['a"b'],
  ["a\\b"],
  ["a|b"],
  ["a&b"],
  ["a>b"],
  ["a*b"],
  ["a%b"],
  ["a=b"],
  ["a,b"],
  ["tap\u00e9"],
  ["t\u00e4p0"],
  ["\u0442\u0430\u043f0"], // Cyrillic "тап0"
  ["tap\u00a00"], // no-break space
  ["tap\u200b0"], // zero-width space
  ["tap\u{1F600}"],
  ["tap0\n"],
  [" tap0"],
];

for (const [name, reason] of ifaceBad) {
  test(`parseInterfaceName rejects ${JSON.stringify(name)}`, () => {
    expectInputError(() => parseInterfaceName("INTERFACE", name), "INTERFACE", name, reason);
  });
}

test("parseInterfaceName: 15 multibyte characters are still refused (not a plain name)", () => {
  expectInputError(() => parseInterfaceName("vif", "\u00e9".repeat(15)), "vif", "\u00e9".repeat(15));
  expectInputError(() => parseInterfaceName("vif", "\u00e9".repeat(16)), "vif", "\u00e9".repeat(16), /15/);
});

// --- bridge names ------------------------------------------------------------

const bridgeGood = ["sw1", "br0", "xenbr0", "br-int", "br_ex", "1br", "_br", FIFTEEN, "br.3", "br+x", "br@x"];

for (const name of bridgeGood) {
  test(`parseBridgeName accepts ${JSON.stringify(name)}`, () => {
    assert.is(parseBridgeName("link", name), name);
  });
}

const bridgeBad: Array<[string, RegExp?]> = [
  ["", /empty/],
  [SIXTEEN, /15/],
  ["-br", /-/],
  ["--help", /-/],
  ["-", /-/],
  [".br"],
  ["+br"],
  ["@br"],
  [".", /not a valid/],
  ["..", /not a valid/],
  ["a/b", /"\/"/],
  ["a b", /whitespace/],
  ["a\tb", /control character 0x09/],
  ["a\x01b", /control character 0x01/],
  ["a:b", /":"/],
  ["a;b", /";"/],
  ["$(x)"],
  ["a'b"],
  ["br\u00fc"],
  ["\u043c\u043e\u0441\u0442"],
  ["br0\n"],
];

for (const [name, reason] of bridgeBad) {
  test(`parseBridgeName rejects ${JSON.stringify(name)}`, () => {
    expectInputError(() => parseBridgeName("link", name), "link", name, reason);
  });
}

// --- external_ids ------------------------------------------------------------

const extGood: Array<[string, [string, string]]> = [
  ["iface-id=abc", ["iface-id", "abc"]],
  ["k=", ["k", ""]],
  ["k=a=b", ["k", "a=b"]],
  ["a.b:c_d-e=v", ["a.b:c_d-e", "v"]],
  ["vm-name=web server #1", ["vm-name", "web server #1"]],
  ["name=\u00e9t\u00e9", ["name", "\u00e9t\u00e9"]],
  [`${"k".repeat(64)}=v`, ["k".repeat(64), "v"]],
  [`k=${"v".repeat(1024)}`, ["k", "v".repeat(1024)]],
];

for (const [raw, want] of extGood) {
  test(`parseExternalId accepts ${JSON.stringify(raw.slice(0, 40))}`, () => {
    assert.equal(parseExternalId("external-id", raw), want);
  });
}

const extBad: Array<[string, RegExp?]> = [
  ["", /KEY=VALUE/],
  ["novalue", /KEY=VALUE/],
  ["=v", /KEY=VALUE/],
  [`${"k".repeat(65)}=v`, /key/],
  ["a b=v", /key/],
  ["a/b=v", /key/],
  ["k\u00e9=v", /key/],
  ["k\n=v", /key/],
  ["k=a\nb", /control/],
  ["k=a\tb", /control/],
  ["k=a\x00b", /control/],
  ["k=a\x7fb", /control/],
  [`k=${"v".repeat(1025)}`, /1024/],
];

for (const [raw, reason] of extBad) {
  test(`parseExternalId rejects ${JSON.stringify(raw.slice(0, 40))}`, () => {
    expectInputError(() => parseExternalId("external-id", raw), "external-id", raw, reason);
  });
}

// --- MAC ---------------------------------------------------------------------

const macGood: Array<[string, string]> = [
  ["00:16:3e:aa:bb:cc", "00:16:3e:aa:bb:cc"],
  ["AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"],
  ["fe:FF:ff:Ff:fF:ff", "fe:ff:ff:ff:ff:ff"],
];

for (const [raw, want] of macGood) {
  test(`parseMac ${raw} -> ${want}`, () => {
    assert.is(parseMac("MAC", raw), want);
  });
}

const macBad = [
  "",
  "00:16:3e:aa:bb",
  "00:16:3e:aa:bb:cc:dd",
  "00-16-3e-aa-bb-cc",
  "0016.3eaa.bbcc",
  "00163eaabbcc",
  "00:16:3e:aa:bb:cg",
  "0:16:3e:aa:bb:cc",
  "000:16:3e:aa:bb:cc",
  "00:16:3e:aa:bb:cc\n",
  " 00:16:3e:aa:bb:cc",
  "00:16:3e:aa:bb:cc ",
  "00:16:3e:aa:bb:cc;reboot",
  "\uff10\uff10:16:3e:aa:bb:cc", // fullwidth digits
];

for (const raw of macBad) {
  test(`parseMac rejects ${JSON.stringify(raw)}`, () => {
    expectInputError(() => parseMac("MAC", raw), "MAC", raw, /MAC/);
  });
}

// A NIC's MAC is unicast: the zero, broadcast and group (multicast) MACs
// are refused wherever a MAC is taken; reading back accepts any well-formed one.
const macNotNic: Array<[string, RegExp]> = [
  ["00:00:00:00:00:00", /zero MAC/],
  ["ff:ff:ff:ff:ff:ff", /broadcast MAC/],
  ["FF:FF:FF:FF:FF:FF", /broadcast MAC/],
  ["01:00:5e:00:00:01", /group \(multicast\)/],
  ["33:33:00:00:00:01", /group \(multicast\)/],
  ["01:80:c2:00:00:00", /group \(multicast\)/],
  ["03:00:00:00:00:00", /group \(multicast\)/],
  ["ab:cd:ef:01:02:03", /group \(multicast\)/],
];

for (const [raw, reason] of macNotNic) {
  test(`parseMac refuses ${raw} (no NIC's address); parseMacSyntax reads it back`, () => {
    expectInputError(() => parseMac("MAC", raw), "MAC", raw, reason);
    assert.is(parseMacSyntax("MAC", raw), raw.toLowerCase());
  });
}

test("parseMac takes unicast MACs whose first octet is even, locally administered ones too", () => {
  for (const raw of ["02:00:00:00:00:01", "00:00:00:00:00:01", "fe:ff:ff:ff:ff:ff", "aa:00:00:00:00:00"]) assert.is(parseMac("MAC", raw), raw);
  expectInputError(() => parseMacSyntax("MAC", "00:16:3e:aa:bb"), "MAC", "00:16:3e:aa:bb", /not a MAC/);
});

// --- OVN logical switch and port names ----------------------------------------

test("parseLogicalSwitchName and parseLogicalPortName take network names, tags' switch names and NIC UUIDs", () => {
  for (const v of ["net1", "ls_a.b:c+d@e", "tenant/blue", "11111111-0000-4000-8000-000000000000", "x".repeat(255)]) {
    assert.is(parseLogicalSwitchName("--ovn-switch", v), v);
    assert.is(parseLogicalPortName("--lsp", v), v);
  }
});

const ovnNameBad: Array<[string, RegExp]> = [
  ["", /logical switch name/],
  ["-net1", /not starting with '-'/],
  ["net 1", /whitespace/],
  ["net\u00001", /control character 0x00/],
  ["net\r1", /control character 0x0d/],
  ['net"1', /"\\""/],
  ["net;1", /";"/],
  ["x".repeat(256), /1\.\.255/],
  ["n\u00e9t", /"\u00e9"/],
];

for (const [raw, reason] of ovnNameBad) {
  test(`parseLogicalSwitchName and parseLogicalPortName refuse ${JSON.stringify(raw.slice(0, 20))}`, () => {
    expectInputError(() => parseLogicalSwitchName("--ovn-switch", raw), "--ovn-switch", raw, reason);
    expectInputError(() => parseLogicalPortName("--lsp", raw), "--lsp", raw, new RegExp(reason.source.replace("logical switch name", "logical port name")));
  });
}

// --- MTU ---------------------------------------------------------------------

const mtuGood: Array<[string, number]> = [
  ["68", 68],
  ["1500", 1500],
  ["9000", 9000],
  ["65535", 65535],
  ["01500", 1500],
];

for (const [raw, want] of mtuGood) {
  test(`parseMtu ${raw} -> ${want}`, () => {
    assert.is(parseMtu("mtu", raw), want);
  });
}

const mtuBad: Array<[string, RegExp]> = [
  ["", /68\.\.65535/],
  ["0", /range/],
  ["67", /range/],
  ["65536", /range/],
  ["99999", /range/],
  ["123456", /68\.\.65535/],
  ["-1", /68\.\.65535/],
  ["1500.0", /68\.\.65535/],
  ["1e3", /68\.\.65535/],
  ["0x5dc", /68\.\.65535/],
  [" 1500", /68\.\.65535/],
  ["1500\n", /68\.\.65535/],
  ["+1500", /68\.\.65535/],
  ["jumbo", /68\.\.65535/],
];

for (const [raw, reason] of mtuBad) {
  test(`parseMtu rejects ${JSON.stringify(raw)}`, () => {
    expectInputError(() => parseMtu("mtu", raw), "mtu", raw, reason);
  });
}

// --- Ganeti names, tags and NIC UUIDs; port owners ----------------------------

test("parseInstanceName accepts a host name and refuses what cannot be a path component", () => {
  assert.is(parseInstanceName("n", "inst1.example.com"), "inst1.example.com");
  for (const bad of ["../etc", "a/b", "", "x..y"])
    assert.throws(
      () => parseInstanceName("n", bad),
      (e: unknown) => e instanceof InputError,
    );
  expectInputError(() => parseInstanceName("INSTANCE", ""), "INSTANCE", "", /empty instance name/);
});

test("parseNodeName accepts a host name and refuses anything else, naming a node", () => {
  assert.is(parseNodeName("--node", "node1.example.com"), "node1.example.com");
  expectInputError(() => parseNodeName("--node", "node 1"), "--node", "node 1", /Ganeti node name/);
  expectInputError(() => parseNodeName("--node", ""), "--node", "", /empty node name/);
});

test("parseGanetiObjectName accepts 1..128 of letters, digits and _ . : + @ -", () => {
  for (const ok of ["default", "rack-2", "net_a.b:c+d@e", "x".repeat(128)]) assert.is(parseGanetiObjectName("group", ok), ok);
  for (const bad of ["", "a b", "a/b", "x".repeat(129), "n\u00e9t"]) expectInputError(() => parseGanetiObjectName("group", bad), "group", bad);
});

test("parseGanetiTag accepts what Ganeti accepts as a tag and nothing else", () => {
  for (const ok of ["web", "ovs-vif:rate:100M", "a/b*c+d@e", "x".repeat(128)]) assert.is(parseGanetiTag("tag", ok), ok);
  for (const bad of ["", "a b", "a,b", "a\\b", "x".repeat(129)]) expectInputError(() => parseGanetiTag("tag", bad), "tag", bad, /not a Ganeti tag/);
});

test("parseNicUuid accepts letters, digits and dashes up to 64", () => {
  assert.is(parseNicUuid("uuid", "6f2c1a4e-0000-4000-8000-000000000001"), "6f2c1a4e-0000-4000-8000-000000000001");
  for (const bad of ["", "a b", "u;1", "x".repeat(65)]) expectInputError(() => parseNicUuid("uuid", bad), "uuid", bad, /NIC UUID/);
});

test("parseOwner accepts 1..32 of a-z, 0-9 and -", () => {
  for (const ok of ["xen", "ganeti", "qemu", "cli", "my-tool2"]) assert.is(parseOwner("owner", ok), ok);
  for (const bad of ["", "Xen", "a_b", "x".repeat(33)]) expectInputError(() => parseOwner("owner", bad), "owner", bad);
});

test("isIpAddress agrees with node's isIP on addresses with and without zones removed", () => {
  const cases = [
    "198.51.100.7",
    "0.0.0.0",
    "255.255.255.255",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1.2.3.04",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1..2.3",
    "::",
    "::1",
    "1::",
    "2001:db8::1",
    "2001:db8:0:0:0:0:2:1",
    "2001:db8::2:1",
    "fe80::",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::",
    "::1:2:3:4:5:6:7",
    "1::2::3",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "12345::",
    "g::1",
    "::ffff:198.51.100.7",
    "::198.51.100.7",
    "64:ff9b::198.51.100.7",
    "1:2:3:4:5:6:198.51.100.7",
    "1:2:3:4:5:6:7:198.51.100.7",
    "::ffff:256.1.1.1",
    "::ffff:1.2.3",
    "1.2.3.4::",
    "",
    ":",
    ":::",
    "abcd",
    "0x1.2.3.4",
  ];
  for (const c of cases) assert.is(isIpAddress(c), isIP(c) !== 0, c);
});

test("parseIpAddress names the field and the value", () => {
  assert.is(parseIpAddress("IP", "2001:db8::7"), "2001:db8::7");
  for (const bad of ["198.51.100.300", "fe80::1%eth0", "host"]) expectInputError(() => parseIpAddress("IP", bad), "IP", bad, /not an IPv4 or IPv6 address/);
});

test.run();
