// `ovs-vif watch` on a private OVS: the port of a device deleted without any
// hook goes at once; ports it did not create, and a port whose device came
// back, stay; a stale port left while it was not running goes at its start.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { portView } from "../harness/oracle.ts";
import { BINARY, runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let watcher: ChildProcess | undefined;
let watchLog = "";

test.before(async () => {
  ovs = await startOvs();
  await ovs.addBridge("sw1");
});

test.after(async () => {
  watcher?.kill("SIGKILL");
  await ovs?.stop();
});

function startWatch(): ChildProcess {
  const env = { ...process.env, ...ovs.env, OVS_VIF_SYSLOG: "0" };
  const child = spawn("ip", ["netns", "exec", ovs.ns, BINARY, "watch", "--sweep", "600"], { env, stdio: ["ignore", "ignore", "pipe"] });
  child.stderr!.on("data", (d) => (watchLog += d));
  return child;
}

async function until(what: string, cond: () => Promise<boolean>, ms = 5000): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms; watch said: ${watchLog}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

const attach = async (tap: string) => {
  await ovs.addTap(tap);
  const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", tap, "--vlan", ".3"]);
  assert.is(r.code, 0, r.stderr);
};

test("a stale port left while the watcher was not running goes when it starts", async () => {
  await attach("tap0");
  await ovs.inNs("ip", ["link", "del", "tap0"]);
  assert.ok(await portView(ovs, "tap0"), "stale row, nothing removed it yet");
  watcher = startWatch();
  const ms = await until("the start sweep removes tap0", async () => (await portView(ovs, "tap0")) === undefined);
  await until("its line is logged", async () => /watch: removed tap0 from sw1 \(owner cli\): device gone/.test(watchLog));
  console.log(`  start sweep: stale tap0 removed ${ms} ms after the watcher started`);
});

test("a device deleted without any hook: its port goes at once, the others stay", async () => {
  await attach("tap1");
  await attach("tap2");
  await until("watching", async () => watchLog.includes("watching link deletions"));
  const t0 = Date.now();
  await ovs.inNs("ip", ["link", "del", "tap1"]);
  await until("tap1's port removed", async () => (await portView(ovs, "tap1")) === undefined, 3000);
  const ms = Date.now() - t0;
  assert.ok(await portView(ovs, "tap2"), "tap2 untouched");
  assert.ok(ms < 1500, `removed within ${ms} ms`);
  console.log(`  tap1 deleted: its port removed ${ms} ms later (ip link del to gone in OVSDB, measured by ovs-vsctl polling)`);
});

test("a port ovs-vif did not create is never removed, even when its device is gone", async () => {
  await ovs.addTap("foreign0");
  await ovs.vsctl("add-port", "sw1", "foreign0");
  await ovs.inNs("ip", ["link", "del", "foreign0"]);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(await portView(ovs, "foreign0"), "the foreign port stays");
  await ovs.vsctl("del-port", "sw1", "foreign0");
});

test("a device that comes back under the same name, re-attached, keeps its new port", async () => {
  for (let i = 0; i < 5; i++) {
    await ovs.inNs("ip", ["link", "del", "tap2"]);
    await attach("tap2");
    await new Promise((r) => setTimeout(r, 300));
    const p = await portView(ovs, "tap2");
    assert.ok(p, `round ${i}: the re-attached port stays`);
    assert.ok((p!.ofport ?? -1) > 0, `round ${i}: attached`);
  }
});

test("SIGTERM ends the watcher with exit 0", async () => {
  const exited = new Promise<number | null>((resolve) => watcher!.on("exit", (code) => resolve(code)));
  // ip netns exec passes the signal on by exec'ing the binary.
  watcher!.kill("SIGTERM");
  assert.is(await exited, 0);
  watcher = undefined;
});

test.run();
