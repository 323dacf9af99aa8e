// The VM-port columns, declared once (src/ovsdb/port-columns.ts): the rows
// attach inserts, the columns reconcile selects, and diffRow, which brings a
// row read from OVSDB to the desired columns and names what it changes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Row } from "../../src/ovsdb/json.ts";
import { describeValue, diffRow, insertRow, selectColumns, VM_PORT_COLUMNS } from "../../src/ovsdb/port-columns.ts";
import { type PortColumns } from "../../src/port.ts";
import { ID } from "../../src/ovsdb/keys.ts";

/** A hybrid port (native 3, trunks 10 and 20), policed, with a jumbo MTU. */
const COLS: PortColumns = {
  port: { vlan_mode: "native-untagged", tag: 3, trunks: [10, 20], external_ids: { [ID.owner]: "xen" } },
  iface: {
    external_ids: { "xen-vm-name": "web", "attached-mac": "00:16:3e:aa:bb:cc" },
    ingress_policing_rate: 10000,
    ingress_policing_burst: 8000,
    mtu_request: 9000,
  },
};

/** An untagged port without policing or MTU. */
const PLAIN: PortColumns = {
  port: { vlan_mode: "access", trunks: [], external_ids: { [ID.owner]: "cli" } },
  iface: { external_ids: {}, ingress_policing_rate: 0, ingress_policing_burst: 0 },
};

/** The rows as OVSDB returns them for COLS: one-element sets as bare atoms, maps sorted. */
const PORT_ROW: Row = { _uuid: ["uuid", "p-1"], vlan_mode: "native-untagged", tag: 3, trunks: ["set", [10, 20]], external_ids: ["map", [[ID.owner, "xen"]]] };
const IFACE_ROW: Row = {
  _uuid: ["uuid", "i-1"],
  external_ids: [
    "map",
    [
      ["attached-mac", "00:16:3e:aa:bb:cc"],
      ["xen-vm-name", "web"],
    ],
  ],
  ingress_policing_rate: 10000,
  ingress_policing_burst: 8000,
  mtu_request: 9000,
};

test("insertRow encodes every Port column, with the name, as OVSDB values", () => {
  assert.equal(insertRow("Port", "vif5.0", COLS), {
    name: "vif5.0",
    vlan_mode: "native-untagged",
    tag: 3,
    trunks: ["set", [10, 20]],
    external_ids: ["map", [[ID.owner, "xen"]]],
  });
});

test("insertRow encodes every Interface column; external_ids is a map sorted by key", () => {
  assert.equal(insertRow("Interface", "vif5.0", COLS), {
    name: "vif5.0",
    external_ids: [
      "map",
      [
        ["attached-mac", "00:16:3e:aa:bb:cc"],
        ["xen-vm-name", "web"],
      ],
    ],
    ingress_policing_rate: 10000,
    ingress_policing_burst: 8000,
    mtu_request: 9000,
  });
});

test("insertRow writes an absent tag or MTU as the empty set, and empty trunks and maps as empty values", () => {
  assert.equal(insertRow("Port", "tap0", PLAIN), {
    name: "tap0",
    vlan_mode: "access",
    tag: ["set", []],
    trunks: ["set", []],
    external_ids: ["map", [[ID.owner, "cli"]]],
  });
  assert.equal(insertRow("Interface", "tap0", PLAIN), {
    name: "tap0",
    external_ids: ["map", []],
    ingress_policing_rate: 0,
    ingress_policing_burst: 0,
    mtu_request: ["set", []],
  });
});

test("selectColumns: _uuid, the extra columns, then the table's declared columns", () => {
  assert.equal(selectColumns("Port"), ["_uuid", "vlan_mode", "tag", "trunks", "external_ids"]);
  assert.equal(selectColumns("Interface", ["name", "error"]), [
    "_uuid",
    "name",
    "error",
    "external_ids",
    "ingress_policing_rate",
    "ingress_policing_burst",
    "mtu_request",
  ]);
});

test("every declared column is inserted and selected, each table's names once", () => {
  for (const table of ["Port", "Interface"] as const) {
    const names = VM_PORT_COLUMNS.filter((c) => c.table === table).map((c) => c.name);
    assert.is(new Set(names).size, names.length, `${table}: a column declared twice`);
    assert.equal(Object.keys(insertRow(table, "x", COLS)), ["name", ...names]);
    assert.equal(selectColumns(table), ["_uuid", ...names]);
  }
});

test("diffRow: an unchanged port gives no update and no changes", () => {
  assert.equal(diffRow("Port", PORT_ROW, COLS), { update: {}, changes: [] });
  assert.equal(diffRow("Interface", IFACE_ROW, COLS), { update: {}, changes: [] });
});

test("diffRow: OVSDB's forms of the same value are no change (bare atom = one-element set, empty set = absent)", () => {
  const one: PortColumns = { ...COLS, port: { ...COLS.port, trunks: [10] } };
  assert.equal(diffRow("Port", { ...PORT_ROW, trunks: 10 }, one).changes, []);
  assert.equal(diffRow("Port", { ...PORT_ROW, trunks: ["set", [10]] }, one).changes, []);
  assert.equal(diffRow("Port", { vlan_mode: "access", tag: ["set", []], trunks: ["set", []], external_ids: ["map", [[ID.owner, "cli"]]] }, PLAIN).changes, []);
  assert.is(describeValue(["set", [7]]), describeValue(7));
  assert.is(describeValue(["set", []]), describeValue(undefined));
});

test("diffRow: a shared map keeps the keys others added; a foreign key alone is no change", () => {
  const current: Row = {
    ...IFACE_ROW,
    external_ids: [
      "map",
      [
        ["attached-mac", "00:16:3e:aa:bb:cc"],
        ["iface-id", "x"],
        ["xen-vm-name", "web"],
      ],
    ],
  };
  assert.equal(diffRow("Interface", current, COLS), { update: {}, changes: [] });
  const renamed: PortColumns = { ...COLS, iface: { ...COLS.iface, external_ids: { ...COLS.iface.external_ids, "xen-vm-name": "db" } } };
  const { update, changes } = diffRow("Interface", current, renamed);
  // Ours win, theirs stay.
  assert.equal(update, {
    external_ids: [
      "map",
      [
        ["attached-mac", "00:16:3e:aa:bb:cc"],
        ["iface-id", "x"],
        ["xen-vm-name", "db"],
      ],
    ],
  });
  assert.is(changes.length, 1);
  assert.ok(changes[0]!.startsWith("external_ids: "), changes[0]);
});

test("diffRow names each changed column once, as column: old -> new, and updates only those", () => {
  const { update, changes } = diffRow("Port", PORT_ROW, PLAIN);
  assert.equal(Object.keys(update), ["vlan_mode", "tag", "trunks", "external_ids"]);
  assert.equal(changes, [
    'vlan_mode: "native-untagged" -> "access"',
    "tag: 3 -> []",
    "trunks: [10,20] -> []",
    `external_ids: {"${ID.owner}":"xen"} -> {"${ID.owner}":"cli"}`,
  ]);
  const iface = diffRow("Interface", IFACE_ROW, { ...COLS, iface: { ...COLS.iface, ingress_policing_rate: 5000, mtu_request: undefined } });
  assert.equal(iface.update, { ingress_policing_rate: 5000, mtu_request: ["set", []] });
  assert.equal(iface.changes, ["ingress_policing_rate: 10000 -> 5000", "mtu_request: 9000 -> []"]);
});

test.run();
