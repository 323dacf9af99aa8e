// The Ganeti hook environment as the switch hooks read it
// (src/switch/hook.ts: isSwitchHook, readSwitchHookEnv), with hand-written
// environments and with those real Ganeti 3.0 and 3.1 clusters sent
// (test/fixtures/ganeti-hooks/RELEASE/*.env). Pure; no cluster, no OVS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isSwitchHook, readSwitchHookEnv } from "../../src/switch/hook.ts";
import { CAPTURED_PATHS, GANETI_RELEASES, PHASES, loadFixture } from "../harness/hook-fixtures.ts";

const INSTANCE_PATHS = CAPTURED_PATHS.filter((p) => p.startsWith("instance-"));
const NETWORK_PATHS = CAPTURED_PATHS.filter((p) => p.startsWith("network-"));

test("isSwitchHook: network-connect, network-disconnect and node-add are switch hooks; nothing else is", () => {
  for (const path of ["network-connect", "network-disconnect", "node-add"]) assert.ok(isSwitchHook({ GANETI_HOOKS_PATH: path }), path);
  for (const path of ["instance-start", "network-add", "node-remove", ""]) assert.not.ok(isSwitchHook({ GANETI_HOOKS_PATH: path }), path);
  assert.not.ok(isSwitchHook({}));
});

test("readSwitchHookEnv leaves empty variables out and lower-cases the phase", () => {
  assert.equal(
    readSwitchHookEnv({
      GANETI_HOOKS_PATH: "network-connect",
      GANETI_HOOKS_PHASE: "POST",
      GANETI_GROUP_NAME: "default",
      GANETI_GROUP_NETWORK_MODE: "openvswitch",
      GANETI_GROUP_NETWORK_LINK: "sw1",
      GANETI_GROUP_NETWORK_VLAN: "",
    }),
    {
      path: "network-connect",
      phase: "post",
      group: "default",
      mode: "openvswitch",
      link: "sw1",
    },
  );
  assert.equal(readSwitchHookEnv({}), { path: "", phase: "" });
});

test("readSwitchHookEnv reads the new node of node-add and a network name when one is sent", () => {
  assert.equal(readSwitchHookEnv({ GANETI_HOOKS_PATH: "node-add", GANETI_HOOKS_PHASE: "post", GANETI_NODE_NAME: "node2.example.com" }), {
    path: "node-add",
    phase: "post",
    node: "node2.example.com",
  });
  assert.is(readSwitchHookEnv({ GANETI_HOOKS_PATH: "network-disconnect", GANETI_NETWORK_NAME: "net-a" }).network, "net-a");
});

for (const release of GANETI_RELEASES) {
  test(`Ganeti ${release}: captured hooks: instance hooks are not switch hooks, network hooks are`, () => {
    for (const phase of PHASES) {
      for (const path of INSTANCE_PATHS) assert.is(isSwitchHook(loadFixture(path, phase, release)), false, path);
      for (const path of NETWORK_PATHS) assert.is(isSwitchHook(loadFixture(path, phase, release)), true, path);
    }
  });

  test(`Ganeti ${release}: captured network-connect and network-disconnect (post and pre): readSwitchHookEnv gives the group, mode openvswitch and link gntbr; no VLAN, and no network name`, () => {
    for (const path of NETWORK_PATHS) {
      for (const phase of PHASES) {
        const env = loadFixture(path, phase, release);
        assert.equal(readSwitchHookEnv(env), { path, phase, group: "default", mode: "openvswitch", link: "gntbr" }, `${path}-${phase}`);
        // What Ganeti 3.0 does NOT send to network hooks: the network itself
        // (name, subnet, tags), and the node name.
        assert.equal(
          Object.keys(env).filter((k) => /^GANETI_(POST_)?NETWORK_/.test(k) || k.includes("NODE")),
          [],
          `${path}-${phase}`,
        );
        assert.is(env.GANETI_GROUP_NETWORK_VLAN, "", "sent, empty");
        assert.is(env.GANETI_OBJECT_TYPE, "NETWORK");
      }
    }
    assert.is(loadFixture("network-connect", "post", release).GANETI_OP_CODE, "OP_NETWORK_CONNECT");
    // Disconnect carries the mode and link too (the switch hook removes by link).
    const d = loadFixture("network-disconnect", "post", release);
    assert.is(d.GANETI_OP_CODE, "OP_NETWORK_DISCONNECT");
    assert.is(d.GANETI_POST_GROUP_NETWORK_LINK, "gntbr");
  });
}

test.run();
