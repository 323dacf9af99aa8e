// The hook environments a real Ganeti 3.0 cluster sent
// (test/fixtures/ganeti-hooks/*.env, captured and kept in sync by
// test/ganeti-cluster-lifecycle.test.ts) read by the code that handles them:
// instanceFromHookEnv + instanceAction (src/ganeti/hook-env.ts) and
// isSwitchHook + readSwitchHookEnv (src/switch/hook.ts). Pure; no cluster.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { instanceAction, instanceFromHookEnv } from "../../src/ganeti/hook-env.ts";
import { isSwitchHook, readSwitchHookEnv } from "../../src/switch/hook.ts";
import { CAPTURED_PATHS, FIXTURE_DIR, PHASES, fixtureName, loadFixture } from "../harness/hook-fixtures.ts";

const NODE = "node1.ovsvif.test";
const OTHER = "node2.ovsvif.test";
const INSTANCE = "inst1.ovsvif.test";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INSTANCE_PATHS = CAPTURED_PATHS.filter((p) => p.startsWith("instance-"));
const NETWORK_PATHS = CAPTURED_PATHS.filter((p) => p.startsWith("network-"));

test("fixtures: one file per captured path and phase, only PATH and GANETI_* (Ganeti clears the environment), named after their own path and phase", () => {
  const want = CAPTURED_PATHS.flatMap((p) => PHASES.map((ph) => fixtureName(p, ph))).sort();
  assert.equal(readdirSync(FIXTURE_DIR).filter((f) => f.endsWith(".env")).sort(), want);
  for (const path of CAPTURED_PATHS) {
    for (const phase of PHASES) {
      const env = loadFixture(path, phase);
      assert.equal(Object.keys(env).filter((k) => k !== "PATH" && !k.startsWith("GANETI_")), [], `${path}-${phase}`);
      assert.is(env.GANETI_HOOKS_PATH, path);
      assert.is(env.GANETI_HOOKS_PHASE, phase, "lower case");
      assert.is(env.GANETI_HOOKS_VERSION, "2");
      assert.is(env.GANETI_MASTER, NODE);
      // Post hooks get GANETI_POST_* copies of the object's variables.
      assert.is(Object.keys(env).some((k) => k.startsWith("GANETI_POST_")), phase === "post", `${path}-${phase} POST_ copies`);
    }
  }
});

test("instance-start post: the instance after the start, from GANETI_POST_INSTANCE_*: NICs, tags, the network NIC's network and its tags", () => {
  const env = loadFixture("instance-start", "post");
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
  assert.equal(ctx.instance.networkTags.get(0), []);
  assert.equal(ctx.instance.networkTags.get(2), ["ovs-vif:rate:1G"]);
  assert.equal(instanceAction(ctx, NODE), { action: "reconcile", why: "primary" });
  assert.is(instanceAction(ctx, OTHER).action, "none");
});

test("instance-modify post: the NIC's new vlan (.3:20, from `ovs-vif vlan add`) and reconcile on the primary", () => {
  const ctx = instanceFromHookEnv(loadFixture("instance-modify", "post"))!;
  assert.is(ctx.opCode, "OP_INSTANCE_SET_PARAMS");
  assert.is(ctx.instance.nics[0]!.vlan, ".3:20");
  assert.equal(ctx.instance.tags, ["ovs-vif:nic:0:rate:50M"]);
  assert.equal(instanceAction(ctx, NODE), { action: "reconcile", why: "primary" });
});

test("instance-reboot post reconciles and instance-stop post collects, on the primary only", () => {
  const reboot = instanceFromHookEnv(loadFixture("instance-reboot", "post"))!;
  assert.is(reboot.opCode, "OP_INSTANCE_REBOOT");
  assert.is(reboot.instance.nics.length, 3);
  assert.is(reboot.instance.nics[0]!.vlan, ".4");
  assert.equal(instanceAction(reboot, NODE), { action: "reconcile", why: "primary" });
  const stop = instanceFromHookEnv(loadFixture("instance-stop", "post"))!;
  assert.is(stop.opCode, "OP_INSTANCE_SHUTDOWN");
  assert.is(stop.instance.nics.length, 3);
  assert.equal(instanceAction(stop, NODE), { action: "collect", why: "primary" });
  for (const ctx of [reboot, stop]) assert.is(instanceAction(ctx, OTHER).action, "none");
  // Neither is a migration: no old/new primary.
  assert.is(stop.oldPrimary, undefined);
  assert.is(stop.newPrimary, undefined);
});

test("instance pre phases: the instance is read (GANETI_INSTANCE_*), nothing is done", () => {
  for (const path of INSTANCE_PATHS) {
    const ctx = instanceFromHookEnv(loadFixture(path, "pre"))!;
    assert.ok(ctx, path);
    assert.is(ctx.instance.name, INSTANCE);
    assert.is(ctx.instance.nics.length, 3);
    assert.equal(instanceAction(ctx, NODE), { action: "none", why: "pre phase" }, path);
  }
});

test("instance hooks are not switch hooks; network hooks are not instance hooks", () => {
  for (const phase of PHASES) {
    for (const path of INSTANCE_PATHS) assert.is(isSwitchHook(loadFixture(path, phase)), false, path);
    for (const path of NETWORK_PATHS) {
      const env = loadFixture(path, phase);
      assert.is(isSwitchHook(env), true, path);
      assert.is(instanceFromHookEnv(env), undefined, path);
    }
  }
});

test("network-connect and network-disconnect (post and pre): group, mode openvswitch and link gntbr; no VLAN, and no network name", () => {
  for (const path of NETWORK_PATHS) {
    for (const phase of PHASES) {
      const env = loadFixture(path, phase);
      assert.equal(readSwitchHookEnv(env), { path, phase, group: "default", mode: "openvswitch", link: "gntbr" }, `${path}-${phase}`);
      // What Ganeti 3.0 does NOT send to network hooks: the network itself
      // (name, subnet, tags), and the node name.
      assert.equal(Object.keys(env).filter((k) => /^GANETI_(POST_)?NETWORK_/.test(k) || k.includes("NODE")), [], `${path}-${phase}`);
      assert.is(env.GANETI_GROUP_NETWORK_VLAN, "", "sent, empty");
      assert.is(env.GANETI_OBJECT_TYPE, "NETWORK");
    }
  }
  assert.is(loadFixture("network-connect", "post").GANETI_OP_CODE, "OP_NETWORK_CONNECT");
  // Disconnect carries the mode and link too (the switch hook removes by link).
  const d = loadFixture("network-disconnect", "post");
  assert.is(d.GANETI_OP_CODE, "OP_NETWORK_DISCONNECT");
  assert.is(d.GANETI_POST_GROUP_NETWORK_LINK, "gntbr");
});

test.run();
