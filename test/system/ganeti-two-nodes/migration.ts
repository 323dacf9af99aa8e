// The guest moved between the nodes: live migration node1 -> node2 -> node1
// under a ping every 50 ms; migrations that fail (the target's QEMU killed
// once the migration stream connected, without and with `ovs-vif watch` on
// the target; a target without the bridge) and leave the source working;
// gnt-instance failover to node2. Apart from the other scenario groups:
// these check where the port is after a move and what a failed move leaves.
import * as assert from "uvu/assert";
import { OVS_BRIDGE, UPLINK, ensureBridge, type GanetiNode } from "../../harness/ganeti-cluster.ts";
import { instancePorts, instancePortsLeftOn, portColumns, qemuPid, type LeftPort } from "../../harness/ganeti-instance.ts";
import { startWatch } from "../../harness/ganeti-watch.ts";
import { GUEST_CLUSTER_HV } from "../../harness/guest.ts";
import type { PortView } from "../../harness/oracle.ts";
import { continuousPing, waitForPing, type PingStats } from "../../harness/ping.ts";
import { assertHookOk, BOOT_MS, describe, G10, G3, INST, MAX_GAP_MS, MAX_LOST, secs, sleep, type World } from "./world.ts";

export function registerMigrations(w: World): void {
  async function migrate(from: GanetiNode, to: GanetiNode): Promise<void> {
    const pid = await qemuPid(from, INST);
    const { result, v3, v10 } = await w.underPing(async () => {
      const t0 = Date.now();
      return { out: await w.gnt("gnt-instance", "migrate", "-f", "-n", to.name, INST), ms: Date.now() - t0 };
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
    await w.checkPlacement(to, from, `after migration to ${to.name}`);
    const gone = await from.run("kill", ["-0", String(pid)]);
    assert.ok(gone.code !== 0, `QEMU ${pid} on ${from.name} is gone`);
    await w.checkPings(`after migration to ${to.name}`);
  }

  // ------------------------------------------------------------------ live migration
  w.scenario(
    "live migration node1 -> node2 -> node1 under a ping every 50 ms: bounded loss; one port, on the new primary, same columns; pings on native and tagged VLANs",
    async () => {
      await migrate(w.n1, w.n2);
      await migrate(w.n2, w.n1);
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
    assert.equal(await w.placement(), { pnode: w.n1.name, status: "running" }, `${what}: still running on ${w.n1.name}`);
    assert.is(await qemuPid(w.n1, INST), pid, `${what}: the same QEMU on ${w.n1.name}`);
    const [p, ...more] = await instancePorts(w.n1, INST);
    assert.equal(more, [], `${what}: one port on ${w.n1.name}`);
    assert.is(p?.uuid, port.uuid, `${what}: the same Port row on ${w.n1.name}`);
    assert.equal(portColumns(p!), w.reference, `${what}: the same columns`);
    await w.checkPings(what);
  }

  /** A migration to node2 whose QEMU there is killed once the migration
   * stream connected: Ganeti aborts, the source keeps working. */
  async function migrateTargetKilled(what: string): Promise<void> {
    const pid = await qemuPid(w.n1, INST);
    const [port] = await instancePorts(w.n1, INST);
    // At 1 MiB/s the stream stays connected long enough to be cut for sure.
    await w.gnt("gnt-cluster", "modify", "-H", "kvm:migration_bandwidth=1");
    const {
      watched,
      result: r,
      v3,
      v10,
    } = await (async () => {
      const watcher = w.n2.run("bash", ["-c", KILL_INCOMING, "-", INST], 90000);
      watcher.catch(() => undefined); // awaited below unless the migration itself throws
      const under = await w.underPing(() => w.cluster!.run("gnt-instance", ["migrate", "-f", "-n", w.n2.name, INST], 180000));
      return { ...under, watched: await watcher };
    })().finally(() => w.gnt("gnt-cluster", "modify", "-H", GUEST_CLUSTER_HV));
    assert.is(watched.code, 0, `watcher on ${w.n2.name}: ${watched.stdout}${watched.stderr}`);
    const text = r.stdout + r.stderr;
    assert.ok(r.code !== 0, `gnt-instance migrate must fail:\n${text}`);
    assert.ok(/Migration failed, aborting/.test(text), `Ganeti's report:\n${text}`);
    console.log(
      `  ${w.n2.name}: ${watched.stdout.trim()}; gnt-instance migrate exit ${r.code}: ${text
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

  w.scenario(
    "migration to node2 whose QEMU is killed right after it starts with -incoming: fails, the source keeps working; what is left on node2 is printed; ovs-vif gc there removes it",
    async () => {
      await migrateTargetKilled("after the failed migration");
      console.log(`  left on ${w.n2.name} (the target): ${describeLeft(await instancePortsLeftOn(w.n2, INST))}`);
      // Not asserted without the watch service (next scenario): assert.equal(await instancePortsLeftOn(w.n2, INST), []);
      const gc = await w.n2.run("ovs-vif", ["gc"]);
      assert.is(gc.code, 0, gc.stderr);
      console.log(`  ovs-vif gc on ${w.n2.name}: ${(gc.stdout + gc.stderr).trim().split("\n").join(" | ") || "(no output)"}`);
      assert.equal(await instancePorts(w.n2, INST), [], `after gc no port of ${INST} on ${w.n2.name}`);
    },
  );

  w.scenario(
    "the same failed migration with ovs-vif watch running on node2 (as its service would): the port of the vanished tap is removed there at once",
    async () => {
      const watch = await startWatch(w.n2);
      try {
        await migrateTargetKilled("after the failed migration under ovs-vif watch");
        const t0 = Date.now();
        let left = await instancePortsLeftOn(w.n2, INST);
        while (left.length > 0 && Date.now() - t0 < 5000) {
          await sleep(100);
          left = await instancePortsLeftOn(w.n2, INST);
        }
        const lines = watch
          .log()
          .trim()
          .split("\n")
          .filter((l) => /watch/.test(l));
        console.log(
          `  left on ${w.n2.name} with ovs-vif watch: ${describeLeft(left)}${left.length ? "" : ` (gone within ${Date.now() - t0} ms of the failed job's end)`}; its log: ${lines.join(" | ")}`,
        );
        assert.equal(left, [], `ovs-vif watch removed the port of the killed QEMU's tap on ${w.n2.name}`);
      } finally {
        await watch.stop();
      }
    },
  );

  w.scenario(
    "migration to node2 after ovs-vsctl del-br gntbr there: fails in the NIC script on the target, the source keeps working; bridge restored",
    async () => {
      const pid = await qemuPid(w.n1, INST);
      const [port] = await instancePorts(w.n1, INST);
      await w.n2.vsctl("del-br", OVS_BRIDGE);
      try {
        const { result: r, v3 } = await w.underPing(() => w.cluster!.run("gnt-instance", ["migrate", "-f", "-n", w.n2.name, INST], 180000));
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
        assert.equal(await instancePortsLeftOn(w.n2, INST), [], `nothing of ${INST} on ${w.n2.name}`);
      } finally {
        await ensureBridge(w.n2);
      }
      assert.equal((await w.n2.vsctl("list-ports", OVS_BRIDGE)).split("\n").filter(Boolean), [UPLINK], `${OVS_BRIDGE} back on ${w.n2.name} with its trunk`);
    },
  );

  // ------------------------------------------------------------------ failover
  w.scenario(
    "gnt-instance failover -f to node2 (guest restarted there): one port on node2 with the same columns, none on node1; pings once it booted",
    async () => {
      const pid = await qemuPid(w.n1, INST);
      const p3 = continuousPing(w.peers.pv3!, G3);
      let stats: PingStats;
      const t0 = Date.now();
      try {
        const out = await w.gnt("gnt-instance", "failover", "-f", "--shutdown-timeout=0", "-n", w.n2.name, INST);
        assertHookOk(out, "instance-failover");
        const ms = Date.now() - t0;
        const booted = await waitForPing(w.peers.pv10!, G10, BOOT_MS);
        // VLAN 3's pinger learns the guest's MAC on its own; give it two
        // seconds (40 pings) once the guest answers on VLAN 3 too.
        await waitForPing(w.peers.pv3!, G3, 10000);
        await sleep(2000);
        stats = await p3.stop();
        console.log(
          `  gnt-instance failover ${secs(ms)}; the tagged VLAN answered ${secs(booted)} later; ping every 50 ms on VLAN 3: ${describe(stats)} (the outage: shutdown, start, guest boot)`,
        );
      } catch (err) {
        await p3.stop().catch(() => undefined);
        throw err;
      }
      assert.ok(stats.received >= 20, `the guest answered on VLAN 3 once it booted there: ${describe(stats)}`);
      assert.ok((await w.n1.run("kill", ["-0", String(pid)])).code !== 0, `QEMU ${pid} on ${w.n1.name} is gone`);
      await w.checkPlacement(w.n2, w.n1, "after failover to node2");
      await w.checkPings("after failover to node2");
    },
  );
}
