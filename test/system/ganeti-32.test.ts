// Ganeti 3.2's KVM NIC contract with a real guest: kvm-nic-setup TAP
// (harness/ganeti-nic-setup.ts: upstream's own with OVS_VIF_GANETI_SRC, else
// a stand-in) dispatching to ovs-vif's /etc/ganeti/network/openvswitch/
// {up,down}, driven in the order lib/hypervisor/hv_kvm drives it, and the
// post hooks Ganeti runs after each job. Two "nodes": two private OVS, each
// in its own network namespace, their bridges joined by a trunk veth; a
// ping peer on node A (VLAN 3); one guest (harness/guest.ts) under TCG.
// Events, each printed as a row of the table at the end:
//   start            tap opened, up (no MIGRATION_PHASE), then the guest runs
//   hot-add          up for the new tap, then device_add
//   hot-remove       device_del + netdev_del: no down; the modify post hook
//   migration        target: up (no MIGRATION_PHASE) before the incoming QEMU
//                    runs; source: down before QEMU is killed; post hooks
//   failed migration target QEMU killed, then down there; source continues
//   power-down       ACPI request, down at once and on Ganeti's retry while the
//                    guest shuts down (7 s), then QEMU exits; stop post hook
//   forced stop      QEMU killed, then down
// Addresses: 198.51.100.16/28 (guest .20 and .21, peer .17), VLAN 3.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nicSetup, type NicSetup } from "../harness/ganeti-nic-setup.ts";
import { guestImage, type GuestImage } from "../harness/guest.ts";
import { portView } from "../harness/oracle.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { pingStats, type PingStats } from "../harness/ping.ts";
import { must, sh } from "../harness/proc.ts";
import { migrate, startQemuGuest, type QemuGuest } from "../harness/qemu-guest.ts";
import { onExit } from "../harness/teardown.ts";
import { addVmNetns, type VmNetns } from "../harness/vm.ts";

const INST = "inst1.example.com";
const BR = "gntbr";
const NICS = [
  { tap: "tap0", mac: "aa:00:00:00:32:01", uuid: "32323232-0000-4000-8000-000000000001", ip: "198.51.100.20" },
  { tap: "tap1", mac: "aa:00:00:00:32:02", uuid: "32323232-0000-4000-8000-000000000002", ip: "198.51.100.21" },
] as const;
const TAGS = "ovs-vif:rate:100M";
const SHUTDOWN_S = 7;

let dispatcher: NicSetup;
let image: GuestImage;
let A: OvsHandle;
let B: OvsHandle;
let peer: VmNetns;
let dir: string;
let guest: QemuGuest | undefined;
const rows: string[][] = [["event", "what ovs-vif did", "port state", "guest connectivity"]];
const row = (...r: string[]) => {
  rows.push(r);
  console.log(`  ${r.join(" | ")}`);
};

test.before(async () => {
  dispatcher = nicSetup();
  console.log(`  kvm-nic-setup: ${dispatcher.source}`);
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-g32-"));
  const img = guestImage();
  img.catch(() => undefined);
  [A, B] = await Promise.all([startOvs(), startOvs()]);
  for (const n of [A, B]) await n.addBridge(BR);
  await must("ip", ["link", "add", "up0", "netns", A.ns, "type", "veth", "peer", "name", "up0", "netns", B.ns]);
  for (const n of [A, B]) {
    await n.inNs("ip", ["link", "set", "up0", "up"]);
    await n.vsctl("add-port", BR, "up0", "--", "set", "port", "up0", "vlan_mode=trunk");
  }
  peer = await addVmNetns(A.ns, "ppeer", { mac: "02:00:00:00:32:ff", ip: "198.51.100.17" });
  await A.vsctl("add-port", BR, peer.hostIf, "--", "set", "port", peer.hostIf, "tag=3", "vlan_mode=access");
  image = await img;
});

test.after(async () => {
  guest?.kill();
  await Promise.all([A?.stop(), B?.stop()]);
  dispatcher?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(
    `  Ganeti 3.2's events (kvm-nic-setup: ${dispatcher?.source}):\n${rows.map((r) => `    ${r.map((v, c) => v.padEnd(widths[c]!)).join(" | ")}`).join("\n")}`,
  );
});

/** hv_base.ConfigureNIC's environment for NIC i (no MIGRATION_PHASE: openvswitch NICs never get one). */
function nicEnv(i: number, action: "up" | "down"): Record<string, string> {
  const n = NICS[i]!;
  return {
    INSTANCE: INST,
    MAC: n.mac,
    MODE: "openvswitch",
    INTERFACE: n.tap,
    INTERFACE_INDEX: String(i),
    INTERFACE_UUID: n.uuid,
    TAGS,
    ACTION: action,
    LINK: BR,
    VLAN: ".3",
  };
}

/** kvm-nic-setup TAP on a node, as hv_kvm runs it; its output. */
async function nicScript(node: OvsHandle, i: number, action: "up" | "down"): Promise<string> {
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", OVS_VIF_SYSLOG: "0", ...node.env, ...dispatcher.env, ...nicEnv(i, action) };
  const r = await sh("ip", ["netns", "exec", node.ns, "env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), dispatcher.script, NICS[i]!.tap]);
  assert.is(r.code, 0, `kvm-nic-setup ${action} ${NICS[i]!.tap}: ${r.stdout}${r.stderr}`);
  return (r.stdout + r.stderr).trim();
}

/** The instance post hook of `path` on a node (as Ganeti runs it after the job), with the instance's NICs now. */
async function postHook(node: OvsHandle, path: string, name: string, primary: string, nics: number[], extra: Record<string, string> = {}): Promise<string> {
  const env: Record<string, string> = {
    GANETI_HOOKS_VERSION: "2",
    GANETI_HOOKS_PHASE: "post",
    GANETI_HOOKS_PATH: path,
    GANETI_OBJECT_TYPE: "INSTANCE",
    OVS_VIF_NODE_NAME: name,
    GANETI_POST_INSTANCE_NAME: INST,
    GANETI_POST_INSTANCE_PRIMARY: primary,
    GANETI_POST_INSTANCE_TAGS: TAGS,
    GANETI_POST_INSTANCE_NIC_COUNT: String(nics.length),
    ...extra,
  };
  nics.forEach((i, k) =>
    Object.assign(env, {
      [`GANETI_POST_INSTANCE_NIC${k}_UUID`]: NICS[i]!.uuid,
      [`GANETI_POST_INSTANCE_NIC${k}_MAC`]: NICS[i]!.mac,
      [`GANETI_POST_INSTANCE_NIC${k}_MODE`]: "openvswitch",
      [`GANETI_POST_INSTANCE_NIC${k}_LINK`]: BR,
      [`GANETI_POST_INSTANCE_NIC${k}_VLAN`]: ".3",
    }),
  );
  const r = await runBinary(node, [], { env });
  assert.is(r.code, 0, `${path} post hook on ${name}: ${r.stdout}${r.stderr}`);
  return (r.stdout + r.stderr).trim();
}

const ports = async (node: OvsHandle) => (await Promise.all(NICS.map((n) => portView(node, n.tap)))).filter((p) => p !== undefined);
const where = async () =>
  `A: ${(await ports(A)).map((p) => `${p.name} tag ${p.tag}`).join(", ") || "none"}; B: ${(await ports(B)).map((p) => `${p.name} tag ${p.tag}`).join(", ") || "none"}`;

async function answers(ip: string, count = 3): Promise<number> {
  const r = await peer.exec("ping", ["-n", "-c", String(count), "-i", "0.2", "-W", "1", ip], { timeoutMs: 30000 });
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
}

async function waitAnswer(ip: string, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) if ((await answers(ip, 1)) === 1) return Date.now() - t0;
  throw new Error(`no answer from ${ip} within ${ms} ms: ${guest?.output().slice(-2000)}`);
}

/** A ping every 50 ms from the peer until stop(). */
function continuous(ip: string): { stop(): Promise<PingStats> } {
  const child = spawn("ip", ["netns", "exec", peer.ns, "ping", "-n", "-D", "-i", "0.05", "-W", "1", ip], { stdio: ["ignore", "pipe", "ignore"] });
  onExit(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const done = new Promise<void>((r) => child.on("exit", () => r()));
  return {
    async stop() {
      child.kill("SIGINT");
      await done;
      return pingStats(out);
    },
  };
}

const describe = (s: PingStats) => `${s.received} of ${s.sent} answered, longest gap ${s.longestGapMs} ms`;
const qmpPath = (n: string) => join(dir, `${n}.qmp`);

test("start: up before the guest runs (one port, access VLAN 3, 100M from the tag); the guest answers once booted", async () => {
  guest = await startQemuGuest({
    ns: A.ns,
    image,
    net: { untagged: "198.51.100.20/28", second: "198.51.100.21/28", shutdownSeconds: SHUTDOWN_S },
    nics: [NICS[0]],
    qmp: qmpPath("a1"),
  });
  const out = await nicScript(A, 0, "up");
  const p = (await portView(A, "tap0"))!;
  assert.equal([p.vlan_mode, p.tag, p.rate, p.ifaceIds["ganeti-nic-uuid"]], ["access", 3, 100000, NICS[0].uuid]);
  await guest.qmp("cont");
  const ms = await waitAnswer(NICS[0].ip, 90000);
  assert.match(out, /up ok .*device=tap0 link=gntbr vlan_mode=access vlan="access 3"/);
  row("start", "up: tap0 access VLAN 3, 100M, before the guest runs", await where(), `answers ${(ms / 1000).toFixed(1)} s after cont (boot)`);
});

test("hot-add: up for the new tap, then device_add: its port has VLAN and QoS; the guest's eth1 answers", async () => {
  await guest!.qmp("netdev_add", { type: "tap", id: "n1", ifname: "tap1", script: "no", downscript: "no" });
  await nicScript(A, 1, "up");
  await guest!.qmp("device_add", { driver: "virtio-net-pci", netdev: "n1", id: "nic1", mac: NICS[1].mac, ctrl_vlan: false });
  const p = (await portView(A, "tap1"))!;
  assert.equal([p.vlan_mode, p.tag, p.rate], ["access", 3, 100000]);
  const ms = await waitAnswer(NICS[1].ip, 30000);
  row("hot-add", "up tap1: port with VLAN .3, 100M", await where(), `eth1 answers ${(ms / 1000).toFixed(1)} s after device_add`);
});

test("hot-remove: no down runs; the tap goes with netdev_del; the instance-modify post hook removes its port; eth0 still answers", async () => {
  const deleted = guest!.event("DEVICE_DELETED");
  await guest!.qmp("device_del", { id: "nic1" });
  await deleted;
  await guest!.qmp("netdev_del", { id: "n1" });
  assert.ok((await portView(A, "tap1")) !== undefined, "the port of the vanished tap is still there: nothing ran");
  const out = await postHook(A, "instance-modify", "a", "a", [0]);
  assert.match(out, /removed tap1 from gntbr .*device gone/);
  assert.is(await portView(A, "tap1"), undefined);
  assert.is(await answers(NICS[0].ip), 3);
  row("hot-remove", "no down; instance-modify post hook removed tap1", await where(), "eth0 3 of 3");
});

test("live migration A -> B: up on B (no MIGRATION_PHASE) before the incoming QEMU runs; down on A before its QEMU is killed leaves the port; the post hooks remove it; pings across", async () => {
  const incoming = join(dir, "mig-ab.sock");
  const target = await startQemuGuest({ ns: B.ns, image, net: { untagged: "198.51.100.20/28" }, nics: [NICS[0]], qmp: qmpPath("b1"), incoming });
  await nicScript(B, 0, "up");
  const ping = continuous(NICS[0].ip);
  await new Promise((r) => setTimeout(r, 300));
  const status = await migrate(guest!, incoming);
  assert.is(status, "completed", guest!.output().slice(-500));
  await target.qmp("cont");
  // FinalizeMigrationSource(success): down, then KillProcess.
  const down = await nicScript(A, 0, "down");
  assert.match(down, /kept="the device still exists/);
  const keptOnA = (await portView(A, "tap0")) !== undefined;
  guest!.kill("SIGTERM");
  await guest!.exited;
  guest = target;
  await new Promise((r) => setTimeout(r, 1000));
  const stats = await ping.stop();
  const old = await postHook(A, "instance-migrate", "a", "a", [0], { GANETI_OLD_PRIMARY: "a", GANETI_NEW_PRIMARY: "b" });
  await postHook(B, "instance-migrate", "b", "a", [0], { GANETI_OLD_PRIMARY: "a", GANETI_NEW_PRIMARY: "b" });
  assert.match(old, /removed tap0 from gntbr/);
  assert.ok(keptOnA);
  assert.equal((await ports(A)).length, 0);
  assert.is((await portView(B, "tap0"))!.tag, 3);
  assert.ok(stats.lost <= 10 && stats.longestGapMs < 2000, describe(stats));
  row(
    "migration A -> B",
    "up on B; down on A kept tap0 (QEMU alive); old primary's post hook removed it",
    await where(),
    `ping every 50 ms: ${describe(stats)}`,
  );
});

test("failed migration B -> A: the target's QEMU dies, down there removes its port; the source continues, no down there", async () => {
  const incoming = join(dir, "mig-ba.sock");
  const target = await startQemuGuest({ ns: A.ns, image, net: { untagged: "198.51.100.20/28" }, nics: [NICS[0]], qmp: qmpPath("a2"), incoming });
  await nicScript(A, 0, "up");
  assert.ok(await portView(A, "tap0"), "target plugged");
  const migrating = migrate(guest!, incoming);
  target.kill("SIGKILL");
  await target.exited;
  assert.is.not(await migrating, "completed");
  await guest!.qmp("cont").catch(() => undefined);
  // FinalizeMigrationDst(failure) -> StopInstance(force): QEMU killed, then down.
  const down = await nicScript(A, 0, "down");
  assert.match(down, /removed=1/);
  assert.is(await portView(A, "tap0"), undefined);
  assert.is(await answers(NICS[0].ip), 3, "the guest still runs on B");
  row("failed migration B -> A", "up on A; target QEMU killed; down on A removed it", await where(), "3 of 3 (on B)");
});

test("power-down: down right after the ACPI request and on Ganeti's retry leaves the port while the guest shuts down; after QEMU exits the stop post hook removes it", async () => {
  const ping = continuous(NICS[0].ip);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  let downs = 0;
  // backend.InstanceShutdown: StopInstance (powerdown + down), then every 5 s while it runs.
  for (;;) {
    await guest!.qmp("system_powerdown").catch(() => undefined);
    assert.match(await nicScript(B, 0, "down"), /kept="the device still exists/);
    downs++;
    const exited = await Promise.race([guest!.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (exited) break;
    assert.ok(Date.now() - t0 < 60000, `the guest did not power off: ${guest!.output().slice(-1000)}`);
  }
  const offAfter = Date.now() - t0;
  const stats = await ping.stop();
  assert.match(guest!.output(), /ovsvif-guest: power button/);
  assert.ok(stats.received > (SHUTDOWN_S - 1) * 10, `pings answered while it shut down: ${describe(stats)}`);
  assert.ok((await portView(B, "tap0")) !== undefined, "port left until the hook");
  const stop = await postHook(B, "instance-stop", "b", "b", [0]);
  assert.match(stop, /removed tap0 from gntbr .*device gone/);
  assert.equal((await ports(B)).length, 0);
  guest = undefined;
  row(
    "power-down (ACPI)",
    `down ×${downs}: kept (device exists); instance-stop post hook removed it after QEMU exited`,
    await where(),
    `answered through its ${(offAfter / 1000).toFixed(1)} s shutdown: ${describe(stats)}`,
  );
});

test("forced stop: QEMU killed, then down removes the port at once", async () => {
  guest = await startQemuGuest({ ns: B.ns, image, net: { untagged: "198.51.100.20/28" }, nics: [NICS[0]], qmp: qmpPath("b2") });
  await nicScript(B, 0, "up");
  await guest.qmp("cont");
  await waitAnswer(NICS[0].ip, 90000);
  guest.kill("SIGTERM");
  await guest.exited;
  guest = undefined;
  const down = await nicScript(B, 0, "down");
  assert.match(down, /removed=1/);
  assert.equal((await ports(B)).length, 0);
  assert.is(await answers(NICS[0].ip, 2), 0);
  row("forced stop", "down after QEMU died: removed tap0", await where(), "none (the guest is gone)");
});

test.run();
