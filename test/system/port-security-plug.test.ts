// Port security through the entry points: attach, the Xen hook (xl ip=), the
// Ganeti KVM NIC script (ovs-vif: tags), QEMU's ifup, and the paths that
// remove a port (detach, offline, down, gc, watch). Pretend VMs are network
// namespaces on a private OVS; frames are counted where they land
// (test/harness/frames.ts). The no-window property is tried directly: the
// VM floods forged frames from a link that is already up while it is
// plugged; with port security off (the control) they get through, with it
// on none does, during the plug or after.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countDuring, delivered, flood, type FrameSpec } from "../harness/frames.ts";
import { BINARY, runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { must } from "../harness/proc.ts";
import { addVmNetns, type VmNetns } from "../harness/vm.ts";
import { makeXenVif, xenHotplug } from "../harness/xen-domain.ts";
import { startXenstored, type XenstoredHandle } from "../harness/xenstore.ts";

const N = 20;
const SPOOF_MAC = "02:00:00:00:0c:0c";

let ovs: OvsHandle;
let xs: XenstoredHandle;
let xsDir: string;
let neighbour: VmNetns;
const vms: VmNetns[] = [];

interface Guest {
  net: VmNetns;
  mac: string;
  ip: string;
}

async function guest(hostIf: string, mac: string, ip: string): Promise<Guest> {
  const net = await addVmNetns(ovs.ns, hostIf, { mac, ip });
  vms.push(net);
  return { net, mac, ip };
}

const ep = (n: VmNetns) => ({ ns: n.ns, dev: n.dev });
const frames = (g: Guest, kind: string): FrameSpec => ({
  kind,
  src_mac: g.mac,
  src_ip: g.ip,
  spoof_mac: SPOOF_MAC,
  spoof_ip: "198.51.100.99",
  victim_ip: "198.51.100.2",
  victim_mac: "aa:00:00:00:00:02",
});

/** ovs-vif's port-security flows of a port (by its ofport's cookie), as ovs-ofctl sees them. */
async function flowsOf(port: string): Promise<number> {
  const ofport = Number((await ovs.vsctl("get", "interface", port, "ofport")).trim());
  const cookie = `0x6f767376${ofport.toString(16).padStart(8, "0")}`;
  const out = await must("ovs-ofctl", ["-O", "OpenFlow14", "--no-stats", "dump-flows", `unix:${join(ovs.dir, "sw1.mgmt")}`, `cookie=${cookie}/-1`]);
  return out.split("\n").filter((l) => l.includes("cookie=")).length;
}

/** Every flow of ovs-vif's on the bridge. */
async function allOwnFlows(): Promise<number> {
  const out = await must("ovs-ofctl", [
    "-O",
    "OpenFlow14",
    "--no-stats",
    "dump-flows",
    `unix:${join(ovs.dir, "sw1.mgmt")}`,
    "cookie=0x6f76737600000000/0xffffffff00000000",
  ]);
  return out.split("\n").filter((l) => l.includes("cookie=")).length;
}

test.before(async () => {
  ovs = await startOvs();
  await ovs.addBridge("sw1");
  xsDir = mkdtempSync(join(tmpdir(), "ovs-vif-psplug-"));
  xs = await startXenstored(xsDir);
  neighbour = (await guest("nb0", "aa:00:00:00:00:02", "198.51.100.2")).net;
  const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "nb0", "--vlan", ".10"]);
  assert.is(r.code, 0, r.stderr);
});

test.after(async () => {
  for (const v of vms) v.remove();
  await xs?.stop();
  await ovs?.stop();
  rmSync(xsDir, { recursive: true, force: true });
});

/** Floods forged frames (a third host's MAC) from a VM whose link is up
 * while `attach` plugs it; the forged frames that reached the neighbour. */
async function floodDuringPlug(g: Guest, attachArgs: string[]): Promise<{ delivered: number; sent: number; stderr: string }> {
  const marker = "5afe" + g.mac.replace(/:/g, "");
  let sent = 0;
  let stderr = "";
  const count = await countDuring(ep(g.net), ep(neighbour), marker, frames(g, "udp4"), async () => {
    const f = flood(ep(g.net), { ...frames(g, "mac"), marker });
    await f.started;
    const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", g.net.hostIf, "--vlan", ".10", "--mac", g.mac, "--ip", g.ip, ...attachArgs]);
    stderr = r.stderr;
    assert.is(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 300));
    sent = await f.stop();
  });
  return { delivered: count, sent, stderr };
}

test("no window: forged frames flooded from a link that is up while attach plugs it get through with port security off (the control), none with it on, during the plug or after", async () => {
  const off = await floodDuringPlug(await guest("psoff0", "aa:00:00:00:01:01", "198.51.100.11"), ["--port-security", "off"]);
  const on = await floodDuringPlug(await guest("pson0", "aa:00:00:00:01:02", "198.51.100.12"), ["--port-security", "on"]);
  console.log(`  forged frames flooded during and 300 ms after the plug: off ${off.delivered} delivered of ${off.sent} sent; on ${on.delivered} of ${on.sent}`);
  assert.ok(off.sent > 50 && on.sent > 50, "the flood ran through the plug");
  assert.ok(off.delivered > 0, "with port security off the flood reaches the neighbour (else this test proves nothing)");
  assert.is(on.delivered, 0, "with port security on no forged frame is forwarded, not even while the port is plugged");
  assert.match(on.stderr, /attach ok .*port_security="on mac=aa:00:00:00:01:02 ipv4=198\.51\.100\.12 ipv6=fe80::a800:ff:fe00:102" flows=\d+/);
  assert.ok((await flowsOf("pson0")) > 0, "its flows are there when attach returns");
  // Its own traffic passes.
  const g = { net: vms.find((v) => v.hostIf === "pson0")!, mac: "aa:00:00:00:01:02", ip: "198.51.100.12" };
  assert.is((await delivered(ep(g.net), ep(neighbour), frames(g, "udp4"), N)).delivered, N);
});

test("detach removes the port's flows; the bridge's NORMAL flow and the other ports' stay", async () => {
  const before = await allOwnFlows();
  const own = await flowsOf("pson0");
  const r = await runBinary(ovs, ["detach", "--iface", "pson0"]);
  assert.is(r.code, 0, r.stderr);
  assert.is(await allOwnFlows(), before - own);
  assert.match(await must("ovs-ofctl", ["--no-stats", "dump-flows", `unix:${join(ovs.dir, "sw1.mgmt")}`, "cookie=0/-1"]), /priority=0 actions=NORMAL/);
});

test("the Xen hook: a vif with an ip key (xl ip=) is filtered when online returns (its own frames pass, forged ones do not); offline removes its flows", async () => {
  const g = await guest("vif71.0", "00:16:3e:00:00:47", "198.51.100.71");
  const vif = await makeXenVif(ovs, xs, 71, { bridge: "sw1.10" }, { createDevice: false });
  await xs.write(`${vif.backend}/mac`, g.mac);
  await xs.write(`${vif.backend}/ip`, `${g.ip} 2001:db8::71`);
  let r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /online ok .*port_security="on mac=00:16:3e:00:00:47 ipv4=198\.51\.100\.71/);
  assert.ok((await flowsOf("vif71.0")) > 0);
  assert.is((await delivered(ep(g.net), ep(neighbour), frames(g, "udp4"), N)).delivered, N, "its own IPv4 passes");
  for (const kind of ["mac", "ipv4"])
    assert.is((await delivered(ep(g.net), ep(neighbour), frames(g, kind), N, { mac: g.mac, ip: g.ip })).delivered, 0, `forged ${kind} dropped`);
  const before = await allOwnFlows();
  const own = await flowsOf("vif71.0");
  r = await xenHotplug(ovs, xs, vif, "offline");
  assert.is(r.code, 0, r.stderr);
  assert.is(await allOwnFlows(), before - own, "offline took its flows");
});

test("the Xen hook without an ip key: port security stays off (as Xen's vif-bridge), and nothing is filtered", async () => {
  const g = await guest("vif72.0", "00:16:3e:00:00:48", "198.51.100.72");
  const vif = await makeXenVif(ovs, xs, 72, { bridge: "sw1.10" }, { createDevice: false });
  await xs.write(`${vif.backend}/mac`, g.mac);
  const r = await xenHotplug(ovs, xs, vif, "online");
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /port_security=/);
  assert.is(await flowsOf("vif72.0"), 0);
  assert.is((await delivered(ep(g.net), ep(neighbour), frames(g, "mac"), N, { mac: g.mac, ip: g.ip })).delivered, N, "unfiltered: the forged MAC passes");
});

/** The environment Ganeti's KVM NIC script gets. */
function nicEnv(dev: string, mac: string, ip: string, tags: string): Record<string, string> {
  return {
    INTERFACE: dev,
    MODE: "openvswitch",
    LINK: "sw1",
    VLAN: ".10",
    MAC: mac,
    IP: ip,
    INSTANCE: "inst1",
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: "22222222-0000-4000-8000-000000000000",
    TAGS: tags,
  };
}

test("the Ganeti KVM NIC script: ovs-vif:port-security:on and an allow-address tag; the allowed address passes, others do not; down once the device is gone removes the flows", async () => {
  const g = await guest("tap81", "aa:00:00:00:08:01", "198.51.100.81");
  const env = nicEnv("tap81", g.mac, g.ip, "ovs-vif:port-security:on ovs-vif:allow-address:198.51.100.181");
  let r = await runBinary(ovs, ["ganeti-nic", "up"], { env });
  assert.is(r.code, 0, r.stderr);
  assert.ok((await flowsOf("tap81")) > 0);
  assert.is(
    (await delivered(ep(g.net), ep(neighbour), { ...frames(g, "udp4"), src_ip: "198.51.100.181" }, N)).delivered,
    N,
    "the allowed extra address passes",
  );
  assert.is((await delivered(ep(g.net), ep(neighbour), frames(g, "ipv4"), N, { mac: g.mac, ip: g.ip })).delivered, 0, "another address does not");
  const before = await allOwnFlows();
  const own = await flowsOf("tap81");
  g.net.remove();
  r = await runBinary(ovs, ["ganeti-nic", "down"], { env });
  assert.is(r.code, 0, r.stderr);
  assert.is(await allOwnFlows(), before - own, "down took its flows with its port");
});

test("QEMU's ifup with OVS_VIF_PORT_SECURITY=on filters the tap; ifdown removes its flows", async () => {
  const g = await guest("qtap1", "aa:00:00:00:09:01", "198.51.100.91");
  const env = { OVS_VIF_BRIDGE: "sw1.10", OVS_VIF_MAC: g.mac, OVS_VIF_IP: g.ip, OVS_VIF_PORT_SECURITY: "on" };
  let r = await runBinary(ovs, ["qemu-ifup", "qtap1"], { env });
  assert.is(r.code, 0, r.stderr);
  assert.is((await delivered(ep(g.net), ep(neighbour), frames(g, "mac"), N, { mac: g.mac, ip: g.ip })).delivered, 0);
  assert.ok((await flowsOf("qtap1")) > 0);
  const before = await allOwnFlows();
  const own = await flowsOf("qtap1");
  r = await runBinary(ovs, ["qemu-ifdown", "qtap1"], { env });
  assert.is(r.code, 0, r.stderr);
  assert.is(await allOwnFlows(), before - own);
});

test("gc: a filtered port whose device vanished goes with its flows; flows of a port removed behind ovs-vif's back are swept", async () => {
  const a = await guest("gca0", "aa:00:00:00:0a:01", "198.51.100.101");
  const b = await guest("gcb0", "aa:00:00:00:0a:02", "198.51.100.102");
  for (const g of [a, b]) {
    const r = await runBinary(ovs, [
      "attach",
      "--bridge",
      "sw1",
      "--iface",
      g.net.hostIf,
      "--vlan",
      ".10",
      "--mac",
      g.mac,
      "--ip",
      g.ip,
      "--port-security",
      "on",
    ]);
    assert.is(r.code, 0, r.stderr);
  }
  const before = await allOwnFlows();
  const ownA = await flowsOf("gca0");
  const ownB = await flowsOf("gcb0");
  a.net.remove();
  await ovs.vsctl("del-port", "sw1", "gcb0");
  assert.is(await allOwnFlows(), before, "OVS keeps in_port flows of removed ports");
  const r = await runBinary(ovs, ["gc"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed gca0 from sw1/);
  assert.match(r.stdout, /removed the port-security flows of gca0/);
  assert.match(r.stdout, /removed \d+ port-security flow\(s\) of ofport \d+ from sw1 \(no ovs-vif port has it\)/);
  assert.is(await allOwnFlows(), before - ownA - ownB);
});

test("status shows the filter, and drift when a flow is deleted by hand; doctor warns when the bridge gets a controller", async () => {
  const g = await guest("st0", "aa:00:00:00:0b:01", "198.51.100.111");
  const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "st0", "--vlan", ".10", "--mac", g.mac, "--ip", g.ip, "--port-security", "on"]);
  assert.is(r.code, 0, r.stderr);
  let s = JSON.parse((await runBinary(ovs, ["status", "--json"])).stdout) as { ports: { port: string; flows?: number }[] };
  const flows = s.ports.find((p) => p.port === "st0")!.flows;
  assert.is(flows, await flowsOf("st0"), "status counts its flows");
  const doctor = async () => (await runBinary(ovs, ["doctor"])).stdout;
  assert.match(await doctor(), /ok +port security on sw1: sw1 carries ovs-vif's port-security flows, no controller/);
  await ovs.vsctl("set-controller", "sw1", "tcp:127.0.0.1:9");
  try {
    assert.match(await doctor(), /warn port security on sw1: sw1 has 1 OpenFlow controller/);
  } finally {
    await ovs.vsctl("del-controller", "sw1");
  }
  s = JSON.parse((await runBinary(ovs, ["status", "--json"])).stdout);
  assert.ok(
    s.ports.every((p) => p.port !== "nb0" || p.flows === undefined || p.flows === 0),
    "an unfiltered port has no flows",
  );
});

/** Ganeti's view of inst1 with NIC 0 on tap91, exported for reconcile --from. */
function ganetiView(ip: string, tags: string[]): string {
  const file = join(xsDir, `view-${ip}.json`);
  const nic = { index: 0, uuid: "44444444-0000-4000-8000-000000000000", mac: "aa:00:00:00:0c:01", mode: "openvswitch", link: "sw1", vlan: ".10", ip };
  writeFileSync(file, JSON.stringify({ version: 2, instances: [{ name: "inst9", primary: "node1.example.com", tags, nics: [nic] }], networks: {} }));
  return file;
}

test("reconcile from Ganeti's view replaces a port's flows in place: a new IP passes and the old one does not; status shows flows deleted by hand as drift, which reconcile repairs", async () => {
  const g = await guest("tap91", "aa:00:00:00:0c:01", "198.51.100.121");
  const env = { ...nicEnv("tap91", g.mac, g.ip, "ovs-vif:port-security:on"), INSTANCE: "inst9", INTERFACE_UUID: "44444444-0000-4000-8000-000000000000" };
  let r = await runBinary(ovs, ["ganeti-nic", "up"], { env });
  assert.is(r.code, 0, r.stderr);
  const portUuid = (await ovs.vsctl("get", "port", "tap91", "_uuid")).trim();
  // The NIC's IP changes in Ganeti (gnt-instance modify --net 0:ip=...): the guest moves to it.
  await g.net.exec("ip", ["addr", "add", "198.51.100.122/24", "dev", "eth0"]);
  r = await runBinary(ovs, ["reconcile", "--from", ganetiView("198.51.100.122", ["ovs-vif:port-security:on"])]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /inst9 tap91: unchanged.* port-security: \d+ flows/);
  assert.is((await ovs.vsctl("get", "port", "tap91", "_uuid")).trim(), portUuid, "the same Port row: changed in place");
  assert.is((await delivered(ep(g.net), ep(neighbour), { ...frames(g, "udp4"), src_ip: "198.51.100.122" }, N)).delivered, N, "the new IP passes");
  assert.is((await delivered(ep(g.net), ep(neighbour), frames(g, "udp4"), N, { mac: g.mac, ip: "198.51.100.122" })).delivered, 0, "the old one does not");
  const view = ganetiView("198.51.100.122", ["ovs-vif:port-security:on"]);
  const status = async () =>
    (
      JSON.parse((await runBinary(ovs, ["status", "--json", "--from", view, "--node", "node1.example.com"])).stdout) as {
        ports: { port: string; state: string; drift: string[]; port_security?: string }[];
      }
    ).ports.find((p) => p.port === "tap91")!;
  let p = await status();
  assert.equal([p.state, p.port_security], ["ok", "on"]);
  const ofport = (await ovs.vsctl("get", "interface", "tap91", "ofport")).trim();
  await must("ovs-ofctl", [
    "-O",
    "OpenFlow14",
    "del-flows",
    `unix:${join(ovs.dir, "sw1.mgmt")}`,
    `cookie=0x6f767376${Number(ofport).toString(16).padStart(8, "0")}/-1`,
  ]);
  p = await status();
  assert.is(p.state, "drift");
  assert.ok(
    p.drift.some((d) => /port-security flows: \d+ missing, 0 extra, 0 different/.test(d)),
    p.drift.join("; "),
  );
  r = await runBinary(ovs, ["reconcile", "--from", view]);
  assert.is(r.code, 0, r.stderr);
  assert.is((await status()).state, "ok", "reconcile put them back");
  // Port security taken off in Ganeti: reconcile removes the flows.
  r = await runBinary(ovs, ["reconcile", "--from", ganetiView("198.51.100.122", ["ovs-vif:port-security:off"])]);
  assert.is(r.code, 0, r.stderr);
  assert.is(await flowsOf("tap91"), 0);
});

test("watch: a filtered port whose device is deleted goes with its flows at once", async () => {
  const g = await guest("wt0", "aa:00:00:00:0d:01", "198.51.100.131");
  const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "wt0", "--vlan", ".10", "--mac", g.mac, "--ip", g.ip, "--port-security", "on"]);
  assert.is(r.code, 0, r.stderr);
  const own = await flowsOf("wt0");
  const before = await allOwnFlows();
  let log = "";
  const watcher = spawn("ip", ["netns", "exec", ovs.ns, BINARY, "watch", "--sweep", "600"], {
    env: { ...process.env, ...ovs.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  watcher.stderr!.on("data", (d) => (log += d));
  try {
    for (const t0 = Date.now(); !log.includes("watching link deletions"); ) {
      if (Date.now() - t0 > 10000) throw new Error(`watch did not start: ${log}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    g.net.remove();
    for (const t0 = Date.now(); !/removed the port-security flows of wt0/.test(log); ) {
      if (Date.now() - t0 > 10000) throw new Error(`watch did not remove wt0's flows: ${log}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    watcher.kill("SIGTERM");
  }
  assert.is(await allOwnFlows(), before - own);
});

test.run();
