// The Ganeti lifecycle on a real single-node Ganeti 3.0 cluster (its own,
// see harness/ganeti-cluster.*), with the real CLI and the post hooks that
// `install.sh --ganeti --root` links:
//   - a Ganeti network (gnt-network add/add-tags/connect, mode openvswitch,
//     no switches.json): the network-connect hook keeps the bridge, exit 0;
//   - QoS from instance, per-NIC and network tags at start; tags removed +
//     `ovs-vif reconcile`; `ovs-vif qos set`; ports updated in place;
//   - `ovs-vif vlan add` and a plain `gnt-instance modify` on the running
//     instance (the instance-modify hook): port changed in place, same QEMU;
//     a bad VLAN refused before Ganeti is called;
//   - hard reboot (one port per NIC), stop (the instance-stop hook collects
//     the ports), gnt-network disconnect (the bridge stays);
//   - every hook environment Ganeti sent (captured by a hook of our own) is
//     compared with test/fixtures/ganeti-hooks/*.env, which the unit tests
//     read; OVS_VIF_UPDATE_FIXTURES=1 rewrites those files instead.
// All checks read OVS with ovs-vsctl / ovs-appctl (the oracle).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GanetiCluster, NODE, OVS_BRIDGE, UPLINK, startGanetiCluster, unavailable } from "../harness/ganeti-cluster.ts";
import { configOnly, ganetiRelease } from "../harness/ganeti-release.ts";
import { listRows, portView, type PortView } from "../harness/oracle.ts";
import type { OvsHandle } from "../harness/ovs.ts";
import { capturedPaths, fixtureDir, PHASES, fixtureName, formatEnvFile, normalizeHookValue, parseEnvFile } from "../harness/hook-fixtures.ts";

const INST1 = "inst1.ovsvif.test";
const INST2 = "inst2.ovsvif.test";
const NET = "net1";
const why = unavailable();
let cluster: GanetiCluster | undefined;
let oracle: OvsHandle;
/** Where the capture hook writes, seen from the host (= /var/log/ganeti/hook-env in the node). */
let captureDir: string;

/** Records the exact environment of each hook run; perl, because a shell or
 * Python adds variables of its own (PWD, LC_CTYPE). */
const CAPTURE_HOOK = `#!/usr/bin/perl
use strict;
use Time::HiRes qw(time);
my $name = ($ENV{GANETI_HOOKS_PATH} // "unknown") . "-" . ($ENV{GANETI_HOOKS_PHASE} // "unknown");
my $file = sprintf("/var/log/ganeti/hook-env/%s.%.6f.%d.env", $name, time(), $$);
open(my $f, ">", $file) or die "$file: $!";
print $f "$_=$ENV{$_}\\n" for sort keys %ENV;
close($f) or die "$file: $!";
`;

if (why) {
  console.log(`SKIPPED: real Ganeti cluster lifecycle test: ${why}`);
  test("real Ganeti cluster lifecycle (skipped: see SKIPPED above)", () => undefined);
} else {
  test.before(async () => {
    cluster = await startGanetiCluster((line) => console.log(`  ${line}`));
    oracle = { vsctl: cluster.vsctl } as unknown as OvsHandle;
    // The capture hook, first in every pre.d/post.d of the captured paths
    // (the node's private /etc/ganeti/hooks, bind-mounted from the temp dir).
    captureDir = join(cluster.dir, "varlog/hook-env");
    mkdirSync(captureDir, { recursive: true });
    for (const path of capturedPaths(ganetiRelease())) {
      for (const phase of PHASES) {
        const dir = join(cluster.dir, "root/etc/ganeti/hooks", `${path}-${phase}.d`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "00-capture-env"), CAPTURE_HOOK);
        chmodSync(join(dir, "00-capture-env"), 0o755);
      }
    }
    const bin = (await cluster.must("readlink", ["-f", "/usr/sbin/ovs-vif"])).trim();
    assert.is(bin, "/usr/lib/ovs-vif/ovs-vif");
    console.log(
      `  capture hooks in /etc/ganeti/hooks/{${capturedPaths(ganetiRelease()).join(",")}}-{pre,post}.d; ovs-vif on the node's PATH: /usr/sbin/ovs-vif -> ${bin}`,
    );
  });

  test.after(async () => {
    await cluster?.stop();
  });

  const gnt = (cmd: string, ...args: string[]) => cluster!.must(cmd, args, 180000);
  /** The installed ovs-vif, run on the node as root (as an operator would). */
  const ovsVif = (...args: string[]) => cluster!.run("ovs-vif", args, 120000);

  async function taps(instance: string, count: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push((await cluster!.must("cat", [`/run/ganeti/kvm-hypervisor/nic/${instance}/${i}`])).trim());
    return out;
  }

  async function port(name: string): Promise<PortView> {
    const p = await portView(oracle, name);
    assert.ok(p, `port ${name} exists`);
    return p!;
  }

  /** Names of the ports whose Interface says it belongs to the instance. */
  async function instancePorts(instance: string): Promise<string[]> {
    const ifaces = await listRows(oracle, "Interface");
    return ifaces
      .filter((i) => (i.external_ids as Record<string, string>)["ganeti-instance"] === instance)
      .map((i) => String(i.name))
      .sort();
  }

  async function bridgePorts(): Promise<string[]> {
    return (await cluster!.vsctl("list-ports", OVS_BRIDGE)).split("\n").filter(Boolean).sort();
  }

  async function vlans(instance: string): Promise<string> {
    return (await gnt("gnt-instance", "list", "--no-headers", "-o", "nic.vlans", instance)).trim();
  }

  async function status(instance: string): Promise<string> {
    return (await gnt("gnt-instance", "list", "--no-headers", "-o", "status", instance)).trim();
  }

  /** QEMU's pid as Ganeti's KVM runtime records it, checked to be a live QEMU of this instance. */
  async function qemuPid(instance: string): Promise<number> {
    const pid = Number((await cluster!.must("cat", [`/run/ganeti/kvm-hypervisor/pid/${instance}`])).trim());
    const cmdline = (await cluster!.must("cat", [`/proc/${pid}/cmdline`])).split("\0");
    assert.ok(cmdline[0]!.endsWith("qemu-system-x86_64"), `pid ${pid} is QEMU: ${cmdline[0]}`);
    assert.ok(cmdline.includes(instance), `pid ${pid} runs ${instance}`);
    return pid;
  }

  async function trace(inPort: string, vlan?: number): Promise<string> {
    const text = await cluster!.appctl(
      "ofproto/trace",
      OVS_BRIDGE,
      `in_port=${inPort},dl_src=aa:00:00:00:00:99,dl_dst=ff:ff:ff:ff:ff:ff${vlan ? `,dl_vlan=${vlan}` : ""}`,
    );
    return /Datapath actions: (.*)/.exec(text)?.[1]?.trim() ?? "";
  }

  async function jobCount(): Promise<number> {
    return (await gnt("gnt-job", "list", "--no-headers", "-o", "id")).split("\n").filter(Boolean).length;
  }

  /** A post hook's failure is shown by Ganeti as a job warning naming the script. */
  function assertHookOk(output: string, path: string): void {
    assert.not.match(output, new RegExp(`script ${path}-post\\.d/ovs-vif failed`), `the ${path} post hook failed:\n${output}`);
    assert.not.match(output, /00-capture-env failed/, output);
  }

  /** The captured environments of one path+phase, oldest first. */
  function captured(path: string, phase: string): Record<string, string>[] {
    const prefix = `${path}-${phase}.`;
    return readdirSync(captureDir)
      .filter((f) => f.startsWith(prefix) && f.endsWith(".env"))
      .sort()
      .map((f) => parseEnvFile(readFileSync(join(captureDir, f), "utf8"), f));
  }

  const rates = (p: PortView) => `${p.rate}/${p.burst}`;

  // ------------------------------------------------------------------ network
  let bridgeUuid = "";

  test("gnt-network add + add-tags + connect (mode openvswitch, link gntbr, no switches.json): the network-connect hook keeps the bridge and exits 0", async () => {
    const before = (await listRows(oracle, "Bridge", OVS_BRIDGE))[0]!;
    bridgeUuid = String(before._uuid);
    const portsBefore = await bridgePorts();
    assert.is((await cluster!.run("test", ["-e", "/etc/ovs-vif/switches.json"])).code, 1, "no switches.json on the node");
    await gnt("gnt-network", "add", "--network=198.51.100.0/28", NET);
    await gnt("gnt-network", "add-tags", NET, "ovs-vif:rate:1G");
    const out = await gnt("gnt-network", "connect", "--nic-parameters", `mode=openvswitch,link=${OVS_BRIDGE}`, NET, "default");
    assertHookOk(out, "network-connect");
    assert.is(
      (await gnt("gnt-network", "list", "--no-headers", "--separator=|", "-o", "name,tags,group_list", NET)).trim(),
      `${NET}|ovs-vif:rate:1G|default (openvswitch, ${OVS_BRIDGE}, )`,
    );
    const after = (await listRows(oracle, "Bridge", OVS_BRIDGE))[0]!;
    assert.is(String(after._uuid), bridgeUuid, "same Bridge row");
    assert.is(after.datapath_type, "netdev", "datapath_type untouched (no spec: a bare bridge keeps its settings)");
    assert.equal(await bridgePorts(), portsBefore, "ports untouched");
    console.log(
      `  gnt-network connect ${NET} default (openvswitch, ${OVS_BRIDGE}): no hook failure in the job; bridge ${OVS_BRIDGE} kept (same _uuid, datapath_type netdev, ports ${portsBefore.join(",")})`,
    );
    // What the installed hook did with that environment: the same
    // environment Ganeti gave it (captured above), run again by hand.
    const [env] = captured("network-connect", "post");
    assert.ok(env, "network-connect post hook ran");
    const r = await cluster!.run("env", ["-i", ...Object.entries(env!).map(([k, v]) => `${k}=${v}`), "/etc/ganeti/hooks/network-connect-post.d/ovs-vif"]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /network-connect: group default link gntbr: switch gntbr \(no spec file \/etc\/ovs-vif\/switches\.json: bare bridge\)/);
    assert.match(r.stderr, /network-connect: gntbr: no changes/);
    for (const line of r.stderr.trim().split("\n")) console.log(`  network-connect hook, Ganeti's environment again: exit 0: ${line}`);
  });

  // ------------------------------------------------------------------ QoS
  let t1: string[] = [];
  let t2: string[] = [];
  let uuids: Record<string, string> = {};

  test("instance tags + network tag at start: NIC 0 100M, NIC 1 10M (per-NIC tag), network NIC 100M (instance tag beats network tag), untagged instance in the network 1G", async () => {
    await gnt(
      "gnt-instance",
      "add",
      "-t",
      "diskless",
      "--no-install",
      "-o",
      "noop",
      "--no-name-check",
      "--no-ip-check",
      "-n",
      NODE,
      "-B",
      "memory=128M,vcpus=1",
      "--net",
      `0:mode=openvswitch,link=${OVS_BRIDGE},vlan=.3,mac=aa:00:00:00:00:01`,
      "--net",
      `1:mode=openvswitch,link=${OVS_BRIDGE},mac=aa:00:00:00:00:02`,
      "--net",
      `2:network=${NET},mac=aa:00:00:00:00:03`,
      INST1,
    );
    await gnt("gnt-instance", "add-tags", INST1, "ovs-vif:rate:100M", "ovs-vif:nic:1:rate:10M");
    await gnt(
      "gnt-instance",
      "add",
      "-t",
      "diskless",
      "--no-install",
      "-o",
      "noop",
      "--no-name-check",
      "--no-ip-check",
      "-n",
      NODE,
      "-B",
      "memory=128M,vcpus=1",
      "--net",
      `0:network=${NET},mac=aa:00:00:00:00:11`,
      INST2,
    );
    // The network NICs take mode and link from the group's connection.
    assert.is(
      (await gnt("gnt-instance", "list", "--no-headers", "--separator=|", "-o", "nic.modes,nic.links,nic.networks.names", INST1, INST2)).trim(),
      `openvswitch,openvswitch,openvswitch|${OVS_BRIDGE},${OVS_BRIDGE},${OVS_BRIDGE}|[None, None, '${NET}']\nopenvswitch|${OVS_BRIDGE}|['${NET}']`,
    );
    assertHookOk(await gnt("gnt-instance", "start", INST1), "instance-start");
    assertHookOk(await gnt("gnt-instance", "start", INST2), "instance-start");
    assert.is(await status(INST1), "running");
    assert.is(await status(INST2), "running");
    t1 = await taps(INST1, 3);
    t2 = await taps(INST2, 1);
    const want: [string, string, string, string][] = [
      [INST1, t1[0]!, "100000/78125", "instance tag ovs-vif:rate:100M"],
      [INST1, t1[1]!, "10000/7812", "NIC tag ovs-vif:nic:1:rate:10M"],
      [INST1, t1[2]!, "100000/78125", "instance tag ovs-vif:rate:100M over network tag ovs-vif:rate:1G"],
      [INST2, t2[0]!, "1000000/781250", "network tag ovs-vif:rate:1G"],
    ];
    for (const [inst, tap, expect, from] of want) {
      const p = await port(tap);
      assert.is(p.ifaceIds["ganeti-instance"], inst);
      assert.is(rates(p), expect, `${inst} ${tap}: ${from}`);
      uuids[tap] = p.uuid;
      console.log(`  start: ${inst} NIC ${p.ifaceIds["ganeti-nic-index"]} -> ${tap} ingress_policing_rate/burst ${rates(p)} (${from})`);
    }
    // Where each value comes from, as `ovs-vif qos show` reads Ganeti.
    const show = await ovsVif("qos", "show");
    assert.is(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      new RegExp(
        `${INST1}\\s+2\\s+openvswitch\\s+100000\\s+78125\\s+instance tag "ovs-vif:rate:100M"\\s+default: 80% of rate\\s+0\\s+0\\s+none\\s+none\\s+${t1[2]}`,
      ),
    );
    assert.match(
      show.stdout,
      new RegExp(
        `${INST2}\\s+0\\s+openvswitch\\s+1000000\\s+781250\\s+network tag "ovs-vif:rate:1G"\\s+default: 80% of rate\\s+0\\s+0\\s+none\\s+none\\s+${t2[0]}`,
      ),
    );
    console.log(`  ovs-vif qos show: ${INST2} NIC 0 rate from network tag "ovs-vif:rate:1G" (network ${NET} found by name)`);
  });

  test("gnt-instance remove-tags + ovs-vif reconcile: NIC 0 and 1 back to 0/0, the network NIC falls back to the network's 1G, Ports not re-created", async () => {
    await gnt("gnt-instance", "remove-tags", INST1, "ovs-vif:rate:100M", "ovs-vif:nic:1:rate:10M");
    assert.is((await gnt("gnt-instance", "list-tags", INST1)).trim(), "");
    const r = await ovsVif("reconcile");
    assert.is(r.code, 0, r.stderr + r.stdout);
    for (const line of r.stdout.trim().split("\n")) console.log(`  ovs-vif reconcile: ${line}`);
    const want: [string, string][] = [
      [t1[0]!, "0/0"],
      [t1[1]!, "0/0"],
      [t1[2]!, "1000000/781250"],
      [t2[0]!, "1000000/781250"],
    ];
    for (const [tap, expect] of want) {
      const p = await port(tap);
      assert.is(rates(p), expect, tap);
      assert.is(p.uuid, uuids[tap], `${tap}: same Port _uuid`);
    }
    assert.match(r.stdout, new RegExp(`${INST1} ${t1[0]}: updated rate=0 burst=0`));
    assert.match(r.stdout, new RegExp(`${INST2} ${t2[0]}: unchanged rate=1000000 burst=781250`));
    console.log(`  after reconcile: ${want.map(([t, e]) => `${t} ${e}`).join(", ")}; Port _uuids unchanged`);
  });

  test("ovs-vif qos set inst1 0 --rate 50M: the tag in Ganeti, 50000/39062 on the running port, same Port", async () => {
    const r = await ovsVif("qos", "set", INST1, "0", "--rate", "50M");
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.is((await gnt("gnt-instance", "list-tags", INST1)).trim(), "ovs-vif:nic:0:rate:50M");
    const p = await port(t1[0]!);
    assert.is(rates(p), "50000/39062");
    assert.is(p.uuid, uuids[t1[0]!], "same Port _uuid");
    assert.is(rates(await port(t1[1]!)), "0/0", "NIC 1 untouched");
    console.log(
      `  ovs-vif qos set ${INST1} 0 --rate 50M: gnt-instance list-tags -> ovs-vif:nic:0:rate:50M; ${t1[0]} ${rates(p)}, same Port _uuid (${r.stdout.trim()})`,
    );
  });

  // ------------------------------------------------------------------ VLAN
  test("ovs-vif vlan add inst1 0 20 on the running instance (vlan=.3): Ganeti has .3:20, port native-untagged tag 3 trunks [20] in place, same QEMU, VLAN 20 now forwarded", async () => {
    const tap = t1[0]!;
    assert.is(await vlans(INST1), "['.3', '', '']");
    const pid = await qemuPid(INST1);
    const before = await port(tap);
    assert.is(before.vlan_mode, "access");
    assert.is(before.tag, 3);
    const dropped = await trace(tap, 20);
    assert.is(dropped, "drop", "VLAN 20 from the access port is dropped before");
    console.log(`  before: ${tap} vlan_mode=access tag=3 trunks=[]; trace VLAN 20 from ${tap}: ${dropped}; QEMU pid ${pid}`);

    const r = await ovsVif("vlan", "add", INST1, "0", "20");
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`${INST1} nic 0: vlan "\\.3" -> "\\.3:20"`));
    for (const line of r.stdout.trim().split("\n")) console.log(`  ovs-vif vlan add ${INST1} 0 20: ${line}`);
    assert.is(await vlans(INST1), "['.3:20', '', '']");
    const after = await port(tap);
    assert.is(after.vlan_mode, "native-untagged");
    assert.is(after.tag, 3);
    assert.equal(after.trunks, [20]);
    assert.is(after.uuid, before.uuid, "same Port _uuid: not re-created");
    assert.is(after.ofport, before.ofport, "same OpenFlow port");
    assert.is(rates(after), "50000/39062", "QoS kept");
    assert.is(await qemuPid(INST1), pid, "same QEMU process: no reboot");
    assert.is(await status(INST1), "running");
    const forwarded = await trace(tap, 20);
    assert.ok(forwarded !== "drop" && forwarded !== "", `VLAN 20 forwarded now: ${forwarded}`);
    const untagged = await trace(tap);
    assert.match(untagged, /push_vlan\(vid=3/, `untagged still into VLAN 3: ${untagged}`);
    console.log(
      `  gnt-instance list -o nic.vlans: ['.3:20', '', '']; ${tap} vlan_mode=native-untagged tag=3 trunks=[20], same Port _uuid and ofport ${after.ofport}, QEMU pid ${pid} unchanged`,
    );
    console.log(`  trace VLAN 20 from ${tap}: ${forwarded}; untagged: ${untagged}`);
  });

  test("ovs-vif vlan add inst1 0 5000 is refused before Ganeti is called: no job, config unchanged", async () => {
    const jobs = await jobCount();
    const r = await ovsVif("vlan", "add", INST1, "0", "5000");
    assert.is(r.code, 1);
    assert.match(r.stderr, /VLAN "5000": VLAN id 5000 out of range 1\.\.4094/);
    assert.is(await jobCount(), jobs, "no Ganeti job submitted");
    assert.is(await vlans(INST1), "['.3:20', '', '']");
    assert.is((await port(t1[0]!)).tag, 3);
    console.log(`  ovs-vif vlan add ${INST1} 0 5000: exit 1, ${r.stderr.trim()}; no new job, nic.vlans still ['.3:20', '', '']`);
  });

  test("gnt-instance modify --net 0:modify,vlan=.4 alone: the installed instance-modify hook applies it to the running port in place", async () => {
    const tap = t1[0]!;
    const pid = await qemuPid(INST1);
    const before = await port(tap);
    const out = await gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.4", INST1);
    assertHookOk(out, "instance-modify");
    assert.is(await vlans(INST1), "['.4', '', '']");
    const after = await port(tap);
    assert.is(after.vlan_mode, "access");
    assert.is(after.tag, 4);
    assert.equal(after.trunks, []);
    assert.is(after.uuid, before.uuid, "same Port _uuid");
    assert.is(rates(after), "50000/39062", "QoS kept");
    assert.is(await qemuPid(INST1), pid, "same QEMU process");
    console.log(
      `  gnt-instance modify --net 0:modify,vlan=.4: ${tap} vlan_mode=access tag=4 trunks=[] (by the instance-modify post hook), same Port _uuid, QEMU pid ${pid} unchanged`,
    );
  });

  // ------------------------------------------------------------------ reboot, stop
  test("gnt-instance reboot --shutdown-timeout=0 (hard): new QEMU, exactly one port per openvswitch NIC, VLAN .4 and 50M kept", async () => {
    const pid = await qemuPid(INST1);
    assertHookOk(await gnt("gnt-instance", "reboot", "--shutdown-timeout=0", INST1), "instance-reboot");
    assert.is(await status(INST1), "running");
    const newPid = await qemuPid(INST1);
    assert.ok(newPid !== pid, "a new QEMU process (hard reboot)");
    t1 = await taps(INST1, 3);
    assert.equal(await instancePorts(INST1), [...t1].sort(), "one port per NIC, nothing stale");
    const all = await bridgePorts();
    assert.equal(all, [...t1, t2[0]!, UPLINK].sort(), "each tap once on the bridge");
    const p0 = await port(t1[0]!);
    assert.is(p0.tag, 4);
    assert.is(p0.vlan_mode, "access");
    assert.is(rates(p0), "50000/39062");
    assert.is(rates(await port(t1[2]!)), "1000000/781250");
    console.log(
      `  after reboot: QEMU pid ${pid} -> ${newPid}; ports on ${OVS_BRIDGE}: ${all.join(",")} (${INST1}: ${t1.join(",")}, one per NIC); ${t1[0]} tag=4 ${rates(p0)}`,
    );
  });

  test("gnt-instance stop --timeout=0: the instance-stop post hook removes the instance's ports (Ganeti 3.0 has no down script)", async () => {
    assertHookOk(await gnt("gnt-instance", "stop", "--timeout=0", INST1), "instance-stop");
    assert.is(await status(INST1), "ADMIN_down");
    assert.equal(await instancePorts(INST1), [], "no Interface of the instance left");
    const all = await bridgePorts();
    assert.equal(all, [t2[0]!, UPLINK].sort(), "only the other instance's port and the uplink");
    console.log(`  after stop: ovs-vsctl list-ports ${OVS_BRIDGE}: ${all.join(",")} (no port of ${INST1})`);
  });

  test("gnt-network rename (Ganeti 3.1): the network-rename hooks (pre and post) exit 0 without OVN here, every VLAN port stays as it is, the NIC's network follows the name", async () => {
    if (ganetiRelease() === "3.0") {
      console.log("  Ganeti 3.0 has no gnt-network rename: nothing to try");
      return;
    }
    const before = await cluster!.vsctl("--format=json", "--columns=_uuid,name,tag,trunks,vlan_mode,external_ids", "list", "Port");
    const renamed = `${NET}-renamed`;
    const out = await gnt("gnt-network", "rename", NET, renamed);
    for (const phase of ["pre", "post"]) assert.not.match(out, new RegExp(`script network-rename-${phase}\\.d/ovs-vif failed`), out);
    assert.match(await gnt("gnt-instance", "list", "--no-headers", "-o", "nic.networks.names", INST2), new RegExp(renamed));
    assert.is(await cluster!.vsctl("--format=json", "--columns=_uuid,name,tag,trunks,vlan_mode,external_ids", "list", "Port"), before, "every port unchanged");
    const env = captured("network-rename", "post")[0]!;
    assert.equal([env.GANETI_OLD_NAME, env.GANETI_NEW_NAME], [NET, renamed]);
    await gnt("gnt-network", "rename", renamed, NET);
    console.log(`  gnt-network rename ${NET} ${renamed} and back: hooks exit 0 (GANETI_OLD_NAME, GANETI_NEW_NAME), ports unchanged`);
  });

  test("instances removed, gnt-network disconnect: the network-disconnect hook leaves the bridge (not managed, no spec) and exits 0", async () => {
    await gnt("gnt-instance", "remove", "-f", "--shutdown-timeout=0", INST1);
    await gnt("gnt-instance", "remove", "-f", "--shutdown-timeout=0", INST2);
    const out = await gnt("gnt-network", "disconnect", NET, "default");
    assertHookOk(out, "network-disconnect");
    const after = (await listRows(oracle, "Bridge", OVS_BRIDGE))[0]!;
    assert.is(String(after._uuid), bridgeUuid, "same Bridge row");
    assert.equal(await bridgePorts(), [UPLINK]);
    const [env] = captured("network-disconnect", "post");
    assert.ok(env, "network-disconnect post hook ran");
    const r = await cluster!.run("env", ["-i", ...Object.entries(env!).map(([k, v]) => `${k}=${v}`), "/etc/ganeti/hooks/network-disconnect-post.d/ovs-vif"]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /network-disconnect: gntbr: not marked managed in \/etc\/ovs-vif\/switches\.json: left in place/);
    console.log(`  gnt-network disconnect ${NET} default: no hook failure; ${OVS_BRIDGE} kept (same _uuid), ports ${UPLINK}`);
    console.log(`  network-disconnect hook, Ganeti's environment again: exit 0: ${r.stderr.trim()}`);
  });

  // ------------------------------------------------------------------ fixtures
  test("the hook environments Ganeti sent are the committed fixtures test/fixtures/ganeti-hooks/RELEASE/*.env of the running release (UUIDs and tag order aside)", () => {
    const update = process.env.OVS_VIF_UPDATE_FIXTURES === "1";
    const FIXTURE_DIR = fixtureDir(ganetiRelease());
    if (update) mkdirSync(FIXTURE_DIR, { recursive: true });
    for (const path of capturedPaths(ganetiRelease())) {
      for (const phase of PHASES) {
        // The first run of each: inst1's start, the modify of `vlan add`.
        const runs = captured(path, phase);
        assert.ok(runs.length > 0, `${path} ${phase} hook ran`);
        const env = runs[0]!;
        assert.is(env.GANETI_HOOKS_PATH, path);
        assert.is(env.GANETI_HOOKS_PHASE, phase);
        const foreign = Object.keys(env).filter((k) => k !== "PATH" && !k.startsWith("GANETI_"));
        assert.equal(foreign, [], `${path}-${phase}: only PATH and GANETI_* (Ganeti clears the environment)`);
        const name = fixtureName(path, phase);
        const file = join(FIXTURE_DIR, name);
        if (update) {
          writeFileSync(file, formatEnvFile(env));
          console.log(`  wrote ${FIXTURE_DIR}/${name}: ${Object.keys(env).length} variables (${runs.length} run(s) captured)`);
          continue;
        }
        assert.ok(existsSync(file), `${file} missing: run with OVS_VIF_UPDATE_FIXTURES=1`);
        const fixture = parseEnvFile(readFileSync(file, "utf8"), file);
        const keys = (e: Record<string, string>) => Object.keys(e).sort();
        const missing = keys(fixture).filter((k) => !(k in env));
        const added = keys(env).filter((k) => !(k in fixture));
        assert.equal([missing, added], [[], []], `${name}: variables [missing now, new now] (OVS_VIF_UPDATE_FIXTURES=1 rewrites)`);
        const differ = keys(env).filter((k) => normalizeHookValue(k, env[k]!) !== normalizeHookValue(k, fixture[k]!));
        assert.equal(differ, [], `${name}: values differ: ${differ.map((k) => `${k}=${env[k]} (fixture ${fixture[k]})`).join("; ")}`);
        console.log(`  ${name}: ${Object.keys(env).length} variables as in the fixture (${runs.length} run(s) captured)`);
      }
    }
  });
}

test.run();
