// A real single-node Ganeti 3.0 cluster (KVM, diskless, TCG) for tests,
// entirely inside its own mount + network + UTS + PID namespaces (see
// ganeti-cluster.sh for what is made private and how). ovs-vif is installed
// into it with `install.sh --ganeti --root`, so Ganeti's kvm-ifup finds
// /etc/ganeti/kvm-vif-bridge -> /usr/lib/ovs-vif/ovs-vif exactly as on a node.
//
// Teardown (stop()): instances removed, `gnt-cluster destroy`, daemons killed
// by their pidfiles, then the namespace's init is killed, which makes the
// kernel kill whatever is left and drop the namespaces (veths, mounts). The
// holder runs under `setpriv --pdeathsig KILL` + `unshare --kill-child`, so
// even a killed test process takes the cluster down with it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, ROOT } from "./ovs.ts";
import { sh, type Result } from "./proc.ts";

export const NODE = "node1.ovsvif.test";
export const NODE_IP = "198.51.100.1";
export const CLUSTER = "cluster1.ovsvif.test";
export const CLUSTER_IP = "198.51.100.2";
export const OVS_BRIDGE = "gntbr";
export const LINUX_BRIDGE = "gntlb";
export const UPLINK = "gntup0";

const CLEAN_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LC_ALL: "C.UTF-8" };

export interface GanetiCluster {
  dir: string;
  /** Runs a command inside the node's namespaces (clean environment). */
  run(file: string, args: string[], timeoutMs?: number): Promise<Result>;
  /** Like run, but throws with the output on failure. */
  must(file: string, args: string[], timeoutMs?: number): Promise<string>;
  /** ovs-vsctl / ovs-appctl against the node's OVS (default paths inside). */
  vsctl(...args: string[]): Promise<string>;
  appctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
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
  ];
  const missing = need.filter(([p]) => !existsSync(p)).map(([p, what]) => `${p} (${what})`);
  if (missing.length) return `missing ${missing.join(", ")}`;
  if (process.getuid?.() !== 0) return "not root";
  const probe = spawnSync("unshare", ["--mount", "--net", "--uts", "--pid", "--fork", "--mount-proc", "--propagation", "private", "true"]);
  if (probe.status !== 0) return `unshare of mount/net/uts/pid namespaces refused: ${String(probe.stderr).trim()}`;
  return undefined;
}

let live: { holder: ChildProcess; dir: string; initPid?: number } | undefined;

function killNow(): void {
  if (!live) return;
  if (live.initPid) {
    try {
      process.kill(live.initPid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  try {
    live.holder.kill("SIGKILL");
  } catch {
    /* gone */
  }
  rmSync(live.dir, { recursive: true, force: true });
  live = undefined;
}
process.on("exit", killNow);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    killNow();
    process.exit(130);
  });
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function startGanetiCluster(log: (line: string) => void = () => undefined): Promise<GanetiCluster> {
  if (live) throw new Error("one Ganeti cluster per test process");
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-ganeti-cluster-"));
  for (const d of ["varlib", "varlog", "ssh", "work", "root/etc"]) mkdirSync(join(dir, d), { recursive: true });
  // The node's /etc/ganeti: the package's files, then our links.
  cpSync("/etc/ganeti", join(dir, "root/etc/ganeti"), { recursive: true, verbatimSymlinks: true });
  const inst = await sh(join(ROOT, "install.sh"), ["--ganeti", "--root", join(dir, "root"), "--binary", BINARY], { timeoutMs: 60000 });
  if (inst.code !== 0) throw new Error(`install.sh --ganeti --root failed: ${inst.stderr || inst.stdout}`);
  log(`install.sh --ganeti --root: ${inst.stdout.trim().split("\n").length} actions`);
  writeFileSync(join(dir, "hosts"), `${readFileSync("/etc/hosts", "utf8").trimEnd()}\n${NODE_IP} ${NODE} node1\n${CLUSTER_IP} ${CLUSTER} cluster1\n`);

  const holder = spawn(
    "setpriv",
    ["--pdeathsig", "KILL", "unshare", "--mount", "--net", "--uts", "--pid", "--fork", "--kill-child=SIGKILL", "--mount-proc", "--propagation", "private", "bash", join(ROOT, "test/harness/ganeti-cluster.sh"), dir, NODE, NODE_IP],
    { env: CLEAN_ENV, stdio: ["ignore", "pipe", "pipe"] },
  );
  live = { holder, dir };
  let out = "";
  holder.stdout!.on("data", (d) => (out += d));
  holder.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<void>((resolve) => holder.on("exit", () => resolve()));
  const end = Date.now() + 60000;
  while (!out.includes("READY")) {
    if (holder.exitCode !== null || holder.signalCode !== null) throw new Error(`namespace setup failed: ${out}`);
    if (Date.now() > end) {
      killNow();
      throw new Error(`namespace setup timed out: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // setpriv execs unshare (same pid); unshare's child is the namespaces' init.
  const initPid = childrenOf(holder.pid!)[0];
  if (!initPid) {
    killNow();
    throw new Error("cannot find the namespace init process");
  }
  live.initPid = initPid;
  const nsenter = ["--target", String(initPid), "--mount", "--net", "--uts", "--pid", "--wd=/", "--"];

  const run = (file: string, args: string[], timeoutMs = 120000) => sh("nsenter", [...nsenter, file, ...args], { env: CLEAN_ENV, timeoutMs });
  const must = async (file: string, args: string[], timeoutMs?: number) => {
    const r = await run(file, args, timeoutMs);
    if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Best effort, bounded: instances, cluster, daemons by pidfile; then the init.
    const list = await run("gnt-instance", ["list", "--no-headers", "-o", "name"], 30000).catch(() => undefined);
    for (const name of (list?.stdout ?? "").split("\n").filter(Boolean)) {
      await run("gnt-instance", ["remove", "-f", "--shutdown-timeout=0", name], 60000).catch(() => undefined);
    }
    await run("gnt-cluster", ["destroy", "--yes-do-it"], 60000).catch(() => undefined);
    await run("bash", ["-c", 'for f in /run/ganeti/*.pid /run/openvswitch/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; true'], 10000).catch(() => undefined);
    try {
      process.kill(initPid, "SIGKILL");
    } catch {
      /* gone */
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
    killNow();
  };

  const cluster: GanetiCluster = {
    dir,
    run,
    must,
    vsctl: (...args) => must("ovs-vsctl", ["--timeout=20", ...args]),
    appctl: (...args) => must("ovs-appctl", args),
    stop,
  };
  try {
    const t0 = Date.now();
    await must(
      "gnt-cluster",
      [
        "init",
        "--enabled-hypervisors=kvm",
        "--enabled-disk-templates=diskless",
        "--ipolicy-disk-templates=diskless",
        "--master-netdev=gntv0",
        "--no-etc-hosts",
        "--nic-parameters",
        `mode=openvswitch,link=${OVS_BRIDGE}`,
        "-H",
        "kvm:kvm_flag=disabled,kvm_path=/usr/bin/qemu-system-x86_64,kernel_path=,initrd_path=,vnc_bind_address=",
        CLUSTER,
      ],
      180000,
    );
    log(`gnt-cluster init ${CLUSTER} (node ${NODE}): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}
