// `ovs-vif vlan add|remove|set` (src/ganeti/vlan-edit.ts): the new Ganeti
// vlan string for a NIC from its current one, and every refusal.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { catchInputError } from "../harness/assert.ts";
import { UsageError } from "../../src/errors.ts";
import { editVlan, parseVlanEdit, parseVlanEditArgs } from "../../src/ganeti/vlan-edit.ts";

const EDITS: [string, "add" | "remove" | "set", string[], string][] = [
  [".3", "add", ["20"], ".3:20"],
  [".3:10", "add", ["20", "15"], ".3:10:15:20"],
  [":10", "add", ["20"], ":10:20"],
  [".3:20", "remove", ["20"], ".3"],
  [".3:10:20", "remove", ["3"], ":10:20"],
  [".3:10:20", "remove", ["10"], ".3:20"],
  [".3", "remove", ["3"], ""],
  [":10:20", "remove", ["10"], ":20"],
  [".3", "set", [".4:5"], ".4:5"],
  [".3", "set", ["none"], ""],
  ["", "set", ["7"], ".7"],
  ["174", "add", ["200"], ".174:200"],
];

for (const [current, edit, args, want] of EDITS) {
  test(`vlan ${edit} ${args.join(" ")} turns ${JSON.stringify(current)} into ${JSON.stringify(want)}`, () => {
    assert.is(editVlan(current, parseVlanEditArgs(edit, args)).after, want);
  });
}

const REFUSED: [string, "add" | "remove" | "set", string[], RegExp][] = [
  ["", "add", ["20"], /untagged/],
  [".3", "add", ["3"], /already the native VLAN/],
  [".3:20", "add", ["20"], /already carried/],
  [".3", "add", ["5000"], /out of range/],
  [".3", "add", ["0"], /out of range/],
  [".3", "add", ["x"], /./],
  [".3", "add", [], /no VLAN given/],
  [".3", "remove", ["4"], /not carried/],
  [":10", "remove", ["10"], /last VLAN of trunk/],
  [".3", "set", [".3:3"], /both the native/],
  [".3", "set", ["a", "b"], /one Ganeti vlan string/],
];

for (const [current, edit, args, reason] of REFUSED) {
  test(`vlan ${edit} ${args.join(" ")} on ${JSON.stringify(current)} is refused with the reason`, () => {
    const err = catchInputError(() => editVlan(current, parseVlanEditArgs(edit, args)), `${edit} ${args.join(" ")} on ${JSON.stringify(current)}`);
    assert.match(err.message, reason);
  });
}

test("editVlan returns the normalised string before, the one after and the spec", () => {
  assert.equal(editVlan("174", parseVlanEditArgs("add", ["200", ".150"])), {
    before: ".174",
    after: ".174:150:200",
    spec: { native: 174, trunks: [150, 200] },
  });
  assert.equal(editVlan(".3:20", parseVlanEditArgs("remove", ["3"])), { before: ".3:20", after: ":20", spec: { trunks: [20] } });
});

test("parseVlanEditArgs refuses a VLAN given twice", () => {
  const err = catchInputError(() => parseVlanEditArgs("add", ["20", ".20"]), "twice");
  assert.is(err.value, "20");
  assert.match(err.reason, /given twice/);
});

test("parseVlanEditArgs refuses a range or trunk string where one VLAN id is expected", () => {
  const err = catchInputError(() => parseVlanEditArgs("remove", [":10:20"]), "trunk string");
  assert.is(err.value, ":10:20");
  assert.match(err.reason, /VLAN id 1\.\.4094/);
});

test("parseVlanEdit accepts add, remove and set and refuses anything else as a usage error", () => {
  for (const kind of ["add", "remove", "set"]) assert.is(parseVlanEdit("ACTION", kind), kind);
  for (const bad of ["ADD", "delete", ""]) {
    const err = catchInputError(() => parseVlanEdit("ACTION", bad), bad);
    assert.instance(err, UsageError);
    assert.is(err.field, "ACTION");
  }
});

test.run();
