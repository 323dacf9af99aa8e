// Ganeti's KVM NIC scripts on a real (private) OVS, driven with exactly the
// environment Ganeti gives them: kvm-vif-bridge (Ganeti 3.0, kvm-ifup execs
// it, action up) and /etc/ganeti/network/MODE/{up,down} (Ganeti 3.2,
// kvm-nic-setup execs it with ACTION and MIGRATION_PHASE). The compiled
// binary runs through symlinks of those names.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { listPorts, portView } from "../harness/oracle.ts";
import type { Result } from "../harness/proc.ts";

let ovs: OvsHandle;
let scripts: string; // a private /etc/ganeti/network
const UUID = (n: number) => `6f2c1a4e-0000-4000-8000-${String(n).padStart(12, "0")}`;

test.before(async () => {
  ovs = await startOvs();
  await ovs.addBridge("sw1");
  await ovs.vsctl("set", "interface", "sw1", "mtu_request=1400");
  await ovs.addBridge("sw2");
  // Ganeti 3.2's layout: network/MODE/ACTION, each a symlink to the binary.
  scripts = mkdtempSync(join(tmpdir(), "ovs-vif-gnt-net-"));
  for (const mode of ["openvswitch", "bridged", "routed"]) {
    mkdirSync(join(scripts, "network", mode), { recursive: true });
    for (const action of ["up", "down"]) symlinkSync(BINARY, join(scripts, "network", mode, action));
  }
  mkdirSync(join(scripts, "elsewhere"));
  symlinkSync(BINARY, join(scripts, "elsewhere", "up"));
  await ovs.inNs("ip", ["link", "add", "lb0", "type", "bridge"]);
  await ovs.inNs("ip", ["link", "set", "lb0", "up"]);
});

test.after(async () => {
  await ovs?.stop();
  if (scripts) rmSync(scripts, { recursive: true, force: true });
});

/** The environment Ganeti's hv_base.ConfigureNIC builds (plus 3.2's ACTION/MIGRATION_PHASE). */
function nicEnv(tap: string, n: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    INSTANCE: `inst${n}.example.com`,
    MAC: `aa:00:00:00:00:${n.toString(16).padStart(2, "0")}`,
    MODE: "openvswitch",
    INTERFACE: tap,
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: UUID(n),
    TAGS: "web production",
    LINK: "sw1",
    VLAN: "",
    ...extra,
  };
}

const kvmVifBridge = (env: Record<string, string>, args: string[] = []): Promise<Result> => runBinary(ovs, args, { name: "kvm-vif-bridge", env });

/** Runs /etc/ganeti/network/MODE/ACTION as kvm-nic-setup does (exec of the full path). */
function network(mode: string, action: string, env: Record<string, string>): Promise<Result> {
  return ovs.inNs(join(scripts, "network", mode, action), [], { env: { OVS_VIF_SYSLOG: "0", ...env }, timeoutMs: 60000 });
}

const FORMS: [string, string, number | null, number[]][] = [
  ["", "access", null, []],
  [".3", "access", 3, []],
  [":10:20", "trunk", null, [10, 20]],
  [".3:10:20", "native-untagged", 3, [10, 20]],
  ["7", "access", 7, []],
];

test("kvm-vif-bridge (Ganeti 3.0): vlan forms give explicit vlan_mode/tag/trunks, Ganeti external-ids, bridge MTU, link up", async () => {
  let n = 1;
  for (const [vlan, mode, tag, trunks] of FORMS) {
    const tap = `tap${n}`;
    await ovs.addTap(tap);
    const r = await kvmVifBridge(nicEnv(tap, n, { VLAN: vlan, INTERFACE_INDEX: String(n) }));
    assert.is(r.code, 0, `${vlan}: ${r.stderr}`);
    const p = await portView(ovs, tap);
    assert.ok(p, `vlan ${JSON.stringify(vlan)}: port exists`);
    assert.is(p!.bridge, "sw1");
    assert.is(p!.vlan_mode, mode, `vlan ${JSON.stringify(vlan)} vlan_mode`);
    assert.is(p!.tag, tag);
    assert.equal(p!.trunks, trunks);
    assert.equal(p!.ifaceIds, {
      "ganeti-instance": `inst${n}.example.com`,
      "ganeti-nic-uuid": UUID(n),
      "ganeti-nic-index": String(n),
      "attached-mac": `aa:00:00:00:00:0${n}`,
      "iface-id": UUID(n),
    });
    assert.is(p!.portIds["ovs-vif-owner"], "ganeti");
    assert.is(p!.mtu_request, 1400, "MTU follows the bridge");
    assert.ok((p!.ofport ?? -1) > 0);
    const link = await ovs.inNs("ip", ["-o", "link", "show", tap]);
    assert.match(link.stdout, /[<,]UP[,>]/, "tap up");
    assert.match(
      r.stderr,
      new RegExp(`^kvm-vif-bridge: up ok instance=inst${n}\\.example\\.com nic=${n} mode=openvswitch device=${tap} link=sw1 vlan_mode=${mode}`),
    );
    n++;
  }
});

test("Ganeti 3.2 network/openvswitch/{up,down}: down while the tap exists (a guest asked to power off) leaves the port as it is, again on a retry; down once the tap is gone removes it, and again is harmless", async () => {
  await ovs.addTap("tap20");
  const env = nicEnv("tap20", 20, { VLAN: ".5" });
  let r = await network("openvswitch", "up", { ...env, ACTION: "up" });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /network\/openvswitch\/up: up ok .*vlan_mode=access/);
  const up = (await portView(ovs, "tap20"))!;
  assert.is(up.tag, 5);
  const before = await ovs.dump();
  for (const attempt of ["first", "retry"]) {
    r = await network("openvswitch", "down", { ...env, ACTION: "down" });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /down ok .*kept="the device still exists/, `${attempt} down`);
    assert.is(await ovs.dump(), before, `${attempt} down: OVSDB unchanged`);
    assert.match((await ovs.inNs("ip", ["-o", "link", "show", "tap20"])).stdout, /[<,]UP[,>]/, `${attempt} down: tap still up`);
  }
  // QEMU exits: the tap goes; the next down (a retry, a forced stop) removes the port.
  await ovs.inNs("ip", ["link", "del", "tap20"]);
  r = await network("openvswitch", "down", { ...env, ACTION: "down" });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /down ok .*removed=1 bridge=sw1/);
  assert.is(await portView(ovs, "tap20"), undefined, "port of a vanished tap removed");
  r = await network("openvswitch", "down", { ...env, ACTION: "down" });
  assert.is(r.code, 0, `second down: ${r.stderr}`);
  assert.match(r.stderr, /down ok .*removed=0/);
});

test("the action comes from the script name when ACTION is unset; ACTION wins when set", async () => {
  await ovs.addTap("tap21");
  const env = nicEnv("tap21", 21);
  assert.is((await network("openvswitch", "up", env)).code, 0);
  assert.ok(await portView(ovs, "tap21"));
  await ovs.inNs("ip", ["link", "del", "tap21"]);
  const r = await network("openvswitch", "up", { ...env, ACTION: "down" });
  assert.is(r.code, 0, r.stderr);
  assert.is(await portView(ovs, "tap21"), undefined, "ACTION=down ran down");
  const bad = await network("openvswitch", "up", { ...env, ACTION: "start" });
  assert.is(bad.code, 1);
  assert.is(bad.stderr.trim(), 'network/openvswitch/up: error: ACTION "start": expected up or down');
});

test("the script's directory gives the mode when MODE is unset; a MODE that contradicts it, or no mode at all, is refused", async () => {
  await ovs.addTap("tap22");
  const { MODE: _mode, ...noMode } = nicEnv("tap22", 22);
  let r = await network("openvswitch", "up", noMode);
  assert.is(r.code, 0, r.stderr);
  assert.ok(await portView(ovs, "tap22"));
  const before = await ovs.dump();
  r = await network("openvswitch", "up", { ...noMode, MODE: "routed", IP: "192.0.2.9" });
  assert.is(r.code, 1);
  assert.match(r.stderr.trim(), /^network\/openvswitch\/up: error: MODE "routed": but this script is the openvswitch one/);
  r = await ovs.inNs(join(scripts, "elsewhere", "up"), [], { env: { OVS_VIF_SYSLOG: "0", ...noMode } });
  assert.is(r.code, 1);
  assert.match(r.stderr.trim(), /MODE "": not set, and the script's directory .* names no mode/);
  assert.is(await ovs.dump(), before, "OVSDB unchanged");
});

test("Ganeti 3.0 restarts: the same tap name is replaced (one port); a stale port of the same NIC on a vanished tap is removed", async () => {
  await ovs.addTap("tap30");
  const env = nicEnv("tap30", 30, { VLAN: ".3" });
  assert.is((await kvmVifBridge(env)).code, 0);
  assert.is((await kvmVifBridge({ ...env, VLAN: ":40" })).code, 0);
  const p = await portView(ovs, "tap30"); // portView throws on duplicates
  assert.is(p!.vlan_mode, "trunk");
  assert.equal(p!.trunks, [40]);
  // No down script in 3.0: the VM stops, the tap vanishes, its port stays.
  await ovs.inNs("ip", ["link", "del", "tap30"]);
  assert.ok(await portView(ovs, "tap30"), "stale port left by a stop without down");
  // Next start: the kernel names the tap differently.
  await ovs.addTap("tap31");
  const r = await kvmVifBridge({ ...env, INTERFACE: "tap31" });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /stale_removed=tap30/);
  assert.is(await portView(ovs, "tap30"), undefined, "stale port of the same NIC removed");
  assert.is((await portView(ovs, "tap31"))!.tag, 3);
  // A live tap of another NIC is never touched; neither is a live tap of the same NIC.
  await ovs.addTap("tap32");
  assert.is((await kvmVifBridge({ ...env, INTERFACE: "tap32" })).code, 0);
  assert.ok(await portView(ovs, "tap31"), "live device keeps its port");
});

test("instance communication taps (gnt.com.*) are left alone: exit 0, nothing changed", async () => {
  const before = await ovs.dump();
  for (const env of [nicEnv("gnt.com.0", 40, { MODE: "routed", IP: "169.254.1.1" }), nicEnv("gnt.com.1", 41, { LINK: "" })]) {
    const r = await kvmVifBridge(env);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stderr, "");
    const r2 = await network("routed", "up", env);
    assert.is(r2.code, 0, r2.stderr);
  }
  assert.is(await ovs.dump(), before);
});

const BAD: [string, Record<string, string>, string][] = [
  ["unknown mode", { MODE: "bogus" }, 'MODE "bogus": unknown NIC mode (ovs-vif handles openvswitch, bridged and routed)'],
  ["ext mode", { MODE: "ext" }, 'MODE "ext": unknown NIC mode'],
  ["no MODE", { MODE: "" }, 'MODE "": not set'],
  ["openvswitch without LINK", { LINK: "" }, 'LINK "": not set: an openvswitch NIC needs the OVS bridge'],
  ["VLAN out of range", { VLAN: ".5000" }, 'VLAN ".5000": VLAN id 5000 out of range 1..4094'],
  ["VLAN 0", { VLAN: ":0:10" }, 'VLAN ":0:10": VLAN id 0 out of range 1..4094'],
  ["VLAN double dot", { VLAN: "..3" }, 'VLAN "..3": empty VLAN id'],
  ["VLAN trailing colon", { VLAN: ".3:" }, 'VLAN ".3:": empty VLAN id'],
  ["VLAN letters", { VLAN: ".abc" }, 'VLAN ".abc": VLAN id "abc" is not a number'],
  ["stock's bogus trunk", { VLAN: ".100x" }, 'VLAN ".100x": VLAN id "100x" is not a number'],
  ["missing OVS bridge", { LINK: "nosuch" }, 'LINK "nosuch": no such bridge in OVSDB'],
  ["bad bridge name", { LINK: "sw1;reboot" }, 'LINK "sw1;reboot": bridge name contains ";"'],
  ["routed without IP", { MODE: "routed", LINK: "100" }, 'IP "": not set: a routed NIC needs an IP address'],
  ["routed with a bad IP", { MODE: "routed", IP: "10.0.0.1/24" }, 'IP "10.0.0.1/24": not an IPv4 or IPv6 address'],
  ["bridged without LINK", { MODE: "bridged", LINK: "" }, 'LINK "": not set: a bridged NIC needs the bridge'],
  ["bridged on a missing bridge", { MODE: "bridged", LINK: "nolb" }, 'LINK "nolb": no such bridge (no network device of that name)'],
  ["bridged on an OVS bridge", { MODE: "bridged", LINK: "sw1" }, 'LINK "sw1": not a Linux bridge'],
  // "has VLAN filtering disabled", or on a kernel without it "has no VLAN filtering support"
  ["bridged VLAN without vlan_filtering", { MODE: "bridged", LINK: "lb0", VLAN: ".3" }, 'VLAN ".3": bridge lb0 has '],
  ["INTERFACE with shell characters", { INTERFACE: "tap0;reboot" }, 'INTERFACE "tap0;reboot": interface name contains ";"'],
  ["INTERFACE with a slash", { INTERFACE: "../tap0" }, 'INTERFACE "../tap0": interface name contains "/"'],
  ["INTERFACE with a space", { INTERFACE: "tap 0" }, 'INTERFACE "tap 0": interface name contains whitespace'],
  ["INTERFACE too long", { INTERFACE: "tap0123456789abcd" }, 'INTERFACE "tap0123456789abcd": interface name longer than 15 characters'],
  ["INTERFACE unset", { INTERFACE: "" }, 'INTERFACE "": not set'],
  ["INTERFACE that does not exist", { INTERFACE: "tap99" }, 'INTERFACE "tap99": no such network device'],
  ["bad MAC", { MAC: "aa:bb" }, 'MAC "aa:bb": not a MAC address'],
  ["bad NIC index", { INTERFACE_INDEX: "x" }, 'INTERFACE_INDEX "x": not a NIC index'],
  ["bad NIC UUID", { INTERFACE_UUID: "u u" }, 'INTERFACE_UUID "u u": not a NIC UUID'],
  ["bad QoS tag", { TAGS: "ovs-vif:rate:fast" }, 'instance tag "ovs-vif:rate:fast"'],
];

test("bad input: exit 1, one line naming the variable and value, OVSDB and the tap untouched", async () => {
  await ovs.addTap("tap50");
  for (const [what, change, message] of BAD) {
    const env = nicEnv("tap50", 50, change);
    const before = await ovs.dump();
    for (const [label, r] of [
      ["kvm-vif-bridge", await kvmVifBridge(env)],
      ["ganeti-nic", await runBinary(ovs, ["ganeti-nic", "up"], { env })],
    ] as const) {
      assert.is(r.code, 1, `${what} (${label}): exit code; stderr ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.is(lines.length, 1, `${what} (${label}): one line: ${r.stderr}`);
      assert.ok(lines[0]!.includes(message), `${what} (${label}): ${lines[0]} should contain ${message}`);
    }
    assert.is(await ovs.dump(), before, `${what}: OVSDB unchanged`);
  }
  const link = await ovs.inNs("ip", ["-d", "-o", "link", "show", "tap50"]);
  assert.not.match(link.stdout, /[<,]UP[,>]/, "tap still down");
  assert.not.match(link.stdout, /master/, "tap on no bridge");
  console.log(`  bad input: ${BAD.length} cases refused with one line each, OVSDB unchanged`);
});

test("a NIC moved from openvswitch to bridged or routed leaves no OVS port behind (Ganeti issue 1412)", async () => {
  await ovs.addTap("tap60");
  const env = nicEnv("tap60", 60, { VLAN: ".3" });
  assert.is((await kvmVifBridge(env)).code, 0);
  assert.ok(await portView(ovs, "tap60"));
  let r = await kvmVifBridge({ ...env, MODE: "bridged", LINK: "lb0", BRIDGE: "lb0", VLAN: "" });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /ovs_port_removed=1/);
  assert.is(await portView(ovs, "tap60"), undefined, "old OVS port removed");
  assert.match((await ovs.inNs("ip", ["-d", "-o", "link", "show", "tap60"])).stdout, /master lb0/, "tap on the Linux bridge");
  // And back: bridged down leaves a live tap on its bridge (it goes with the
  // device); the next start brings a new tap, which openvswitch up takes.
  r = await network("bridged", "down", { ...env, MODE: "bridged", LINK: "lb0", ACTION: "down" });
  assert.is(r.code, 0, r.stderr);
  assert.match((await ovs.inNs("ip", ["-d", "-o", "link", "show", "tap60"])).stdout, /master lb0/);
  await ovs.inNs("ip", ["link", "del", "tap60"]);
  await ovs.addTap("tap60");
  assert.is((await kvmVifBridge(env)).code, 0);
  // To routed.
  r = await network("routed", "up", { ...env, MODE: "routed", LINK: "", IP: "192.0.2.60", ACTION: "up" });
  assert.is(r.code, 0, r.stderr);
  assert.is(await portView(ovs, "tap60"), undefined, "old OVS port removed");
  assert.match((await ovs.inNs("ip", ["route", "show", "192.0.2.60"])).stdout, /192\.0\.2\.60 dev tap60 proto static/);
  // The routed NIC stops: its route goes with the tap.
  await ovs.inNs("ip", ["link", "del", "tap60"]);
  r = await network("routed", "down", { ...env, MODE: "routed", LINK: "", IP: "192.0.2.60", ACTION: "down" });
  assert.is(r.code, 0, r.stderr);
  assert.is((await ovs.inNs("ip", ["route", "show", "192.0.2.60"])).stdout.trim(), "");
});

test("bridged and routed work on a node without OVS (no OVSDB socket); openvswitch then fails with the socket named", async () => {
  const empty = mkdtempSync(join(tmpdir(), "ovs-vif-noovs-"));
  try {
    await ovs.addTap("tap70");
    const noOvs = { OVS_RUNDIR: empty };
    let r = await runBinary(ovs, [], { name: "kvm-vif-bridge", env: { ...nicEnv("tap70", 70, { MODE: "bridged", LINK: "lb0" }), ...noOvs } });
    assert.is(r.code, 0, r.stderr);
    r = await runBinary(ovs, [], { name: "kvm-vif-bridge", env: { ...nicEnv("tap70", 70, { MODE: "routed", LINK: "", IP: "192.0.2.70" }), ...noOvs } });
    assert.is(r.code, 0, r.stderr);
    r = await runBinary(ovs, ["ganeti-nic", "down"], { env: { ...nicEnv("tap70", 70, { MODE: "routed", LINK: "", IP: "192.0.2.70" }), ...noOvs } });
    assert.is(r.code, 0, r.stderr);
    r = await runBinary(ovs, [], { name: "kvm-vif-bridge", env: { ...nicEnv("tap70", 70), ...noOvs } });
    assert.is(r.code, 1);
    assert.ok(r.stderr.includes(`OVSDB unix:${empty}/db.sock: ENOENT (is ovsdb-server running?)`), r.stderr);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("policing from Ganeti tags (instance, per-NIC, network) through the NIC environment", async () => {
  await ovs.addTap("tap80");
  const env = nicEnv("tap80", 80, { TAGS: "web ovs-vif:rate:100M ovs-vif:nic:0:rate:20M", NETWORK_NAME: "net1", NETWORK_TAGS: "ovs-vif:rate:1G" });
  const r = await kvmVifBridge(env);
  assert.is(r.code, 0, r.stderr);
  const p = await portView(ovs, "tap80");
  assert.is(p!.rate, 20000, "per-NIC tag wins");
  assert.ok(p!.burst > 0);
  assert.match(r.stderr, /rate=20000/);
});

test("--dry-run prints the transaction and the link step, changes nothing", async () => {
  await ovs.addTap("tap90");
  const before = await ovs.dump();
  const r = await runBinary(ovs, ["ganeti-nic", "up", "--dry-run"], { env: nicEnv("tap90", 90, { VLAN: ".3:10" }) });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /"vlan_mode":"native-untagged"/);
  assert.match(r.stdout, /ip link set dev tap90 up/);
  assert.is(await ovs.dump(), before);
  const b = await runBinary(ovs, ["ganeti-nic", "up", "--dry-run"], { env: nicEnv("tap90", 90, { MODE: "bridged", LINK: "lb0" }) });
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stdout, /ip link set dev tap90 master lb0/);
  assert.not.match((await ovs.inNs("ip", ["-d", "-o", "link", "show", "tap90"])).stdout, /master/);
});

test("ports of other bridges and NICs are untouched by all of the above", async () => {
  assert.equal(await listPorts(ovs, "sw2"), []);
});

test.run();
