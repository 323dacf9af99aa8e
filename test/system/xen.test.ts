// The Xen hook (vif-openvswitch) on a real OVS and a real xenstored, run as
// the compiled binary exactly as Xen runs it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOvs, runBinary, type OvsHandle } from "../harness/ovs.ts";
import { startXenstored, type XenstoredHandle } from "../harness/xenstore.ts";
import { makeXenVif, xenHotplug } from "../harness/xen-domain.ts";
import { listPorts, odpPorts, portView } from "../harness/oracle.ts";
import { must } from "../harness/proc.ts";

let ovs: OvsHandle;
let xs: XenstoredHandle;
let xsDir: string;
const scratch: string[] = [];

test.before(async () => {
  ovs = await startOvs();
  xsDir = mkdtempSync(join(tmpdir(), "ovs-vif-xs-"));
  xs = await startXenstored(xsDir);
  await ovs.addBridge("sw1");
  await ovs.addBridge("sw2");
});

test.after(async () => {
  await xs?.stop();
  await ovs?.stop();
  rmSync(xsDir, { recursive: true, force: true });
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

const EXPECTED: [string, string, number | null, number[]][] = [
  ["sw1", "access", null, []],
  ["sw1.3", "access", 3, []],
  ["sw1:10:20", "trunk", null, [10, 20]],
  ["sw1.3:10:20", "native-untagged", 3, [10, 20]],
];

test("online: the four bridge forms map to explicit vlan_mode, tag, trunks, with external ids and hotplug-status", async () => {
  let domid = 1;
  for (const [bridge, mode, tag, trunks] of EXPECTED) {
    const vif = await makeXenVif(ovs, xs, domid++, { bridge });
    const r = await xenHotplug(ovs, xs, vif, "online", ["type_if=vif"]);
    assert.is(r.code, 0, `${bridge}: ${r.stderr}`);
    const p = await portView(ovs, vif.device);
    assert.ok(p, `${bridge}: port exists`);
    assert.is(p!.bridge, "sw1");
    assert.is(p!.vlan_mode, mode, `${bridge} vlan_mode`);
    assert.is(p!.tag, tag, `${bridge} tag`);
    assert.equal(p!.trunks, trunks, `${bridge} trunks`);
    assert.equal(p!.ifaceIds, { "xen-vm-name": vif.name, "xen-vm-uuid": vif.uuid, "attached-mac": vif.mac });
    assert.is(p!.portIds["ovs-vif-owner"], "xen");
    assert.is(p!.mtu_request, 1500, "MTU follows the bridge");
    assert.ok((p!.ofport ?? -1) > 0, "vswitchd gave it an OpenFlow port");
    assert.is(await xs.read(`${vif.backend}/hotplug-status`), "connected");
    assert.is(await xs.read(`${vif.backend}/hotplug-error`), undefined);
    const link = await ovs.inNs("ip", ["-o", "link", "show", vif.device]);
    assert.match(link.stdout, /link\/ether fe:ff:ff:ff:ff:ff/, "backend MAC set like Xen's scripts");
    assert.match(link.stdout, /[<,]UP[,>]/, "link up after the transaction");
  }
  const log = readFileSync(join(ovs.dir, "xen-hotplug.log"), "utf8");
  assert.match(log, /online ok vm=dom4 device=vif4\.0 bridge=sw1 vlan_mode=native-untagged vlan="hybrid 3\+10,20"/);
});

test("offline removes the port and downs the link; offline of an absent port succeeds", async () => {
  const vif = await makeXenVif(ovs, xs, 5, { bridge: "sw1.7" });
  assert.is((await xenHotplug(ovs, xs, vif, "online")).code, 0);
  assert.ok(await portView(ovs, vif.device));
  const r = await xenHotplug(ovs, xs, vif, "offline");
  assert.is(r.code, 0, r.stderr);
  assert.is(await portView(ovs, vif.device), undefined);
  const link = await ovs.inNs("ip", ["-o", "link", "show", vif.device]);
  assert.not.match(link.stdout, /[<,]UP[,>]/);
  const again = await xenHotplug(ovs, xs, vif, "offline");
  assert.is(again.code, 0, again.stderr);
});

test("without bun:ffi (OVS_VIF_NO_FFI=1) the iproute2 fallback prepares and raises the link the same way", async () => {
  const vif = await makeXenVif(ovs, xs, 8, { bridge: "sw1.9", vifname: "noffi0" });
  const r = await xenHotplug(ovs, xs, vif, "online", [], { OVS_VIF_NO_FFI: "1" });
  assert.is(r.code, 0, r.stderr);
  const link = await ovs.inNs("ip", ["-o", "link", "show", "noffi0"]);
  assert.match(link.stdout, /link\/ether fe:ff:ff:ff:ff:ff/);
  assert.match(link.stdout, /[<,]UP[,>]/);
  assert.is((await portView(ovs, "noffi0"))!.tag, 9);
  const off = await xenHotplug(ovs, xs, vif, "offline", [], { OVS_VIF_NO_FFI: "1" });
  assert.is(off.code, 0, off.stderr);
  assert.not.match((await ovs.inNs("ip", ["-o", "link", "show", "noffi0"])).stdout, /[<,]UP[,>]/);
});

test("online twice replaces the port (one port, new settings)", async () => {
  const vif = await makeXenVif(ovs, xs, 6, { bridge: "sw1.3" });
  assert.is((await xenHotplug(ovs, xs, vif, "online")).code, 0);
  await xs.write(`${vif.backend}/bridge`, "sw2:40");
  const r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 0, r.stderr);
  const p = await portView(ovs, vif.device);
  assert.is(p!.bridge, "sw2");
  assert.is(p!.vlan_mode, "trunk");
  assert.equal(p!.trunks, [40]);
  assert.not.ok((await listPorts(ovs, "sw1")).includes(vif.device), "gone from the old bridge");
});

const BAD: [string, RegExp][] = [
  ["sw1.5000", /"sw1\.5000".*out of range/],
  ["sw1.0", /"sw1\.0".*out of range/],
  ["sw1..3", /"sw1\.\.3".*empty VLAN id/],
  ["sw1.3:", /"sw1\.3:".*empty VLAN id/],
  ["sw1;reboot", /"sw1;reboot".*";"/],
  ["sw9", /bridge "sw9": no such bridge/],
];

test("bad bridge strings and a missing bridge: exit 1, message names the value, hotplug-error, OVSDB unchanged", async () => {
  let domid = 40;
  for (const [bridge, pattern] of BAD) {
    const vif = await makeXenVif(ovs, xs, domid++, { bridge });
    const before = await ovs.dump();
    const r = await xenHotplug(ovs, xs, vif, "online");
    assert.is(r.code, 1, `${bridge} exit code`);
    const lines = r.stderr.trim().split("\n");
    assert.is(lines.length, 1, `${bridge}: one line on stderr: ${r.stderr}`);
    assert.match(lines[0]!, pattern, `${bridge}: ${lines[0]}`);
    assert.match((await xs.read(`${vif.backend}/hotplug-error`)) ?? "", pattern);
    assert.is(await xs.read(`${vif.backend}/hotplug-status`), "error");
    assert.is(await ovs.dump(), before, `${bridge}: OVSDB byte-identical`);
  }
});

test("a missing device fails cleanly and leaves OVSDB unchanged", async () => {
  const vif = await makeXenVif(ovs, xs, 50, { bridge: "sw1.3" }, { createDevice: false });
  const before = await ovs.dump();
  const r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 1);
  assert.match(r.stderr, /"vif50\.0": no such network device/);
  assert.is(await xs.read(`${vif.backend}/hotplug-status`), "error");
  assert.is(await ovs.dump(), before);
});

function deadSocketDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-dead-"));
  scratch.push(dir);
  return dir;
}

test("a dead OVSDB (socket with no server) fails fast with the cause, writes hotplug-error", async () => {
  const dir = deadSocketDir();
  // A bound but never listening socket: connect() is refused, like a crashed ovsdb-server's leftover.
  await must("python3", ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", join(dir, "db.sock")]);
  const vif = await makeXenVif(ovs, xs, 51, { bridge: "sw1.3" });
  const before = await ovs.dump();
  const started = Date.now();
  const r = await xenHotplug(ovs, xs, vif, "online", [], { OVS_RUNDIR: dir });
  assert.is(r.code, 1);
  assert.match(r.stderr, /OVSDB unix:.*db\.sock: ECONNREFUSED/);
  assert.match((await xs.read(`${vif.backend}/hotplug-error`)) ?? "", /ECONNREFUSED/);
  assert.ok(Date.now() - started < 10_000, "fails quickly");
  assert.is(await ovs.dump(), before);
  const link = await ovs.inNs("ip", ["-o", "link", "show", vif.device]);
  assert.not.match(link.stdout, /fe:ff:ff:ff:ff:ff/, "device untouched when OVSDB is unreachable");
});

test("a hung OVSDB (accepts, never answers) fails within the timeout instead of hanging", async () => {
  const dir = deadSocketDir();
  const sockets: import("node:net").Socket[] = [];
  const server: Server = createServer((s) => sockets.push(s));
  await new Promise<void>((res) => server.listen(join(dir, "db.sock"), res));
  try {
    const vif = await makeXenVif(ovs, xs, 52, { bridge: "sw1.3" });
    const started = Date.now();
    const r = await xenHotplug(ovs, xs, vif, "online", [], { OVS_RUNDIR: dir, OVS_VIF_TIMEOUT: "2" });
    const took = Date.now() - started;
    assert.is(r.code, 1);
    assert.match(r.stderr, /no answer to transact within/);
    assert.ok(took < 15_000, `bounded (${took} ms)`);
    assert.is(await xs.read(`${vif.backend}/hotplug-status`), "error");
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test("vifname renames the device and names the port; an existing name is refused", async () => {
  const vif = await makeXenVif(ovs, xs, 60, { bridge: "sw1.3", vifname: "web1e0" });
  const r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 0, r.stderr);
  assert.ok(await portView(ovs, "web1e0"));
  assert.is(await portView(ovs, vif.device), undefined);
  assert.is((await ovs.inNs("ip", ["link", "show", "web1e0"])).code, 0);
  const off = await xenHotplug(ovs, xs, vif, "offline");
  assert.is(off.code, 0, off.stderr);
  assert.is(await portView(ovs, "web1e0"), undefined);

  const clash = await makeXenVif(ovs, xs, 61, { bridge: "sw1.3", vifname: "web1e0" });
  const before = await ovs.dump();
  const r2 = await xenHotplug(ovs, xs, clash, "online");
  assert.is(r2.code, 1);
  assert.match(r2.stderr, /vifname "web1e0".*already exists/);
  assert.is(await ovs.dump(), before);
});

test("type_if pairs: tap twin on add/remove, no-ops for online+tap and add+vif", async () => {
  const vif = await makeXenVif(ovs, xs, 62, { bridge: "sw1:5" }, { createDevice: false });
  const emu = `${vif.device}-emu`;
  await ovs.addTap(emu);
  const noop1 = await runBinary(ovs, ["online", "type_if=tap"], { name: "vif-openvswitch", env: { ...xs.env, INTERFACE: emu } });
  assert.is(noop1.code, 0);
  const noop2 = await xenHotplug(ovs, xs, vif, "add");
  assert.is(noop2.code, 0);
  assert.is(await portView(ovs, emu), undefined, "no-op pairs do nothing");
  // The toolstack gives the tap twin INTERFACE only; the backend path follows from its name.
  const add = await runBinary(ovs, ["add", "type_if=tap"], { name: "vif-openvswitch", env: { ...xs.env, INTERFACE: emu } });
  assert.is(add.code, 0, add.stderr);
  const p = await portView(ovs, emu);
  assert.is(p!.vlan_mode, "trunk");
  assert.equal(p!.trunks, [5]);
  const rm = await runBinary(ovs, ["remove", "type_if=tap"], { name: "vif-openvswitch", env: { ...xs.env, INTERFACE: emu } });
  assert.is(rm.code, 0, rm.stderr);
  assert.is(await portView(ovs, emu), undefined);
});

test("bridge= argument when xenstore has none; xenstore mtu; backend vlan key wins over the suffix", async () => {
  const a = await makeXenVif(ovs, xs, 63, {});
  const r = await xenHotplug(ovs, xs, a, "online", ["bridge=sw2.9"]);
  assert.is(r.code, 0, r.stderr);
  let p = await portView(ovs, a.device);
  assert.is(p!.bridge, "sw2");
  assert.is(p!.tag, 9);

  const b = await makeXenVif(ovs, xs, 64, { bridge: "sw1.3", mtu: "1400", vlan: "10pu/20/30" });
  const r2 = await xenHotplug(ovs, xs, b, "online");
  assert.is(r2.code, 0, r2.stderr);
  p = await portView(ovs, b.device);
  assert.is(p!.bridge, "sw1");
  assert.is(p!.vlan_mode, "native-untagged");
  assert.is(p!.tag, 10);
  assert.equal(p!.trunks, [20, 30]);
  assert.is(p!.mtu_request, 1400);

  const c = await makeXenVif(ovs, xs, 65, { bridge: "sw1", vlan: "20u" });
  const before = await ovs.dump();
  const r3 = await xenHotplug(ovs, xs, c, "online");
  assert.is(r3.code, 1);
  assert.match(r3.stderr, /vlan "20u"/);
  assert.is(await ovs.dump(), before);
});

test("QoS: the backend rate key (xl rate=) becomes ingress policing; node defaults apply without it; removal resets to 0", async () => {
  const vif = await makeXenVif(ovs, xs, 67, { bridge: "sw1.3", rate: "250000,20000" });
  let r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 0, r.stderr);
  let p = await portView(ovs, vif.device);
  assert.is(p!.rate, 100000, "250000 bytes per 20 ms = 100 Mbit/s");
  assert.is(p!.burst, 1953, "the 250000-byte credit as burst");

  const dir = deadSocketDir();
  const defaults = join(dir, "defaults.json");
  writeFileSync(defaults, JSON.stringify({ version: 1, default: { rate: "1G" }, bridges: { sw2: { rate: "10M", burst: "1M" } } }));
  await xs.rm(`${vif.backend}/rate`);
  r = await xenHotplug(ovs, xs, vif, "online", [], { OVS_VIF_DEFAULTS: defaults });
  assert.is(r.code, 0, r.stderr);
  p = await portView(ovs, vif.device);
  assert.equal([p!.rate, p!.burst], [1000000, 781250], "node default for other bridges, burst 80%");

  r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 0, r.stderr);
  p = await portView(ovs, vif.device);
  assert.equal([p!.rate, p!.burst], [0, 0], "no source left: policing removed");

  await xs.write(`${vif.backend}/rate`, "12x,5");
  const before = await ovs.dump();
  r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 1);
  assert.match(r.stderr, /rate "12x,5": expected BYTES,USECS/);
  assert.is(await ovs.dump(), before);
});

test("--dry-run prints the one transaction (explicit vlan_mode, guards, next_cfg), the link step and the hotplug-status write, and changes nothing", async () => {
  const vif = await makeXenVif(ovs, xs, 66, { bridge: "sw1.3:10:20" });
  const before = await ovs.dump();
  const r = await xenHotplug(ovs, xs, vif, "online", ["--dry-run"]);
  assert.is(r.code, 0, r.stderr);
  const [line, linkStep, statusStep, ...more] = r.stdout.trimEnd().split("\n");
  assert.is(linkStep, "ip link set dev vif66.0 up", "then the link step");
  assert.is(statusStep, `xenstore-write ${vif.backend}/hotplug-status connected`, "then Xen is told");
  assert.equal(more, []);
  const txn = JSON.parse(line!) as { method: string; params: unknown[] };
  assert.is(txn.method, "transact");
  assert.is(txn.params[0], "Open_vSwitch");
  const ops = txn.params.slice(1) as { op: string; table?: string; row?: Record<string, unknown> }[];
  assert.equal(
    ops.slice(0, 2).map((o) => o.op),
    ["wait", "wait"],
  );
  const port = ops.find((o) => o.op === "insert" && o.table === "Port")!;
  assert.is(port.row!.vlan_mode, "native-untagged");
  assert.is(port.row!.tag, 3);
  assert.equal(port.row!.trunks, ["set", [10, 20]]);
  assert.ok(ops.some((o) => o.op === "mutate" && o.table === "Open_vSwitch"));
  assert.is(await ovs.dump(), before);
  assert.is(await xs.read(`${vif.backend}/hotplug-status`), undefined);
});

test("data plane (ofproto/trace): access and untagged drop tagged frames; trunk drops untagged and unlisted; hybrid carries exactly its VLANs", async () => {
  await ovs.addBridge("dp1");
  const mk = async (domid: number, bridge: string) => {
    const vif = await makeXenVif(ovs, xs, domid, { bridge });
    const r = await xenHotplug(ovs, xs, vif, "online");
    assert.is(r.code, 0, r.stderr);
    return vif.device;
  };
  const U = await mk(71, "dp1");
  const A = await mk(72, "dp1.3");
  const T = await mk(73, "dp1:10:20");
  const H = await mk(74, "dp1.3:10:20");
  const A4 = await mk(75, "dp1.4");
  const odp = await odpPorts(ovs);
  const out = async (port: string, vlan?: number) => {
    const flow = `in_port=${port},dl_src=00:16:3e:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff${vlan === undefined ? "" : `,dl_vlan=${vlan}`}`;
    const { actions, text } = await ovs.trace("dp1", flow);
    if (actions === "drop") return { ports: new Set<string>(), actions, text };
    const ports = new Set<string>();
    for (const [name, n] of odp) if (new RegExp(`(^|[,)])${n}(,|$)`).test(actions) && [U, A, T, H, A4].includes(name)) ports.add(name);
    return { ports, actions, text };
  };
  const names = (s: Set<string>) => [...s].sort();

  // Untagged NIC: a tagged frame is dropped; untagged stays in VLAN 0 (reaches only untagged ports).
  assert.is((await out(U, 10)).actions, "drop", "untagged NIC cannot inject VLAN 10");
  assert.is((await out(U, 3)).actions, "drop", "untagged NIC cannot inject VLAN 3");
  assert.equal(names((await out(U)).ports), [], "VLAN 0 reaches no VLAN port");
  // Access 3: tagged dropped; untagged reaches the other VLAN 3 members only.
  assert.is((await out(A, 3)).actions, "drop");
  assert.is((await out(A, 10)).actions, "drop");
  assert.equal(names((await out(A)).ports), [H].sort(), "access 3 reaches hybrid native 3, not VLAN 4 or trunk");
  // Trunk 10,20: untagged and unlisted dropped; 10 reaches the hybrid (tagged).
  assert.is((await out(T)).actions, "drop", "trunk drops untagged");
  assert.is((await out(T, 30)).actions, "drop", "trunk drops unlisted VLAN");
  assert.equal(names((await out(T, 10)).ports), [H]);
  // Hybrid: native 3 untagged, 10 and 20 tagged, nothing else.
  assert.equal(names((await out(H)).ports), [A], "native VLAN goes to access 3");
  assert.equal(names((await out(H, 20)).ports), [T]);
  assert.is((await out(H, 30)).actions, "drop", "hybrid drops unlisted VLAN");
  assert.is((await out(H, 4)).actions, "drop");
});

test("real traffic: VMs ping within their VLAN and not across", async () => {
  await ovs.addBridge("net1");
  const vms: { ns: string; ip: string }[] = [];
  const plug = async (domid: number, bridge: string, ip: string) => {
    const dev = `vif${domid}.0`;
    const vmNs = `${ovs.ns}vm${domid}`;
    await must("ip", ["netns", "add", vmNs]);
    vms.push({ ns: vmNs, ip });
    await ovs.inNs("ip", ["link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", vmNs]);
    await must("ip", ["-n", vmNs, "addr", "add", `${ip}/24`, "dev", "eth0"]);
    await must("ip", ["-n", vmNs, "link", "set", "eth0", "up"]);
    const vif = await makeXenVif(ovs, xs, domid, { bridge }, { createDevice: false });
    const r = await xenHotplug(ovs, xs, vif, "online");
    assert.is(r.code, 0, r.stderr);
  };
  try {
    await plug(81, "net1.3", "198.51.100.1");
    await plug(82, "net1.3:10", "198.51.100.2");
    await plug(83, "net1.4", "198.51.100.3");
    await plug(84, "net1", "198.51.100.4");
    const ping = async (from: number, to: number) =>
      await must("ip", ["netns", "exec", vms[from]!.ns, "ping", "-c", "1", "-W", "1", vms[to]!.ip]).then(
        () => 0,
        () => 1,
      );
    assert.is(await ping(0, 1), 0, "access 3 <-> hybrid native 3");
    assert.is(await ping(0, 2), 1, "VLAN 3 cannot reach VLAN 4");
    assert.is(await ping(0, 3), 1, "VLAN 3 cannot reach the untagged NIC");
    assert.is(await ping(3, 2), 1, "untagged NIC cannot reach VLAN 4");
  } finally {
    for (const vm of vms) await must("ip", ["netns", "del", vm.ns]).catch(() => undefined);
  }
});

test("20 concurrent attaches on one bridge all succeed with the exact final state", async () => {
  await ovs.addBridge("cc1");
  const vifs = await Promise.all(Array.from({ length: 20 }, (_, i) => makeXenVif(ovs, xs, 100 + i, { bridge: `cc1.${i + 1}:${1000 + i}` })));
  const results = await Promise.all(vifs.map((v) => xenHotplug(ovs, xs, v, "online")));
  results.forEach((r, i) => assert.is(r.code, 0, `vif ${i}: ${r.stderr}`));
  assert.equal(await listPorts(ovs, "cc1"), vifs.map((v) => v.device).sort());
  for (const [i, v] of vifs.entries()) {
    const p = await portView(ovs, v.device);
    assert.is(p!.vlan_mode, "native-untagged");
    assert.is(p!.tag, i + 1);
    assert.equal(p!.trunks, [1000 + i]);
    assert.is(await xs.read(`${v.backend}/hotplug-status`), "connected");
  }
});

test.run();
