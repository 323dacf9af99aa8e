// Benchmark: Ganeti's KVM openvswitch NIC setup, stock against ovs-vif, under
// production conditions.
//
//   node_modules/.bin/bun bench/kvm.ts   (npm run bench:kvm builds dist/ovs-vif first)
//   OVS_VIF_BINARY=/path/to/ovs-vif     binary under test (default dist/ovs-vif)
//   OVS_VIF_BENCH_RUNS=20                timed runs per contender (>= 10)
//   OVS_VIF_BENCH_OTHER_BINARY=/path     another build as two more contenders
//                                        (direct and chained; e.g. before a change)
//
// Contenders, for the same NIC (tap, MODE=openvswitch, LINK=sw1, VLAN=.3:10:20,
// MAC, IP, the environment Ganeti's noded gives kvm-ifup):
//   stock       Ganeti 3.0's /usr/lib/ganeti/kvm-ifup + net-common, fetched at
//               run time (`apt-get download ganeti-3.0`, `dpkg -x`; never
//               copied into this repository), no kvm-vif-bridge installed:
//               del-port, link up, add-port, set tag, set trunks (ovs-vsctl)
//   ovs-vif     /etc/ganeti/kvm-vif-bridge = ovs-vif, run directly
//   chain       stock kvm-ifup exec'ing /etc/ganeti/kvm-vif-bridge, the
//               two-line script ovs-vif-setup writes (what a node runs)
//   ps-on, chain-ps-on
//               the same two with TAGS=ovs-vif:port-security:on
//   other, chain-other
//               the same two with OVS_VIF_BENCH_OTHER_BINARY, if set
//   no-wait     (info) ovs-vif --no-wait: not waiting for ovs-vswitchd
// at two sizes of the bridge: 10 and 1000 other ports (internal ports; the
// stock script's ovs-vsctl reads whole tables, ovs-vif reads rows by name),
// each carrying its own port-security flows with the bridge marked, as on a
// node where port security is on (bench/lib/port-security.ts); for the
// contenders with it off the mark is cleared (a node that never used it).
// Before each timed run (untimed): the port is removed with its flows and
// the tap set down, so every run does a fresh attach; after it, the port and
// its flows (all of the policy's, or none) are checked. Runs alternate
// between contenders, the order flipped every round.
//
// Production conditions (bench/lib/): the bench re-executes itself in a
// private mount + network namespace with a private OVS, contenders spawned
// directly; /dev/log is a datagram socket read by the bench (both contenders
// log as on a node: net-common's log_info and ovs-vif's sink; the lines are
// counted per contender afterwards); ovs-vif runs with its defaults (no
// OVS_VIF_LOG_LEVEL, no OVS_VIF_SYSLOG). The runtime floor (an empty program
// compiled as the product) and `ovs-vif --version` are timed in the same run.
//
// Prints median / min / max / p90, the ratio ovs-vif / stock and the targets
// (<= 0.3x at 10 ports, 1000 ports reported; port security adds at most 2 ms
// at 10 ports, chained); exits 0 when every target holds.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { must } from "../test/harness/proc.ts";
import { addInternalPorts, productionOvsLogLevels } from "./lib/bridge.ts";
import { COLD_RUNS, dropPageCache, startWatcher } from "./lib/cold.ts";
import { enterPrivateNamespaces, removeTemp } from "./lib/namespaces.ts";
import { allOwnFlowCount, BridgeMark, expectedFlows, installOtherPortFlows, portFlowCount, removeOfportFlows } from "./lib/port-security.ts";
import { buildFloor } from "./lib/product-build.ts";
import { productionSyslog } from "./lib/production-syslog.ts";
import { guarded, targetLines, type Target } from "./lib/report.ts";
import { aboveFloorLines, floorAndVersion, versionTarget } from "./lib/runtime-floor.ts";
import { fmt, stats, statsTable } from "./lib/stats.ts";
import { countSyslog, syslogTag, type SpawnRecord } from "./lib/syslog-count.ts";
import { timedSpawn } from "./lib/timed-spawn.ts";

const MARK = "OVS_VIF_BENCH_KVM_INNER";
const RUNS = Math.max(10, Number(process.env.OVS_VIF_BENCH_RUNS ?? 20) || 20);
const WARMUPS = 2;
const FLOOR_RUNS = 40;
const TAP = "tapbench0";
const TARGET = 0.3;
const TARGET_PS_MS = 2;
const SIZES = [10, 1000];
const PS_TAGS = "ovs-vif:port-security:on";

const NIC_ENV = {
  INSTANCE: "bench1.example.com",
  MAC: "aa:00:00:00:be:01",
  IP: "198.51.100.201",
  MODE: "openvswitch",
  LINK: "sw1",
  VLAN: ".3:10:20",
  INTERFACE: TAP,
  INTERFACE_INDEX: "0",
  INTERFACE_UUID: "6f2c1a4e-0000-4000-8000-0000000be001",
  TAGS: "",
};

// Outside: the stock scripts (the private namespace has no network), then the bench inside.
const inside = await enterPrivateNamespaces(MARK, async () => {
  const { stockGaneti } = await import("../test/harness/ganeti-stock.ts");
  const stock = await stockGaneti();
  return { env: { BENCH_KVM_IFUP: stock.kvmIfup, BENCH_STOCK_SOURCE: stock.source }, cleanup: () => stock.cleanup() };
});
if (!inside) {
  process.stderr.write("bench: the KVM bench needs a private mount + network namespace (unshare); not run\n");
  process.exit(1);
}

const { startOvs, BINARY } = await import("../test/harness/ovs.ts");
const binary = resolve(BINARY);
const kvmIfup = process.env.BENCH_KVM_IFUP!;
const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-bench-kvm-"));
const sys = await productionSyslog(tmp, true);
const floor = buildFloor(tmp);
const ovs = await startOvs({ netns: "current" });
const ovsNote = await productionOvsLogLevels(ovs);
const mark = new BridgeMark(ovs, "sw1");
const psFlows = expectedFlows({ mac: { field: "MAC", value: NIC_ENV.MAC }, ipv4: [{ field: "IP", value: NIC_ENV.IP }] });

/** The port goes with its flows (OVS keeps in_port flows of a removed port), the tap down. */
async function reset(): Promise<void> {
  const ofport = Number((await ovs.vsctl("--if-exists", "get", "interface", TAP, "ofport", "--", "--if-exists", "del-port", TAP)).trim());
  if (ofport > 0) await removeOfportFlows(ovs, "sw1", ofport);
  await must("ip", ["link", "set", "dev", TAP, "down"]);
}

/** The vlan_mode each contender left, last seen. */
const vlanModes = new Map<string, string>();

async function check(c: Contender): Promise<void> {
  const got = await ovs.vsctl("get", "port", TAP, "tag", "trunks", "vlan_mode", "--", "get", "interface", TAP, "ofport");
  const [tag, trunks, vlanMode, ofport] = got.trim().split("\n");
  vlanModes.set(c.key, vlanMode ?? "");
  if (c.key === "nowait") return; // vswitchd may still be applying it
  if (tag !== "3" || trunks !== "[10, 20]") throw new Error(`${c.key}: port ${TAP} has tag ${tag} trunks ${trunks}`);
  if (c.ovsVif && vlanMode !== "native-untagged") throw new Error(`${c.key}: port ${TAP} has vlan_mode ${vlanMode}, expected native-untagged`);
  if (!(Number(ofport) > 0)) throw new Error(`${c.key}: ofport=${ofport} after a waited attach`);
  const flows = await portFlowCount(ovs, "sw1", Number(ofport));
  if (flows !== (c.portSecurity ? psFlows : 0))
    throw new Error(`${c.key}: ${flows} port-security flows under ofport ${ofport}'s cookie, expected ${c.portSecurity ? psFlows : 0}`);
}

interface Contender {
  key: string;
  label: string;
  file: string;
  env: Record<string, string>;
  args?: string[];
  ovsVif: boolean;
  /** TAGS turn port security on; the bridge keeps its mark. */
  portSecurity?: boolean;
}

/** One run from a fresh state (untimed reset, the bridge's mark as the contender's node has it), checked; its wall time. */
async function runOnce(c: Contender, what = ""): Promise<number> {
  await reset();
  await mark.set(c.portSecurity === true);
  if (what === "cold") dropPageCache();
  const r = await timedSpawn(c.file, c.args ?? [], c.env);
  spawns.push({ key: c.key, start: r.start });
  if (r.code !== 0) throw new Error(`${c.label}${what ? ` (${what})` : ""} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  await check(c);
  return r.ms;
}

/** Interleaved rounds, the order flipped every round; the first WARM are not recorded. */
async function rounds(contenders: Contender[], times: number, warm: number, what = ""): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.key, []]));
  for (let i = 0; i < warm + times; i++) {
    for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
      const ms = await runOnce(c, what);
      if (i >= warm) samples.get(c.key)!.push(ms);
    }
  }
  return samples;
}

interface SizeResult {
  n: number;
  /** Runs after a dropped page cache (the first size only). */
  cold?: { rows: { label: string; xs: number[] }[]; ratio: number; watched: number };
  rows: { label: string; xs: number[]; ovsVif: boolean }[];
  /** Medians by contender key. */
  med: Map<string, number>;
  /** The vlan_mode the stock script left. */
  stockVlanMode: string;
}

const spawns: SpawnRecord[] = [];
const header: string[] = [];
const problems: string[] = [];
const code = await guarded(
  "bench",
  async () => {
    await ovs.addBridge("sw1");
    await ovs.addTap(TAP);
    // GANETI_ROOTDIR trees: none has kvm-vif-bridge (stock), the others have ours or the other binary (chain).
    mkdirSync(join(tmp, "stock-root/etc/ganeti"), { recursive: true });
    const other = process.env.OVS_VIF_BENCH_OTHER_BINARY;
    const bridgeScript = (name: string, target: string) => {
      mkdirSync(join(tmp, `${name}/etc/ganeti`), { recursive: true });
      symlinkSync(target, join(tmp, name, "kvm-vif-bridge"));
      // As ovs-vif-setup --ganeti writes it (a script: Ganeti copies this file to every node).
      writeFileSync(join(tmp, `${name}/etc/ganeti/kvm-vif-bridge`), `#!/bin/sh\nexec ${join(tmp, name, "kvm-vif-bridge")} "$@"\n`, { mode: 0o755 });
      return { direct: join(tmp, name, "kvm-vif-bridge"), root: join(tmp, name) };
    };
    const ours = bridgeScript("chain-root", binary);
    header.push(`stock: ${process.env.BENCH_STOCK_SOURCE}`, `ovs-vif: ${binary}`);
    if (other) header.push(`other binary: ${resolve(other)}`);
    header.push("syslog on (/dev/log a datagram socket read by the bench), default log level; contenders spawned directly in the bench's network namespace");

    const base = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", OVS_RUNDIR: ovs.env.OVS_RUNDIR!, ...NIC_ENV };
    const ps = { ...base, TAGS: PS_TAGS };
    const contenders: Contender[] = [
      {
        key: "stock",
        label: "stock kvm-ifup + net-common (openvswitch)",
        file: kvmIfup,
        env: { ...base, GANETI_ROOTDIR: join(tmp, "stock-root") },
        ovsVif: false,
      },
      { key: "ovs-vif", label: "ovs-vif as kvm-vif-bridge", file: ours.direct, env: base, ovsVif: true },
      { key: "chain", label: "stock kvm-ifup exec'ing ovs-vif kvm-vif-bridge", file: kvmIfup, env: { ...base, GANETI_ROOTDIR: ours.root }, ovsVif: true },
      { key: "ps-on", label: "ovs-vif as kvm-vif-bridge, port security on", file: ours.direct, env: ps, ovsVif: true, portSecurity: true },
      {
        key: "chain-ps-on",
        label: "chain (kvm-ifup exec'ing ovs-vif), port security on",
        file: kvmIfup,
        env: { ...ps, GANETI_ROOTDIR: ours.root },
        ovsVif: true,
        portSecurity: true,
      },
    ];
    if (other) {
      const theirs = bridgeScript("other-root", resolve(other));
      contenders.push(
        { key: "other", label: "other binary as kvm-vif-bridge", file: theirs.direct, env: base, ovsVif: true },
        { key: "chain-other", label: "chain (kvm-ifup exec'ing the other binary)", file: kvmIfup, env: { ...base, GANETI_ROOTDIR: theirs.root }, ovsVif: true },
      );
    }
    contenders.push({ key: "nowait", label: "(info) ovs-vif kvm-vif-bridge --no-wait", file: ours.direct, env: base, args: ["--no-wait"], ovsVif: true });

    const sizes: SizeResult[] = [];
    let have = 0;
    let ownFlows = 0;
    for (const n of SIZES) {
      await addInternalPorts(ovs.vsctl, "sw1", have + 1, n);
      ownFlows += await installOtherPortFlows(ovs, "sw1", have + 1, n);
      have = n;
      process.stderr.write(`bench: ${n} other ports on sw1, ${ownFlows} port-security flows; measuring...\n`);
      const samples = await rounds(contenders, RUNS, WARMUPS);
      const left = await allOwnFlowCount(ovs, "sw1");
      if (left !== ownFlows) throw new Error(`after the runs at ${n} ports sw1 has ${left} port-security flows, expected the other ports' ${ownFlows}`);
      const med = new Map(contenders.map((c) => [c.key, stats(samples.get(c.key)!).median]));
      let cold: SizeResult["cold"];
      if (n === SIZES[0]) {
        // As a node under memory pressure starts it: the page cache dropped before each run.
        process.stderr.write(`bench: cold: ${COLD_RUNS} runs each after dropping the page cache...\n`);
        const coldOnes = contenders.filter((c) => c.key === "stock" || c.key === "chain");
        const cs = await rounds(coldOnes, COLD_RUNS, 0, "cold");
        // A node runs ovs-vif-watch.service: the binary stays mapped by it.
        const chain = contenders.find((c) => c.key === "chain")!;
        const watcher = await startWatcher(binary, { ...process.env, ...ovs.env });
        let watched: number[];
        try {
          watched = (await rounds([chain], COLD_RUNS, 0, "cold")).get(chain.key)!;
        } finally {
          watcher.stop();
        }
        cold = {
          rows: [
            ...coldOnes.map((c) => ({ label: `${c.label}, page cache dropped`, xs: cs.get(c.key)! })),
            { label: `${chain.label}, page cache dropped, ovs-vif watch running`, xs: watched },
          ],
          ratio: stats(cs.get("chain")!).median / stats(cs.get("stock")!).median,
          watched: stats(watched).median / stats(cs.get("stock")!).median,
        };
      }
      sizes.push({
        n,
        ...(cold ? { cold } : {}),
        rows: contenders.map((c) => ({ label: c.label, xs: samples.get(c.key)!, ovsVif: c.ovsVif })),
        med,
        stockVlanMode: vlanModes.get("stock") ?? "",
      });
    }
    process.stderr.write("bench: runtime floor and ovs-vif --version...\n");
    const fv = await floorAndVersion(floor, binary, { ...process.env, ...ovs.env }, FLOOR_RUNS);

    // Syslog: net-common's log_info tags `$0[$$]` (the kvm-ifup path); ovs-vif tags kvm-vif-bridge.
    await sys.receiver.settle(spawns.filter((s) => s.key !== "stock").length, 1000);
    const syslog = countSyslog(
      sys.receiver.lines(),
      spawns,
      contenders.map((c) => ({
        key: c.key,
        label: c.label,
        expectedPerRun: c.ovsVif ? 1 : 0,
        own: c.ovsVif ? (t: string) => syslogTag(t) === "kvm-vif-bridge" : (t: string) => syslogTag(t) === kvmIfup,
      })),
    );

    const lines: string[] = [...header];
    const ratio = (s: SizeResult, a: string, b: string) => fmt(s.med.get(a)! / s.med.get(b)!, 3);
    const diff = (s: SizeResult, a: string, b: string) => s.med.get(a)! - s.med.get(b)!;
    for (const s of sizes) {
      lines.push("", `Ganeti KVM openvswitch NIC (VLAN .3:10:20), ${s.n} other ports on the bridge, ${RUNS} runs each (after ${WARMUPS} warm-ups), ms:`);
      lines.push(...statsTable(s.rows, "contender"));
      lines.push(
        "",
        `  ovs-vif / stock (ratio of medians) at ${s.n} ports: ${ratio(s, "ovs-vif", "stock")}x   chain / stock: ${ratio(s, "chain", "stock")}x   no-wait / stock: ${ratio(s, "nowait", "stock")}x`,
        `  port security on / stock: ${ratio(s, "ps-on", "stock")}x, chained ${ratio(s, "chain-ps-on", "stock")}x;  on - off: ${fmt(diff(s, "ps-on", "ovs-vif"))} ms, chained ${fmt(diff(s, "chain-ps-on", "chain"))} ms`,
      );
      if (other)
        lines.push(
          `  other binary / stock: ${ratio(s, "other", "stock")}x, chained ${ratio(s, "chain-other", "stock")}x;  ovs-vif / other: ${ratio(s, "ovs-vif", "other")}x, chained ${ratio(s, "chain", "chain-other")}x;  ovs-vif - other: ${fmt(diff(s, "ovs-vif", "other"))} ms, chained ${fmt(diff(s, "chain", "chain-other"))} ms`,
        );
      lines.push(
        `  (stock leaves vlan_mode empty, so OVS ignores the trunks of a tagged port: its last was ${s.stockVlanMode}; ovs-vif sets it: native-untagged, checked after each run)`,
      );
      if (s.cold) {
        lines.push(
          "",
          `cold, ${s.n} other ports: the page cache dropped before each run, ${COLD_RUNS} runs each, ms:`,
          ...statsTable(s.cold.rows, "contender"),
        );
        lines.push(
          "",
          `  chain (what a node runs) / stock, cold: ${s.cold.ratio.toFixed(3)}x; with ovs-vif watch running (the package's service): ${s.cold.watched.toFixed(3)}x`,
        );
      }
    }
    lines.push(
      "",
      ...statsTable([
        { label: "runtime floor: empty program, product build", xs: fv.floor },
        { label: "ovs-vif --version", xs: fv.version },
      ]),
    );
    lines.push(
      "",
      ...aboveFloorLines(
        [
          ...sizes.flatMap((s) => s.rows.filter((r) => r.ovsVif).map((r) => ({ label: `${r.label} [${s.n} ports]`, xs: r.xs }))),
          { label: "ovs-vif --version", xs: fv.version },
        ],
        fv.floor,
      ),
    );
    lines.push("", "syslog lines received at /dev/log, per contender (warm-ups and timed runs; stock's openvswitch path calls no log_info):", ...syslog.report);
    if (!syslog.ok) problems.push("syslog: not every contender's lines arrived as expected");
    const [small, large] = sizes;
    const r10 = small && small.med.get("ovs-vif")! / small.med.get("stock")!;
    const r1000 = large && large.med.get("ovs-vif")! / large.med.get("stock")!;
    const ps10 = small && diff(small, "chain-ps-on", "chain");
    const ps10direct = small && diff(small, "ps-on", "ovs-vif");
    const targets: Target[] = [
      { name: `KVM NIC at ${SIZES[0]} ports <= ${TARGET}x stock`, value: `${fmt(r10, 3)}x`, pass: r10 !== undefined && r10 <= TARGET, gate: true },
      {
        name: `port security adds at most ${TARGET_PS_MS} ms at ${SIZES[0]} ports (chain, what a node runs)`,
        value: `${fmt(ps10)} ms`,
        pass: ps10 !== undefined && ps10 <= TARGET_PS_MS,
        gate: true,
      },
      versionTarget(fv.version, fv.floor),
      { name: "syslog lines of every contender arrived", value: syslog.counts.map((c) => c.lines).join(" / "), pass: syslog.ok, gate: true },
      { name: `KVM NIC at ${SIZES[1]} ports <= ${TARGET}x stock`, value: `${fmt(r1000, 3)}x`, pass: r1000 !== undefined && r1000 <= TARGET, gate: false },
      {
        name: `port security adds at most ${TARGET_PS_MS} ms at ${SIZES[0]} ports (kvm-vif-bridge run directly)`,
        value: `${fmt(ps10direct)} ms`,
        pass: ps10direct !== undefined && ps10direct <= TARGET_PS_MS,
        gate: false,
      },
    ];
    lines.push("", "targets", ...targetLines(targets));
    lines.push("", "notes", ...[...sys.notes, ovsNote].map((n) => `  - ${n}`));
    if (problems.length) lines.push("", "PROBLEMS", ...problems.map((p) => `  ! ${p}`));
    console.log(lines.join("\n"));
    return problems.length === 0 && targets.every((t) => t.pass || !t.gate) ? 0 : 1;
  },
  [() => ovs.stop(), () => sys.stop(), () => removeTemp(tmp)],
  () => header.join("\n"),
);
process.exit(code);
