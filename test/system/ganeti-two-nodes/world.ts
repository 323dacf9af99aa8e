// What the scenarios of ganeti-two-nodes.test.ts share: the guest's name,
// MAC and addresses, the bounds on a live migration, the cluster, the guest
// image, the nodes and the ping peers (set by the test file's before() and
// read by each scenario when it runs), the per-scenario timings, and the
// checks several scenario groups make (placement, pings, hook failures, a
// ping during a change). Apart from the scenario groups so each of them
// reads the same state and checks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { GanetiCluster, GanetiNode } from "../../harness/ganeti-cluster.ts";
import { instancePorts, nicTap, portColumns } from "../../harness/ganeti-instance.ts";
import type { GuestImage } from "../../harness/guest.ts";
import type { PortView } from "../../harness/oracle.ts";
import { continuousPing, ping, waitForPing, type PingPeer, type PingStats } from "../../harness/ping.ts";

export const INST = "guest1.ovsvif.test";
export const MAC = "aa:00:00:00:00:01";
export const GUEST_NET = {
  untagged: "198.51.100.20/28",
  vlans: { 10: "198.51.100.36/28", 20: "198.51.100.52/28", 30: "198.51.100.68/28" },
  second: "198.51.100.84/28",
};
export const G3 = "198.51.100.20";
export const G10 = "198.51.100.36";
export const G20 = "198.51.100.52";
export const G30 = "198.51.100.68";
/** eth1, a NIC hot-added on VLAN 31. */
export const G31 = "198.51.100.84";
/** Bounds on a live migration under a ping every 50 ms (measured: see the log lines "migration ..."). */
export const MAX_LOST = 10;
export const MAX_GAP_MS = 2000;
export const BOOT_MS = 90000;

export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A post hook's failure is shown by Ganeti as a job warning naming the script. */
export function assertHookOk(output: string, path: string): void {
  assert.not.match(output, new RegExp(`script ${path}-post\\.d/ovs-vif failed`), `the ${path} post hook failed:\n${output}`);
}

export function describe(s: PingStats): string {
  return `${s.lost} of ${s.sent} lost, longest gap ${s.longestGapMs} ms`;
}

/** The cluster, its guest and what the scenarios check it with. */
export class World {
  cluster: GanetiCluster | undefined;
  image!: GuestImage;
  n1!: GanetiNode;
  n2!: GanetiNode;
  readonly peers: Record<string, PingPeer> = {};
  /** The NIC's port columns on node1 right after the first start: every node must show the same. */
  reference!: ReturnType<typeof portColumns>;
  readonly timings: string[] = [];

  /** A test that prints its time and keeps it for the table printed at the end. */
  scenario(name: string, fn: () => Promise<void>): void {
    test(name, async () => {
      const t0 = Date.now();
      try {
        await fn();
      } finally {
        const line = `${secs(Date.now() - t0)}  ${name}`;
        this.timings.push(line);
        console.log(`  time: ${line}`);
      }
    });
  }

  gnt(cmd: string, ...args: string[]): Promise<string> {
    return this.cluster!.must(cmd, args, 180000);
  }

  async placement(): Promise<{ pnode: string; status: string }> {
    const [pnode, status] = (await this.gnt("gnt-instance", "list", "--no-headers", "--separator=|", "-o", "pnode,status", INST)).trim().split("|");
    return { pnode: pnode!, status: status! };
  }

  /** Exactly one port of the instance, on `primary`, with the reference
   * columns (VLAN, QoS, ids) and the live tap; none on the other node. */
  async checkPlacement(primary: GanetiNode, other: GanetiNode, what: string): Promise<PortView> {
    assert.equal(await this.placement(), { pnode: primary.name, status: "running" }, `${what}: Ganeti's view`);
    const tap = await nicTap(primary, INST);
    const ports = await instancePorts(primary, INST);
    assert.equal(
      ports.map((p) => p.name),
      [tap],
      `${what}: exactly one port on ${primary.name}, for the live tap ${tap}`,
    );
    const p = ports[0]!;
    assert.equal(portColumns(p), this.reference, `${what}: the port's columns on ${primary.name}`);
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
  async assertReach(peer: string, target: string, expect: boolean, what: string): Promise<void> {
    const peers = this.peers;
    const ok = expect
      ? await waitForPing(peers[peer]!, target, 5000).then(
          () => true,
          () => false,
        )
      : await ping(peers[peer]!, target);
    assert.is(ok, expect, `${what}: ${peer} (VLAN ${peers[peer]!.vlan}) -> ${target} ${expect ? "answered" : "unreachable"}`);
  }

  /** The guest's data plane as the reference port allows it: VLAN 3 untagged, 10 and 20 tagged; 30 and 4 not. */
  async checkPings(what: string): Promise<void> {
    await Promise.all([
      this.assertReach("pv3", G3, true, what),
      this.assertReach("pv10", G10, true, what),
      this.assertReach("pv20", G20, true, what),
      this.assertReach("pv30", G30, false, what),
      this.assertReach("pv4", G3, false, what),
    ]);
    console.log(`  ${what}: pings VLAN 3 -> ${G3} ok, VLAN 10 -> ${G10} ok, VLAN 20 -> ${G20} ok; VLAN 30 -> ${G30} and VLAN 4 -> ${G3} unreachable`);
  }

  /** Runs `fn` under a ping every 50 ms on VLAN 3 and VLAN 10; the statistics of both. */
  async underPing<T>(fn: () => Promise<T>, first: PingPeer = this.peers.pv3!): Promise<{ result: T; v3: PingStats; v10: PingStats }> {
    const p3 = continuousPing(first, G3);
    const p10 = continuousPing(this.peers.pv10!, G10);
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
}
