// VLAN parsing (src/vlan.ts): Xen bridge strings (`br.N:A:B`), Ganeti's vlan
// nicparam, xl 4.19's `vlan=` key, and the OVS Port columns they map to.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { expectInputError } from "../harness/assert.ts";
import {
  describeVlan,
  formatVlanSpec,
  parseVlanSpec,
  parseXenBridge,
  parseXlVlan,
  portVlanColumns,
  vlanMode,
  type PortVlanColumns,
  type VlanSpec,
} from "../../src/vlan.ts";

// --- Xen bridge strings ------------------------------------------------------

const xenGood: Array<[string, string, VlanSpec, PortVlanColumns]> = [
  ["sw1", "sw1", { trunks: [] }, { vlan_mode: "access", trunks: [] }],
  ["sw1.3", "sw1", { native: 3, trunks: [] }, { vlan_mode: "access", tag: 3, trunks: [] }],
  ["sw1:10:20", "sw1", { trunks: [10, 20] }, { vlan_mode: "trunk", trunks: [10, 20] }],
  ["sw1.3:10:20", "sw1", { native: 3, trunks: [10, 20] }, { vlan_mode: "native-untagged", tag: 3, trunks: [10, 20] }],
  ["sw1:20:10:20", "sw1", { trunks: [10, 20] }, { vlan_mode: "trunk", trunks: [10, 20] }],
  ["sw1.7:300:20:300:20", "sw1", { native: 7, trunks: [20, 300] }, { vlan_mode: "native-untagged", tag: 7, trunks: [20, 300] }],
  ["sw1.1", "sw1", { native: 1, trunks: [] }, { vlan_mode: "access", tag: 1, trunks: [] }],
  ["sw1.4094", "sw1", { native: 4094, trunks: [] }, { vlan_mode: "access", tag: 4094, trunks: [] }],
  ["sw1:1:4094", "sw1", { trunks: [1, 4094] }, { vlan_mode: "trunk", trunks: [1, 4094] }],
  ["xenbr-0_a@b+c", "xenbr-0_a@b+c", { trunks: [] }, { vlan_mode: "access", trunks: [] }],
  ["abcdefghijklmno.5", "abcdefghijklmno", { native: 5, trunks: [] }, { vlan_mode: "access", tag: 5, trunks: [] }],
];

for (const [input, bridge, vlan, cols] of xenGood) {
  test(`parseXenBridge ${JSON.stringify(input)} -> ${bridge} ${JSON.stringify(cols)}`, () => {
    const got = parseXenBridge("bridge", input);
    assert.is(got.bridge, bridge);
    assert.equal(got.vlan, vlan);
    assert.equal(portVlanColumns(got.vlan), cols);
    // No tag key at all when there is no native VLAN (the OVSDB row encodes it as an empty set).
    assert.is("tag" in portVlanColumns(got.vlan), vlan.native !== undefined);
  });
}

const xenBad: string[] = [
  "sw1.5000",
  "sw1.0",
  "sw1..3",
  "sw1.3:",
  "sw1;reboot",
  ".3",
  ":10",
  "",
  "sw1.4095",
  "sw1:0",
  "sw1:4095",
  "sw1.3.4",
  "sw1:10::20",
  "sw1.-3",
  "sw1. 3",
  "sw1.3 ",
  "sw1.3\n",
  "sw1\n",
  "sw1.99999999999999999999",
  "sw1.3:99999999999999999999",
  "sw1.",
  "sw1:",
  "sw1.3:10:",
  "sw1.a",
  "sw1:x",
  "sw1.3:x",
  "sw1.+3",
  "sw1.1e3",
  "sw1.0x10",
  "abcdefghijklmnop", // 16 characters: longer than IFNAMSIZ - 1
  "abcdefghijklmnop.3",
  "brü",
  "brü.3",
  "мост.3",
  "br\u00a01", // no-break space
  "br\u200b1", // zero-width space
  "\u{1F600}",
  "$(reboot)",
  "$(reboot).3",
  "`reboot`",
  "a/b",
  "a/b.3",
  "-br",
  "-br.3",
  "sw 1",
  "sw\t1",
  "sw'1",
  'sw"1',
  "sw1&&x",
  "sw1|x",
  "sw1\x00",
];

for (const input of xenBad) {
  test(`parseXenBridge rejects ${JSON.stringify(input)}`, () => {
    expectInputError(() => parseXenBridge("bridge", input), "bridge", input);
  });
}

test("parseXenBridge passes the caller's field through (xenstore key path)", () => {
  const field = "/local/domain/0/backend/vif/5/0/bridge";
  expectInputError(() => parseXenBridge(field, "sw1;reboot"), field, "sw1;reboot", /;/);
  expectInputError(() => parseXenBridge(field, "sw1.5000"), field, "sw1.5000", /out of range/);
  expectInputError(() => parseXenBridge(field, "sw1:10::20"), field, "sw1:10::20", /empty/);
});

test("parseXenBridge gives a reason that says what is wrong", () => {
  expectInputError(() => parseXenBridge("bridge", "sw1.5000"), "bridge", "sw1.5000", /5000.*1\.\.4094|1\.\.4094/);
  expectInputError(() => parseXenBridge("bridge", "sw1.0"), "bridge", "sw1.0", /range/);
  expectInputError(() => parseXenBridge("bridge", ".3"), "bridge", ".3", /bridge name/);
  expectInputError(() => parseXenBridge("bridge", "abcdefghijklmnop"), "bridge", "abcdefghijklmnop", /15/);
  expectInputError(() => parseXenBridge("bridge", "sw1.3\n"), "bridge", "sw1.3\n", /not a number/);
  expectInputError(() => parseXenBridge("bridge", "-br.3"), "bridge", "-br.3", /-/);
  expectInputError(() => parseXenBridge("bridge", "sw1.99999999999999999999"), "bridge", "sw1.99999999999999999999", /range/);
});

test("parseXenBridge keeps the error's value the whole string even when the bridge name is bad", () => {
  // The name part alone ("a") is fine; the whole ("a/b.3") must be reported, not the fragment.
  const err = expectInputError(() => parseXenBridge("bridge", "a/b.3"), "bridge", "a/b.3");
  assert.not.ok(err.message.includes('"a/b"'), "message quotes the whole string, not a fragment");
});

// --- Ganeti vlan strings -----------------------------------------------------

const ganetiGood: Array<[string, VlanSpec, string, string]> = [
  // input, spec, normalised form, description
  ["", { trunks: [] }, "", "untagged"],
  [".100", { native: 100, trunks: [] }, ".100", "access 100"],
  [":10:20", { trunks: [10, 20] }, ":10:20", "trunk 10,20"],
  [".3:10:20", { native: 3, trunks: [10, 20] }, ".3:10:20", "hybrid 3+10,20"],
  ["174", { native: 174, trunks: [] }, ".174", "access 174"],
  ["174:200", { native: 174, trunks: [200] }, ".174:200", "hybrid 174+200"],
  [":20:10:20", { trunks: [10, 20] }, ":10:20", "trunk 10,20"],
  [".1", { native: 1, trunks: [] }, ".1", "access 1"],
  [".4094", { native: 4094, trunks: [] }, ".4094", "access 4094"],
  [":4094", { trunks: [4094] }, ":4094", "trunk 4094"],
  ["0003", { native: 3, trunks: [] }, ".3", "access 3"],
];

for (const [input, spec, normal, description] of ganetiGood) {
  test(`parseVlanSpec reads ${JSON.stringify(input)} as ${description}, normalised to ${JSON.stringify(normal)}`, () => {
    const got = parseVlanSpec("vlan", input);
    assert.equal(got, spec);
    assert.is(formatVlanSpec(got), normal);
    assert.is(describeVlan(got), description);
    // Normalising twice changes nothing.
    assert.equal(parseVlanSpec("vlan", normal), spec);
  });
}

test("parseVlanSpec: a bare N means the same as .N", () => {
  assert.equal(parseVlanSpec("vlan", "174"), parseVlanSpec("vlan", ".174"));
  assert.equal(parseVlanSpec("vlan", "174:200"), parseVlanSpec("vlan", ".174:200"));
});

test("parseVlanSpec: .100 is access 100 with no trunks (stock script writes trunks=.100)", () => {
  const cols = portVlanColumns(parseVlanSpec("vlan", ".100"));
  assert.equal(cols, { vlan_mode: "access", tag: 100, trunks: [] });
});

test("formatVlanSpec(parseVlanSpec(x)) round-trips normalised forms", () => {
  for (const x of ["", ".1", ".100", ".4094", ":1", ":10:20", ":1:2:3:4094", ".3:10", ".3:10:20", ".4094:1:4093"]) {
    assert.is(formatVlanSpec(parseVlanSpec("vlan", x)), x, JSON.stringify(x));
  }
});

const ganetiBad: string[] = [
  ".",
  ":",
  "..3",
  ".3:",
  ".a",
  ".0",
  ".4095",
  ":4095",
  ".3:x",
  ":0",
  "0",
  "4095",
  "3:",
  ".3::4",
  "::3",
  ".3.4",
  ".3:3",
  ".3:10:3",
  " 3",
  "3 ",
  ".3\n",
  "-3",
  "+3",
  "1e3",
  "x",
  ".99999999999999999999",
  ":10:99999999999999999999",
  "\u0663", // ARABIC-INDIC DIGIT THREE
];

for (const input of ganetiBad) {
  test(`parseVlanSpec rejects ${JSON.stringify(input)}`, () => {
    expectInputError(() => parseVlanSpec("vlan", input), "vlan", input);
  });
}

test("parseVlanSpec reports the caller's `whole` value when given", () => {
  expectInputError(() => parseVlanSpec("bridge", ".0", "sw1.0"), "bridge", "sw1.0", /range/);
});

// --- xl 4.19 vlan= ------------------------------------------------------------

const xlGood: Array<[string, VlanSpec, VlanMode]> = [
  ["10", { native: 10, trunks: [] }, "access"],
  ["4094", { native: 4094, trunks: [] }, "access"],
  ["10pu", { native: 10, trunks: [] }, "access"],
  ["10up", { native: 10, trunks: [] }, "access"],
  ["10pu/20/30", { native: 10, trunks: [20, 30] }, "native-untagged"],
  ["30/20/10pu", { native: 10, trunks: [20, 30] }, "native-untagged"],
  ["20/30", { trunks: [20, 30] }, "trunk"],
  ["20-22", { trunks: [20, 21, 22] }, "trunk"],
  ["100+10x3", { trunks: [100, 110, 120] }, "trunk"],
  ["4090+2x3", { trunks: [4090, 4092, 4094] }, "trunk"],
  ["5pu/20-22/100+10x2", { native: 5, trunks: [20, 21, 22, 100, 110] }, "native-untagged"],
  ["20-22/21", { trunks: [20, 21, 22] }, "trunk"],
  // The PVID listed again as a plain id is not also a trunk.
  ["10pu/10/20", { native: 10, trunks: [20] }, "native-untagged"],
];
type VlanMode = ReturnType<typeof vlanMode>;

for (const [input, spec, mode] of xlGood) {
  test(`parseXlVlan ${JSON.stringify(input)} -> ${JSON.stringify(spec)}`, () => {
    const got = parseXlVlan("vlan", input);
    assert.equal(got, spec);
    assert.is(vlanMode(got), mode);
  });
}

const xlBad: Array<[string, RegExp?]> = [
  ["10p", /pu/],
  ["20u", /pu/],
  ["10pu/20pu", /PVID/],
  ["10-12pu", /PVID/],
  ["5-3", /ends before/],
  ["4000+100x2", /1\.\.4094/],
  ["1+0x3"],
  ["1+1x0"],
  ["1+99999999999999999999x2"],
  ["1+1x99999999999999999999"],
  [""],
  ["   "],
  ["abc", /bad item/],
  ["10/"],
  ["/10"],
  ["10//20"],
  ["10,20"],
  ["10 20"],
  ["10\n"],
  ["0", /range/],
  ["4095", /range/],
  ["0-3", /range/],
  ["4090-4095", /range/],
  ["10x", /bad item/],
  ["10pux"],
  ["-3"],
  ["10-"],
  ["10+2"],
  ["$(reboot)"],
];

for (const [input, reason] of xlBad) {
  test(`parseXlVlan rejects ${JSON.stringify(input)}`, () => {
    const field = "/local/domain/0/backend/vif/5/0/vlan";
    expectInputError(() => parseXlVlan(field, input), field, input, reason);
  });
}

// --- columns and descriptions -----------------------------------------------

test("vlanMode/portVlanColumns follow the ovs-vif mapping and never leave vlan_mode empty", () => {
  assert.is(vlanMode({ trunks: [] }), "access");
  assert.equal(portVlanColumns({ trunks: [] }), { vlan_mode: "access", trunks: [] });
  assert.equal(portVlanColumns({ native: 3, trunks: [] }), { vlan_mode: "access", tag: 3, trunks: [] });
  assert.equal(portVlanColumns({ trunks: [10, 20] }), { vlan_mode: "trunk", trunks: [10, 20] });
  assert.equal(portVlanColumns({ native: 3, trunks: [10, 20] }), { vlan_mode: "native-untagged", tag: 3, trunks: [10, 20] });
});

test("portVlanColumns never yields a native-* or trunk mode with empty trunks (that would carry every VLAN)", () => {
  const specs = ["", ".3", ":10", ".3:10", "174", "174:200"].map((s) => parseVlanSpec("vlan", s));
  specs.push(...["10", "10pu", "10pu/10", "10pu/20", "20-22"].map((s) => parseXlVlan("vlan", s)));
  for (const spec of specs) {
    const cols = portVlanColumns(spec);
    if (cols.vlan_mode !== "access") assert.ok(cols.trunks.length > 0, JSON.stringify(spec));
  }
});

test("portVlanColumns copies trunks (mutating the result leaves the spec alone)", () => {
  const spec: VlanSpec = { trunks: [10, 20] };
  const cols = portVlanColumns(spec);
  cols.trunks.push(30);
  assert.equal(spec.trunks, [10, 20]);
});

test("describeVlan names the four port kinds: untagged, access N, trunk A,B, hybrid N+A,B", () => {
  assert.is(describeVlan({ trunks: [] }), "untagged");
  assert.is(describeVlan({ native: 3, trunks: [] }), "access 3");
  assert.is(describeVlan({ trunks: [10, 20] }), "trunk 10,20");
  assert.is(describeVlan({ native: 3, trunks: [10, 20] }), "hybrid 3+10,20");
});

test("formatVlanSpec writes Ganeti's forms: empty, .N, :A:B, .N:A:B", () => {
  assert.is(formatVlanSpec({ trunks: [] }), "");
  assert.is(formatVlanSpec({ native: 3, trunks: [] }), ".3");
  assert.is(formatVlanSpec({ trunks: [10, 20] }), ":10:20");
  assert.is(formatVlanSpec({ native: 3, trunks: [10, 20] }), ".3:10:20");
});

test.run();
