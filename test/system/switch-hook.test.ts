// The Ganeti network hooks (`ovs-vif switch hook`, runSwitchHook) with the
// environments Ganeti sends: network-connect creates the switch on every
// node of the group (two private OVS instances = two nodes, each with its
// own uplink device names), network-disconnect removes a managed switch
// only when no VM or foreign port remains, node-add sets up the new node.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { BINARY, runBinary, type OvsHandle } from "../harness/ovs.ts";
import { installFakeGaneti, type FakeGaneti } from "../harness/fake-ganeti.ts";
import type { Result } from "../harness/proc.ts";
import { loadFixture } from "../harness/hook-fixtures.ts";
import { addVeths, ovsPerTest, specFile, writeSpec } from "../harness/switch-ovs.ts";

const node = ovsPerTest(test);

const SPEC = {
  version: 1,
  defaults: { datapath_type: "netdev" },
  switches: [
    {
      name: "sw1",
      managed: true,
      fail_mode: "standalone",
      networks: ["net-a"],
      uplinks: [{ name: "bond0", members: ["eth0", "eth1"], bond_mode: "balance-slb" }],
      // node2's hardware names its NICs differently.
      overrides: { nodes: { "node2.example.com": { uplinks: [{ name: "bond0", members: ["ens1", "ens2"], bond_mode: "balance-slb" }] } } },
    },
    { name: "sw2", uplinks: [{ name: "eth2" }] },
  ],
  node_groups: { default: { switches: ["sw1", "sw2"], nodes: ["node1.example.com", "node2.example.com"] } },
};

/** The environment Ganeti's hooks runner builds (PATH + GANETI_*). */
function ganetiEnv(path: string, phase: "pre" | "post", extra: Record<string, string>): Record<string, string> {
  const opcode = { "network-connect": "OP_NETWORK_CONNECT", "network-disconnect": "OP_NETWORK_DISCONNECT", "node-add": "OP_NODE_ADD" }[path] ?? "OP_TEST";
  return {
    GANETI_HOOKS_VERSION: "2",
    GANETI_HOOKS_PHASE: phase,
    GANETI_HOOKS_PATH: path,
    GANETI_OP_CODE: opcode,
    GANETI_OBJECT_TYPE: path === "node-add" ? "NODE" : "NETWORK",
    GANETI_DATA_DIR: "/var/lib/ganeti",
    GANETI_CLUSTER: "cluster1.example.com",
    GANETI_MASTER: "node1.example.com",
    ...extra,
  };
}

// As Ganeti 3.0 sends them (test/fixtures/ganeti-hooks/network-*.env):
// the group, its mode, link and vlan; no network name.
const groupVars = (link: string, mode: string) => ({
  GANETI_GROUP_NAME: "default",
  GANETI_GROUP_NETWORK_MODE: mode,
  GANETI_GROUP_NETWORK_LINK: link,
  GANETI_GROUP_NETWORK_VLAN: "",
});

const connectEnv = (phase: "pre" | "post", link = "sw1", mode = "openvswitch") => ganetiEnv("network-connect", phase, groupVars(link, mode));
const disconnectEnv = (phase: "pre" | "post", link = "sw1", mode = "openvswitch") => ganetiEnv("network-disconnect", phase, groupVars(link, mode));

async function hook(h: OvsHandle, nodeName: string, env: Record<string, string>): Promise<Result> {
  return runBinary(h, ["switch", "hook", "--spec", specFile(h), "--node", nodeName], { env });
}

async function bridges(h: OvsHandle): Promise<string[]> {
  return (await h.vsctl("list-br")).split("\n").filter(Boolean).sort();
}

async function bondMembers(h: OvsHandle, bond: string): Promise<string[]> {
  return (await h.vsctl("--bare", "--columns=name", "find", "Interface", `external_ids:ovs-vif-uplink=${bond}`)).split(/\s+/).filter(Boolean).sort();
}

test("network-connect post creates the switch on every node of the group, with each node's uplinks", async () => {
  const n1 = await node();
  const n2 = await node();
  await addVeths(n1, ["eth0", "eth1"]);
  await addVeths(n2, ["ens1", "ens2"]);
  writeSpec(n1, SPEC);
  writeSpec(n2, SPEC);
  // Ganeti runs the hook on each node of the group with the same environment.
  const r1 = await hook(n1, "node1.example.com", connectEnv("post"));
  const r2 = await hook(n2, "node2.example.com", connectEnv("post"));
  for (const [r, name] of [
    [r1, "node1"],
    [r2, "node2"],
  ] as const) {
    assert.is(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /network-connect: group default link sw1: switch sw1 \(from .*switches\.json\)/);
    assert.match(r.stderr, /network-connect: sw1: \+ bridge sw1 \(datapath_type netdev, fail_mode standalone\)/);
    assert.match(r.stderr, /network-connect: sw1: applied \(2 changes\)/);
  }
  assert.match(r1.stderr, /\+ uplink bond0: bond of eth0,eth1/);
  assert.match(r2.stderr, /\+ uplink bond0: bond of ens1,ens2/);
  assert.equal(await bridges(n1), ["sw1"]);
  assert.equal(await bridges(n2), ["sw1"]);
  assert.equal(await bondMembers(n1, "bond0"), ["eth0", "eth1"]);
  assert.equal(await bondMembers(n2, "bond0"), ["ens1", "ens2"]);
  assert.is((await n1.vsctl("get", "Port", "bond0", "bond_mode")).trim(), "balance-slb");
  // Ganeti may run it again (re-connect, retries): nothing changes.
  const again = await hook(n1, "node1.example.com", connectEnv("post"));
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, /network-connect: sw1: no changes/);
});

test("pre phase, other modes and other hook paths do nothing", async () => {
  const h = await node();
  writeSpec(h, SPEC);
  const before = await h.dump();
  for (const env of [
    connectEnv("pre"),
    connectEnv("post", "sw1", "bridged"),
    connectEnv("post", "sw1", "routed"),
    disconnectEnv("pre"),
    ganetiEnv("instance-start", "post", { GANETI_INSTANCE_NAME: "vm1.example.com" }),
  ]) {
    const r = await hook(h, "node1.example.com", env);
    assert.is(r.code, 0, `${env.GANETI_HOOKS_PATH} ${env.GANETI_HOOKS_PHASE}: ${r.stderr}`);
  }
  assert.is(await h.dump(), before);
});

test("network-connect with no spec: a bare bridge on the default datapath, refused in one line and nothing written when ovs-vswitchd cannot run that datapath", async () => {
  const h = await node();
  const available = (await h.vsctl("get", "Open_vSwitch", ".", "datapath_types")).trim();
  const before = await h.dump();
  const r = await hook(h, "node1.example.com", connectEnv("post", "br-lab"));
  if (/\bsystem\b/.test(available)) {
    // A node with the kernel datapath: the bridge works there.
    assert.is(r.code, 0, r.stderr);
    assert.is((await h.vsctl("get", "Interface", "br-lab", "ofport")).trim(), "65534");
    return;
  }
  assert.is(r.code, 1, r.stderr);
  const lines = r.stderr
    .trim()
    .split("\n")
    .filter((l) => /error/.test(l));
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /br-lab datapath_type.*system.*ovs-vswitchd on this node runs only netdev/);
  assert.is(await h.dump(), before);
});

test("network-connect for a link the spec does not describe creates a bare bridge", async () => {
  const h = await node();
  writeSpec(h, SPEC);
  const r = await hook(h, "node1.example.com", connectEnv("post", "br-lab"));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /switch br-lab \(not in .*switches\.json: bare bridge\)/);
  assert.equal(await bridges(h), ["br-lab"]);
  assert.equal((await h.vsctl("list-ports", "br-lab")).trim(), "");
  assert.is((await h.vsctl("get", "Bridge", "br-lab", "datapath_type")).trim(), "netdev");
  assert.is((await h.vsctl("get", "Bridge", "br-lab", "external_ids:ovs-vif-switch")).trim(), "bare");
  // An existing bridge without a spec entry is left exactly as it is.
  await h.addBridge("br-old");
  await h.vsctl("add-port", "br-old", "x0", "--", "set", "Interface", "x0", "type=internal");
  const before = await h.dump();
  const r2 = await hook(h, "node1.example.com", connectEnv("post", "br-old"));
  assert.is(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /network-connect: br-old: no changes/);
  assert.is(await h.dump(), before);
  // A bad link name is refused with the variable named.
  const r3 = await hook(h, "node1.example.com", connectEnv("post", "br;rm"));
  assert.is(r3.code, 1);
  assert.match(r3.stderr, /GANETI_GROUP_NETWORK_LINK "br;rm": bridge name contains ";"/);
});

test("network-disconnect refuses while a VM port remains, naming it; removes the managed switch once it is gone", async () => {
  const h = await node();
  await addVeths(h, ["eth0", "eth1"]);
  writeSpec(h, SPEC);
  assert.is((await hook(h, "node1.example.com", connectEnv("post"))).code, 0);
  await h.addTap("vm1tap0");
  await h.vsctl("add-port", "sw1", "vm1tap0", "--", "set", "Port", "vm1tap0", "external_ids:ovs-vif-owner=ganeti");
  const env = disconnectEnv("post");
  const before = await h.dump();
  // While the spec still lists sw1 for the group, the switch stays.
  const kept = await hook(h, "node1.example.com", env);
  assert.is(kept.code, 0, kept.stderr);
  assert.match(
    kept.stderr,
    /network-disconnect: sw1: still listed for node group default in .*switches\.json \(node_groups\.default\.switches\): left in place/,
  );
  assert.is(await h.dump(), before);
  // The operator drops it from the group's list (and copies the spec out).
  const spec2 = structuredClone(SPEC);
  spec2.node_groups.default.switches = ["sw2"];
  writeSpec(h, spec2);
  const refused = await hook(h, "node1.example.com", env);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /network-disconnect: sw1: refusing to remove the switch: ports remain on it that ovs-vif does not own: vm1tap0 \(VM port\)/);
  assert.is(await h.dump(), before, "nothing removed");

  await h.vsctl("del-port", "sw1", "vm1tap0");
  const removed = await hook(h, "node1.example.com", env);
  assert.is(removed.code, 0, removed.stderr);
  assert.match(removed.stderr, /network-disconnect: sw1: switch removed/);
  assert.equal(await bridges(h), []);
  // The uplink interfaces went with it (garbage-collected).
  assert.is((await h.vsctl("--bare", "--columns=name", "list", "Interface")).trim(), "");
  // Again: nothing left to remove.
  const again = await hook(h, "node1.example.com", env);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, /sw1: not present on this node, nothing to remove/);
});

test("network-disconnect leaves a switch the spec does not mark managed, and foreign ports block removal", async () => {
  const h = await node();
  await addVeths(h, ["eth2", "eth0", "eth1"]);
  writeSpec(h, SPEC);
  assert.is((await hook(h, "node1.example.com", connectEnv("post", "sw2"))).code, 0);
  const before = await h.dump();
  const r = await hook(h, "node1.example.com", disconnectEnv("post", "sw2"));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /network-disconnect: sw2: not marked managed in .*switches\.json: left in place/);
  assert.is(await h.dump(), before);

  assert.is((await hook(h, "node1.example.com", connectEnv("post"))).code, 0);
  const spec2 = structuredClone(SPEC);
  spec2.node_groups.default.switches = ["sw2"];
  writeSpec(h, spec2);
  await h.vsctl("add-port", "sw1", "mirror0", "--", "set", "Interface", "mirror0", "type=internal");
  // An environment without the link but naming the network (not what
  // Ganeti 3.0 sends): the switch is found through the spec's networks.
  const r2 = await hook(h, "node1.example.com", ganetiEnv("network-disconnect", "post", { GANETI_GROUP_NAME: "default", GANETI_NETWORK_NAME: "net-a" }));
  assert.is(r2.code, 1);
  assert.match(r2.stderr, /ports remain on it that ovs-vif does not own: mirror0 \(foreign port\)/);
  assert.equal(await bridges(h), ["sw1", "sw2"]);
});

test("the network-connect/-disconnect environments captured from a real Ganeti 3.0 cluster: connect creates the link as a bare bridge; disconnect removes it only once the spec marks it managed and unlisted", async () => {
  const h = await node();
  writeSpec(h, SPEC);
  const me = "node1.ovsvif.test";
  const before = await h.dump();
  for (const path of ["network-connect", "network-disconnect"]) {
    const r = await hook(h, me, loadFixture(path, "pre"));
    assert.is(r.code, 0, `${path} pre: ${r.stderr}`);
  }
  assert.is(await h.dump(), before, "pre phases change nothing");
  const connect = await hook(h, me, loadFixture("network-connect", "post"));
  assert.is(connect.code, 0, connect.stderr);
  assert.match(connect.stderr, /network-connect: group default link gntbr: switch gntbr \(not in .*switches\.json: bare bridge\)/);
  assert.match(connect.stderr, /network-connect: gntbr: applied \(1 changes?\)/);
  assert.equal(await bridges(h), ["gntbr"]);
  assert.is((await h.vsctl("get", "Bridge", "gntbr", "external_ids:ovs-vif-switch")).trim(), "bare");
  const disconnect = loadFixture("network-disconnect", "post");
  const kept = await hook(h, me, disconnect);
  assert.is(kept.code, 0, kept.stderr);
  assert.match(kept.stderr, /network-disconnect: gntbr: not marked managed in .*switches\.json: left in place/);
  assert.equal(await bridges(h), ["gntbr"]);
  // Marked managed and not listed for the group: the link Ganeti sends is enough.
  const spec2 = structuredClone(SPEC) as unknown as { switches: unknown[] };
  spec2.switches.push({ name: "gntbr", managed: true });
  writeSpec(h, spec2);
  const removed = await hook(h, me, disconnect);
  assert.is(removed.code, 0, removed.stderr);
  assert.match(removed.stderr, /network-disconnect: gntbr: switch removed/);
  assert.equal(await bridges(h), []);
});

test("node-add post sets up every switch of the new node's group, on the new node only", async () => {
  const h = await node();
  await addVeths(h, ["ens1", "ens2", "eth2"]);
  writeSpec(h, SPEC);
  const env = ganetiEnv("node-add", "post", {
    GANETI_OP_TARGET: "node2.example.com",
    GANETI_NODE_NAME: "node2.example.com",
    GANETI_NODE_PIP: "198.51.100.12",
    GANETI_NODE_SIP: "198.51.100.12",
    GANETI_MASTER_CAPABLE: "True",
    GANETI_VM_CAPABLE: "True",
  });
  // The hook also runs on the other nodes: they do nothing (the master's
  // part is the next test).
  const before = await h.dump();
  const other = await hook(h, "node3.example.com", env);
  assert.is(other.code, 0, other.stderr);
  assert.is(await h.dump(), before);

  const r = await hook(h, "node2.example.com", env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /node-add: node2\.example\.com in node group default: switches sw1, sw2/);
  assert.equal(await bridges(h), ["sw1", "sw2"]);
  assert.equal(await bondMembers(h, "bond0"), ["ens1", "ens2"]);
  assert.equal((await h.vsctl("list-ports", "sw2")).trim(), "eth2");
  const again = await hook(h, "node2.example.com", env);
  assert.match(again.stderr, /node-add: sw1: no changes[\s\S]*node-add: sw2: no changes/);
});

/** Ganeti's CLI on the master, where every node's command runs here and
 * `ovs-vif` is this build. */
function masterGaneti(h: OvsHandle, copyFails: string[] = []): FakeGaneti {
  const gnt = installFakeGaneti(join(h.dir, "ganeti"), {
    instances: [],
    networks: [],
    nodes: [
      { name: "node1.example.com", group: "default" },
      { name: "node2.example.com", group: "default" },
    ],
    copyFails,
  });
  symlinkSync(BINARY, join(gnt.dir, "bin", "ovs-vif"));
  return gnt;
}

test("node-add post on the master copies the spec and defaults to the new node through Ganeti, then applies its group's switches there", async () => {
  const h = await node();
  await addVeths(h, ["ens1", "ens2", "eth2"]);
  writeSpec(h, SPEC);
  const gnt = masterGaneti(h);
  const env = { ...ganetiEnv("node-add", "post", { GANETI_OP_TARGET: "node2.example.com", GANETI_NODE_NAME: "node2.example.com" }), ...gnt.env };
  const r = await hook(h, "node1.example.com", env);
  assert.is(r.code, 0, r.stderr);
  const calls = gnt.state().calls.map((c) => c.join(" "));
  assert.ok(calls.includes(`gnt-cluster copyfile -n node2.example.com ${specFile(h)}`), calls.join("\n"));
  assert.ok(calls.includes("gnt-node list --no-headers -o group node2.example.com"), calls.join("\n"));
  assert.ok(
    calls.some((c) =>
      c.startsWith("gnt-cluster command -n node2.example.com ovs-vif switch apply --spec " + specFile(h) + " --group default --node node2.example.com"),
    ),
    calls.join("\n"),
  );
  assert.match(r.stderr, /node-add: node2\.example\.com: .* copied from the master \(sha256 [0-9a-f]{12}\)/);
  assert.match(r.stderr, /node-add: node2\.example\.com: sw1: applied/);
  // The command ran "on node2": its switches, with node2's uplink names.
  assert.equal(await bridges(h), ["sw1", "sw2"]);
  assert.equal(await bondMembers(h, "bond0"), ["ens1", "ens2"]);
});

test("node-add post on the master: a copy Ganeti could not make fails the hook, names the node and file, and applies nothing", async () => {
  const h = await node();
  writeSpec(h, SPEC);
  const gnt = masterGaneti(h, ["node2.example.com"]);
  const env = { ...ganetiEnv("node-add", "post", { GANETI_OP_TARGET: "node2.example.com", GANETI_NODE_NAME: "node2.example.com" }), ...gnt.env };
  const before = await h.dump();
  const r = await hook(h, "node1.example.com", env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`node-add: node2\\.example\\.com: copying ${specFile(h).replace(/[.]/g, "\\.")} failed`));
  assert.not.ok(
    gnt.state().calls.some((c) => c.join(" ").includes("switch apply")),
    "no apply after a failed copy",
  );
  assert.is(await h.dump(), before);
});

test("ovs-vif switch apply --group GROUP (as run by gnt-cluster command -g GROUP) applies that group's list", async () => {
  const h = await node();
  await addVeths(h, ["eth0", "eth1", "eth2"]);
  const spec = structuredClone(SPEC) as unknown as { node_groups: Record<string, unknown> };
  spec.node_groups = { default: { switches: ["sw2"] }, rack2: { switches: ["sw1"] } };
  writeSpec(h, spec);
  const r = await runBinary(h, ["switch", "apply", "--spec", specFile(h), "--node", "node1.example.com", "--group", "default"]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, "sw2: + bridge sw2 (datapath_type netdev)\nsw2: + uplink eth2 (vlans all)\nsw2: applied (2 changes)\n");
  assert.equal(await bridges(h), ["sw2"]);
  const none = await runBinary(h, ["switch", "apply", "--spec", specFile(h), "--node", "node1.example.com", "--group", "rack9"]);
  assert.is(none.code, 0, none.stderr);
  assert.match(none.stdout, /node group rack9 has no entry in node_groups of .*: nothing to do/);
  assert.equal(await bridges(h), ["sw2"]);
});

test.run();
