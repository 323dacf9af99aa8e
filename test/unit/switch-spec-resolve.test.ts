// The switch spec resolved for one node (src/switch/spec-resolve.ts): the
// base switch, then its group's override, then the node's; a bare bridge for
// a switch the spec does not describe; the checks that span switches.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { catchInputError } from "../harness/assert.ts";
import { bond } from "../harness/switch-specs.ts";
import { checkDisjoint, compactRanges, describeVlans, groupOfNode, nodeMatches, resolveSwitch, switchForNetwork } from "../../src/switch/spec-resolve.ts";
import { validateSpec } from "../../src/switch/spec-validate.ts";

const spec = validateSpec(
  {
    version: 1,
    defaults: { datapath_type: "netdev", mtu: 1500 },
    switches: [
      {
        name: "sw1",
        managed: true,
        uplinks: [{ name: "eth0" }],
        networks: ["net-a"],
        overrides: {
          groups: { rack2: { uplinks: [{ name: "ens1" }], mtu: 9000 } },
          nodes: { node7: { uplinks: [bond({ members: ["ens1", "ens2"] })] }, "node8.example.com": { fail_mode: "secure" } },
        },
      },
      { name: "sw2", uplinks: [{ name: "eth2" }] },
    ],
    node_groups: { default: { switches: ["sw1"], nodes: ["node1.example.com", "node2"] }, rack2: { switches: ["sw1", "sw2"], nodes: ["NODE7.example.com"] } },
  },
  "spec.json",
);

test("resolveSwitch: the base switch with the spec's defaults", () => {
  const base = resolveSwitch(spec, "sw1", { node: "node1.example.com", group: "default" });
  assert.equal(
    base.uplinks?.map((u) => u.name),
    ["eth0"],
  );
  assert.is(base.mtu, 1500);
  assert.is(base.datapathType, "netdev");
  assert.is(base.origin, "managed");
});

test("resolveSwitch: the group's override replaces the uplinks and the MTU", () => {
  const g = resolveSwitch(spec, "sw1", { node: "node1.example.com", group: "rack2" });
  assert.equal(
    g.uplinks?.map((u) => u.name),
    ["ens1"],
  );
  assert.is(g.mtu, 9000);
});

test("resolveSwitch: a short-name key matches the node's FQDN, and the node's override wins over the group's", () => {
  const n7 = resolveSwitch(spec, "sw1", { node: "node7.example.com", group: "rack2" });
  assert.equal(
    n7.uplinks?.map((u) => u.name),
    ["bond0"],
  );
  assert.equal(n7.uplinks?.[0]?.bond?.members, ["ens1", "ens2"]);
  assert.is(n7.mtu, 9000);
});

test("resolveSwitch: a key with a domain matches that FQDN only", () => {
  assert.is(resolveSwitch(spec, "sw1", { node: "node8.example.com" }).failMode, "secure");
  assert.is(resolveSwitch(spec, "sw1", { node: "node8.other.org" }).failMode, undefined);
});

test("resolveSwitch: a switch not in the spec is a bare bridge with the defaults and no uplink management", () => {
  const bare = resolveSwitch(spec, "br-x", {});
  assert.equal(bare, { name: "br-x", origin: "bare", datapathType: "netdev", mtu: 1500 });
  assert.equal(resolveSwitch(undefined, "br-y", {}), { name: "br-y", origin: "bare" });
  assert.is(resolveSwitch(spec, "sw2", {}).origin, "spec", "in the spec, not managed");
});

test("nodeMatches: a key without a dot matches the short name, one with a dot the whole name, both case-insensitively", () => {
  assert.ok(nodeMatches("node7", "node7.example.com"));
  assert.ok(nodeMatches("NODE7", "node7"));
  assert.ok(nodeMatches("node7.example.com", "Node7.Example.com"));
  assert.not.ok(nodeMatches("node7.example.com", "node7"));
  assert.not.ok(nodeMatches("node7.example", "node7.example.com"));
  assert.not.ok(nodeMatches("node", "node7.example.com"));
});

test("groupOfNode finds the node group listing the node, by the same matching", () => {
  assert.is(groupOfNode(spec, "node1.example.com"), "default");
  assert.is(groupOfNode(spec, "node2.example.com"), "default");
  assert.is(groupOfNode(spec, "node7.example.com"), "rack2");
  assert.is(groupOfNode(spec, "node9.example.com"), undefined);
});

test("switchForNetwork finds the switch connecting a Ganeti network", () => {
  assert.is(switchForNetwork(spec, "net-a"), "sw1");
  assert.is(switchForNetwork(spec, "net-z"), undefined);
  assert.is(switchForNetwork(spec, undefined), undefined);
  assert.is(switchForNetwork(undefined, "net-a"), undefined);
});

test("checkDisjoint refuses a device that is an uplink (or bond member) of two switches, naming both and the node", () => {
  const g = resolveSwitch(spec, "sw1", { group: "rack2" });
  checkDisjoint([g, resolveSwitch(spec, "sw2", {})], "node7");
  const clash = { name: "sw3", origin: "spec" as const, uplinks: [{ name: "ens1", vlans: "all" as const, untagged: false }] };
  const err = catchInputError(() => checkDisjoint([resolveSwitch(spec, "sw1", { node: "node7" }), clash], "node7"), "clash");
  assert.is(err.value, "ens1");
  assert.match(err.reason, /device is an uplink of both sw1 and sw3 on node node7/);
  // Bare bridges have no uplinks to compare.
  checkDisjoint([resolveSwitch(spec, "br-x", {}), resolveSwitch(spec, "br-y", {})], undefined);
});

test("describeVlans: all, or the list in compact ranges with +untagged", () => {
  assert.is(describeVlans({ name: "e", vlans: "all", untagged: false }), "all");
  assert.is(describeVlans({ name: "e", vlans: [10, 20, 21, 22], untagged: false }), "10,20-22");
  assert.is(describeVlans({ name: "e", vlans: [10, 30], untagged: true }), "10,30+untagged");
});

test("compactRanges writes runs of three or more as A-B and shorter runs as single ids", () => {
  assert.is(compactRanges([1, 2, 3, 5, 6, 8]), "1-3,5,6,8");
  assert.is(compactRanges([]), "");
  assert.is(compactRanges([4094]), "4094");
});

test.run();
