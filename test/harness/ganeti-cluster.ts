// A real Ganeti cluster (3.0 on Debian 12, 3.1 on Debian 13; KVM, diskless, TCG) of one or two nodes for
// tests, each node entirely inside its own mount + network + UTS + PID
// namespaces (see ganeti-cluster.sh for what is made private and how), with
// its own sshd (fresh host keys) and its own OVS at the default paths with
// bridge gntbr. ovs-vif is installed on every node from its Debian package
// (dpkg -i, then `ovs-vif-setup --ganeti`; harness/deb.ts), so Ganeti's
// kvm-ifup finds /etc/ganeti/kvm-vif-bridge -> /usr/lib/ovs-vif/ovs-vif and
// /etc/ovs-vif, /var/lib/ovs-vif exist exactly as on a real node.
//
// Networks (addresses from 198.51.100.0/24 only):
//   management  a hub network namespace with a Linux bridge; one veth per
//               node (gntv0 in the node, the master netdev), 198.51.100.0/28:
//               node1 .1, cluster IP .2, node2 .3
//   VM network  veth gntup0, a vlan_mode=trunk port of every node's gntbr:
//               with two nodes one veth pair joining the two bridges, with
//               one node a pair whose far end (gntup1) stays unplugged
//
// Node 1 is initialised as the master (`gnt-cluster init`); node 2 joins with
// `gnt-node add --no-ssh-key-check` after node1's root key was put into its
// authorized_keys.
//
// Teardown (stop()): instances removed, non-master nodes removed, `gnt-cluster
// destroy`, daemons killed by their pidfiles on every node, then each
// namespace's init is killed, which makes the kernel kill whatever is left and
// drop the namespaces (veths, mounts). Every holder runs under `setpriv
// --pdeathsig KILL` + `unshare --kill-child`, and the inits are also killed on
// exit and signals, so even a killed test process takes the cluster down.
//
// How the namespaces are made, entered and killed is ganeti-namespaces.ts;
// the installed Ganeti's release is ganeti-release.ts, `ovs-vif watch` on a
// node ganeti-watch.ts.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OvsHandle } from "./ovs.ts";
import { installDebInto } from "./deb.ts";
import { claimCluster, nsRunner, startHolder, stopNamespaces } from "./ganeti-namespaces.ts";
import { sh, type Result } from "./proc.ts";

export const NODE = "node1.ovsvif.test";
export const NODE_IP = "198.51.100.1";
export const CLUSTER = "cluster1.ovsvif.test";
export const CLUSTER_IP = "198.51.100.2";
/** Every node a cluster can have: node1 (the master) and node2. */
export const NODES: readonly { name: string; ip: string }[] = [
  { name: NODE, ip: NODE_IP },
  { name: "node2.ovsvif.test", ip: "198.51.100.3" },
];
export const MGMT_PREFIX = 28;
export const OVS_BRIDGE = "gntbr";
export const LINUX_BRIDGE = "gntlb";
/** The trunk port of gntbr on every node (to the other node, or unplugged). */
export const UPLINK = "gntup0";
const MGMT_DEV = "gntv0";
const HUB_BRIDGE = "gnthub";

/** The cluster's KVM parameters: TCG, no kernel of its own, no VNC; and,
 * where this machine has no /dev/vhost-net, vhost_net pinned off (Ganeti
 * 3.1 turns it on by default and every start would fail opening it). */
export const CLUSTER_KVM_PARAMS = [
  "kvm_flag=disabled",
  "kvm_path=/usr/bin/qemu-system-x86_64",
  "kernel_path=",
  "initrd_path=",
  "vnc_bind_address=",
  ...(existsSync("/dev/vhost-net") ? [] : ["vhost_net=False"]),
].join(",");

export interface GanetiNode {
  /** 1-based, as in the name: node(1) is node1, the master. */
  index: number;
  name: string;
  ip: string;
  /** The node's temp dir (root/etc/ganeti, root/etc/ovs-vif, varlog, ... as ganeti-cluster.sh binds them). */
  dir: string;
  /** The PID (host's view) of the node namespaces' init. */
  initPid: number;
  /** Runs a command inside the node's namespaces (clean environment). */
  run(file: string, args: string[], timeoutMs?: number): Promise<Result>;
  /** Like run, but throws with the output on failure. */
  must(file: string, args: string[], timeoutMs?: number): Promise<string>;
  /** ovs-vsctl / ovs-appctl against the node's OVS (default paths inside). */
  vsctl(...args: string[]): Promise<string>;
  appctl(...args: string[]): Promise<string>;
}

/** The cluster; run/must/vsctl/appctl/dir are those of the master, node(1). */
export interface GanetiCluster extends GanetiNode {
  nodes: GanetiNode[];
  /** What `gnt-node add NAME` printed (stdout and stderr), by node name. */
  nodeAddOutput: Record<string, string>;
  /** node(1) (the master) .. node(N). */
  node(index: number): GanetiNode;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** 1 (default) or 2. */
  nodes?: number;
  /** Runs on the master after gnt-cluster init, before the other nodes are
   * added (e.g. to put a switch spec there for the node-add hook). */
  beforeNodeAdd?: (master: GanetiNode) => Promise<void>;
}

/** What the oracle helpers (listRows, portView) need of a node: its vsctl. */
export function oracleOf(node: GanetiNode): OvsHandle {
  return { vsctl: node.vsctl, appctl: node.appctl } as unknown as OvsHandle;
}

/** Why the cluster test cannot run here, or undefined when it can. */
export function unavailable(): string | undefined {
  const need: [string, string][] = [
    ["/usr/bin/unshare", "util-linux unshare"],
    ["/usr/bin/nsenter", "util-linux nsenter"],
    ["/usr/bin/setpriv", "util-linux setpriv"],
    ["/usr/sbin/gnt-cluster", "package ganeti"],
    ["/usr/lib/ganeti/kvm-ifup", "package ganeti"],
    ["/usr/bin/qemu-system-x86_64", "package qemu-system-x86"],
    ["/usr/sbin/ovs-vswitchd", "package openvswitch-switch"],
    ["/usr/bin/socat", "package socat"],
    ["/usr/bin/fping", "package fping (a dependency of ganeti)"],
    ["/usr/sbin/sshd", "package openssh-server"],
    ["/usr/bin/ssh-keygen", "package openssh-client"],
  ];
  const missing = need.filter(([p]) => !existsSync(p)).map(([p, what]) => `${p} (${what})`);
  if (missing.length) return `missing ${missing.join(", ")}`;
  if (process.getuid?.() !== 0) return "not root";
  const probe = spawnSync("unshare", ["--mount", "--net", "--uts", "--pid", "--fork", "--mount-proc", "--propagation", "private", "true"]);
  if (probe.status !== 0) return `unshare of mount/net/uts/pid namespaces refused: ${String(probe.stderr).trim()}`;
  return undefined;
}

/** The node's files before its namespaces exist: Ganeti's /etc/ganeti plus
 * the ovs-vif package as dpkg and ovs-vif-setup --ganeti leave it, /etc/hosts,
 * /etc/ssh with fresh host keys. */
async function prepareNodeDir(dir: string, count: number): Promise<number> {
  for (const d of ["varlib", "varlog", "ssh", "work-etc", "work-usr", "work-var", "work-root", "root/usr", "root/var", "root/root"])
    mkdirSync(join(dir, d), { recursive: true });
  cpSync("/etc/ganeti", join(dir, "root/etc/ganeti"), { recursive: true, verbatimSymlinks: true });
  // As an operator installs it: the package, then its setup step for Ganeti.
  const inst = await installDebInto(join(dir, "root"));
  const hosts = NODES.slice(0, count).map((n) => `${n.ip} ${n.name} ${n.name.split(".")[0]}`);
  writeFileSync(
    join(dir, "root/etc/hosts"),
    `${readFileSync("/etc/hosts", "utf8").trimEnd()}\n${hosts.join("\n")}\n${CLUSTER_IP} ${CLUSTER} ${CLUSTER.split(".")[0]}\n`,
  );
  const ssh = join(dir, "root/etc/ssh");
  cpSync("/etc/ssh", ssh, { recursive: true, verbatimSymlinks: true, filter: (src) => !/\/ssh_host_[^/]*$/.test(src) });
  const keys = await sh("ssh-keygen", ["-A", "-f", join(dir, "root")], { timeoutMs: 60000 });
  if (keys.code !== 0) throw new Error(`ssh-keygen -A failed: ${keys.stderr}`);
  return inst.setup.trim().split("\n").length;
}

/** gntbr (userspace datapath) with the trunk uplink, as at cluster start;
 * --may-exist: also puts them back after a test removed the bridge. */
export async function ensureBridge(node: GanetiNode): Promise<void> {
  await node.vsctl(
    "--may-exist",
    "add-br",
    OVS_BRIDGE,
    "--",
    "set",
    "bridge",
    OVS_BRIDGE,
    "datapath_type=netdev",
    "--",
    "--may-exist",
    "add-port",
    OVS_BRIDGE,
    UPLINK,
    "--",
    "set",
    "port",
    UPLINK,
    "vlan_mode=trunk",
  );
}

export async function startGanetiCluster(log: (line: string) => void = () => undefined, options: ClusterOptions = {}): Promise<GanetiCluster> {
  const count = options.nodes ?? 1;
  if (count < 1 || count > NODES.length) throw new Error(`a cluster of 1..${NODES.length} nodes, not ${count}`);
  const top = claimCluster();
  const nodes: GanetiNode[] = [];
  const nodeAddOutput: Record<string, string> = {};
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Best effort, bounded: instances, nodes, cluster, daemons by pidfile; then the inits.
    const master = nodes[0];
    if (master) {
      const list = await master.run("gnt-instance", ["list", "--no-headers", "-o", "name"], 30000).catch(() => undefined);
      for (const name of (list?.stdout ?? "").split("\n").filter(Boolean)) {
        await master.run("gnt-instance", ["remove", "-f", "--shutdown-timeout=0", name], 60000).catch(() => undefined);
      }
      for (const n of nodes.slice(1)) await master.run("gnt-node", ["remove", n.name], 60000).catch(() => undefined);
      await master.run("gnt-cluster", ["destroy", "--yes-do-it"], 60000).catch(() => undefined);
    }
    for (const n of nodes) {
      await n
        .run(
          "bash",
          ["-c", 'for f in /run/ganeti/*.pid /run/openvswitch/*.pid /run/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; true'],
          10000,
        )
        .catch(() => undefined);
    }
    await stopNamespaces();
  };

  try {
    const t0 = Date.now();
    const dirs = NODES.slice(0, count).map((_, i) => join(top, `node${i + 1}`));
    const actions = await Promise.all(dirs.map((d) => prepareNodeDir(d, count)));
    log(`the ovs-vif package (dpkg -i, ovs-vif-setup --ganeti) on ${count} node(s): ${actions.join(", ")} links`);
    const hub = await startHolder("hub", ["--net", "--mount", "--pid"], ["hub", HUB_BRIDGE]);
    const inHub = nsRunner(hub.initPid!, ["--net"]);
    const holders = await Promise.all(dirs.map((d, i) => startHolder(NODES[i]!.name, ["--mount", "--net", "--uts", "--pid"], ["node", d, NODES[i]!.name])));
    holders.forEach((h, i) => {
      const { run, must } = nsRunner(h.initPid!, ["--mount", "--net", "--uts", "--pid"]);
      nodes.push({
        index: i + 1,
        name: NODES[i]!.name,
        ip: NODES[i]!.ip,
        dir: dirs[i]!,
        initPid: h.initPid!,
        run,
        must,
        vsctl: (...args) => must("ovs-vsctl", ["--timeout=20", ...args]),
        appctl: (...args) => must("ovs-appctl", args),
      });
    });
    // Management network: node veth gntv0 <-> hvN on the hub's bridge.
    for (const n of nodes) {
      await inHub.must("ip", ["link", "add", `hv${n.index}`, "type", "veth", "peer", "name", MGMT_DEV, "netns", String(n.initPid)]);
      await inHub.must("ip", ["link", "set", `hv${n.index}`, "master", HUB_BRIDGE, "up"]);
      await n.must("ip", ["addr", "add", `${n.ip}/${MGMT_PREFIX}`, "dev", MGMT_DEV]);
      await n.must("ip", ["link", "set", MGMT_DEV, "up"]);
    }
    // VM network: the trunk uplink, between the nodes or to nowhere.
    if (count === 2) {
      await inHub.must("ip", [
        "link",
        "add",
        UPLINK,
        "netns",
        String(nodes[0]!.initPid),
        "type",
        "veth",
        "peer",
        "name",
        UPLINK,
        "netns",
        String(nodes[1]!.initPid),
      ]);
    } else {
      await nodes[0]!.must("ip", ["link", "add", UPLINK, "type", "veth", "peer", "name", "gntup1"]);
      await nodes[0]!.must("ip", ["link", "set", "gntup1", "up"]);
    }
    for (const n of nodes) {
      await n.must("ip", ["link", "set", UPLINK, "up"]);
      await ensureBridge(n);
    }
    log(`${count} node namespace(s) with sshd, OVS, ${OVS_BRIDGE}, management and VM networks: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const master = nodes[0]!;
    const t1 = Date.now();
    await master.must(
      "gnt-cluster",
      [
        "init",
        "--enabled-hypervisors=kvm",
        "--enabled-disk-templates=diskless",
        "--ipolicy-disk-templates=diskless",
        `--master-netdev=${MGMT_DEV}`,
        "--no-etc-hosts",
        "--nic-parameters",
        `mode=openvswitch,link=${OVS_BRIDGE}`,
        "-H",
        `kvm:${CLUSTER_KVM_PARAMS}`,
        CLUSTER,
      ],
      180000,
    );
    log(`gnt-cluster init ${CLUSTER} (node ${master.name}): ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    const keys = readdirSync(join(master.dir, "ssh")).filter((f) => /^id_.*\.pub$/.test(f));
    if (keys.length === 0) throw new Error(`gnt-cluster init left no root key in ${join(master.dir, "ssh")}`);
    await options.beforeNodeAdd?.(master);
    for (const n of nodes.slice(1)) {
      const t2 = Date.now();
      for (const k of keys) appendFileSync(join(n.dir, "ssh/authorized_keys"), readFileSync(join(master.dir, "ssh", k)), { mode: 0o600 });
      const added = await master.run("gnt-node", ["add", "--no-ssh-key-check", n.name], 180000);
      if (added.code !== 0) throw new Error(`gnt-node add ${n.name} failed (exit ${added.code}): ${(added.stderr || added.stdout).trim()}`);
      nodeAddOutput[n.name] = added.stdout + added.stderr;
      log(`gnt-node add ${n.name}: ${((Date.now() - t2) / 1000).toFixed(1)} s`);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const master = nodes[0]!;
  return {
    ...master,
    nodes,
    nodeAddOutput,
    node(index: number) {
      const n = nodes[index - 1];
      if (!n) throw new Error(`no node(${index}): the cluster has nodes 1..${nodes.length}`);
      return n;
    },
    stop,
  };
}
