// Ganeti on Xen: vif-ganeti execs /etc/xen/scripts/vif-custom with Xen's
// arguments; the NIC's parameters are in Ganeti's NIC file. Driven here with
// exactly what those callers produce: a real xenstored with the backend keys
// the toolstack writes (bridge=LINK+VLAN as Ganeti puts it in the vif
// config), the NIC file as Ganeti's hv_xen._WriteNICInfoFile writes it under
// GANETI_ROOTDIR, and the binary run through a symlink named vif-custom.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { startXenstored, type XenstoredHandle } from "../harness/xenstore.ts";
import { makeXenVif, type XenVif } from "../harness/xen-domain.ts";
import { portView } from "../harness/oracle.ts";
import type { Result } from "../harness/proc.ts";

let ovs: OvsHandle;
let xs: XenstoredHandle;
let xsDir: string;
let root: string; // GANETI_ROOTDIR

test.before(async () => {
  ovs = await startOvs();
  xsDir = mkdtempSync(join(tmpdir(), "ovs-vif-gxs-"));
  xs = await startXenstored(xsDir);
  root = mkdtempSync(join(tmpdir(), "ovs-vif-gxen-root-"));
  await ovs.addBridge("sw1");
  await ovs.inNs("ip", ["link", "add", "xenbr0", "type", "bridge"]);
  await ovs.inNs("ip", ["link", "set", "xenbr0", "up"]);
});

test.after(async () => {
  await xs?.stop();
  await ovs?.stop();
  for (const d of [xsDir, root]) if (d) rmSync(d, { recursive: true, force: true });
});

interface GanetiNicSpec {
  mode: string;
  link: string;
  vlan: string;
  mac: string;
  uuid: string;
  ip?: string;
  name?: string;
  tags?: string[];
  network?: Record<string, string>;
}

/** The NIC file exactly as Ganeti 3.0's hv_xen._WriteNICInfoFile writes it. */
function nicFileText(idx: number, nic: GanetiNicSpec): string {
  let data = `TAGS="${(nic.tags ?? []).join("\\ ")}"\n`;
  for (const [k, v] of Object.entries(nic.network ?? {})) data += `${k}="${v}"\n`;
  data += `MAC=${nic.mac}\n`;
  if (nic.ip) data += `IP=${nic.ip}\n`;
  data += `INTERFACE_INDEX=${idx}\n`;
  if (nic.name) data += `INTERFACE_NAME=${nic.name}\n`;
  data += `INTERFACE_UUID=${nic.uuid}\nMODE=${nic.mode}\nLINK=${nic.link}\nVLAN=${nic.vlan}\n`;
  return data;
}

function nicDir(instance: string): string {
  return join(root, "var/run/ganeti/xen-hypervisor/nic", instance);
}

/** A Ganeti Xen instance's vif: domain named after the instance, bridge key
 * as Ganeti writes it (LINK + VLAN for openvswitch, LINK for bridged). */
async function ganetiVif(domid: number, instance: string, nic: GanetiNicSpec, opts: { file?: boolean; devid?: number } = {}): Promise<XenVif> {
  const devid = opts.devid ?? 0;
  const bridge = nic.mode === "openvswitch" ? nic.link + nic.vlan : nic.mode === "bridged" ? nic.link : undefined;
  const vif = await makeXenVif(ovs, xs, domid, bridge !== undefined ? { bridge } : {}, { devid });
  await xs.write(`/local/domain/${domid}/name`, instance);
  await xs.write(`/vm/${vif.uuid}/name`, instance);
  await xs.write(`${vif.backend}/mac`, nic.mac);
  if (opts.file !== false) {
    mkdirSync(nicDir(instance), { recursive: true });
    writeFileSync(join(nicDir(instance), String(devid)), nicFileText(devid, nic));
  }
  return { ...vif, name: instance, mac: nic.mac };
}

/** vif-ganeti's `exec /etc/xen/scripts/vif-custom $*`, with the hotplug environment. */
function vifCustom(vif: XenVif, command: string, args: string[] = ["type_if=vif"], env: Record<string, string> = {}): Promise<Result> {
  return runBinary(ovs, [command, ...args], {
    name: "vif-custom",
    env: { ...xs.env, vif: vif.device, XENBUS_PATH: vif.backend, GANETI_ROOTDIR: root, ...env },
  });
}

const uuid = (n: number) => `9d1e2f3a-0000-4000-8000-${String(n).padStart(12, "0")}`;
const mac = (n: number) => `aa:00:00:00:01:${n.toString(16).padStart(2, "0")}`;

test("openvswitch from the NIC file: hybrid VLAN, Ganeti + Xen external-ids, tag policing, MTU, hotplug-status connected", async () => {
  const nic: GanetiNicSpec = {
    mode: "openvswitch",
    link: "sw1",
    vlan: ".3:10:20",
    mac: mac(1),
    uuid: uuid(1),
    name: "eth0",
    tags: ["web", "ovs-vif:rate:100M"],
    network: {
      NETWORK_NAME: "net1",
      NETWORK_UUID: "net-uuid-1",
      NETWORK_TAGS: "ovs-vif:rate:1G",
      NETWORK_SUBNET: "192.0.2.0/24",
      NETWORK_GATEWAY: "192.0.2.1",
    },
  };
  const vif = await ganetiVif(1, "inst1.example.com", nic);
  const r = await vifCustom(vif, "online");
  assert.is(r.code, 0, r.stderr);
  const p = await portView(ovs, vif.device);
  assert.ok(p);
  assert.is(p!.bridge, "sw1");
  assert.is(p!.vlan_mode, "native-untagged");
  assert.is(p!.tag, 3);
  assert.equal(p!.trunks, [10, 20]);
  assert.equal(p!.ifaceIds, {
    "ganeti-instance": "inst1.example.com",
    "ganeti-nic-uuid": uuid(1),
    "ganeti-nic-index": "0",
    "attached-mac": mac(1),
    "iface-id": uuid(1),
    "xen-vm-name": "inst1.example.com",
    "xen-vm-uuid": vif.uuid,
  });
  assert.is(p!.portIds["ovs-vif-owner"], "ganeti");
  assert.is(p!.rate, 100000, "instance tag (read through the NIC file's \\ quoting) wins over the network tag");
  assert.is(p!.mtu_request, 1500);
  assert.is(await xs.read(`${vif.backend}/hotplug-status`), "connected");
  const link = await ovs.inNs("ip", ["-o", "link", "show", vif.device]);
  assert.match(link.stdout, /link\/ether fe:ff:ff:ff:ff:ff/);
  assert.match(link.stdout, /[<,]UP[,>]/);
  assert.match(
    readFileSync(join(ovs.dir, "xen-hotplug.log"), "utf8"),
    /vif-custom\[\d+\] info: online ok instance=inst1\.example\.com nic=0 mode=openvswitch device=vif1\.0 link=sw1 vlan_mode=native-untagged/,
  );
  // offline removes the port and downs the vif.
  const off = await vifCustom(vif, "offline");
  assert.is(off.code, 0, off.stderr);
  assert.is(await portView(ovs, vif.device), undefined);
});

test("NIC file missing (Ganeti issue 944, after migration): xenstore's bridge keeps the domain on its network and VLANs", async () => {
  const vif = await ganetiVif(2, "inst2.example.com", { mode: "openvswitch", link: "sw1", vlan: ":10:20", mac: mac(2), uuid: uuid(2) }, { file: false });
  const r = await vifCustom(vif, "online");
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /NIC file missing, using xenstore's bridge \(Ganeti issue 944\)/);
  const p = await portView(ovs, vif.device);
  assert.is(p!.vlan_mode, "trunk");
  assert.equal(p!.trunks, [10, 20]);
  assert.is(p!.portIds["ovs-vif-owner"], "ganeti");
  assert.equal(p!.ifaceIds, {
    "ganeti-instance": "inst2.example.com",
    "ganeti-nic-index": "0",
    "attached-mac": mac(2),
    "xen-vm-name": "inst2.example.com",
    "xen-vm-uuid": vif.uuid,
  });
  assert.is(await xs.read(`${vif.backend}/hotplug-status`), "connected");
  const off = await vifCustom(vif, "offline");
  assert.is(off.code, 0, off.stderr);
  assert.is(await portView(ovs, vif.device), undefined, "offline without the NIC file still removes the port");
});

test("NIC file missing, xenstore bridge is a Linux bridge: bridged; no bridge at all: a clear error in hotplug-error", async () => {
  const vif = await ganetiVif(3, "inst3.example.com", { mode: "bridged", link: "xenbr0", vlan: "", mac: mac(3), uuid: uuid(3) }, { file: false });
  let r = await vifCustom(vif, "online");
  assert.is(r.code, 0, r.stderr);
  assert.match((await ovs.inNs("ip", ["-d", "-o", "link", "show", vif.device])).stdout, /master xenbr0/);
  r = await vifCustom(vif, "offline");
  assert.is(r.code, 0, r.stderr);
  assert.not.match((await ovs.inNs("ip", ["-d", "-o", "link", "show", vif.device])).stdout, /master/);

  const routed = await ganetiVif(4, "inst4.example.com", { mode: "routed", link: "", vlan: "", mac: mac(4), uuid: uuid(4), ip: "192.0.2.4" }, { file: false });
  const before = await ovs.dump();
  r = await vifCustom(routed, "online");
  assert.is(r.code, 1);
  const expected = `${join(nicDir("inst4.example.com"), "0")} "": missing, and xenstore has no bridge for the vif`;
  assert.ok(r.stderr.includes(expected), r.stderr);
  assert.ok(((await xs.read(`${routed.backend}/hotplug-error`)) ?? "").includes(expected));
  assert.is(await xs.read(`${routed.backend}/hotplug-status`), "error");
  assert.is(await ovs.dump(), before);
});

test("bridged and routed from the NIC file, and their offline", async () => {
  const b = await ganetiVif(5, "inst5.example.com", { mode: "bridged", link: "xenbr0", vlan: "", mac: mac(5), uuid: uuid(5) });
  let r = await vifCustom(b, "online");
  assert.is(r.code, 0, r.stderr);
  const link = (await ovs.inNs("ip", ["-d", "-o", "link", "show", b.device])).stdout;
  assert.match(link, /master xenbr0/);
  assert.match(link, /[<,]UP[,>]/);
  assert.is(await xs.read(`${b.backend}/hotplug-status`), "connected");
  r = await vifCustom(b, "offline");
  assert.is(r.code, 0, r.stderr);

  const rt = await ganetiVif(6, "inst6.example.com", { mode: "routed", link: "100", vlan: "", mac: mac(6), uuid: uuid(6), ip: "192.0.2.6" });
  r = await vifCustom(rt, "online");
  assert.is(r.code, 0, r.stderr);
  assert.match((await ovs.inNs("ip", ["route", "show", "table", "100"])).stdout, /192\.0\.2\.6 dev vif6\.0 proto static/);
  assert.match((await ovs.inNs("ip", ["rule", "show"])).stdout, /iif vif6\.0 lookup 100/);
  assert.is((await ovs.inNs("cat", ["/proc/sys/net/ipv4/conf/vif6.0/proxy_arp"])).stdout.trim(), "1");
  r = await vifCustom(rt, "offline");
  assert.is(r.code, 0, r.stderr);
  assert.is((await ovs.inNs("ip", ["route", "show", "table", "100"])).stdout.trim(), "");
  assert.not.match((await ovs.inNs("ip", ["rule", "show"])).stdout, /vif6\.0/);
});

test("HVM tap twin (add/remove with type_if=tap): the -emu device gets the NIC's port; online+tap is a no-op", async () => {
  const vif = await ganetiVif(7, "inst7.example.com", { mode: "openvswitch", link: "sw1", vlan: ".7", mac: mac(7), uuid: uuid(7) });
  await ovs.addTap("vif7.0-emu");
  const noop = await vifCustom(vif, "online", ["type_if=tap"], { INTERFACE: "vif7.0-emu" });
  assert.is(noop.code, 0);
  assert.is(await portView(ovs, "vif7.0-emu"), undefined);
  const r = await vifCustom(vif, "add", ["type_if=tap"], { INTERFACE: "vif7.0-emu" });
  assert.is(r.code, 0, r.stderr);
  assert.is((await portView(ovs, "vif7.0-emu"))!.tag, 7);
  const rm = await vifCustom(vif, "remove", ["type_if=tap"], { INTERFACE: "vif7.0-emu" });
  assert.is(rm.code, 0, rm.stderr);
  assert.is(await portView(ovs, "vif7.0-emu"), undefined);
});

const BAD_FILES: [string, string, string][] = [
  [
    "command substitution",
    "MODE=openvswitch\nLINK=sw1\nVLAN=$(reboot)\n",
    'line 3 "VLAN=$(reboot)": parameter expansion and command substitution are not supported',
  ],
  ["backticks", "MODE=openvswitch\nLINK=`reboot`\n", 'line 2 "LINK=`reboot`": command substitution is not supported'],
  ["a command", "MODE=openvswitch\nreboot\n", 'line 2 "reboot": "reboot" is not a NAME=value assignment'],
  ["unterminated quote", 'TAGS="web\nMODE=openvswitch\n', 'line 1 "TAGS=\\"web": unterminated double quote'],
  ["unknown mode", "MODE=bogus\nLINK=sw1\n", ': MODE "bogus": unknown NIC mode'],
  ["bad VLAN", "MODE=openvswitch\nLINK=sw1\nVLAN=.5000\n", ': VLAN ".5000": VLAN id 5000 out of range 1..4094'],
  [
    "missing OVS bridge",
    "MODE=openvswitch\nLINK=nosuch\nVLAN=\nMAC=aa:00:00:00:00:01\nINTERFACE_INDEX=0\nINTERFACE_UUID=x-1\n",
    ': LINK "nosuch": no such bridge in OVSDB',
  ],
  ["routed without IP", "MODE=routed\nLINK=100\n", ': IP "": not set: a routed NIC needs an IP address'],
];

test("bad NIC files: one line naming the file, the variable or line, and the value; hotplug-error; OVSDB unchanged", async () => {
  let domid = 20;
  for (const [what, text, message] of BAD_FILES) {
    const instance = `bad${domid}.example.com`;
    const vif = await ganetiVif(domid++, instance, { mode: "openvswitch", link: "sw1", vlan: "", mac: mac(20), uuid: uuid(20) }, { file: false });
    mkdirSync(nicDir(instance), { recursive: true });
    const path = join(nicDir(instance), "0");
    writeFileSync(path, text);
    const before = await ovs.dump();
    const r = await vifCustom(vif, "online");
    assert.is(r.code, 1, `${what}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.is(lines.length, 1, `${what}: ${r.stderr}`);
    assert.ok(lines[0]!.includes(path), `${what}: names the file: ${lines[0]}`);
    assert.ok(lines[0]!.includes(message), `${what}: ${lines[0]} should contain ${message}`);
    assert.ok(((await xs.read(`${vif.backend}/hotplug-error`)) ?? "").includes(message), `${what}: hotplug-error`);
    assert.is(await xs.read(`${vif.backend}/hotplug-status`), "error");
    assert.is(await ovs.dump(), before, `${what}: OVSDB unchanged`);
  }
});

test("shell quoting in the NIC file is read as a shell would, without running one", async () => {
  const instance = "quoted.example.com";
  const vif = await ganetiVif(30, instance, { mode: "openvswitch", link: "sw1", vlan: "", mac: mac(30), uuid: uuid(30) }, { file: false });
  mkdirSync(nicDir(instance), { recursive: true });
  writeFileSync(
    join(nicDir(instance), "0"),
    [
      "# written by hand",
      'TAGS="a\\ b ovs-vif:rate:5M"',
      "export NETWORK_NAME='net '\"one\"",
      `MAC=${mac(30)} INTERFACE_INDEX=0`,
      `INTERFACE_UUID=${uuid(30)}`,
      "MODE=open\\",
      "vswitch",
      'LINK="sw1"',
      "VLAN=.4\\:9",
      "",
    ].join("\n"),
  );
  const r = await vifCustom(vif, "online");
  assert.is(r.code, 0, r.stderr);
  const p = await portView(ovs, vif.device);
  assert.is(p!.vlan_mode, "native-untagged");
  assert.is(p!.tag, 4);
  assert.equal(p!.trunks, [9]);
  assert.is(p!.rate, 5000);
});

test.run();
