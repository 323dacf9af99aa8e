// The VM-bound limit (rx-rate) with real traffic: iperf3 from one pretend VM
// to another through a private OVS (userspace datapath), the receiver's port
// shaped by the linux-htb QoS row ovs-vif puts on it; and the QoS/Queue row
// accounting on every path that creates, changes or removes a port.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installFakeGaneti, type FakeGaneti } from "../harness/fake-ganeti.ts";
import { listRows } from "../harness/oracle.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { addVmNetns, type VmNetns } from "../harness/vm.ts";

let ovs: OvsHandle;
let a: VmNetns;
let b: VmNetns;
let dir: string;
let gnt: FakeGaneti;
const UUID = "33333333-0000-4000-8000-000000000000";
const A_MAC = "aa:00:00:00:0a:0a";

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-qosrx-"));
  gnt = installFakeGaneti(dir, {
    instances: [
      {
        name: "inst1",
        pnode: "node1.example.com",
        tags: [],
        nics: [{ uuid: UUID, name: null, mac: A_MAC, mode: "openvswitch", link: "sw1", vlan: "", network: null }],
      },
    ],
    networks: [],
  });
  await ovs.addBridge("sw1");
  a = await addVmNetns(ovs.ns, "vma0", { mac: A_MAC, ip: "198.51.100.11" });
  b = await addVmNetns(ovs.ns, "vmb0", { mac: "aa:00:00:00:0b:0b", ip: "198.51.100.12" });
  assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "vmb0"])).code, 0);
});

test.after(async () => {
  a?.remove();
  b?.remove();
  await ovs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Mbit/s that A receives from B over 3 s of TCP (iperf3's receiver figure). */
async function receivedMbps(): Promise<number> {
  const server = a.exec("iperf3", ["-s", "-1", "-B", "198.51.100.11", "-p", "5201"], { timeoutMs: 20000 });
  await new Promise((r) => setTimeout(r, 300));
  const client = await b.exec("iperf3", ["-c", "198.51.100.11", "-p", "5201", "-t", "3", "-J"], { timeoutMs: 20000 });
  await server;
  assert.is(client.code, 0, client.stderr + client.stdout.slice(0, 400));
  const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  return bps / 1e6;
}

async function qosRows(): Promise<{ qos: number; queues: number }> {
  return { qos: (await listRows(ovs, "QoS")).length, queues: (await listRows(ovs, "Queue")).length };
}

const measured: string[] = [];

test("attach --rx-rate 20M: what the VM receives is capped at about 20 Mbit/s; without it, several times more", async () => {
  assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "vma0"])).code, 0);
  const free = await receivedMbps();
  const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "vma0", "--rx-rate", "20M"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /rx_rate=20000000/);
  const limited = await receivedMbps();
  measured.push(`attach --rx-rate 20M: ${limited.toFixed(1)} Mbit/s; without: ${free.toFixed(1)} Mbit/s`);
  assert.ok(Math.abs(limited - 20) <= 3, `limited to ${limited.toFixed(1)} Mbit/s, want 20 +-15%`);
  assert.ok(free > 3 * limited, `unlimited ${free.toFixed(1)} Mbit/s is several times more`);
  const [qos] = await listRows(ovs, "QoS");
  assert.is(qos!.type, "linux-htb");
  assert.equal(await qosRows(), { qos: 1, queues: 1 });
  // Re-attaching without the limit replaces the rows too.
  assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "vma0"])).code, 0);
  assert.equal(await qosRows(), { qos: 0, queues: 0 });
  assert.is((await runBinary(ovs, ["detach", "--iface", "vma0"])).code, 0);
});

test("the Ganeti KVM script with an rx-rate tag caps it; qos unset lifts it in place", async () => {
  const env = {
    ...gnt.env,
    INSTANCE: "inst1",
    MAC: A_MAC,
    MODE: "openvswitch",
    INTERFACE: "vma0",
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: UUID,
    LINK: "sw1",
    VLAN: "",
    TAGS: "ovs-vif:rx-rate:20M",
  };
  const s = gnt.state();
  s.instances[0]!.tags = ["ovs-vif:nic:0:rx-rate:20M"];
  gnt.setState(s);
  const up = await runBinary(ovs, [], { name: "kvm-vif-bridge", env: { ...env, TAGS: "ovs-vif:nic:0:rx-rate:20M" } });
  assert.is(up.code, 0, up.stderr);
  const portBefore = (await listRows(ovs, "Port")).find((p) => p.name === "vma0")!;
  const limited = await receivedMbps();
  assert.ok(Math.abs(limited - 20) <= 3, `kvm-vif-bridge with the tag: ${limited.toFixed(1)} Mbit/s, want 20 +-15%`);
  const un = await runBinary(ovs, ["qos", "unset", "inst1", "0"], { env: { ...gnt.env, OVS_VIF_NODE_NAME: "node1.example.com" } });
  assert.is(un.code, 0, un.stderr + un.stdout);
  assert.match(un.stdout, /rx-rate\/rx-burst: 20000000 -> none/);
  const portAfter = (await listRows(ovs, "Port")).find((p) => p.name === "vma0")!;
  assert.is(portAfter._uuid, portBefore._uuid, "the same Port row (in place)");
  assert.equal(await qosRows(), { qos: 0, queues: 0 }, "the lifted limit's rows are gone");
  const free = await receivedMbps();
  assert.ok(free > 3 * limited, `after qos unset: ${free.toFixed(1)} Mbit/s`);
  const set = await runBinary(ovs, ["qos", "set", "inst1", "0", "--rx-rate", "50M"], { env: { ...gnt.env, OVS_VIF_NODE_NAME: "node1.example.com" } });
  assert.is(set.code, 0, set.stderr + set.stdout);
  const fifty = await receivedMbps();
  measured.push(
    `kvm-vif-bridge tag 20M: ${limited.toFixed(1)} Mbit/s; after qos unset: ${free.toFixed(1)} Mbit/s; qos set --rx-rate 50M: ${fifty.toFixed(1)} Mbit/s`,
  );
  assert.ok(Math.abs(fifty - 50) <= 7.5, `qos set --rx-rate 50M: ${fifty.toFixed(1)} Mbit/s, want 50 +-15%`);
  assert.equal(await qosRows(), { qos: 1, queues: 1 });
  assert.is((await runBinary(ovs, ["detach", "--iface", "vma0"])).code, 0);
  assert.equal(await qosRows(), { qos: 0, queues: 0 }, "detach takes the rows with the port");
  console.log(measured.map((m) => `  ${m}`).join("\n"));
});

test("100 attach/detach cycles with limits leave no QoS or Queue row; a foreign QoS row is never removed", async () => {
  await ovs.vsctl("--", "--id=@q", "create", "qos", "type=linux-htb", "other_config:max-rate=1000000", "external_ids:owner=someone-else");
  const foreign = (await listRows(ovs, "QoS"))[0]!._uuid;
  for (let i = 0; i < 100; i++) {
    const rate = `${10 + (i % 5)}M`;
    const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "vma0", "--rx-rate", rate, "--rx-burst", "1M", "--rate", "30M", "--no-wait"]);
    assert.is(r.code, 0, r.stderr);
    if (i % 10 === 9) {
      // Every tenth: a re-attach over the limited port (the rows are replaced, not added).
      assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "vma0", "--rx-rate", "11M", "--no-wait"])).code, 0);
      assert.equal(await qosRows(), { qos: 2, queues: 1 }, `cycle ${i}: one port's rows and the foreign QoS`);
    }
    assert.is((await runBinary(ovs, ["detach", "--iface", "vma0", "--no-wait"])).code, 0);
  }
  const left = await listRows(ovs, "QoS");
  assert.equal(
    left.map((q) => q._uuid),
    [foreign],
    "only the foreign row",
  );
  assert.is((await listRows(ovs, "Queue")).length, 0);
  const gc = await runBinary(ovs, ["gc"]);
  assert.is(gc.code, 0, gc.stderr);
  assert.equal(
    (await listRows(ovs, "QoS")).map((q) => q._uuid),
    [foreign],
    "gc never takes a row it did not make",
  );
});

test("gc removes QoS rows ovs-vif made that no port uses any more, and only those", async () => {
  // As a crash between two transactions would leave them: marked rows, no port.
  await ovs.vsctl(
    "--",
    "--id=@q",
    "create",
    "queue",
    "other_config:max-rate=5000000",
    "external_ids:ovs-vif-port=gone0",
    "--",
    "create",
    "qos",
    "type=linux-htb",
    "queues:0=@q",
    "external_ids:ovs-vif-port=gone0",
  );
  assert.is((await listRows(ovs, "QoS")).length, 2);
  const dry = await runBinary(ovs, ["gc", "--dry-run"]);
  assert.match(dry.stdout, /would remove orphaned QoS row .* \(made for port gone0/);
  assert.is((await listRows(ovs, "QoS")).length, 2, "dry run changes nothing");
  const r = await runBinary(ovs, ["gc"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed orphaned QoS row/);
  assert.match(r.stdout, /removed orphaned Queue row/);
  assert.is((await listRows(ovs, "QoS")).length, 1, "the foreign row stays");
  assert.is((await listRows(ovs, "Queue")).length, 0);
});

test("a stopped instance's port goes with its QoS rows (the instance-stop hook), so does a migration's source", async () => {
  for (const path of ["instance-stop", "instance-migrate"]) {
    await ovs.addTap("taps0");
    const env = {
      INSTANCE: "inst1",
      MAC: A_MAC,
      MODE: "openvswitch",
      INTERFACE: "taps0",
      INTERFACE_INDEX: "0",
      INTERFACE_UUID: UUID,
      LINK: "sw1",
      VLAN: "",
      TAGS: "ovs-vif:rx-rate:30M",
    };
    assert.is((await runBinary(ovs, [], { name: "kvm-vif-bridge", env })).code, 0);
    const before = await qosRows();
    assert.equal(before, { qos: 2, queues: 1 }, "its rows and the foreign QoS");
    await ovs.inNs("ip", ["link", "del", "taps0"]);
    const hook = {
      GANETI_HOOKS_VERSION: "2",
      GANETI_HOOKS_PHASE: "post",
      GANETI_HOOKS_PATH: path,
      GANETI_OBJECT_TYPE: "INSTANCE",
      GANETI_POST_INSTANCE_NAME: "inst1",
      GANETI_POST_INSTANCE_PRIMARY: "node1.example.com",
      GANETI_POST_INSTANCE_NIC_COUNT: "1",
      GANETI_OLD_PRIMARY: "node1.example.com",
      GANETI_NEW_PRIMARY: "node2.example.com",
      OVS_VIF_NODE_NAME: "node1.example.com",
    };
    const r = await runBinary(ovs, [], { env: hook });
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /removed taps0/);
    assert.equal(await qosRows(), { qos: 1, queues: 0 }, `${path}: the port's rows went with it; the foreign QoS stays`);
  }
});

test.run();
