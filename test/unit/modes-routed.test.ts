// The routed mode's plan (src/modes/routed.ts): the ip rule, route and
// sysctl steps for a routed NIC, from a fake view of the system.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { StateError } from "../../src/errors.ts";
import { planRoutedDown, planRoutedUp, type RouteSys, type RoutedNic } from "../../src/modes/routed.ts";

const NIC: RoutedNic = { device: "tap0", ip: "192.0.2.1", table: "100", fields: { device: "INTERFACE", ip: "IP" } };

test("routed up deletes every old rule, adds the rule and route in the table, and sets the sysctls the device has", async () => {
  const sys: RouteSys = { exists: () => true, ruleCount: async (_d, f) => (f === 4 ? 2 : 0), hasConf: (f) => f === 4 };
  const up = await planRoutedUp(NIC, sys);
  assert.equal(up, [
    {
      kind: "ip",
      lines: [
        "link set dev tap0 up",
        "rule del dev tap0",
        "rule del dev tap0",
        "rule add dev tap0 table 100",
        "route replace 192.0.2.1 table 100 proto static dev tap0",
      ],
    },
    { kind: "sysctl", path: "/proc/sys/net/ipv4/conf/tap0/proxy_arp", value: "1" },
    { kind: "sysctl", path: "/proc/sys/net/ipv4/conf/tap0/forwarding", value: "1" },
  ]);
});

test("routed up without a table routes in the main table and adds no rule", async () => {
  const sys: RouteSys = { exists: () => true, ruleCount: async () => 3, hasConf: () => false };
  const { table: _table, ...noTable } = NIC;
  assert.equal(await planRoutedUp(noTable, sys), [{ kind: "ip", lines: ["link set dev tap0 up", "route replace 192.0.2.1 proto static dev tap0"] }]);
});

test("routed up refuses a missing device as a StateError on the device's variable", async () => {
  const sys: RouteSys = { exists: () => false, ruleCount: async () => 0, hasConf: () => false };
  let caught: unknown;
  await planRoutedUp(NIC, sys).catch((e: unknown) => (caught = e));
  assert.instance(caught, StateError);
  assert.is((caught as StateError).field, "INTERFACE");
});

test("routed down removes the rules of both families even without the device (its routes went with it)", async () => {
  const gone: RouteSys = { exists: () => false, ruleCount: async (_d, f) => (f === 4 ? 1 : 1), hasConf: () => false };
  const down = await planRoutedDown(NIC, gone);
  assert.equal(down, [
    { kind: "ip", options: ["-4"], lines: ["rule del dev tap0"] },
    { kind: "ip", options: ["-6"], lines: ["rule del dev tap0"] },
  ]);
});

test("routed down of a live device deletes its route first, tolerating one already gone", async () => {
  const live: RouteSys = { exists: () => true, ruleCount: async (_d, f) => (f === 4 ? 1 : 0), hasConf: () => true };
  assert.equal(await planRoutedDown(NIC, live), [
    { kind: "ip", lines: ["route del 192.0.2.1 table 100 dev tap0"], tolerate: true },
    { kind: "ip", options: ["-4"], lines: ["rule del dev tap0"] },
  ]);
});

test.run();
