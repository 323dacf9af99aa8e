// QoS set/reconcile, VLAN edits, stale-port collection and the Ganeti
// instance hooks, on real OVS with the compiled binary. Ganeti's CLI is the
// stand-in from harness/fake-ganeti.ts (same output format); the hook
// environments are Ganeti's own variable names.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { installFakeGaneti, type FakeGaneti, type FakeInstance } from "../harness/fake-ganeti.ts";
import { listPorts, portView } from "../harness/oracle.ts";
import { sh } from "../harness/proc.ts";

let ovs: OvsHandle;
let dir: string;
let gnt: FakeGaneti;

const INST1: FakeInstance = {
  name: "inst1",
  pnode: "node1.example.com",
  tags: ["ovs-vif:rate:100M", "ovs-vif:nic:1:rate:10M"],
  nics: [
    { uuid: "11111111-0000-4000-8000-000000000000", name: null, mac: "aa:00:00:00:01:00", mode: "openvswitch", link: "sw1", vlan: ".3", network: null },
    { uuid: "11111111-0000-4000-8000-000000000001", name: "eth1", mac: "aa:00:00:00:01:01", mode: "openvswitch", link: "sw1", vlan: ":10:20", network: null },
  ],
};
const INST2: FakeInstance = {
  name: "inst2",
  pnode: "node1.example.com",
  tags: [],
  nics: [
    { uuid: "22222222-0000-4000-8000-000000000000", name: null, mac: "aa:00:00:00:02:00", mode: "openvswitch", link: "sw1", vlan: ".3:10:20", network: "net1" },
  ],
};

/** Plugs a tap as the Ganeti NIC scripts do (owner ganeti, Ganeti's external ids). */
async function plug(inst: FakeInstance, index: number, tap: string): Promise<void> {
  await ovs.addTap(tap);
  const nic = inst.nics[index]!;
  const r = await runBinary(ovs, [
    "attach",
    "--bridge",
    nic.link,
    "--iface",
    tap,
    "--vlan",
    nic.vlan,
    "--owner",
    "ganeti",
    "--external-id",
    `ganeti-instance=${inst.name}`,
    "--external-id",
    `ganeti-nic-uuid=${nic.uuid}`,
    "--external-id",
    `ganeti-nic-index=${index}`,
    "--external-id",
    `attached-mac=${nic.mac}`,
    "--external-id",
    `iface-id=${nic.uuid}`,
  ]);
  assert.is(r.code, 0, r.stderr);
}

// This node is the instances' primary (their pnode), as on a one-node cluster.
const bin = (args: string[], env: Record<string, string> = {}) => runBinary(ovs, args, { env: { ...gnt.env, OVS_VIF_NODE_NAME: "node1.example.com", ...env } });

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-life-"));
  gnt = installFakeGaneti(dir, { instances: [structuredClone(INST1), structuredClone(INST2)], networks: [{ name: "net1", tags: ["ovs-vif:rate:1G"] }] });
  await ovs.addBridge("sw1");
  await plug(INST1, 0, "tap10");
  await plug(INST1, 1, "tap11");
  await plug(INST2, 0, "tap20");
});

test.after(async () => {
  await ovs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("reconcile applies tag QoS in place: 100M / per-NIC 10M / network 1G, default bursts, same Port _uuid", async () => {
  const before = await Promise.all(["tap10", "tap11", "tap20"].map((t) => portView(ovs, t)));
  const r = await bin(["reconcile"]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  const after = await Promise.all(["tap10", "tap11", "tap20"].map((t) => portView(ovs, t)));
  assert.equal(
    after.map((p) => [p!.rate, p!.burst]),
    [
      [100000, 78125],
      [10000, 7812],
      [1000000, 781250],
    ],
  );
  assert.equal(
    after.map((p) => p!.uuid),
    before.map((p) => p!.uuid),
    "ports not re-created",
  );
  assert.match(r.stdout, /inst1 tap10: updated rate=100000 burst=78125/);
  const again = await bin(["reconcile"]);
  assert.match(again.stdout, /inst1 tap10: unchanged/);
});

test("reconcile --export on the master, --from on a node: the node uses the file, never the Ganeti CLI", async () => {
  const s = gnt.state();
  s.instances.find((i) => i.name === "inst1")!.tags = ["ovs-vif:rate:30M"];
  gnt.setState(s);
  const file = join(dir, "ganeti.json");
  const ex = await bin(["reconcile", "--export", file]);
  assert.is(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /2 instances, 1 networks/);
  // Ganeti changes after the export: a node reading the file must not see it.
  s.instances.find((i) => i.name === "inst1")!.tags = ["ovs-vif:rate:70M"];
  gnt.setState(s);
  const calls = gnt.state().calls.length;
  const r = await bin(["reconcile", "--from", file]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.is(gnt.state().calls.length, calls, "no Ganeti CLI call");
  assert.is((await portView(ovs, "tap10"))!.rate, 30000);
  const bad = await bin(["reconcile", "--from", join(dir, "nope.json")]);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /--from ".*nope\.json": no such file/);
  s.instances.find((i) => i.name === "inst1")!.tags = structuredClone(INST1.tags);
  gnt.setState(s);
  assert.is((await bin(["reconcile"])).code, 0);
});

test("qos show lists effective values and their sources", async () => {
  const r = await bin(["qos", "show"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /inst1\s+0\s+openvswitch\s+100000\s+78125\s+instance tag "ovs-vif:rate:100M"\s+default: 80% of rate\s+0\s+0\s+none\s+none\s+tap10/);
  assert.match(r.stdout, /inst1\s+1\s+openvswitch\s+10000\s+7812\s+instance tag "ovs-vif:nic:1:rate:10M"/);
  assert.match(r.stdout, /inst2\s+0\s+openvswitch\s+1000000\s+781250\s+network tag "ovs-vif:rate:1G"/);
});

test("qos set changes the tags through gnt-instance and the running port in place", async () => {
  const before = await portView(ovs, "tap10");
  const r = await bin(["qos", "set", "inst1", "0", "--rate", "50M", "--burst", "5M"]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  const p = await portView(ovs, "tap10");
  assert.equal([p!.rate, p!.burst], [50000, 4882]);
  assert.is(p!.uuid, before!.uuid, "same Port _uuid");
  const inst = gnt.state().instances.find((i) => i.name === "inst1")!;
  assert.ok(inst.tags.includes("ovs-vif:nic:0:rate:50M") && inst.tags.includes("ovs-vif:nic:0:burst:5M"), inst.tags.join(" "));
  // Setting again replaces this NIC's tags rather than conflicting with them.
  const r2 = await bin(["qos", "set", "inst1", "0", "--rate", "20M"]);
  assert.is(r2.code, 0, r2.stderr + r2.stdout);
  const tags = gnt.state().instances.find((i) => i.name === "inst1")!.tags;
  assert.equal(
    tags.filter((t) => t.startsWith("ovs-vif:nic:0:")),
    ["ovs-vif:nic:0:rate:20M"],
  );
  assert.equal([(await portView(ovs, "tap10"))!.rate, (await portView(ovs, "tap10"))!.burst], [20000, 15625]);
  const un = await bin(["qos", "unset", "inst1", "0"]);
  assert.is(un.code, 0, un.stderr + un.stdout);
  assert.equal((await portView(ovs, "tap10"))!.rate, 100000, "back to the instance tag");
});

test("qos set with a bad value fails before Ganeti is called and leaves OVSDB unchanged", async () => {
  const calls = gnt.state().calls.length;
  const before = await ovs.dump();
  const r = await bin(["qos", "set", "inst1", "0", "--rate", "10Q"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--rate "10Q"/);
  assert.is(gnt.state().calls.length, calls, "Ganeti not called");
  assert.is(await ovs.dump(), before);
});

test("removing the tags and reconciling sets policing back to 0", async () => {
  const s = gnt.state();
  for (const i of s.instances) i.tags = [];
  s.networks = [{ name: "net1", tags: [] }];
  gnt.setState(s);
  const r = await bin(["reconcile"]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  for (const t of ["tap10", "tap11", "tap20"]) assert.equal([(await portView(ovs, t))!.rate, (await portView(ovs, t))!.burst], [0, 0], t);
});

test("a bad tag fails the reconcile of that NIC, naming the tag, and leaves its port unchanged", async () => {
  const s = gnt.state();
  s.instances.find((i) => i.name === "inst2")!.tags = ["ovs-vif:rate:fast"];
  gnt.setState(s);
  const before = await ovs.dump();
  const r = await bin(["reconcile", "--instance", "inst2"]);
  assert.is(r.code, 1);
  assert.match(r.stdout, /inst2 tap20: failed: instance tag "ovs-vif:rate:fast"/);
  assert.is(await ovs.dump(), before);
  s.instances.find((i) => i.name === "inst2")!.tags = [];
  gnt.setState(s);
});

test("vlan add on an access NIC: Ganeti config .3 -> .3:20 via gnt-instance modify, port native-untagged in place", async () => {
  const before = await portView(ovs, "tap10");
  assert.is(before!.vlan_mode, "access");
  const r = await bin(["vlan", "add", "inst1", "0", "20"]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /vlan "\.3" -> "\.3:20"/);
  const calls = gnt.state().calls;
  assert.ok(
    calls.some((c) => c.join(" ") === "gnt-instance modify --net 0:modify,vlan=.3:20 inst1"),
    JSON.stringify(calls.slice(-3)),
  );
  const p = await portView(ovs, "tap10");
  assert.equal([p!.vlan_mode, p!.tag, p!.trunks, p!.uuid], ["native-untagged", 3, [20], before!.uuid]);
  const trace = await ovs.trace("sw1", "in_port=tap10,dl_vlan=20");
  assert.is.not(trace.actions, "drop", "VLAN 20 now carried");
});

test("vlan on Ganeti 3.1 (hot-modify by default, which would ask and, without a terminal, fail): gnt-instance modify --no-hotplug, port changed in place", async () => {
  const s = gnt.state();
  gnt.setState({ ...s, release: "3.1" });
  try {
    const before = await portView(ovs, "tap10");
    const r = await bin(["vlan", "remove", "inst1", "0", "20"]);
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /vlan "\.3:20" -> "\.3"/);
    const calls = gnt.state().calls.map((c) => c.join(" "));
    assert.ok(calls.includes("gnt-instance modify --no-hotplug --net 0:modify,vlan=.3 inst1"), JSON.stringify(calls.slice(-3)));
    const p = await portView(ovs, "tap10");
    assert.equal([p!.vlan_mode, p!.tag, p!.trunks, p!.uuid], ["access", 3, [], before!.uuid]);
    // What it replaces: the plain modify that Ganeti 3.1 turns into a question.
    const plain = await sh("gnt-instance", ["modify", "--net", "0:modify,vlan=.3:20", "inst1"], { env: { ...process.env, ...gnt.env } });
    assert.equal([plain.code, plain.stdout + plain.stderr], [1, ""], "the fake asks like Ganeti 3.1");
  } finally {
    gnt.setState({ ...gnt.state(), release: "3.0" });
  }
  assert.is((await bin(["vlan", "add", "inst1", "0", "20"])).code, 0, "back to .3:20 on 3.0");
});

test("bad VLAN edits are refused before Ganeti is called", async () => {
  for (const args of [
    ["add", "inst1", "0", "5000"],
    ["remove", "inst1", "0", "99"],
    ["add", "inst1", "1", "10"],
    ["add", "nosuch", "0", "5"],
    ["add", "inst1", "7", "5"],
  ]) {
    const modifies = () => gnt.state().calls.filter((c) => c[1] === "modify" && !c.includes("--help")).length;
    const calls = modifies();
    const r = await bin(["vlan", ...args]);
    assert.is.not(r.code, 0, args.join(" "));
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.is(modifies(), calls, `${args.join(" ")}: no modify`);
  }
});

function hookEnv(path: string, inst: FakeInstance, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    GANETI_HOOKS_VERSION: "2",
    GANETI_HOOKS_PHASE: "post",
    GANETI_HOOKS_PATH: path,
    GANETI_OBJECT_TYPE: "INSTANCE",
    GANETI_POST_INSTANCE_NAME: inst.name,
    GANETI_POST_INSTANCE_PRIMARY: inst.pnode,
    GANETI_POST_INSTANCE_TAGS: inst.tags.join(" "),
    GANETI_POST_INSTANCE_NIC_COUNT: String(inst.nics.length),
    OVS_VIF_NODE_NAME: "node1.example.com",
  };
  inst.nics.forEach((n, i) => {
    const k = `GANETI_POST_INSTANCE_NIC${i}_`;
    Object.assign(env, { [`${k}UUID`]: n.uuid, [`${k}MAC`]: n.mac, [`${k}MODE`]: n.mode, [`${k}LINK`]: n.link, [`${k}VLAN`]: n.vlan });
    if (n.name) env[`${k}NAME`] = n.name;
  });
  return { ...env, ...extra };
}

test("instance-modify post hook (binary with no command, as from a hook dir) applies a new VLAN in place", async () => {
  const inst = structuredClone(INST2);
  inst.nics[0]!.vlan = ".4:10";
  const before = await portView(ovs, "tap20");
  const r = await runBinary(ovs, [], { env: hookEnv("instance-modify", inst) });
  assert.is(r.code, 0, r.stderr + r.stdout);
  const p = await portView(ovs, "tap20");
  assert.equal([p!.vlan_mode, p!.tag, p!.trunks, p!.uuid], ["native-untagged", 4, [10], before!.uuid]);
});

test("hooks exit 0 and change nothing for other nodes, pre phase, and instances without ports here", async () => {
  const before = await ovs.dump();
  for (const env of [
    hookEnv("instance-modify", { ...INST2, pnode: "node9.example.com" }),
    hookEnv("instance-start", INST2, { GANETI_HOOKS_PHASE: "pre" }),
    hookEnv("instance-start", {
      name: "other",
      pnode: "node1.example.com",
      tags: [],
      nics: [{ uuid: "x", mac: "aa:00:00:00:09:00", mode: "bridged", link: "br0", vlan: "" }],
    }),
  ]) {
    const r = await runBinary(ovs, [], { env });
    assert.is(r.code, 0, r.stderr);
  }
  assert.is(await ovs.dump(), before);
});

test("instance-stop post hook removes exactly the instance's ports whose device is gone", async () => {
  await ovs.inNs("ip", ["link", "del", "tap11"]);
  const r = await runBinary(ovs, [], { env: hookEnv("instance-stop", INST1) });
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.equal(await listPorts(ovs, "sw1"), ["tap10", "tap20"], "tap11 gone, tap10 (device still there) kept");
});

test("gc removes planted stale rows it created and never foreign ones", async () => {
  await plug(INST2, 0, "tap30");
  await ovs.inNs("ip", ["link", "del", "tap30"]);
  // A foreign port whose device is also missing: not ours, never touched.
  await ovs.vsctl("add-port", "sw1", "foreign0");
  const dry = await bin(["gc", "--dry-run"]);
  assert.is(dry.code, 0, dry.stderr);
  assert.ok((await listPorts(ovs, "sw1")).includes("tap30"), "dry run removes nothing");
  const r = await bin(["gc"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed tap30 from sw1 \(owner ganeti, instance inst2\): device gone/);
  assert.equal(await listPorts(ovs, "sw1"), ["foreign0", "tap10", "tap20"]);
  assert.match((await bin(["gc"])).stdout, /no stale ports/);
});

test("simulated migration: two OVS standing for source and target; hooks with Ganeti's migrate environment", async () => {
  const target = await startOvs();
  try {
    await target.addBridge("sw1");
    await target.addTap("tap40");
    const nic = INST2.nics[0]!;
    const moved = { ...structuredClone(INST2), nics: [{ ...nic, vlan: ".5" }] };
    // Target: Ganeti's NIC script plugged the tap with the runtime VLAN (.3:10:20); the config now says .5.
    const plugged = await runBinary(target, [
      "attach",
      "--bridge",
      "sw1",
      "--iface",
      "tap40",
      "--vlan",
      nic.vlan,
      "--owner",
      "ganeti",
      "--external-id",
      `ganeti-instance=inst2`,
      "--external-id",
      `ganeti-nic-uuid=${nic.uuid}`,
      "--external-id",
      "ganeti-nic-index=0",
    ]);
    assert.is(plugged.code, 0, plugged.stderr);
    // Source: the instance's tap is gone after the migration.
    await ovs.inNs("ip", ["link", "del", "tap20"]);
    const env = hookEnv("instance-migrate", moved, {
      GANETI_OLD_PRIMARY: "node1.example.com",
      GANETI_NEW_PRIMARY: "node2.example.com",
      GANETI_MIGRATE_LIVE: "True",
      GANETI_POST_INSTANCE_PRIMARY: "node1.example.com",
    });
    const src = await runBinary(ovs, [], { env: { ...env, OVS_VIF_NODE_NAME: "node1.example.com" } });
    const dst = await runBinary(target, [], { env: { ...env, OVS_VIF_NODE_NAME: "node2.example.com" } });
    assert.is(src.code, 0, src.stderr + src.stdout);
    assert.is(dst.code, 0, dst.stderr + dst.stdout);
    assert.equal(await listPorts(ovs, "sw1"), ["foreign0", "tap10"], "source keeps only ports of instances running there");
    assert.equal(await listPorts(target, "sw1"), ["tap40"]);
    const p = await portView(target, "tap40");
    assert.equal([p!.vlan_mode, p!.tag, p!.trunks], ["access", 5, []], "target port follows the config");
  } finally {
    await target.stop();
  }
});

test.run();
