// The VM-port transaction builders (src/ovsdb/port-ops.ts): attachOps and
// detachOps, as the operations they return (no server).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BUMP, asOps, insertOp, opAt, rowOf, waitGuard } from "../harness/ovsdb-ops.ts";
import type { Json } from "../../src/ovsdb/json.ts";
import { attachOps, detachOps, type AttachState } from "../../src/ovsdb/port-ops.ts";
import { type DesiredPort } from "../../src/port.ts";
import { explicitLevel } from "../../src/qos.ts";
import type { VlanSpec } from "../../src/vlan.ts";
import { ID } from "../../src/ovsdb/keys.ts";

const IFACE_UUID = ["named-uuid", "iface"];
const PORT_UUID = ["named-uuid", "port"];
const EMPTY_SET = ["set", []];
/** No QoS rows of ovs-vif's for the name (the receive-limit rows). */
const NO_OWN = { qos: [], queues: [] };
/** The mutate that takes the two old ports p-1 and p-2 off the bridge. */
const REMOVE_P1_P2 = {
  op: "mutate",
  table: "Bridge",
  where: [],
  mutations: [
    [
      "ports",
      "delete",
      [
        "set",
        [
          ["uuid", "p-1"],
          ["uuid", "p-2"],
        ],
      ],
    ],
  ],
};
/** The guards that no such rows appeared meanwhile. */
const QOS_GUARDS = (name: string) => [
  { op: "wait", table: "QoS", where: [["external_ids", "includes", ["map", [["ovs-vif-port", name]]]]], columns: ["_uuid"], until: "==", rows: [], timeout: 0 },
  {
    op: "wait",
    table: "Queue",
    where: [["external_ids", "includes", ["map", [["ovs-vif-port", name]]]]],
    columns: ["_uuid"],
    until: "==",
    rows: [],
    timeout: 0,
  },
];

function desiredPort(vlan: VlanSpec, extra: Partial<DesiredPort> = {}): DesiredPort {
  return {
    bridge: "sw1",
    name: "vif5.0",
    vlan,
    interfaceIds: { "xen-vm-name": "web", "attached-mac": "00:16:3e:aa:bb:cc" },
    owner: "xen",
    qos: [explicitLevel("10000", "8000")],
    ...extra,
  };
}

const vlanForms: Array<[string, VlanSpec, string, Json, Json]> = [
  // name, spec, vlan_mode, tag, trunks
  ["untagged", { trunks: [] }, "access", EMPTY_SET, EMPTY_SET],
  ["access 3", { native: 3, trunks: [] }, "access", 3, EMPTY_SET],
  ["trunk 10,20", { trunks: [10, 20] }, "trunk", EMPTY_SET, ["set", [10, 20]]],
  ["hybrid 3+10,20", { native: 3, trunks: [10, 20] }, "native-untagged", 3, ["set", [10, 20]]],
  ["trunk 4094", { trunks: [4094] }, "trunk", EMPTY_SET, ["set", [4094]]],
];

for (const [label, vlan, mode, tag, trunks] of vlanForms) {
  test(`attachOps ${label}: the Port row has vlan_mode ${mode}, its tag and trunks, the owner key and the Interface`, () => {
    const ops = asOps(attachOps(desiredPort(vlan), { bridgeUuid: "b-uuid", sameNamePorts: [], own: NO_OWN }, "ovs-vif: attach"));
    const port = insertOp(ops, "Port");
    const row = rowOf(port);
    assert.is(row.vlan_mode, mode);
    assert.equal(row.tag, tag);
    assert.equal(row.trunks, trunks);
    assert.is(row.name, "vif5.0");
    assert.equal(row.interfaces, IFACE_UUID);
    assert.equal(row.external_ids, ["map", [[ID.owner, "xen"]]]);
    assert.is(port["uuid-name"], "port");
  });
}

test("attachOps without same-name ports: guards, Interface and Port inserts, the bridge mutate, next_cfg and the comment, in that order", () => {
  const desired = desiredPort({ native: 3, trunks: [10, 20] });
  const state: AttachState = { bridgeUuid: "b-uuid", sameNamePorts: [], own: NO_OWN };
  const ops = asOps(attachOps(desired, state, "ovs-vif: attach vif5.0"));
  assert.equal(
    ops.map((o) => `${String(o.op)} ${String(o.table ?? "")}`.trim()),
    [
      "wait Bridge",
      "wait Port",
      "wait QoS",
      "wait Queue",
      "insert Interface",
      "insert Port",
      "mutate Bridge",
      "mutate Open_vSwitch",
      "select Open_vSwitch",
      "comment",
    ],
  );
  assert.equal(opAt(ops, 0), waitGuard("Bridge", "sw1", ["b-uuid"]));
  // No same-name port: the guard waits for "no rows" (rows: []).
  assert.equal(opAt(ops, 1), waitGuard("Port", "vif5.0", []));
  assert.equal(ops.slice(2, 4), QOS_GUARDS("vif5.0") as Json[]);
  // No ports delete when there is nothing to delete.
  assert.not.ok(ops.some((o) => o.op === "mutate" && o.table === "Bridge" && JSON.stringify(o.mutations).includes('"delete"')));
  assert.equal(opAt(ops, 4), {
    op: "insert",
    table: "Interface",
    row: {
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
      mtu_request: EMPTY_SET,
    },
    "uuid-name": "iface",
  });
  assert.equal(opAt(ops, 5), {
    op: "insert",
    table: "Port",
    row: {
      name: "vif5.0",
      vlan_mode: "native-untagged",
      tag: 3,
      trunks: ["set", [10, 20]],
      external_ids: ["map", [[ID.owner, "xen"]]],
      interfaces: IFACE_UUID,
    },
    "uuid-name": "port",
  });
  assert.equal(opAt(ops, 6), {
    op: "mutate",
    table: "Bridge",
    where: [["_uuid", "==", ["uuid", "b-uuid"]]],
    mutations: [["ports", "insert", ["set", [PORT_UUID]]]],
  });
  assert.equal(ops.slice(7, 9), BUMP);
  assert.equal(opAt(ops, 9), { op: "comment", comment: "ovs-vif: attach vif5.0" });
});

test("attachOps with same-name ports: the guard lists them and they are deleted from every bridge first", () => {
  const ops = asOps(attachOps(desiredPort({ trunks: [] }), { bridgeUuid: "b-uuid", sameNamePorts: ["p-1", "p-2"], own: NO_OWN }, "c"));
  assert.equal(opAt(ops, 0), waitGuard("Bridge", "sw1", ["b-uuid"]));
  assert.equal(opAt(ops, 1), waitGuard("Port", "vif5.0", ["p-1", "p-2"]));
  assert.equal(opAt(ops, 4), REMOVE_P1_P2);
  // The delete comes before the inserts of the replacement rows.
  const deleteAt = 4;
  const ifaceAt = ops.findIndex((o) => o.op === "insert" && o.table === "Interface");
  const portAt = ops.findIndex((o) => o.op === "insert" && o.table === "Port");
  const addAt = ops.findIndex((o) => o.op === "mutate" && o.table === "Bridge" && JSON.stringify(o.mutations).includes('"insert"'));
  assert.ok(deleteAt < ifaceAt && ifaceAt < portAt && portAt < addAt, JSON.stringify({ deleteAt, ifaceAt, portAt, addAt }));
  assert.equal(ops.slice(addAt + 1, addAt + 3), BUMP);
  assert.is(ops.length, 11);
});

test("attachOps: mtu_request is the explicit MTU, else the bridge MTU, else the empty set", () => {
  const iface = (desired: DesiredPort, state: AttachState): { [key: string]: Json } => rowOf(insertOp(asOps(attachOps(desired, state, "c")), "Interface"));
  const state: AttachState = { bridgeUuid: "b", sameNamePorts: [], own: NO_OWN };
  assert.is(iface(desiredPort({ trunks: [] }, { mtu: 9000 }), { ...state, bridgeMtu: 1500 }).mtu_request, 9000);
  assert.is(iface(desiredPort({ trunks: [] }, { mtu: 9000 }), state).mtu_request, 9000);
  assert.is(iface(desiredPort({ trunks: [] }), { ...state, bridgeMtu: 1450 }).mtu_request, 1450);
  assert.equal(iface(desiredPort({ trunks: [] }), state).mtu_request, EMPTY_SET);
});

test("attachOps always sets the policing columns (0/0 when disabled) and writes external_ids as a sorted OVSDB map", () => {
  const ops = asOps(attachOps(desiredPort({ trunks: [] }, { qos: [], interfaceIds: {} }), { bridgeUuid: "b", sameNamePorts: [], own: NO_OWN }, "c"));
  const row = rowOf(insertOp(ops, "Interface"));
  assert.is(row.ingress_policing_rate, 0);
  assert.is(row.ingress_policing_burst, 0);
  assert.equal(row.external_ids, ["map", []]);
  const ops2 = asOps(
    attachOps(desiredPort({ trunks: [] }, { interfaceIds: { z: "1", a: "2", m: "3" } }), { bridgeUuid: "b", sameNamePorts: [], own: NO_OWN }, "c"),
  );
  assert.equal(rowOf(insertOp(ops2, "Interface")).external_ids, [
    "map",
    [
      ["a", "2"],
      ["m", "3"],
      ["z", "1"],
    ],
  ]);
});

test("attachOps is JSON-clean (round-trips through JSON.stringify unchanged)", () => {
  const ops = attachOps(desiredPort({ native: 3, trunks: [10] }, { mtu: 1500 }), { bridgeUuid: "b", sameNamePorts: ["p"], bridgeMtu: 9000, own: NO_OWN }, "c");
  assert.equal(JSON.parse(JSON.stringify(ops)), ops);
});

test("detachOps guards the ports, deletes them from every bridge, bumps next_cfg and adds the comment", () => {
  const ops = asOps(detachOps("vif5.0", ["p-1", "p-2"], NO_OWN, "ovs-vif: detach vif5.0"));
  assert.equal(ops, [
    waitGuard("Port", "vif5.0", ["p-1", "p-2"]),
    ...(QOS_GUARDS("vif5.0") as Json[]),
    REMOVE_P1_P2,
    ...BUMP,
    { op: "comment", comment: "ovs-vif: detach vif5.0" },
  ] as Json[]);
});

test.run();
