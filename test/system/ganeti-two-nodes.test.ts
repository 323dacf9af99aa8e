// A real two-node Ganeti cluster (3.0 on Debian 12, 3.1 on Debian 13) (KVM under TCG, diskless; see
// harness/ganeti-cluster.*) with ovs-vif installed on both nodes by
// install.sh --ganeti, one real guest (harness/guest.*) with one NIC
// vlan=.3:10:20, and ping peers on node1 (harness/ping.ts) as access ports of
// VLANs 3, 4, 10, 20 and 30, reaching node2 through the trunk between the
// nodes' bridges. node2 joins with `gnt-node add` after the master got a
// switch spec and QoS defaults: the master's node-add hook gives node2 both
// and its group's switch. Scenarios, in order, on the one guest:
//   - start on node1: the port's columns, pings on VLAN 3 and 10, not 30;
//   - live migration node1 -> node2 -> node1 under a ping every 50 ms;
//   - a migration whose target QEMU is killed right after it starts with
//     -incoming (without and with `ovs-vif watch` on the target), and one
//     whose target lacks the bridge: all fail, the source keeps working;
//   - gnt-instance failover to node2;
//   - gnt-instance modify --net 0:modify,vlan=.4, `ovs-vif vlan add` (under
//     a ping on the native VLAN), `ovs-vif qos set/unset` and `reconcile
//     --cluster` from the master for the instance on node2;
//   - status and doctor --cluster: ok; a hook link removed on node2 and a
//     VLAN changed without it: doctor fails naming the link, status shows
//     the drift naming tag; link restored and reconcile --cluster: ok;
//   - a NIC hot-added (VLAN 31, the instance's QoS; the guest's eth1
//     answers) and hot-removed (nothing left); `ovs-vif vlan set` against
//     Ganeti's own hot-modify (-f), which replaces the guest's NIC;
//   - stop and remove on node2;
//   - gnt-network connect/disconnect of a new switch on the two-node group.
// ovs-vsctl on each node is the oracle; pings are the data plane.
//
// Addresses (all in 198.51.100.0/24): management 198.51.100.0/28 (harness);
// the guest's untagged subnet 198.51.100.16/28 (guest .20; peers .17 on
// VLAN 3 and .18 on VLAN 4), VLAN 10 198.51.100.32/28 (guest .36, peer .33),
// VLAN 20 198.51.100.48/28 (guest .52, peer .49), VLAN 30 198.51.100.64/28
// (guest .68, peer .65); the Ganeti network of the last scenario 198.51.100.96/28.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OVS_BRIDGE, UPLINK, ensureBridge, oracleOf, startGanetiCluster, unavailable, type GanetiCluster, type GanetiNode } from "../harness/ganeti-cluster.ts";
import { configOnly } from "../harness/ganeti-release.ts";
import { startWatch } from "../harness/ganeti-watch.ts";
import { instancePorts, instancePortsLeftOn, nicTap, portColumns, qemuPid, type LeftPort } from "../harness/ganeti-instance.ts";
import { GUEST_CLUSTER_HV, guestHvParams, guestImage, type GuestImage } from "../harness/guest.ts";
import { listRows, type PortView } from "../harness/oracle.ts";
import { addPingPeer, continuousPing, ping, waitForPing, type PingPeer, type PingStats } from "../harness/ping.ts";

const INST = "guest1.ovsvif.test";
const MAC = "aa:00:00:00:00:01";
const GUEST_NET = {
  untagged: "198.51.100.20/28",
  vlans: { 10: "198.51.100.36/28", 20: "198.51.100.52/28", 30: "198.51.100.68/28" },
  second: "198.51.100.84/28",
};
const G3 = "198.51.100.20";
const G10 = "198.51.100.36";
const G20 = "198.51.100.52";
const G30 = "198.51.100.68";
/** eth1, a NIC hot-added on VLAN 31. */
const G31 = "198.51.100.84";
/** Bounds on a live migration under a ping every 50 ms (measured: see the log lines "migration ..."). */
const MAX_LOST = 10;
const MAX_GAP_MS = 2000;
const BOOT_MS = 90000;

/** On the master before node2 joins: the node-add hook hands both to node2. */
const NODE_SPEC = {
  version: 1,
  defaults: { datapath_type: "netdev" },
  switches: [{ name: "gntnode", managed: true }],
  node_groups: { default: { switches: ["gntnode"] } },
};
const NODE_DEFAULTS = { version: 1, bridges: { gntnode: { rate: "10M" } } };

const why = unavailable();
let cluster: GanetiCluster | undefined;
let image: GuestImage;
let n1: GanetiNode;
let n2: GanetiNode;
const peers: Record<string, PingPeer> = {};
/** The NIC's port columns on node1 right after the first start: every node must show the same. */
let reference: ReturnType<typeof portColumns>;
const timings: string[] = [];

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function scenario(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    const t0 = Date.now();
    try {
      await fn();
    } finally {
      const line = `${secs(Date.now() - t0)}  ${name}`;
      timings.push(line);
      console.log(`  time: ${line}`);
    }
  });
}

if (why) {
  console.log(`SKIPPED: real two-node Ganeti cluster test: ${why}`);
  test("real two-node Ganeti cluster (skipped: see SKIPPED above)", () => undefined);
} else {
  test.before(async () => {
    try {
      const t0 = Date.now();
      const img = guestImage();
      img.catch(() => undefined); // awaited below; a failure while the cluster starts must not go unhandled
      cluster = await startGanetiCluster((line) => console.log(`  ${line}`), {
        nodes: 2,
        beforeNodeAdd: async (master) => {
          writeFileSync(join(master.dir, "root/etc/ovs-vif/switches.json"), `${JSON.stringify(NODE_SPEC, null, 2)}\n`);
          writeFileSync(join(master.dir, "root/etc/ovs-vif/defaults.json"), `${JSON.stringify(NODE_DEFAULTS, null, 2)}\n`);
        },
      });
      n1 = cluster.node(1);
      n2 = cluster.node(2);
      await cluster.must("gnt-cluster", ["modify", "-H", GUEST_CLUSTER_HV], 120000);
      timings.push(`${secs(Date.now() - t0)}  cluster set-up (2 nodes)`);
      console.log(`  cluster of ${cluster.nodes.map((n) => n.name).join(", ")} up: ${secs(Date.now() - t0)}`);
      const t1 = Date.now();
      image = await img;
      console.log(
        `  guest image ${image.built ? "built" : "from the cache"} (${image.packages}): ${image.kernel}, ${image.initrd} (${secs(Date.now() - t1)} more)`,
      );
      for (const [ns, vlan, address] of [
        ["pv3", 3, "198.51.100.17/28"],
        ["pv4", 4, "198.51.100.18/28"],
        ["pv10", 10, "198.51.100.33/28"],
        ["pv20", 20, "198.51.100.49/28"],
        ["pv30", 30, "198.51.100.65/28"],
        ["pv31", 31, "198.51.100.81/28"],
        ["pv9", 9, "198.51.100.19/28"],
      ] as const) {
        peers[ns] = await addPingPeer(n1, ns, vlan, address);
      }
      console.log(
        `  ping peers on ${n1.name}: ${Object.values(peers)
          .map((p) => `${p.ns} VLAN ${p.vlan} ${p.address}`)
          .join(", ")}`,
      );
    } catch (err) {
      // uvu drops an error of a before hook: say it.
      console.log(`  set-up failed: ${(err as Error).stack ?? err}`);
      throw err;
    }
  });

  test.after(async () => {
    const t0 = Date.now();
    await cluster?.stop();
    timings.push(`${secs(Date.now() - t0)}  teardown`);
    console.log(`  timings:\n${timings.map((l) => `    ${l}`).join("\n")}`);
  });

  const gnt = (cmd: string, ...args: string[]) => cluster!.must(cmd, args, 180000);

  async function placement(): Promise<{ pnode: string; status: string }> {
    const [pnode, status] = (await gnt("gnt-instance", "list", "--no-headers", "--separator=|", "-o", "pnode,status", INST)).trim().split("|");
    return { pnode: pnode!, status: status! };
  }

  /** A post hook's failure is shown by Ganeti as a job warning naming the script. */
  function assertHookOk(output: string, path: string): void {
    assert.not.match(output, new RegExp(`script ${path}-post\\.d/ovs-vif failed`), `the ${path} post hook failed:\n${output}`);
  }

  /** Exactly one port of the instance, on `primary`, with the reference
   * columns (VLAN, QoS, ids) and the live tap; none on the other node. */
  async function checkPlacement(primary: GanetiNode, other: GanetiNode, what: string): Promise<PortView> {
    assert.equal(await placement(), { pnode: primary.name, status: "running" }, `${what}: Ganeti's view`);
    const tap = await nicTap(primary, INST);
    const ports = await instancePorts(primary, INST);
    assert.equal(
      ports.map((p) => p.name),
      [tap],
      `${what}: exactly one port on ${primary.name}, for the live tap ${tap}`,
    );
    const p = ports[0]!;
    assert.equal(portColumns(p), reference, `${what}: the port's columns on ${primary.name}`);
    assert.ok((p.ofport ?? -1) > 0, `${what}: vswitchd attached ${tap} (ofport ${p.ofport})`);
    assert.equal(await instancePorts(other, INST), [], `${what}: no port of ${INST} left on ${other.name}`);
    console.log(
      `  ${what}: ${primary.name} has ${tap} (ofport ${p.ofport}, vlan_mode ${p.vlan_mode} tag ${p.tag} trunks [${p.trunks}], policing ${p.rate}/${p.burst}), ${other.name} none`,
    );
    return p;
  }

  /** Reachable: answered within 5 s (right after a port change the peer's
   * ARP and the bridges' MAC learning start over); unreachable: three pings
   * unanswered. */
  async function assertReach(peer: string, target: string, expect: boolean, what: string): Promise<void> {
    const ok = expect
      ? await waitForPing(peers[peer]!, target, 5000).then(
          () => true,
          () => false,
        )
      : await ping(peers[peer]!, target);
    assert.is(ok, expect, `${what}: ${peer} (VLAN ${peers[peer]!.vlan}) -> ${target} ${expect ? "answered" : "unreachable"}`);
  }

  /** The guest's data plane as the reference port allows it: VLAN 3 untagged, 10 and 20 tagged; 30 and 4 not. */
  async function checkPings(what: string): Promise<void> {
    await Promise.all([
      assertReach("pv3", G3, true, what),
      assertReach("pv10", G10, true, what),
      assertReach("pv20", G20, true, what),
      assertReach("pv30", G30, false, what),
      assertReach("pv4", G3, false, what),
    ]);
    console.log(`  ${what}: pings VLAN 3 -> ${G3} ok, VLAN 10 -> ${G10} ok, VLAN 20 -> ${G20} ok; VLAN 30 -> ${G30} and VLAN 4 -> ${G3} unreachable`);
  }

  function describe(s: PingStats): string {
    return `${s.lost} of ${s.sent} lost, longest gap ${s.longestGapMs} ms`;
  }

  /** Runs `fn` under a ping every 50 ms on VLAN 3 and VLAN 10; the statistics of both. */
  async function underPing<T>(fn: () => Promise<T>, first: PingPeer = peers.pv3!): Promise<{ result: T; v3: PingStats; v10: PingStats }> {
    const p3 = continuousPing(first, G3);
    const p10 = continuousPing(peers.pv10!, G10);
    await sleep(300);
    try {
      const result = await fn();
      await sleep(1000);
      return { result, v3: await p3.stop(), v10: await p10.stop() };
    } catch (err) {
      await p3.stop().catch(() => undefined);
      await p10.stop().catch(() => undefined);
      throw err;
    }
  }

  async function migrate(from: GanetiNode, to: GanetiNode): Promise<void> {
    const pid = await qemuPid(from, INST);
    const { result, v3, v10 } = await underPing(async () => {
      const t0 = Date.now();
      return { out: await gnt("gnt-instance", "migrate", "-f", "-n", to.name, INST), ms: Date.now() - t0 };
    });
    assertHookOk(result.out, "instance-migrate");
    console.log(
      `  migration ${from.name} -> ${to.name}: gnt-instance migrate ${secs(result.ms)}; ping every 50 ms: VLAN 3 ${describe(v3)}; VLAN 10 ${describe(v10)}`,
    );
    assert.ok(v3.sent > 20, `the ping ran (${v3.sent} sent)`);
    for (const [vlan, s] of [
      ["VLAN 3", v3],
      ["VLAN 10", v10],
    ] as const) {
      assert.ok(s.lost <= MAX_LOST, `${vlan}: ${s.lost} lost (bound ${MAX_LOST})`);
      assert.ok(s.longestGapMs < MAX_GAP_MS, `${vlan}: longest gap ${s.longestGapMs} ms (bound ${MAX_GAP_MS})`);
    }
    await checkPlacement(to, from, `after migration to ${to.name}`);
    const gone = await from.run("kill", ["-0", String(pid)]);
    assert.ok(gone.code !== 0, `QEMU ${pid} on ${from.name} is gone`);
    await checkPings(`after migration to ${to.name}`);
  }

  // ------------------------------------------------------------------ node-add
  async function bridgeRow(node: GanetiNode, name: string): Promise<Record<string, unknown> | undefined> {
    return (await listRows(oracleOf(node), "Bridge")).find((b) => b.name === name);
  }

  async function internalOfport(node: GanetiNode, name: string): Promise<unknown> {
    return (await listRows(oracleOf(node), "Interface")).find((i) => i.name === name)?.ofport;
  }

  scenario(
    "gnt-node add node2 (in the set-up, nothing else run): node2 got the master's switch spec and QoS defaults and its group's switch gntnode, running",
    async () => {
      const out = cluster!.nodeAddOutput[n2.name] ?? "";
      assertHookOk(out, "node-add");
      for (const file of ["switches.json", "defaults.json"]) {
        const theirs = await n2.must("cat", [`/etc/ovs-vif/${file}`]);
        assert.is(theirs, readFileSync(join(n1.dir, "root/etc/ovs-vif", file), "utf8"), `node2's /etc/ovs-vif/${file} is the master's`);
      }
      // Ganeti copied the master's /etc/ganeti/kvm-vif-bridge to node2 (its
      // ancillary files): ovs-vif's small script, the same everywhere.
      assert.is(await n2.must("cat", ["/etc/ganeti/kvm-vif-bridge"]), await n1.must("cat", ["/etc/ganeti/kvm-vif-bridge"]));
      assert.match(await n2.must("cat", ["/etc/ganeti/kvm-vif-bridge"]), /^#!\/bin\/sh\n.*\nexec \/usr\/lib\/ovs-vif\/kvm-vif-bridge "\$@"\n$/s);
      const b = await bridgeRow(n2, "gntnode");
      assert.ok(b, `gntnode on ${n2.name}`);
      assert.is(b!.datapath_type, "netdev");
      assert.equal(b!.external_ids, { "ovs-vif-switch": "managed" });
      assert.is(await internalOfport(n2, "gntnode"), 65534, `ovs-vswitchd runs gntnode on ${n2.name}`);
      // Whether the copies are the master's is doctor --cluster's part (it
      // hands the nodes the master's digests); here: they parse.
      const doctor = await n2.run("ovs-vif", ["doctor"]);
      const parsed = doctor.stdout.split("\n").filter((l) => /switch spec parses|QoS defaults parse/.test(l));
      assert.is(parsed.length, 2, doctor.stdout);
      for (const l of parsed) assert.match(l, /: ok /, l);
      // The master had the spec first: the operator applies it there once.
      const applied = await n1.must("ovs-vif", ["switch", "apply", "--group", "default"]);
      assert.match(applied, /gntnode: applied/);
      console.log(
        `  gnt-node add ${n2.name}: spec and defaults copied from the master, gntnode (netdev, managed) running there; its doctor: ${parsed.join(" | ")}; on the master: ${applied.trim().split("\n").join(" | ")}`,
      );
    },
  );

  // ------------------------------------------------------------------ start
  scenario(
    "guest on node1, vlan=.3:10:20 and ovs-vif:rate:100M: the port's columns on node1, none on node2; pings on VLAN 3, 10, 20; VLAN 30 and 4 unreachable",
    async () => {
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
        n1.name,
        "-B",
        "memory=128M,vcpus=1",
        "-H",
        guestHvParams(image, GUEST_NET),
        "--net",
        `0:mode=openvswitch,link=${OVS_BRIDGE},vlan=.3:10:20,mac=${MAC}`,
        INST,
      );
      await gnt("gnt-instance", "add-tags", INST, "ovs-vif:rate:100M");
      const t0 = Date.now();
      assertHookOk(await gnt("gnt-instance", "start", INST), "instance-start");
      const started = Date.now() - t0;
      const booted = await waitForPing(peers.pv3!, G3, BOOT_MS);
      timings.push(`${secs(started + booted)}  guest boot (gnt-instance start ${secs(started)}, then first answer after ${secs(booted)})`);
      console.log(`  guest boot: gnt-instance start ${secs(started)}, first ping answer ${secs(booted)} later`);

      const tap = await nicTap(n1, INST);
      const [p, ...more] = await instancePorts(n1, INST);
      assert.ok(p, `a port on ${n1.name}`);
      assert.equal(more, [], "one port");
      assert.is(p!.name, tap);
      assert.is(p!.bridge, OVS_BRIDGE);
      assert.is(p!.vlan_mode, "native-untagged");
      assert.is(p!.tag, 3);
      assert.equal(p!.trunks, [10, 20]);
      assert.is(p!.portIds["ovs-vif-owner"], "ganeti");
      assert.is(p!.ifaceIds["ganeti-instance"], INST);
      assert.is(p!.ifaceIds["ganeti-nic-index"], "0");
      assert.is(p!.ifaceIds["attached-mac"], MAC);
      const uuid = (await gnt("gnt-instance", "list", "--no-headers", "-o", "nic.uuids", INST)).trim();
      assert.is(`['${p!.ifaceIds["ganeti-nic-uuid"]}']`, uuid, "NIC UUID from Ganeti");
      assert.is(p!.ifaceIds["iface-id"], p!.ifaceIds["ganeti-nic-uuid"]);
      assert.is(`${p!.rate}/${p!.burst}`, "100000/78125", "ingress policing from ovs-vif:rate:100M");
      assert.ok((p!.ofport ?? -1) > 0);
      reference = portColumns(p!);
      await checkPlacement(n1, n2, "after start on node1");
      await checkPings("after start on node1");
    },
  );

  // ------------------------------------------------------------------ live migration
  scenario(
    "live migration node1 -> node2 -> node1 under a ping every 50 ms: bounded loss; one port, on the new primary, same columns; pings on native and tagged VLANs",
    async () => {
      await migrate(n1, n2);
      await migrate(n2, n1);
    },
  );

  // ------------------------------------------------------------------ failed migrations
  /** On the target: finds the instance's QEMU started with -incoming (by
   * Ganeti's pidfile) and kills it once the source's migration stream has
   * connected, i.e. after Ganeti accepted the instance there (killed before,
   * Ganeti fails in pre-migration instead). */
  const KILL_INCOMING = `f=/run/ganeti/kvm-hypervisor/pid/$1
for i in $(seq 1200); do
  if [ -s "$f" ]; then
    p=$(cat "$f")
    incoming=$(tr '\\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -o -- '-incoming [^ ]*' || true)
    port=\${incoming##*:}
    if [ -n "$incoming" ] && [ -n "$(ss -Htn state established "( sport = :$port )")" ]; then
      kill -9 "$p"
      echo "killed QEMU $p ($incoming) once the migration stream had connected"
      exit 0
    fi
  fi
  sleep 0.02
done
echo "no QEMU with -incoming and a connected migration stream within 24 s"
exit 1`;

  /** The instance still runs on node1 as before: same QEMU, same port row and columns, pings. */
  async function checkSourceKept(pid: number, port: PortView, what: string): Promise<void> {
    assert.equal(await placement(), { pnode: n1.name, status: "running" }, `${what}: still running on ${n1.name}`);
    assert.is(await qemuPid(n1, INST), pid, `${what}: the same QEMU on ${n1.name}`);
    const [p, ...more] = await instancePorts(n1, INST);
    assert.equal(more, [], `${what}: one port on ${n1.name}`);
    assert.is(p?.uuid, port.uuid, `${what}: the same Port row on ${n1.name}`);
    assert.equal(portColumns(p!), reference, `${what}: the same columns`);
    await checkPings(what);
  }

  /** A migration to node2 whose QEMU there is killed once the migration
   * stream connected: Ganeti aborts, the source keeps working. */
  async function migrateTargetKilled(what: string): Promise<void> {
    const pid = await qemuPid(n1, INST);
    const [port] = await instancePorts(n1, INST);
    // At 1 MiB/s the stream stays connected long enough to be cut for sure.
    await gnt("gnt-cluster", "modify", "-H", "kvm:migration_bandwidth=1");
    const {
      w,
      result: r,
      v3,
      v10,
    } = await (async () => {
      const watcher = n2.run("bash", ["-c", KILL_INCOMING, "-", INST], 90000);
      watcher.catch(() => undefined); // awaited below unless the migration itself throws
      const under = await underPing(() => cluster!.run("gnt-instance", ["migrate", "-f", "-n", n2.name, INST], 180000));
      return { ...under, w: await watcher };
    })().finally(() => gnt("gnt-cluster", "modify", "-H", GUEST_CLUSTER_HV));
    assert.is(w.code, 0, `watcher on ${n2.name}: ${w.stdout}${w.stderr}`);
    const text = r.stdout + r.stderr;
    assert.ok(r.code !== 0, `gnt-instance migrate must fail:\n${text}`);
    assert.ok(/Migration failed, aborting/.test(text), `Ganeti's report:\n${text}`);
    console.log(
      `  ${n2.name}: ${w.stdout.trim()}; gnt-instance migrate exit ${r.code}: ${text
        .trim()
        .split("\n")
        .filter((l) => /fail|abort/i.test(l))
        .map((l) => l.trim())
        .join(" | ")}`,
    );
    console.log(`  source during the failed migration: VLAN 3 ${describe(v3)}; VLAN 10 ${describe(v10)}`);
    assert.ok(v3.lost <= MAX_LOST && v10.lost <= MAX_LOST, "the source's guest kept answering");
    await checkSourceKept(pid, port!, what);
  }

  const describeLeft = (left: LeftPort[]) =>
    left.length ? left.map((l) => `port ${l.name} (device ${l.deviceExists ? "exists" : "gone"}, ofport ${l.ofport})`).join(", ") : "no port of the instance";

  scenario(
    "migration to node2 whose QEMU is killed right after it starts with -incoming: fails, the source keeps working; what is left on node2 is printed; ovs-vif gc there removes it",
    async () => {
      await migrateTargetKilled("after the failed migration");
      console.log(`  left on ${n2.name} (the target): ${describeLeft(await instancePortsLeftOn(n2, INST))}`);
      // Not asserted without the watch service (next scenario): assert.equal(await instancePortsLeftOn(n2, INST), []);
      const gc = await n2.run("ovs-vif", ["gc"]);
      assert.is(gc.code, 0, gc.stderr);
      console.log(`  ovs-vif gc on ${n2.name}: ${(gc.stdout + gc.stderr).trim().split("\n").join(" | ") || "(no output)"}`);
      assert.equal(await instancePorts(n2, INST), [], `after gc no port of ${INST} on ${n2.name}`);
    },
  );

  scenario(
    "the same failed migration with ovs-vif watch running on node2 (as its service would): the port of the vanished tap is removed there at once",
    async () => {
      const watch = await startWatch(n2);
      try {
        await migrateTargetKilled("after the failed migration under ovs-vif watch");
        const t0 = Date.now();
        let left = await instancePortsLeftOn(n2, INST);
        while (left.length > 0 && Date.now() - t0 < 5000) {
          await sleep(100);
          left = await instancePortsLeftOn(n2, INST);
        }
        const lines = watch
          .log()
          .trim()
          .split("\n")
          .filter((l) => /watch/.test(l));
        console.log(
          `  left on ${n2.name} with ovs-vif watch: ${describeLeft(left)}${left.length ? "" : ` (gone within ${Date.now() - t0} ms of the failed job's end)`}; its log: ${lines.join(" | ")}`,
        );
        assert.equal(left, [], `ovs-vif watch removed the port of the killed QEMU's tap on ${n2.name}`);
      } finally {
        await watch.stop();
      }
    },
  );

  scenario(
    "migration to node2 after ovs-vsctl del-br gntbr there: fails in the NIC script on the target, the source keeps working; bridge restored",
    async () => {
      const pid = await qemuPid(n1, INST);
      const [port] = await instancePorts(n1, INST);
      await n2.vsctl("del-br", OVS_BRIDGE);
      try {
        const { result: r, v3 } = await underPing(() => cluster!.run("gnt-instance", ["migrate", "-f", "-n", n2.name, INST], 180000));
        const text = r.stdout + r.stderr;
        assert.ok(r.code !== 0, `gnt-instance migrate must fail:\n${text}`);
        assert.match(text, new RegExp(`kvm-vif-bridge: .*${OVS_BRIDGE}`), `the NIC script's message names the bridge:\n${text}`);
        console.log(
          `  gnt-instance migrate exit ${r.code}: ${text
            .trim()
            .split("\n")
            .filter((l) => /kvm-vif-bridge|fail/i.test(l))
            .map((l) => l.trim())
            .join(" | ")}`,
        );
        console.log(`  source during the failed migration: VLAN 3 ${describe(v3)}`);
        assert.ok(v3.lost <= MAX_LOST, "the source's guest kept answering");
        await checkSourceKept(pid, port!, "after the migration to a node without the bridge");
        assert.equal(await instancePortsLeftOn(n2, INST), [], `nothing of ${INST} on ${n2.name}`);
      } finally {
        await ensureBridge(n2);
      }
      assert.equal((await n2.vsctl("list-ports", OVS_BRIDGE)).split("\n").filter(Boolean), [UPLINK], `${OVS_BRIDGE} back on ${n2.name} with its trunk`);
    },
  );

  // ------------------------------------------------------------------ failover
  scenario(
    "gnt-instance failover -f to node2 (guest restarted there): one port on node2 with the same columns, none on node1; pings once it booted",
    async () => {
      const pid = await qemuPid(n1, INST);
      const p3 = continuousPing(peers.pv3!, G3);
      let stats: PingStats;
      const t0 = Date.now();
      try {
        const out = await gnt("gnt-instance", "failover", "-f", "--shutdown-timeout=0", "-n", n2.name, INST);
        assertHookOk(out, "instance-failover");
        const ms = Date.now() - t0;
        const booted = await waitForPing(peers.pv10!, G10, BOOT_MS);
        await sleep(1000);
        stats = await p3.stop();
        console.log(
          `  gnt-instance failover ${secs(ms)}; the tagged VLAN answered ${secs(booted)} later; ping every 50 ms on VLAN 3: ${describe(stats)} (the outage: shutdown, start, guest boot)`,
        );
      } catch (err) {
        await p3.stop().catch(() => undefined);
        throw err;
      }
      assert.ok(stats.received > 20, "the guest answered before and after");
      assert.ok((await n1.run("kill", ["-0", String(pid)])).code !== 0, `QEMU ${pid} on ${n1.name} is gone`);
      await checkPlacement(n2, n1, "after failover to node2");
      await checkPings("after failover to node2");
    },
  );

  // ------------------------------------------------------------------ VLAN changes for an instance on node2
  async function vlans(): Promise<string> {
    return (await gnt("gnt-instance", "list", "--no-headers", "-o", "nic.vlans", INST)).trim();
  }

  scenario(
    "from the master, gnt-instance modify --net 0:modify,vlan=.4 for the instance on node2: applied in place on node2 by the instance-modify hook (same Port row, same QEMU); untagged now in VLAN 4",
    async () => {
      const pid = await qemuPid(n2, INST);
      const [before] = await instancePorts(n2, INST);
      const out = await gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.4", INST);
      assertHookOk(out, "instance-modify");
      assert.is(await vlans(), "['.4']");
      const [after, ...more] = await instancePorts(n2, INST);
      assert.equal(more, []);
      assert.is(after!.vlan_mode, "access");
      assert.is(after!.tag, 4);
      assert.equal(after!.trunks, []);
      assert.is(after!.uuid, before!.uuid, "same Port _uuid");
      assert.is(after!.ofport, before!.ofport, "same OpenFlow port");
      assert.is(`${after!.rate}/${after!.burst}`, "100000/78125", "QoS kept");
      assert.is(await qemuPid(n2, INST), pid, "same QEMU");
      assert.equal(await instancePorts(n1, INST), [], `nothing on ${n1.name}`);
      await Promise.all([assertReach("pv4", G3, true, "vlan .4"), assertReach("pv3", G3, false, "vlan .4"), assertReach("pv10", G10, false, "vlan .4")]);
      console.log(
        `  ${n2.name}: ${after!.name} vlan_mode access tag 4 trunks [], same Port _uuid, ofport ${after!.ofport}, QEMU ${pid}; pings: VLAN 4 -> ${G3} ok, VLAN 3 and VLAN 10 unreachable`,
      );
    },
  );

  scenario(
    "from the master, ovs-vif vlan add INST 0 20 for the instance on node2: Ganeti has .4:20; node2's port changed in place by the hook; VLAN 20 answers",
    async () => {
      const [before] = await instancePorts(n2, INST);
      const pid = await qemuPid(n2, INST);
      // The native VLAN 4 under a ping every 50 ms while the trunk VLAN is added.
      const { result: r, v3: v4 } = await underPing(() => n1.run("ovs-vif", ["vlan", "add", INST, "0", "20"], 120000), peers.pv4!);
      console.log(
        `  ovs-vif vlan add ${INST} 0 20 on ${n1.name}: exit ${r.code}; stdout: ${r.stdout.trim().split("\n").join(" | ") || "-"}; stderr: ${r.stderr.trim().split("\n").join(" | ") || "-"}`,
      );
      assert.is(r.code, 0, r.stderr);
      console.log(
        `  vlan add on the running guest: Port _uuid ${before!.uuid} before, ${(await instancePorts(n2, INST))[0]?.uuid} after; QEMU ${pid}; ping every 50 ms on VLAN 4 during it: ${describe(v4)}`,
      );
      assert.ok(v4.lost <= 1, `VLAN 4 during vlan add: ${describe(v4)}`);
      assert.is(await qemuPid(n2, INST), pid, "same QEMU");
      assert.is(await vlans(), "['.4:20']");
      const [after, ...more] = await instancePorts(n2, INST);
      assert.equal(more, []);
      assert.is(after!.vlan_mode, "native-untagged");
      assert.is(after!.tag, 4);
      assert.equal(after!.trunks, [20]);
      assert.is(after!.uuid, before!.uuid, "same Port _uuid");
      assert.equal(await instancePorts(n1, INST), [], `nothing on ${n1.name}`);
      await Promise.all([
        assertReach("pv20", G20, true, "vlan .4:20"),
        assertReach("pv4", G3, true, "vlan .4:20"),
        assertReach("pv10", G10, false, "vlan .4:20"),
      ]);
      console.log(
        `  ${n2.name}: ${after!.name} vlan_mode native-untagged tag 4 trunks [20], same Port _uuid; pings: VLAN 20 -> ${G20} ok, VLAN 4 ok, VLAN 10 unreachable`,
      );
    },
  );

  // ------------------------------------------------------------------ QoS for an instance on node2
  const policing = async (node: GanetiNode) => {
    const [p, ...more] = await instancePorts(node, INST);
    assert.equal(more, [], `one port on ${node.name}`);
    return p ? { uuid: p.uuid, rates: `${p.rate}/${p.burst}` } : undefined;
  };

  scenario(
    "from the master, ovs-vif qos set / unset for the instance on node2 change node2's port in place; ovs-vif reconcile --cluster finds both nodes in line",
    async () => {
      const before = await policing(n2);
      assert.is(before?.rates, "100000/78125");
      const attempt = async (...args: string[]) => {
        const r = await n1.run("ovs-vif", args, 180000);
        console.log(`  ovs-vif ${args.join(" ")} on ${n1.name}: exit ${r.code}; ${(r.stdout + r.stderr).trim().split("\n").join(" | ")}`);
        return r;
      };
      const run = async (...args: string[]) => {
        const r = await attempt(...args);
        assert.is(r.code, 0, r.stderr);
        return r.stdout;
      };
      assert.match(await run("qos", "set", INST, "0", "--rate", "50M"), `applied on ${n2.name}`);
      assert.equal((await gnt("gnt-instance", "list-tags", INST)).trim().split("\n").sort(), ["ovs-vif:nic:0:rate:50M", "ovs-vif:rate:100M"]);
      assert.equal(await policing(n2), { uuid: before!.uuid, rates: "50000/39062" }, "node2's port has the NIC tag's rate, same Port row");
      await run("qos", "unset", INST, "0");
      assert.equal(await policing(n2), { uuid: before!.uuid, rates: "100000/78125" }, "back to the instance tag's rate");
      assert.match(await run("reconcile", "--cluster"), /reconcile --cluster: 1 instances, 2 of 2 nodes in line/);
      assert.equal(await policing(n2), { uuid: before!.uuid, rates: "100000/78125" }, "unchanged by reconcile");
      assert.is(await policing(n1), undefined, `nothing on ${n1.name}`);
      assert.ok(await ping(peers.pv4!, G3), "the guest still answers");
    },
  );

  // ------------------------------------------------------------------ status and doctor
  const MODIFY_LINK = "/etc/ganeti/hooks/instance-modify-post.d/ovs-vif";

  scenario(
    "status --cluster and doctor --cluster from the master: ok; instance-modify link removed on node2: doctor fails naming it, a VLAN change then leaves node2's port in drift naming tag; link restored, reconcile --cluster: ok",
    async () => {
      const watches = [await startWatch(n1), await startWatch(n2)];
      try {
        const show = async (what: string, args: string[], expect: number) => {
          const r = await n1.run("ovs-vif", args, 180000);
          console.log(`  ${what}: ovs-vif ${args.join(" ")} (exit ${r.code}):\n${(r.stdout + r.stderr).trimEnd().replace(/^/gm, "    ")}`);
          assert.is(r.code, expect, `${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
          return r.stdout;
        };
        const totalRow = (text: string) => text.split("\n").find((l) => l.startsWith("total"));
        await show("in line", ["status", "--cluster"], 0);
        const doctorOk = await show("in line", ["doctor", "--cluster"], 0);
        // node2's copies (from the node-add hook) are the master's.
        for (const what of ["switch spec", "QoS defaults"]) assert.match(doctorOk, new RegExp(`^${n2.name}: ok   ${what} = master's`, "m"), what);
        assert.match(
          doctorOk,
          new RegExp(`^${n2.name}: ok   ganeti kvm-vif-bridge: /etc/ganeti/kvm-vif-bridge runs /usr/lib/ovs-vif/kvm-vif-bridge -> ovs-vif$`, "m"),
        );

        const [before] = await instancePorts(n2, INST);
        await n2.must("rm", [MODIFY_LINK]);
        try {
          const doc = await show("link removed on node2", ["doctor", "--cluster"], 1);
          assert.match(doc, new RegExp(`${n2.name}: fail .*${MODIFY_LINK.replace(/[.]/g, "\\.")}`));
          assert.not.match(doc, new RegExp(`${n1.name}: fail`));
          assertHookOk(await gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.9", INST), "instance-modify");
          const [stale] = await instancePorts(n2, INST);
          assert.is(stale!.tag, 4, "without the hook the running port keeps VLAN 4");
          const st = await show("VLAN changed without the hook", ["status", "--cluster"], 1);
          assert.match(st, new RegExp(`${n2.name}\\s+\\d+\\s+\\d+\\s+1\\s`), "node2: one port in drift");
          assert.match(totalRow(st) ?? "", /NOT ok/);
          const local = await n2.run("ovs-vif", ["status", "--instance", INST]);
          console.log(`  on ${n2.name}: ovs-vif status --instance ${INST} (exit ${local.code}):\n${local.stdout.trimEnd().replace(/^/gm, "    ")}`);
          assert.is(local.code, 1);
          assert.match(local.stdout, new RegExp(`${before!.name}.*drift.*tag`));
        } finally {
          await n2.must("ln", ["-sfn", "/usr/lib/ovs-vif/ovs-vif", MODIFY_LINK]);
        }
        assert.match(await show("link restored", ["reconcile", "--cluster"], 0), /2 of 2 nodes in line/);
        const [after] = await instancePorts(n2, INST);
        assert.equal([after!.uuid, after!.vlan_mode, after!.tag], [before!.uuid, "access", 9], "reconciled in place to access VLAN 9");
        await show("reconciled", ["status", "--cluster"], 0);
        await show("reconciled", ["doctor", "--cluster"], 0);
      } finally {
        for (const w of watches) await w.stop();
      }
    },
  );

  // ------------------------------------------------------------------ hotplug on node2
  /** Options that hotplug a NIC change into the running instance: Ganeti 3.0 does it when told, 3.1 by default. */
  const hotplug = () => (configOnly().length > 0 ? [] : ["--hotplug"]);

  scenario(
    "a NIC hot-added to the running instance on node2 (gnt-instance modify --net add, hotplugged): its port has VLAN 31 and the instance's QoS; the guest's new eth1 answers",
    async () => {
      const before = await instancePorts(n2, INST);
      const out = await gnt("gnt-instance", "modify", ...hotplug(), "--net", `add:mode=openvswitch,link=${OVS_BRIDGE},vlan=.31,mac=aa:00:00:00:00:31`, INST);
      assertHookOk(out, "instance-modify");
      const tap = await nicTap(n2, INST, 1);
      const added = (await instancePorts(n2, INST)).find((p) => p.name === tap);
      assert.ok(added, `a port for the hot-added ${tap}: ${out}`);
      assert.equal(
        [added!.vlan_mode, added!.tag, `${added!.rate}/${added!.burst}`, added!.ifaceIds["attached-mac"]],
        ["access", 31, "100000/78125", "aa:00:00:00:00:31"],
      );
      assert.equal(
        (await instancePorts(n2, INST)).filter((p) => p.name !== tap).map((p) => p.uuid),
        before.map((p) => p.uuid),
        "NIC 0's port untouched",
      );
      const ms = await waitForPing(peers.pv31!, G31, 30000);
      assert.equal(await instancePorts(n1, INST), []);
      console.log(
        `  hot-add on ${n2.name}: ${tap} access VLAN 31, policing ${added!.rate}/${added!.burst} (instance tag); eth1 ${G31} answers from VLAN 31 after ${ms} ms`,
      );
    },
  );

  scenario(
    "the same NIC hot-removed (gnt-instance modify --net 1:remove, hotplugged; no NIC script runs): its tap and port are gone, nothing left; NIC 0 still answers",
    async () => {
      const tap = await nicTap(n2, INST, 1);
      const out = await gnt("gnt-instance", "modify", ...hotplug(), "--net", "1:remove", INST);
      assertHookOk(out, "instance-modify");
      assert.is((await n2.run("ip", ["link", "show", "dev", tap])).code, 1, `${tap} gone`);
      assert.equal(
        (await instancePorts(n2, INST)).map((p) => p.name),
        [await nicTap(n2, INST, 0)],
        "only NIC 0's port",
      );
      assert.ok(!(await n2.vsctl("list-ports", OVS_BRIDGE)).split("\n").includes(tap), `${tap} not on ${OVS_BRIDGE}`);
      assert.is(await ping(peers.pv31!, G31), false, "eth1 gone");
      await assertReach("pv9", G3, true, "NIC 0 (access VLAN 9) after the hot-remove");
      console.log(
        `  hot-remove on ${n2.name}: ${tap} and its port gone (the instance-modify post hook removed the port of the vanished tap); NIC 0 answers on VLAN 9`,
      );
    },
  );

  scenario(
    "ovs-vif vlan set (--no-hotplug, the port changed in place) against Ganeti's own hot-modify (-f): the first keeps the guest's NIC, which answers on the new VLAN at once; the second removes the guest's NIC and adds a new one, whose eth0 has no address",
    async () => {
      const [before] = await instancePorts(n2, INST);
      const pid = await qemuPid(n2, INST);
      const r = await n1.run("ovs-vif", ["vlan", "set", INST, "0", ".3"], 120000);
      assert.is(r.code, 0, r.stderr);
      const ours = await waitForPing(peers.pv3!, G3, 10000);
      const [mid] = await instancePorts(n2, INST);
      assert.equal([mid!.uuid, mid!.tag, await qemuPid(n2, INST)], [before!.uuid, 3, pid], "same port row, same QEMU");
      console.log(`  ovs-vif vlan set .9 -> .3: Port _uuid ${before!.uuid} kept, tag ${mid!.tag}; VLAN 3 answers ${ours} ms after it returned`);
      const out = await gnt("gnt-instance", "modify", ...hotplug(), "-f", "--net", "0:modify,vlan=.4", INST);
      assertHookOk(out, "instance-modify");
      const after = await instancePorts(n2, INST);
      const answered = await waitForPing(peers.pv4!, G3, 10000).then(
        () => true,
        () => false,
      );
      console.log(
        `  Ganeti hot-modify .3 -> .4: port ${mid!.name} ${mid!.uuid} -> ${after.map((p) => `${p.name} ${p.uuid} tag ${p.tag}`).join(", ")}; QEMU ${await qemuPid(n2, INST)}; 10 s later VLAN 4 ${answered ? "answers" : "gets no answer (the guest's new NIC has no address)"}`,
      );
      assert.is(after.length, 1, "one port: the removed NIC's went");
      assert.is(after[0]!.tag, 4, "the new NIC's port has the new VLAN");
      assert.not.equal(after[0]!.uuid, mid!.uuid, "a new port for a new device");
      assert.not.ok(answered, "the guest lost its interface configuration");
    },
  );

  // ------------------------------------------------------------------ stop, remove on node2
  scenario("stop, start and remove (while running) on node2: no port of the instance remains on node2 (nor on node1)", async () => {
    assertHookOk(await gnt("gnt-instance", "stop", "--timeout=0", INST), "instance-stop");
    assert.equal(await placement(), { pnode: n2.name, status: "ADMIN_down" });
    assert.equal(await instancePorts(n2, INST), [], `after stop: no port on ${n2.name}`);
    assertHookOk(await gnt("gnt-instance", "start", INST), "instance-start");
    const tap = await nicTap(n2, INST);
    assert.equal(
      (await instancePorts(n2, INST)).map((p) => p.name),
      [tap],
      "started again: one port",
    );
    assertHookOk(await gnt("gnt-instance", "remove", "-f", "--shutdown-timeout=0", INST), "instance-remove");
    assert.is((await gnt("gnt-instance", "list", "--no-headers", "-o", "name")).trim(), "");
    for (const n of [n2, n1]) assert.equal(await instancePorts(n, INST), [], `after remove: no port on ${n.name}`);
    const left = (await n2.vsctl("list-ports", OVS_BRIDGE)).split("\n").filter(Boolean);
    assert.equal(left, [UPLINK]);
    console.log(`  stop: no port on ${n2.name}; start: ${tap}; remove: ${n2.name} ${OVS_BRIDGE} ports ${left.join(",")}, none on ${n1.name}`);
  });

  // ------------------------------------------------------------------ networks

  scenario(
    "gnt-network connect mode=openvswitch,link=gntnet with no switches.json on the nodes: a bare switch on the default datapath, which ovs-vswitchd here cannot run: each node's hook refuses in one line naming datapath_type, nothing is created",
    async () => {
      for (const n of [n1, n2]) rmSync(join(n.dir, "root/etc/ovs-vif/switches.json"), { force: true });
      const types = (await n1.vsctl("get", "Open_vSwitch", ".", "datapath_types")).trim();
      await gnt("gnt-network", "add", "--network=198.51.100.96/28", "net2");
      const out = await gnt("gnt-network", "connect", "--nic-parameters", "mode=openvswitch,link=gntnet", "net2", "default");
      if (/\bsystem\b/.test(types)) {
        // Nodes with the kernel datapath: the bare switch works there.
        assertHookOk(out, "network-connect");
        for (const n of [n1, n2]) assert.is(await internalOfport(n, "gntnet"), 65534, `gntnet runs on ${n.name}`);
      } else {
        for (const n of [n1, n2]) {
          assert.is(await bridgeRow(n, "gntnet"), undefined, `no gntnet on ${n.name}`);
        }
        // Ganeti names the nodes by UUID here, one line per node.
        const refusals = out
          .split("\n")
          .filter((l) =>
            /On \S+ script network-connect-post\.d\/ovs-vif failed, output: .*gntnet datapath_type "system": ovs-vswitchd on this node runs only netdev/.test(
              l,
            ),
          );
        assert.is(refusals.length, 2, out);
        console.log(`  connect: refused on both nodes (ovs-vswitchd datapath_types ${types}): ${refusals[0]!.trim()}`);
      }
      assertHookOk(await gnt("gnt-network", "disconnect", "net2", "default"), "network-disconnect");
    },
  );

  scenario(
    "a managed switch in switches.json (gnt-cluster copyfile to node2): gnt-network connect creates it on both nodes, disconnect removes it from both",
    async () => {
      const spec = {
        version: 1,
        defaults: { datapath_type: "netdev" },
        switches: [{ name: "gntsw", managed: true, networks: ["net3"] }],
        node_groups: { default: { switches: [] } },
      };
      writeFileSync(join(n1.dir, "root/etc/ovs-vif/switches.json"), `${JSON.stringify(spec, null, 2)}\n`);
      await gnt("gnt-cluster", "copyfile", "/etc/ovs-vif/switches.json");
      assert.equal(JSON.parse(await n2.must("cat", ["/etc/ovs-vif/switches.json"])), spec, "the spec on node2");
      await gnt("gnt-network", "add", "--network=198.51.100.112/28", "net3");
      assertHookOk(await gnt("gnt-network", "connect", "--nic-parameters", "mode=openvswitch,link=gntsw", "net3", "default"), "network-connect");
      for (const n of [n1, n2]) {
        const b = await bridgeRow(n, "gntsw");
        assert.ok(b, `gntsw on ${n.name}`);
        assert.is(b!.datapath_type, "netdev");
        assert.equal(b!.external_ids, { "ovs-vif-switch": "managed" });
        assert.is(await internalOfport(n, "gntsw"), 65534, `vswitchd runs gntsw on ${n.name}`);
      }
      console.log(`  connect: gntsw on both nodes (datapath_type netdev, ovs-vif-switch=managed, running)`);
      assertHookOk(await gnt("gnt-network", "disconnect", "net3", "default"), "network-disconnect");
      for (const n of [n1, n2]) assert.is(await bridgeRow(n, "gntsw"), undefined, `disconnect: gntsw gone from ${n.name}`);
      console.log(`  disconnect: gntsw removed from both nodes`);
    },
  );
}

test.run();
