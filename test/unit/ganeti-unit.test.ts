// Pure Ganeti-side logic: VLAN edits, hook environments, Ganeti's list output.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InputError } from "../../src/errors.ts";
import { editVlan, parseVlanEditArgs } from "../../src/ganeti/vlan-edit.ts";
import { instanceAction, instanceFromHookEnv } from "../../src/ganeti/hook-env.ts";
import { parseInstanceList, parseNetworkList } from "../../src/ganeti/query.ts";
import { parsePyList } from "../../src/ganeti/pylist.ts";

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
  test(`vlan ${edit} ${args.join(" ")} on ${JSON.stringify(current)} -> ${JSON.stringify(want)}`, () => {
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
  test(`vlan ${edit} ${args.join(" ")} on ${JSON.stringify(current)} is refused`, () => {
    try {
      editVlan(current, parseVlanEditArgs(edit, args));
      assert.unreachable("should throw");
    } catch (err) {
      assert.instance(err, InputError);
      assert.match((err as Error).message, reason);
    }
  });
}

// As Ganeti 3.0 builds it for instance-migrate (post phase): POST_ values
// describe the instance after the operation; OLD/NEW_PRIMARY name the nodes.
const MIGRATE_POST: NodeJS.ProcessEnv = {
  GANETI_HOOKS_VERSION: "2",
  GANETI_HOOKS_PHASE: "post",
  GANETI_HOOKS_PATH: "instance-migrate",
  GANETI_OP_CODE: "OP_INSTANCE_MIGRATE",
  GANETI_OBJECT_TYPE: "INSTANCE",
  GANETI_INSTANCE_NAME: "inst1",
  GANETI_INSTANCE_PRIMARY: "node1.example.com",
  GANETI_POST_INSTANCE_NAME: "inst1",
  GANETI_POST_INSTANCE_PRIMARY: "node1.example.com",
  GANETI_POST_INSTANCE_TAGS: "ovs-vif:rate:100M web",
  GANETI_POST_INSTANCE_NIC_COUNT: "2",
  GANETI_POST_INSTANCE_NIC0_UUID: "u0",
  GANETI_POST_INSTANCE_NIC0_MAC: "aa:00:00:00:00:01",
  GANETI_POST_INSTANCE_NIC0_MODE: "openvswitch",
  GANETI_POST_INSTANCE_NIC0_LINK: "sw1",
  GANETI_POST_INSTANCE_NIC0_VLAN: ".3:20",
  GANETI_POST_INSTANCE_NIC0_NETWORK_NAME: "net1",
  GANETI_POST_INSTANCE_NIC0_NETWORK_TAGS: "ovs-vif:rate:1G",
  GANETI_POST_INSTANCE_NIC1_UUID: "u1",
  GANETI_POST_INSTANCE_NIC1_NAME: "eth1",
  GANETI_POST_INSTANCE_NIC1_MAC: "aa:00:00:00:00:02",
  GANETI_POST_INSTANCE_NIC1_MODE: "bridged",
  GANETI_POST_INSTANCE_NIC1_LINK: "br0",
  GANETI_POST_INSTANCE_NIC1_VLAN: "",
  GANETI_OLD_PRIMARY: "node1.example.com",
  GANETI_NEW_PRIMARY: "node2.example.com",
  GANETI_MIGRATE_LIVE: "True",
};

test("hook env: instance, NICs, tags and network tags from the POST_ variables", () => {
  const ctx = instanceFromHookEnv(MIGRATE_POST)!;
  assert.is(ctx.instance.name, "inst1");
  assert.equal(ctx.instance.tags, ["ovs-vif:rate:100M", "web"]);
  assert.is(ctx.instance.nics.length, 2);
  assert.equal(ctx.instance.nics[0], { index: 0, uuid: "u0", mac: "aa:00:00:00:00:01", mode: "openvswitch", link: "sw1", vlan: ".3:20", network: "net1" });
  assert.equal(ctx.instance.nics[1]!.name, "eth1");
  assert.equal(ctx.instance.networkTags.get(0), ["ovs-vif:rate:1G"]);
});

test("hook action: migrate reconciles on the new primary, collects on the old, nothing elsewhere", () => {
  const ctx = instanceFromHookEnv(MIGRATE_POST)!;
  assert.is(instanceAction(ctx, "node2.example.com").action, "reconcile");
  assert.is(instanceAction(ctx, "node1.example.com").action, "collect");
  assert.is(instanceAction(ctx, "master.example.com").action, "none");
  const pre = instanceFromHookEnv({ ...MIGRATE_POST, GANETI_HOOKS_PHASE: "pre" })!;
  assert.is(instanceAction(pre, "node2.example.com").action, "none");
});

test("hook action: start/reboot/modify reconcile and stop/remove collect on the primary only", () => {
  const base = { ...MIGRATE_POST, GANETI_OLD_PRIMARY: undefined, GANETI_NEW_PRIMARY: undefined };
  for (const [path, action] of [["instance-start", "reconcile"], ["instance-reboot", "reconcile"], ["instance-modify", "reconcile"], ["instance-stop", "collect"], ["instance-remove", "collect"], ["instance-add", "none"]] as const) {
    const ctx = instanceFromHookEnv({ ...base, GANETI_HOOKS_PATH: path })!;
    assert.is(instanceAction(ctx, "node1.example.com").action, action, path);
    assert.is(instanceAction(ctx, "node2.example.com").action, "none", `${path} elsewhere`);
  }
});

test("hook env without an instance is not an instance hook", () => {
  assert.is(instanceFromHookEnv({ GANETI_HOOKS_PATH: "network-connect", GANETI_HOOKS_PHASE: "post" }), undefined);
});

test("Ganeti list output: Python reprs and comma-joined fields", () => {
  assert.equal(parsePyList("['.3', ':10:20', '']"), [".3", ":10:20", ""]);
  assert.equal(parsePyList("[None, 'eth1', \"it's\"]"), [null, "eth1", "it's"]);
  assert.equal(parsePyList("[]"), []);
  assert.throws(() => parsePyList("['a'"), /unterminated|expected/);
  const [inst] = parseInstanceList("inst1|node1.example.com|ovs-vif:rate:100M,web|['u0', 'u1']|[None, 'eth1']|['.3', '']|openvswitch,bridged|sw1,br0|['net1', None]|aa:00:00:00:00:01,aa:00:00:00:00:02\n");
  assert.equal(inst, {
    name: "inst1",
    primary: "node1.example.com",
    tags: ["ovs-vif:rate:100M", "web"],
    nics: [
      { index: 0, uuid: "u0", mac: "aa:00:00:00:00:01", mode: "openvswitch", link: "sw1", vlan: ".3", network: "net1" },
      { index: 1, uuid: "u1", name: "eth1", mac: "aa:00:00:00:00:02", mode: "bridged", link: "br0", vlan: "" },
    ],
  });
  // As Ganeti 3.0 prints network tags: comma-joined, empty for none.
  assert.equal(parseNetworkList("net1|bar,ovs-vif:rate:1G\nnet2|\n"), new Map([["net1", ["bar", "ovs-vif:rate:1G"]], ["net2", []]]));
  assert.equal(parseNetworkList("net1|['ovs-vif:rate:1G']\n"), new Map([["net1", ["ovs-vif:rate:1G"]]]));
});

test.run();
