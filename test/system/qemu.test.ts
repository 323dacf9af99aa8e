// Plain QEMU: a real qemu-system-x86_64 with -netdev tap,script=qemu-ifup,
// downscript=qemu-ifdown (symlinks to the binary), started inside the private
// OVS's network namespace with OVS_VIF_BRIDGE in its environment. QEMU runs
// the script with the tap's name when it opens the tap, and the downscript
// when it exits (QMP quit).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { portView } from "../harness/oracle.ts";

let ovs: OvsHandle;
let dir: string;
const qemus = new Set<ChildProcess>();

process.on("exit", () => {
  for (const q of qemus) q.kill("SIGKILL");
});

test.before(async () => {
  ovs = await startOvs();
  await ovs.addBridge("sw1");
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-qemu-"));
  for (const name of ["qemu-ifup", "qemu-ifdown"]) symlinkSync(BINARY, join(dir, name));
});

test.after(async () => {
  for (const q of qemus) q.kill("SIGKILL");
  await ovs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Qemu {
  child: ChildProcess;
  qmp: string;
  output(): string;
  exited: Promise<number>;
}

/** Starts QEMU (paused, no firmware run) with one tap NIC, in the OVS netns. */
function startQemu(tap: string, env: Record<string, string>, n: number): Qemu {
  const qmp = join(dir, `qmp${n}.sock`);
  const args = [
    "netns",
    "exec",
    ovs.ns,
    "qemu-system-x86_64",
    "-nodefaults",
    "-nographic",
    "-S",
    "-machine",
    "pc",
    "-m",
    "64",
    "-qmp",
    `unix:${qmp},server=on,wait=off`,
    "-netdev",
    `tap,id=n0,ifname=${tap},script=${join(dir, "qemu-ifup")},downscript=${join(dir, "qemu-ifdown")}`,
    "-device",
    "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:0" + (n % 10),
  ];
  const child = spawn("ip", args, { env: { ...process.env, ...ovs.env, OVS_VIF_SYSLOG: "0", ...env }, stdio: ["pipe", "pipe", "pipe"] });
  qemus.add(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number>((resolve) =>
    child.on("exit", (code, sig) => {
      qemus.delete(child);
      resolve(code ?? (sig ? 128 : -1));
    }),
  );
  return { child, qmp, output: () => out, exited };
}

/** A QMP command sequence; resolves with every reply line. */
function qmp(path: string, commands: string[], timeoutMs = 15000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    let buf = "";
    let sent = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`QMP ${path}: timeout, got ${buf}`));
    }, timeoutMs);
    sock.on("error", (err) => {
      clearTimeout(timer);
      // After "quit" QEMU may reset the connection instead of closing it.
      if (sent === commands.length) resolve(buf);
      else reject(err);
    });
    sock.on("data", (d) => {
      buf += d;
      // Greeting first, then one reply per command.
      const replies = buf.split("\n").filter((l) => l.includes('"return"') || l.includes('"error"') || l.includes('"QMP"')).length;
      while (sent < commands.length && replies > sent) sock.write(JSON.stringify({ execute: commands[sent++] }) + "\n");
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(buf);
    });
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const socketUp = (path: string) => () =>
  new Promise<true | undefined>((resolve) => {
    const s = connect({ path });
    s.on("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(undefined));
  });

const CASES: [string, Record<string, string>, string, number | null, number[], number][] = [
  ["access", { OVS_VIF_BRIDGE: "sw1.3" }, "access", 3, [], 0],
  ["hybrid with policing", { OVS_VIF_BRIDGE: "sw1.3:10:20", OVS_VIF_RATE: "10M", OVS_VIF_MAC: "52:54:00:00:00:02" }, "native-untagged", 3, [10, 20], 10000],
  ["trunk", { OVS_VIF_BRIDGE: "sw1:30" }, "trunk", null, [30], 0],
];

test("QEMU runs qemu-ifup on the tap: one port with explicit VLAN settings; QMP quit runs qemu-ifdown: port removed", async () => {
  let n = 1;
  for (const [what, env, mode, tag, trunks, rate] of CASES) {
    const tap = `qtap${n}`;
    const q = startQemu(tap, env, n++);
    // QEMU opens its QMP socket before it sets up the netdev: wait for the port.
    await waitFor(`QMP socket of ${what}`, socketUp(q.qmp));
    const p = await waitFor(`port ${tap} (${q.output()})`, () => portView(ovs, tap));
    assert.ok(p, `${what}: port exists once QEMU is up (${q.output()})`);
    assert.is(p!.bridge, "sw1");
    assert.is(p!.vlan_mode, mode, what);
    assert.is(p!.tag, tag);
    assert.equal(p!.trunks, trunks);
    assert.is(p!.portIds["ovs-vif-owner"], "qemu");
    assert.is(p!.rate, rate);
    if (env.OVS_VIF_MAC) assert.is(p!.ifaceIds["attached-mac"], env.OVS_VIF_MAC);
    assert.ok((p!.ofport ?? -1) > 0, "vswitchd opened the tap");
    assert.match((await ovs.inNs("ip", ["-o", "link", "show", tap])).stdout, /[<,]UP[,>]/);
    assert.match(q.output(), new RegExp(`qemu-ifup: up ok device=${tap} bridge=sw1 vlan_mode=${mode}`));
    console.log(`  QEMU ${what}: port ${tap} on sw1 vlan_mode=${mode} tag=${tag ?? "-"} trunks=[${trunks.join(",")}] rate=${rate}`);
    await qmp(q.qmp, ["qmp_capabilities", "quit"]);
    assert.is(await q.exited, 0, `QEMU exit: ${q.output()}`);
    assert.is(await portView(ovs, tap), undefined, `${what}: port removed by qemu-ifdown`);
    assert.match(q.output(), new RegExp(`qemu-ifdown: down ok device=${tap} bridge=sw1 removed=1`));
    console.log(`  QEMU ${what}: after QMP quit, port ${tap} removed`);
  }
});

test("bad OVS_VIF_BRIDGE: QEMU refuses to start, our one line in its output, OVSDB unchanged", async () => {
  const before = await ovs.dump();
  for (const [bridge, message] of [
    ["sw1.5000", 'qemu-ifup: error: OVS_VIF_BRIDGE "sw1.5000": VLAN id 5000 out of range 1..4094'],
    ["nosuch.3", 'qemu-ifup: error: OVS_VIF_BRIDGE "nosuch": no such bridge in OVSDB'],
    ["", 'qemu-ifup: error: OVS_VIF_BRIDGE "": not set'],
  ] as const) {
    const q = startQemu("qtap9", { OVS_VIF_BRIDGE: bridge }, 9);
    const code = await q.exited;
    assert.ok(code !== 0, `QEMU must fail for ${JSON.stringify(bridge)}`);
    assert.ok(q.output().includes(message), `${bridge}: ${q.output()}`);
    assert.match(q.output(), /network script .*qemu-ifup failed/);
  }
  assert.is(await ovs.dump(), before);
});

test("by hand: ovs-vif qemu-ifup/qemu-ifdown argument checks; ifdown of an absent port succeeds", async () => {
  let r = await runBinary(ovs, ["qemu-ifup"], { env: { OVS_VIF_BRIDGE: "sw1" } });
  assert.is(r.code, 2, "a missing argument is a usage error");
  assert.is(r.stderr.trim(), 'ovs-vif qemu-ifup: error: argument 1 (tap) "": missing: QEMU passes the tap\'s name');
  r = await runBinary(ovs, ["qemu-ifup", "tap;x"], { env: { OVS_VIF_BRIDGE: "sw1" } });
  assert.match(r.stderr, /argument 1 \(tap\) "tap;x": interface name contains ";"/);
  r = await runBinary(ovs, ["qemu-ifup", "nosuchtap"], { env: { OVS_VIF_BRIDGE: "sw1", OVS_VIF_RATE: "fast" } });
  assert.match(r.stderr, /OVS_VIF_RATE "fast": expected a number/);
  r = await runBinary(ovs, ["nosuchtap"], { name: "qemu-ifdown" });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /qemu-ifdown: down ok device=nosuchtap removed=0/);
});

test.run();
