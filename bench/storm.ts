// Boot storm: a node with 1000 ports on its bridge, then 100 VMs whose NICs
// are plugged at once (all 100 hooks started together), stock scripts against
// ovs-vif, for Xen hooks and for Ganeti's KVM NIC scripts.
//
//   node_modules/.bin/bun bench/storm.ts        (npm run bench:storm builds dist/ovs-vif first)
//   OVS_VIF_BINARY=/path/to/ovs-vif            binary under test (default dist/ovs-vif)
//   OVS_VIF_STORM=xen|kvm|both                 which family (default both)
//   OVS_VIF_STORM_VMS=100                      NICs per storm
//
// Contenders (fetched at run time, never stored here):
//   Xen  stock vif-openvswitch (xen-utils-common) | ovs-vif as vif-openvswitch,
//        `online type_if=vif` with vif / XENBUS_PATH, against a real xenstored
//   KVM  stock kvm-ifup + net-common (ganeti-3.0) | ovs-vif as kvm-vif-bridge,
//        with the NIC environment Ganeti gives kvm-ifup
// Every NIC has its own VLANs (bridge key sw1.T:A:3000 / VLAN .T:A:3000).
// After an untimed warm-up (3 plugs per contender), phases, each contender starting from the same state (its ports removed,
// status keys removed, devices down, and the port count checked in between):
//   sequential at 10 ports     100 plugs one after another (the bridge grows to 110)
//   concurrent at 1000 ports   100 hooks started at once
//   sequential at 1000 ports   100 plugs one after another
// Reported per phase and contender: wall time until all hooks exited (for Xen
// every hotplug-status is then checked to be connected), failures, per-plug
// latency (median / p90 / max), CPU time (utime+stime, /proc/PID/stat) of
// ovsdb-server, ovs-vswitchd (and xenstored) during the window, CPU of the
// hooks and everything they ran (this process's children), and the syslog
// lines received. Afterwards every port's VLAN columns are checked (tag,
// trunks; vlan_mode for ovs-vif, which sets it). The per-plug growth from 10 to
// 1000 ports is the ratio of the sequential medians.
//
// Production conditions as in bench/run.ts (bench/lib/): private mount + net
// namespace, /dev/log read by a receiver, /var/log/xen a temp dir, default
// log level, OVS daemons at syslog:err.
//
// The node is in bench/storm/node.ts, the contenders in bench/storm/contenders.ts,
// a phase in bench/storm/phase.ts, the report in bench/storm/report.ts.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { aptDownload } from "./lib/apt.ts";
import { addInternalPorts, productionOvsLogLevels } from "./lib/bridge.ts";
import { readPidFile } from "./lib/cpu.ts";
import { enterPrivateNamespaces, removeTemp } from "./lib/namespaces.ts";
import { productionSyslog } from "./lib/production-syslog.ts";
import { isolateXenLog } from "./lib/xen-log.ts";
import { XEN_STOCK_PACKAGE } from "./lib/xen-stock.ts";
import { stormContenders } from "./storm/contenders.ts";
import { cleanState, createNics, type StormNode } from "./storm/node.ts";
import { runPhase, warmUp, type PhaseContext, type PhaseResult } from "./storm/phase.ts";
import { stormReport } from "./storm/report.ts";

const MARK = "OVS_VIF_BENCH_STORM_INNER";
const FAMILIES = (process.env.OVS_VIF_STORM ?? "both") === "both" ? ["xen", "kvm"] : [process.env.OVS_VIF_STORM!];
const VMS = Math.max(2, Number(process.env.OVS_VIF_STORM_VMS ?? 100) || 100);
const SMALL = 10;
const LARGE = 1000;

// Outside: both stock packages (the private namespace has no network).
const inside = await enterPrivateNamespaces(MARK, async () => {
  const xen = FAMILIES.includes("xen") ? aptDownload([XEN_STOCK_PACKAGE]) : undefined;
  const kvm = FAMILIES.includes("kvm") ? await (await import("../test/harness/ganeti-stock.ts")).stockGaneti() : undefined;
  return {
    env: { STORM_XEN_DEB_DIR: xen?.dir ?? "", STORM_KVM_IFUP: kvm?.kvmIfup ?? "", STORM_KVM_SOURCE: kvm?.source ?? "" },
    cleanup: () => {
      if (xen) rmSync(xen.dir, { recursive: true, force: true });
      kvm?.cleanup();
    },
  };
});
if (!inside) {
  process.stderr.write("storm: needs a private mount + network namespace (unshare)\n");
  process.exit(1);
}

const { startOvs, BINARY } = await import("../test/harness/ovs.ts");
const { startXenstored } = await import("../test/harness/xenstore.ts");
const binary = resolve(BINARY);
const log = (m: string) => process.stderr.write(`storm: ${m}\n`);

const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-storm-"));
const problems: string[] = [];
const notes: string[] = [];
const xenLog = isolateXenLog(tmp, true);
if (xenLog) notes.push(xenLog.note);
const sys = await productionSyslog(tmp, true);
notes.push(...sys.notes);
const ovs = await startOvs({ netns: "current" });
notes.push(await productionOvsLogLevels(ovs));
mkdirSync(join(tmp, "xs"));
const xs = await startXenstored(join(tmp, "xs"));
const daemons: { name: string; pid: number }[] = [
  { name: "ovsdb-server", pid: readPidFile(join(ovs.dir, "ovsdb-server.pid")) },
  { name: "ovs-vswitchd", pid: readPidFile(join(ovs.dir, "ovs-vswitchd.pid")) },
];
const contenders = await stormContenders(
  {
    families: FAMILIES,
    binary,
    tmp,
    ovs,
    xs,
    xenDebDir: process.env.STORM_XEN_DEB_DIR ?? "",
    kvmIfup: process.env.STORM_KVM_IFUP!,
    kvmSource: process.env.STORM_KVM_SOURCE!,
  },
  notes,
);

const results: PhaseResult[] = [];
try {
  await ovs.addBridge("sw1");
  log(`creating ${VMS} taps and their xenstore keys...`);
  const node: StormNode = { ovs, xs, nics: await createNics(ovs, xs, VMS) };
  const ctx: PhaseContext = { node, daemons, receiver: sys.receiver, log };
  await addInternalPorts(ovs.vsctl, "sw1", 1, SMALL);
  await warmUp(ctx, contenders, SMALL);
  for (const family of FAMILIES) {
    const fam = contenders.filter((c) => c.family === family);
    for (const c of fam) results.push(await runPhase(ctx, `sequential, ${SMALL} ports`, c, false, SMALL));
  }
  log(`adding ports: ${SMALL} -> ${LARGE}...`);
  await addInternalPorts(ovs.vsctl, "sw1", SMALL + 1, LARGE);
  for (const family of FAMILIES) {
    const fam = contenders.filter((c) => c.family === family);
    // The order flips between phases, so neither contender always goes first.
    for (const c of [...fam].reverse()) results.push(await runPhase(ctx, `concurrent, ${LARGE} ports`, c, true, LARGE));
    for (const c of fam) results.push(await runPhase(ctx, `sequential, ${LARGE} ports`, c, false, LARGE));
  }
  await cleanState(node, LARGE);
} catch (err) {
  problems.push(`storm aborted: ${(err as Error).stack ?? err}`);
} finally {
  await ovs.stop();
  await xs.stop();
  sys.stop();
  removeTemp(tmp);
}

console.log(stormReport({ results, families: FAMILIES, vms: VMS, binary, small: SMALL, large: LARGE, notes, problems }).join("\n"));
process.exit(problems.length ? 1 : 0);
