// Validation of the switch spec (src/switch/spec-validate.ts), in-process:
// the typed spec of a valid document, and every problem of a bad one named
// by its JSON path. (`ovs-vif switch check` prints these lines:
// test/system/switch-check.test.ts.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catchInputError } from "../harness/assert.ts";
import { BAD_SPECS, EXAMPLE_SPEC, VALID_SPEC, bond, oneSwitch } from "../harness/switch-specs.ts";
import { DocumentError } from "../../src/checker.ts";

import { loadSpec, parseSpecText, validateSpec } from "../../src/switch/spec-validate.ts";
import { specPath } from "../../src/paths.ts";

function problems(doc: unknown): string[] {
  try {
    validateSpec(doc, "spec.json");
  } catch (err) {
    if (err instanceof DocumentError) return err.problems;
    throw err;
  }
  return [];
}

test("a valid spec becomes the typed spec: defaults, switches with bonds and VLAN lists, node groups", () => {
  const spec = validateSpec(VALID_SPEC, "spec.json");
  assert.is(spec.file, "spec.json");
  assert.equal(spec.defaults, { datapathType: "netdev" });
  assert.equal(
    spec.switches.map((s) => s.name),
    ["sw1", "sw2"],
  );
  const [sw1, sw2] = spec.switches;
  assert.is(sw1!.mtu, 9000);
  assert.is(sw1!.failMode, "standalone");
  assert.is(sw1!.managed, true);
  assert.equal(sw1!.uplinks, [
    {
      name: "bond0",
      bond: { members: ["eth0", "eth1"], mode: "balance-tcp", lacp: "active", lacpTime: "fast", updelay: 100, downdelay: 50 },
      vlans: [10, ...Array.from({ length: 11 }, (_, i) => 20 + i)],
      untagged: false,
    },
  ]);
  assert.equal(sw2!.uplinks, [{ name: "eth2", vlans: "all", untagged: false }]);
  assert.equal(sw2!.networks, ["net-b"]);
  assert.is(sw2!.managed, false);
  assert.equal({ ...spec.nodeGroups }, { default: { switches: ["sw1", "sw2"], nodes: ["node1.example.com"] } });
});

test("the shipped example spec validates", () => {
  const spec = loadSpec(EXAMPLE_SPEC)!;
  assert.equal(
    spec.switches.map((s) => s.name),
    ["sw-vm", "sw-storage"],
  );
});

test("an unknown bond_mode names its JSON path and the allowed values", () => {
  assert.equal(problems(BAD_SPECS.unknownBondMode.doc), BAD_SPECS.unknownBondMode.problems);
});

test("balance-tcp needs LACP: lacp off is refused on lacp, lacp left out on bond_mode", () => {
  const off = problems(BAD_SPECS.tcpLacpOff.doc);
  assert.is(off.length, 1, off.join("; "));
  assert.ok(off[0]!.startsWith(BAD_SPECS.tcpLacpOff.problems[0]!), off[0]);
  assert.equal(problems(BAD_SPECS.tcpNoLacp.doc), BAD_SPECS.tcpNoLacp.problems);
});

test("every problem of a document is reported at once, each with its path", () => {
  const got = problems(BAD_SPECS.many.doc);
  assert.is(got.length, BAD_SPECS.many.problems.length, got.join("; "));
  for (const expected of BAD_SPECS.many.problems)
    assert.ok(
      got.some((p) => p.startsWith(expected)),
      `missing ${expected} in: ${got.join("; ")}`,
    );
});

test("the DocumentError names the file and lists every problem", () => {
  const err = catchInputError(() => validateSpec(BAD_SPECS.many.doc, "/etc/ovs-vif/switches.json"), "document");
  assert.instance(err, DocumentError);
  assert.is((err as DocumentError).file, "/etc/ovs-vif/switches.json");
  assert.ok(err.message.startsWith("/etc/ovs-vif/switches.json: "), err.message);
  for (const p of BAD_SPECS.many.problems) assert.ok(err.message.includes(p), `missing ${p} in ${err.message}`);
});

test("version is required", () => {
  assert.equal(problems({ switches: [] }), ["version: required (1)"]);
});

test("a spec version other than 1 is refused", () => {
  assert.equal(problems({ version: 2, switches: [] }), ["version 2: unsupported spec version (this ovs-vif reads version 1)"]);
});

test("a switch defined twice names the first definition", () => {
  assert.equal(problems({ version: 1, switches: [{ name: "sw1" }, { name: "sw1" }] }), [`switches[1].name "sw1": already defined by switches[0]`]);
});

test("a device used by two uplinks of one switch names the first use", () => {
  assert.equal(problems(oneSwitch([{ name: "eth0" }, bond({})])), [
    `switches[0].uplinks[1] "eth0": device or port name already used by switches[0].uplinks[0]`,
  ]);
});

test("a node override's uplinks are checked, with the override's path", () => {
  assert.equal(problems(oneSwitch([], { overrides: { nodes: { "node1.example.com": { uplinks: [bond({ members: ["eth0", "eth 1"] })] } } } })), [
    `switches[0].overrides.nodes["node1.example.com"].uplinks[0].members[1] "eth 1": interface name contains whitespace (allowed: letters, digits and _ . + @ -)`,
  ]);
});

test("lacp-time is only allowed with LACP on", () => {
  assert.equal(problems(oneSwitch([bond({ "lacp-time": "fast" })])), [`switches[0].uplinks[0].lacp-time "fast": only with lacp "active" or "passive"`]);
});

test("lacp-time and lacp_time may not both be given", () => {
  assert.equal(problems(oneSwitch([bond({ lacp: "active", "lacp-time": "fast", lacp_time: "slow" })])), [
    `switches[0].uplinks[0].lacp_time: given together with lacp-time; use one`,
  ]);
});

test("an uplink may not take the name of the bridge's own internal port", () => {
  assert.equal(problems(oneSwitch([{ name: "sw1" }])), [`switches[0].uplinks[0].name "sw1": the bridge's own internal port has this name`]);
});

test("a node listed in two node groups is refused on the second", () => {
  assert.equal(problems({ version: 1, node_groups: { g1: { switches: ["sw1"], nodes: ["n1"] }, g2: { switches: [], nodes: ["n1"] } } }), [
    `node_groups.g2.nodes "n1": node also listed in node group g1`,
  ]);
});

test("parseSpecText refuses text that is not JSON, naming the file", () => {
  const err = catchInputError(() => parseSpecText('{"version": 1, "switches": [}', "/srv/switches.json"), "not JSON");
  assert.match(err.message, /^\/srv\/switches\.json: not valid JSON/);
});

test("loadSpec: a missing file is an error on --spec, or undefined when the spec is optional", () => {
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-spec-"));
  try {
    const missing = join(dir, "nope.json");
    const err = catchInputError(() => loadSpec(missing), "missing");
    assert.is(err.field, "--spec");
    assert.match(err.message, /--spec ".*nope\.json": no such file/);
    assert.is(loadSpec(missing, true), undefined);
    const file = join(dir, "switches.json");
    writeFileSync(file, JSON.stringify(oneSwitch([{ name: "eth9" }])));
    assert.equal(
      loadSpec(file)!.switches.map((s) => s.name),
      ["sw1"],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("specPath: --spec, else $OVS_VIF_SWITCHES, else /etc/ovs-vif/switches.json", () => {
  assert.is(specPath("/a.json", { OVS_VIF_SWITCHES: "/b.json" }), "/a.json");
  assert.is(specPath(undefined, { OVS_VIF_SWITCHES: "/b.json" }), "/b.json");
  assert.is(specPath(undefined, {}), "/etc/ovs-vif/switches.json");
  assert.is(specPath("", { OVS_VIF_SWITCHES: "" }), "/etc/ovs-vif/switches.json");
});

test.run();
