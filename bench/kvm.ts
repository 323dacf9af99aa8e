// Benchmark: Ganeti's KVM openvswitch NIC setup, stock against ovs-vif.
//
//   node_modules/.bin/bun bench/kvm.ts
//   OVS_VIF_BINARY=/path/to/ovs-vif     binary under test (default dist/ovs-vif)
//   OVS_VIF_BENCH_RUNS=20                timed runs per contender (>= 10)
//
// Contenders, for the same NIC (tap, MODE=openvswitch, LINK=sw1, VLAN=.3:10:20,
// the environment Ganeti's noded gives kvm-ifup):
//   stock       Ganeti 3.0's /usr/lib/ganeti/kvm-ifup + net-common, fetched at
//               run time (`apt-get download ganeti-3.0`, `dpkg -x`; never
//               copied into this repository), no kvm-vif-bridge installed:
//               del-port, link up, add-port, set tag, set trunks (ovs-vsctl)
//   ovs-vif     /etc/ganeti/kvm-vif-bridge = ovs-vif, run directly
//   chain       stock kvm-ifup exec'ing kvm-vif-bridge (what a node runs)
//   no-wait     (info) ovs-vif --no-wait: not waiting for ovs-vswitchd
// at two sizes of the bridge: 10 and 1000 other ports (internal ports; the
// stock script's ovs-vsctl reads whole tables, ovs-vif reads rows by name).
// Everything runs against a private ovsdb-server + ovs-vswitchd; the
// contenders run inside its network namespace (this script re-executes
// itself there, so no launcher is timed) with OVS_RUNDIR pointing at it.
// Before each timed run (untimed): the port is removed and the tap set
// down, so every run does a fresh attach. Runs alternate between contenders.
//
// Prints medians (and p90, min), the ratio ovs-vif / stock and the target
// (<= 0.3x) at each size; exits 0 when the target holds at both, 1 otherwise.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stats, timedSpawn } from "./lib.ts";

const INNER = "OVS_VIF_BENCH_KVM_INNER";
const RUNS = Math.max(10, Number(process.env.OVS_VIF_BENCH_RUNS ?? 20) || 20);
const WARMUPS = 2;
const TAP = "tapbench0";
const TARGET = 0.3;
const SIZES = [10, 1000];

const NIC_ENV = {
  INSTANCE: "bench1.example.com",
  MAC: "aa:00:00:00:be:01",
  MODE: "openvswitch",
  LINK: "sw1",
  VLAN: ".3:10:20",
  INTERFACE: TAP,
  INTERFACE_INDEX: "0",
  INTERFACE_UUID: "6f2c1a4e-0000-4000-8000-0000000be001",
  TAGS: "",
};

/** Spawn-to-exit time, with stdout and stderr together. */
async function timed(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number; out: string }> {
  const r = await timedSpawn(file, args, env);
  return { ms: r.ms, code: r.code, out: r.stdout + r.stderr };
}

function must(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(file, args, { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${file} ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

if (process.env[INNER] === undefined) {
  // Outer: private OVS, stock scripts, then the measurement inside the netns.
  const { startOvs, BINARY } = await import("../test/harness/ovs.ts");
  const { stockGaneti } = await import("../test/harness/ganeti-stock.ts");
  const stock = await stockGaneti();
  const ovs = await startOvs();
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-bench-kvm-"));
  let code = 1;
  try {
    await ovs.addBridge("sw1");
    await ovs.addTap(TAP);
    // GANETI_ROOTDIR trees: none has kvm-vif-bridge (stock), one has ours (chain).
    mkdirSync(join(dir, "stock-root/etc/ganeti"), { recursive: true });
    mkdirSync(join(dir, "chain-root/etc/ganeti"), { recursive: true });
    symlinkSync(resolve(BINARY), join(dir, "chain-root/etc/ganeti/kvm-vif-bridge"));
    symlinkSync(resolve(BINARY), join(dir, "kvm-vif-bridge"));
    console.log(`stock: ${stock.source}`);
    console.log(`ovs-vif: ${resolve(BINARY)}`);
    code = 0;
    let have = 0;
    for (const n of SIZES) {
      // Internal ports p1..pN, 100 per ovs-vsctl call.
      for (let start = have + 1; start <= n; start += 100) {
        const args: string[] = [];
        for (let i = start; i <= Math.min(n, start + 99); i++) args.push("--", "add-port", "sw1", `p${i}`, "--", "set", "interface", `p${i}`, "type=internal");
        await ovs.vsctl(...args);
      }
      have = n;
      const r = spawnSync("ip", ["netns", "exec", ovs.ns, process.execPath, ...process.argv.slice(1)], {
        stdio: "inherit",
        env: { ...process.env, ...ovs.env, [INNER]: dir, BENCH_KVM_IFUP: stock.kvmIfup, BENCH_DB: ovs.dbSock, BENCH_PORTS: String(n) },
      });
      if (r.status !== 0) code = r.status ?? 1;
    }
  } finally {
    await ovs.stop();
    rmSync(dir, { recursive: true, force: true });
    stock.cleanup();
  }
  process.exit(code);
}

// Inner: inside the OVS netns.
const dir = process.env[INNER]!;
const kvmIfup = process.env.BENCH_KVM_IFUP!;
const db = `unix:${process.env.BENCH_DB!}`;
const base = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", OVS_RUNDIR: process.env.OVS_RUNDIR!, OVS_VIF_SYSLOG: "0", ...NIC_ENV };

const contenders: { key: string; label: string; file: string; env: Record<string, string>; args?: string[] }[] = [
  { key: "stock", label: "stock kvm-ifup + net-common (openvswitch)", file: kvmIfup, env: { ...base, GANETI_ROOTDIR: join(dir, "stock-root") } },
  { key: "ovs-vif", label: "ovs-vif as kvm-vif-bridge", file: join(dir, "kvm-vif-bridge"), env: base },
  { key: "chain", label: "stock kvm-ifup exec'ing ovs-vif kvm-vif-bridge", file: kvmIfup, env: { ...base, GANETI_ROOTDIR: join(dir, "chain-root") } },
  { key: "nowait", label: "(info) ovs-vif kvm-vif-bridge --no-wait", file: join(dir, "kvm-vif-bridge"), env: base, args: ["--no-wait"] },
];
const ports = Number(process.env.BENCH_PORTS);

function reset(): void {
  must("ovs-vsctl", [`--db=${db}`, "--if-exists", "del-port", TAP]);
  must("ip", ["link", "set", "dev", TAP, "down"]);
}

function check(key: string): void {
  const tag = must("ovs-vsctl", [`--db=${db}`, "get", "port", TAP, "tag"]).trim();
  const trunks = must("ovs-vsctl", [`--db=${db}`, "get", "port", TAP, "trunks"]).trim();
  if (key === "nowait") return; // vswitchd may still be applying it
  if (tag !== "3" || trunks !== "[10, 20]") throw new Error(`${key}: port ${TAP} has tag ${tag} trunks ${trunks}`);
}

const samples = new Map<string, number[]>(contenders.map((c) => [c.key, []]));
for (let i = 0; i < WARMUPS + RUNS; i++) {
  for (const c of contenders) {
    reset();
    const r = await timed(c.file, c.args ?? [], c.env);
    if (r.code !== 0) throw new Error(`${c.label} failed (exit ${r.code}): ${r.out}`);
    check(c.key);
    if (i >= WARMUPS) samples.get(c.key)!.push(r.ms);
  }
}
const vsm = must("ovs-vsctl", [`--db=${db}`, "get", "port", TAP, "vlan_mode"]).trim();

const fmt = (x: number) => x.toFixed(1).padStart(7);
console.log(`\nGaneti KVM openvswitch NIC (VLAN .3:10:20), ${ports} other ports on the bridge, ${RUNS} runs each, ms:`);
console.log(`  ${"contender".padEnd(50)} median     p90     min`);
const s = new Map(contenders.map((c) => [c.key, stats(samples.get(c.key)!)]));
for (const c of contenders) {
  const st = s.get(c.key)!;
  console.log(`  ${c.label.padEnd(50)}${fmt(st.median)} ${fmt(st.p90)} ${fmt(st.min)}`);
}
const ratio = s.get("ovs-vif")!.median / s.get("stock")!.median;
const chain = s.get("chain")!.median / s.get("stock")!.median;
console.log(`\n  ovs-vif / stock (median) at ${ports} ports: ${ratio.toFixed(3)}x   target <= ${TARGET}x: ${ratio <= TARGET ? "PASS" : "FAIL"}`);
console.log(`  through kvm-ifup (chain) / stock:  ${chain.toFixed(3)}x`);
console.log(`  (stock leaves vlan_mode empty, so OVS ignores the trunks of a tagged port; ovs-vif sets it: last vlan_mode ${vsm || "[]"})`);
process.exit(ratio <= TARGET ? 0 : 1);
