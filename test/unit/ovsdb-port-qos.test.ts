// The receive-limit rows of a VM port (src/ovsdb/port-qos.ts): what is
// inserted, and how reconcile changes them in place, lifts them, and never
// touches a QoS row ovs-vif did not make.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Json, Row } from "../../src/ovsdb/json.ts";
import { deleteOwnQos, insertShaping, reconcileShaping, shapingOf, type OwnQos } from "../../src/ovsdb/port-qos.ts";

const ids = (name: string) => [
  "map",
  [
    ["ovs-vif-owner", "cli"],
    ["ovs-vif-port", name],
  ],
];

function own(rate: number, burst?: number): OwnQos {
  const cfg =
    burst === undefined
      ? [["max-rate", String(rate)]]
      : [
          ["burst", String(burst)],
          ["max-rate", String(rate)],
        ];
  const qos: Row = { _uuid: ["uuid", "q-1"], queues: ["map", [[0, ["uuid", "u-1"]]]], other_config: ["map", [["max-rate", String(rate)]]], type: "linux-htb" };
  const queue: Row = { _uuid: ["uuid", "u-1"], other_config: ["map", cfg] as Json };
  return { qos: [qos], queues: [queue] };
}
const NONE: OwnQos = { qos: [], queues: [] };
const summary = (ops: Json[]) => ops.map((o) => `${(o as Row).op} ${(o as Row).table}`);

test("insertShaping: a queue 0 with max-rate and burst, a linux-htb QoS using it, both marked with the port's name", () => {
  const { ops, ref } = insertShaping("tap0", "cli", { rate: 20000000, burst: 1000000 });
  assert.equal(ops, [
    {
      op: "insert",
      table: "Queue",
      "uuid-name": "rxqosq",
      row: {
        other_config: [
          "map",
          [
            ["burst", "1000000"],
            ["max-rate", "20000000"],
          ],
        ],
        external_ids: ids("tap0"),
      },
    },
    {
      op: "insert",
      table: "QoS",
      "uuid-name": "rxqos",
      row: {
        type: "linux-htb",
        other_config: ["map", [["max-rate", "20000000"]]],
        queues: ["map", [[0, ["named-uuid", "rxqosq"]]]],
        external_ids: ids("tap0"),
      },
    },
  ] as Json[]);
  assert.equal(ref, ["named-uuid", "rxqos"]);
  const noBurst = insertShaping("tap0", "cli", { rate: 5000 }).ops[0] as Row;
  assert.equal((noBurst.row as Row).other_config, ["map", [["max-rate", "5000"]]], "no burst: OVS's default");
});

test("shapingOf reads the limit back from queue 0", () => {
  assert.equal(shapingOf(own(20000000, 1000000), "q-1"), { rate: 20000000, burst: 1000000 });
  assert.equal(shapingOf(own(20000000), "q-1"), { rate: 20000000 });
  assert.is(shapingOf(own(1), "q-x"), undefined);
});

test("reconcileShaping: the same limit changes nothing", () => {
  const r = reconcileShaping({ name: "tap0", owner: "cli", portUuid: "p-1", portQos: "q-1", own: own(20000000), want: { rate: 20000000 } });
  assert.equal(r, { ops: [], changes: [], foreign: false });
});

test("reconcileShaping: another rate updates the same QoS and queue rows in place", () => {
  const r = reconcileShaping({ name: "tap0", owner: "cli", portUuid: "p-1", portQos: "q-1", own: own(20000000), want: { rate: 50000000, burst: 2000000 } });
  assert.equal(r.changes, ["rx-rate/rx-burst: 20000000 -> 50000000/2000000"]);
  assert.equal(summary(r.ops), ["update QoS", "update Queue"]);
  assert.equal((r.ops[1] as Row).where, [["_uuid", "==", ["uuid", "u-1"]]]);
});

test("reconcileShaping: a new limit inserts the rows and points the Port at them", () => {
  const r = reconcileShaping({ name: "tap0", owner: "cli", portUuid: "p-1", portQos: undefined, own: NONE, want: { rate: 20000000 } });
  assert.equal(summary(r.ops), ["insert Queue", "insert QoS", "update Port"]);
  assert.equal((r.ops[2] as Row).row, { qos: ["named-uuid", "rxqos"] });
  assert.equal(r.changes, ["rx-rate/rx-burst: none -> 20000000"]);
});

test("reconcileShaping: a lifted limit lets go of the rows and deletes them", () => {
  const r = reconcileShaping({ name: "tap0", owner: "cli", portUuid: "p-1", portQos: "q-1", own: own(20000000), want: undefined });
  assert.equal(summary(r.ops), ["update Port", "delete QoS", "delete Queue"]);
  assert.equal((r.ops[0] as Row).row, { qos: ["set", []] });
  assert.equal(r.changes, ["rx-rate/rx-burst: 20000000 -> none"]);
});

test("reconcileShaping: marked rows the port does not use (a crash's leftovers) are deleted and named", () => {
  const r = reconcileShaping({ name: "tap0", owner: "cli", portUuid: "p-1", portQos: undefined, own: own(1000000), want: undefined });
  assert.equal(summary(r.ops), ["delete QoS", "delete Queue"]);
  assert.equal(r.changes, ["removed 1 orphaned QoS row(s) of tap0"]);
});

test("reconcileShaping: a QoS row ovs-vif did not make is left alone and reported as foreign", () => {
  const r = reconcileShaping({ name: "tap0", owner: "cli", portUuid: "p-1", portQos: "someone-elses", own: NONE, want: { rate: 20000000 } });
  assert.equal(r, { ops: [], changes: [], foreign: true });
});

test("deleteOwnQos deletes every row it is given, QoS first", () => {
  assert.equal(summary(deleteOwnQos(own(1))), ["delete QoS", "delete Queue"]);
  assert.equal(deleteOwnQos(NONE), []);
});

test.run();
