// Ping peers on a Ganeti node of ganeti-cluster.ts: a network namespace
// inside the node with a veth whose other end is an access port of the
// node's gntbr in one VLAN, so pings prove the data plane (VLANs, the trunk
// between the nodes, migrations) with iputils ping.
import { OVS_BRIDGE, type GanetiNode } from "./ganeti-cluster.ts";

export interface PingPeer {
  node: GanetiNode;
  /** The namespace's name inside the node; its OVS port is `p` + name. */
  ns: string;
  vlan: number;
  /** ADDR/LEN of its eth0. */
  address: string;
}

export async function addPingPeer(node: GanetiNode, ns: string, vlan: number, address: string): Promise<PingPeer> {
  const port = `p${ns}`;
  await node.must("ip", ["netns", "add", ns]);
  await node.must("ip", ["link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  await node.must("ip", ["link", "set", port, "up"]);
  await node.must("ip", ["-n", ns, "link", "set", "lo", "up"]);
  await node.must("ip", ["-n", ns, "addr", "add", address, "dev", "eth0"]);
  await node.must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
  await node.vsctl("add-port", OVS_BRIDGE, port, "--", "set", "port", port, `tag=${vlan}`, "vlan_mode=access");
  return { node, ns, vlan, address };
}

/** `count` pings 200 ms apart, 1 s timeout each; true when any was answered. */
export async function ping(peer: PingPeer, target: string, count = 3): Promise<boolean> {
  const r = await peer.node.run("ip", ["netns", "exec", peer.ns, "ping", "-n", "-q", "-c", String(count), "-i", "0.2", "-W", "1", target], 30000);
  return r.code === 0;
}

/** Pings once a second until answered; the milliseconds it took. */
export async function waitForPing(peer: PingPeer, target: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const r = await peer.node.run("ip", ["netns", "exec", peer.ns, "ping", "-n", "-q", "-c", "1", "-W", "1", target], 10000);
    if (r.code === 0) return Date.now() - t0;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${peer.ns} (VLAN ${peer.vlan}, ${peer.address}): no answer from ${target} within ${timeoutMs} ms`);
}

export interface PingStats {
  /** Echo requests sent up to the last answered one. */
  sent: number;
  /** Those of them never answered. */
  lost: number;
  /** The longest time between two consecutive answers, ms. */
  longestGapMs: number;
  /** Answers in all (duplicates excluded). */
  received: number;
}

/** What `ping -D` printed: requests after the last answer (in flight when
 * ping was stopped) are not counted as lost. */
export function pingStats(output: string): PingStats {
  const seen = new Map<number, number>();
  for (const m of output.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+) /gm)) {
    const seq = Number(m[2]);
    if (!seen.has(seq)) seen.set(seq, Number(m[1]) * 1000);
  }
  const seqs = [...seen.keys()].sort((a, b) => a - b);
  const last = seqs[seqs.length - 1] ?? 0;
  let longestGapMs = 0;
  for (let i = 1; i < seqs.length; i++) longestGapMs = Math.max(longestGapMs, seen.get(seqs[i]!)! - seen.get(seqs[i - 1]!)!);
  return { sent: last, lost: last - seqs.length, longestGapMs: Math.round(longestGapMs), received: seqs.length };
}

/** A ping every 50 ms from the peer until stop(); stop() returns its statistics. */
export function continuousPing(peer: PingPeer, target: string): { stop(): Promise<PingStats & { output: string }> } {
  const pidfile = `/run/ping-${peer.ns}.pid`;
  // `ip netns exec` execs ping in the same process: the pidfile names ping.
  const done = peer.node.run("bash", ["-c", `echo $$ >${pidfile}; exec ip netns exec ${peer.ns} ping -n -D -i 0.05 -W 1 ${target}`], 600000);
  return {
    async stop() {
      // Give the pidfile a moment to exist if stop() comes right after the start.
      await peer.node.must("bash", [
        "-c",
        `for i in $(seq 50); do [ -s ${pidfile} ] && break; sleep 0.1; done; kill -INT "$(cat ${pidfile})"; rm -f ${pidfile}`,
      ]);
      const r = await done;
      return { ...pingStats(r.stdout), output: r.stdout };
    },
  };
}
