// What an instance hook gets from Ganeti (src/ganeti/hook-env.ts):
// instanceFromHookEnv and what this node does about it (instanceAction),
// with hand-written environments and with those a real Ganeti 3.0 cluster
// sent (test/fixtures/ganeti-hooks/*.env, captured and kept in sync by
// test/system/ganeti-cluster-lifecycle.test.ts). Pure; no cluster.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { networkRenameFromEnv } from "../../src/ovn/rename.ts";
import { instanceAction, instanceFromHookEnv } from "../../src/ganeti/hook-env.ts";
import { CAPTURED_PATHS, GANETI_RELEASES, PHASES, capturedPaths, fixtureDir, fixtureName, loadFixture } from "../harness/hook-fixtures.ts";

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

test("instanceFromHookEnv reads the instance, its NICs, tags and network tags from the POST_ variables of a post hook", () => {
  const ctx = instanceFromHookEnv(MIGRATE_POST)!;
  assert.is(ctx.instance.name, "inst1");
  assert.equal(ctx.instance.tags, ["ovs-vif:rate:100M", "web"]);
  assert.is(ctx.instance.nics.length, 2);
  assert.equal(ctx.instance.nics[0], { index: 0, uuid: "u0", mac: "aa:00:00:00:00:01", mode: "openvswitch", link: "sw1", vlan: ".3:20", network: "net1" });
  assert.equal(ctx.instance.nics[1]!.name, "eth1");
  assert.equal(ctx.instance.networks.get(0), { tags: ["ovs-vif:rate:1G"] });
});

test("instanceAction: migrate reconciles on the new primary, collects on the old, does nothing elsewhere or in the pre phase", () => {
  const ctx = instanceFromHookEnv(MIGRATE_POST)!;
  assert.is(instanceAction(ctx, "node2.example.com").action, "reconcile");
  assert.is(instanceAction(ctx, "node1.example.com").action, "collect");
  assert.is(instanceAction(ctx, "master.example.com").action, "none");
  const pre = instanceFromHookEnv({ ...MIGRATE_POST, GANETI_HOOKS_PHASE: "pre" })!;
  assert.is(instanceAction(pre, "node2.example.com").action, "none");
});

test("instanceAction: start/reboot/modify reconcile and stop/remove collect on the primary only", () => {
  const base = { ...MIGRATE_POST, GANETI_OLD_PRIMARY: undefined, GANETI_NEW_PRIMARY: undefined };
  for (const [path, action] of [
    ["instance-start", "reconcile"],
    ["instance-reboot", "reconcile"],
    ["instance-modify", "reconcile"],
    ["instance-stop", "collect"],
    ["instance-remove", "collect"],
    ["instance-add", "none"],
  ] as const) {
    const ctx = instanceFromHookEnv({ ...base, GANETI_HOOKS_PATH: path })!;
    assert.is(instanceAction(ctx, "node1.example.com").action, action, path);
    assert.is(instanceAction(ctx, "node2.example.com").action, "none", `${path} elsewhere`);
  }
});

test("instanceFromHookEnv: an environment without an instance is not an instance hook", () => {
  assert.is(instanceFromHookEnv({ GANETI_HOOKS_PATH: "network-connect", GANETI_HOOKS_PHASE: "post" }), undefined);
});

test("instanceAction: failover, like migrate, reconciles on the new primary and collects on the old", () => {
  const ctx = instanceFromHookEnv({ ...MIGRATE_POST, GANETI_HOOKS_PATH: "instance-failover", GANETI_OP_CODE: "OP_INSTANCE_FAILOVER" })!;
  assert.equal(instanceAction(ctx, "node2.example.com"), { action: "reconcile", why: "new primary" });
  assert.equal(instanceAction(ctx, "node1.example.com"), { action: "collect", why: "old primary" });
  assert.equal(instanceAction(ctx, "node3.example.com"), { action: "none", why: "neither old nor new primary" });
});

test("instanceFromHookEnv: a pre hook reads GANETI_INSTANCE_*, the instance before the operation", () => {
  const ctx = instanceFromHookEnv({
    GANETI_HOOKS_PATH: "instance-start",
    GANETI_HOOKS_PHASE: "PRE",
    GANETI_INSTANCE_NAME: "inst1",
    GANETI_INSTANCE_PRIMARY: "node1",
    GANETI_INSTANCE_NIC_COUNT: "1",
    GANETI_INSTANCE_NIC0_VLAN: ".7",
    GANETI_POST_INSTANCE_NAME: "other",
  })!;
  assert.is(ctx.phase, "pre", "lower-cased");
  assert.is(ctx.instance.name, "inst1");
  assert.is(ctx.instance.nics[0]!.vlan, ".7");
  assert.equal(instanceAction(ctx, "node1"), { action: "none", why: "pre phase" });
});

// --- The environments captured from a real Ganeti 3.0 cluster -----------------

const NODE = "node1.ovsvif.test";
const OTHER = "node2.ovsvif.test";
const INSTANCE = "inst1.ovsvif.test";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INSTANCE_PATHS = CAPTURED_PATHS.filter((p) => p.startsWith("instance-"));
const NETWORK_PATHS = CAPTURED_PATHS.filter((p) => p.startsWith("network-"));

test("the captured fixtures of each Ganeti release: one file per path and phase, only PATH and GANETI_* (Ganeti clears the environment), each naming its own path and phase", () => {
  const want = (release: string) =>
    capturedPaths(release)
      .flatMap((p) => PHASES.map((ph) => fixtureName(p, ph)))
      .sort();
  for (const release of GANETI_RELEASES)
    assert.equal(
      readdirSync(fixtureDir(release))
        .filter((f) => f.endsWith(".env"))
        .sort(),
      want(release),
      release,
    );
  for (const release of GANETI_RELEASES)
    for (const path of capturedPaths(release)) {
      for (const phase of PHASES) {
        const env = loadFixture(path, phase, release);
        assert.equal(
          Object.keys(env).filter((k) => k !== "PATH" && !k.startsWith("GANETI_")),
          [],
          `${path}-${phase}`,
        );
        assert.is(env.GANETI_HOOKS_PATH, path);
        assert.is(env.GANETI_HOOKS_PHASE, phase, "lower case");
        assert.is(env.GANETI_HOOKS_VERSION, "2");
        assert.is(env.GANETI_MASTER, NODE);
        // Post hooks get GANETI_POST_* copies of the object's variables.
        assert.is(
          Object.keys(env).some((k) => k.startsWith("GANETI_POST_")),
          phase === "post",
          `${path}-${phase} POST_ copies`,
        );
      }
    }
});

for (const release of GANETI_RELEASES) {
  test(`Ganeti ${release}: captured instance-start post: the instance after the start is read from GANETI_POST_INSTANCE_* (NICs, tags, the network NIC's network and its tags) and reconciled on the primary`, () => {
    const env = loadFixture("instance-start", "post", release);
    const ctx = instanceFromHookEnv(env)!;
    assert.ok(ctx);
    assert.is(ctx.path, "instance-start");
    assert.is(ctx.phase, "post");
    assert.is(ctx.opCode, "OP_INSTANCE_STARTUP");
    assert.is(ctx.instance.name, INSTANCE);
    assert.is(ctx.instance.primary, NODE);
    assert.equal([...ctx.instance.tags].sort(), ["ovs-vif:nic:1:rate:10M", "ovs-vif:rate:100M"]);
    assert.is(ctx.instance.nics.length, 3);
    const expect: [string, string, string | undefined][] = [
      ["aa:00:00:00:00:01", ".3", undefined],
      ["aa:00:00:00:00:02", "", undefined],
      ["aa:00:00:00:00:03", "", "net1"],
    ];
    for (const [i, [mac, vlan, network]] of expect.entries()) {
      const nic = ctx.instance.nics[i]!;
      assert.is(nic.index, i);
      assert.match(nic.uuid, UUID);
      assert.is(nic.uuid, env[`GANETI_POST_INSTANCE_NIC${i}_UUID`]);
      assert.is(nic.mac, mac);
      assert.is(nic.mode, "openvswitch", "the network NIC's mode comes from the group's connection");
      assert.is(nic.link, "gntbr");
      assert.is(nic.vlan, vlan);
      assert.is(nic.network, network);
      assert.is(nic.name, undefined, "no NIC names given");
    }
    assert.equal(ctx.instance.networks.get(0), { tags: [] });
    assert.equal(ctx.instance.networks.get(2)?.tags, ["ovs-vif:rate:1G"]);
    assert.equal(instanceAction(ctx, NODE), { action: "reconcile", why: "primary" });
    assert.is(instanceAction(ctx, OTHER).action, "none");
  });

  test(`Ganeti ${release}: captured instance-modify post: the NIC's new vlan (.3:20, from ovs-vif vlan add) is read and reconciled on the primary`, () => {
    const ctx = instanceFromHookEnv(loadFixture("instance-modify", "post", release))!;
    assert.is(ctx.opCode, "OP_INSTANCE_SET_PARAMS");
    assert.is(ctx.instance.nics[0]!.vlan, ".3:20");
    assert.equal(ctx.instance.tags, ["ovs-vif:nic:0:rate:50M"]);
    assert.equal(instanceAction(ctx, NODE), { action: "reconcile", why: "primary" });
  });

  test(`Ganeti ${release}: captured instance-reboot post reconciles and instance-stop post collects, on the primary only`, () => {
    const reboot = instanceFromHookEnv(loadFixture("instance-reboot", "post", release))!;
    assert.is(reboot.opCode, "OP_INSTANCE_REBOOT");
    assert.is(reboot.instance.nics.length, 3);
    assert.is(reboot.instance.nics[0]!.vlan, ".4");
    assert.equal(instanceAction(reboot, NODE), { action: "reconcile", why: "primary" });
    const stop = instanceFromHookEnv(loadFixture("instance-stop", "post", release))!;
    assert.is(stop.opCode, "OP_INSTANCE_SHUTDOWN");
    assert.is(stop.instance.nics.length, 3);
    assert.equal(instanceAction(stop, NODE), { action: "collect", why: "primary" });
    for (const ctx of [reboot, stop]) assert.is(instanceAction(ctx, OTHER).action, "none");
    // Neither is a migration: no old/new primary.
    assert.is(stop.oldPrimary, undefined);
    assert.is(stop.newPrimary, undefined);
  });

  test(`Ganeti ${release}: captured instance pre phases: the instance is read from GANETI_INSTANCE_* and nothing is done`, () => {
    for (const path of INSTANCE_PATHS) {
      const ctx = instanceFromHookEnv(loadFixture(path, "pre", release))!;
      assert.ok(ctx, path);
      assert.is(ctx.instance.name, INSTANCE);
      assert.is(ctx.instance.nics.length, 3);
      assert.equal(instanceAction(ctx, NODE), { action: "none", why: "pre phase" }, path);
    }
  });

  test(`Ganeti ${release}: captured network hooks are not instance hooks`, () => {
    for (const phase of PHASES) {
      for (const path of NETWORK_PATHS) assert.is(instanceFromHookEnv(loadFixture(path, phase, release)), undefined, path);
    }
  });
}

test("Ganeti 3.1: the captured network-rename hooks are read as a rename of net1 on the master node1, pre and post; a name that is not a Ganeti name is refused naming the variable", () => {
  for (const phase of PHASES) {
    const r = networkRenameFromEnv(loadFixture("network-rename", phase, "3.1"));
    assert.equal(r, { phase, oldName: "net1", newName: "net1-renamed", master: NODE });
  }
  assert.is(networkRenameFromEnv(loadFixture("network-connect", "post", "3.1")), undefined);
  assert.throws(
    () => networkRenameFromEnv({ GANETI_HOOKS_PATH: "network-rename", GANETI_OLD_NAME: "net1", GANETI_NEW_NAME: "a b" }),
    /GANETI_NEW_NAME "a b": not a valid Ganeti group or network name/,
  );
});

test.run();
