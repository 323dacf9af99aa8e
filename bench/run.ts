// Benchmark: ovs-vif as Xen's vif-openvswitch against the stock script, under
// production conditions.
//
//   node_modules/.bin/bun bench/run.ts          (npm run bench builds dist/ovs-vif first)
//   OVS_VIF_BINARY=/path/to/ovs-vif             binary under test (default dist/ovs-vif)
//   OVS_VIF_BENCH_RUNS=20                        timed runs per contender and port count (>= 15)
//   OVS_VIF_BENCH_OTHER_BINARY=/path/to/ovs-vif  another build as one more contender (e.g. before a change)
//
// The stock script is Debian's xen-utils-common, fetched at run time with
// `apt-get download` into a temp dir and unpacked with `dpkg -x`; it is never
// copied into the repository. Everything runs against a private ovsdb-server +
// ovs-vswitchd and a private xenstored.
//
// Production conditions, with nothing written at system paths: the bench
// re-executes itself in a private mount + network namespace (bench/lib/namespaces.ts)
// where
//   - /var/log/xen is a temp dir (bind mount): both contenders append their
//     hotplug log to /var/log/xen/xen-hotplug.log as in production;
//   - /dev/log is a datagram socket read by a receiver in the bench, as
//     rsyslog or journald read it, so both contenders' syslog lines are really
//     sent (stock: logger(1) per `log` call; ovs-vif: its syslog sink);
//     afterwards the lines are counted per contender and must have arrived;
//   - ovs-vif runs with its defaults: no OVS_VIF_LOG_LEVEL, no OVS_VIF_SYSLOG.
// The runtime floor, an empty program compiled exactly as the product, is
// timed in the same run: "above floor" is what ovs-vif's own code costs.
//
// Port security: the bridge's other ports each carry their own flows
// (bench/lib/port-security.ts), as on a node where it is on; one contender
// plugs the vif with port security on (its `ip` key), the others with it off.
//
// The contenders are in bench/xen/contenders.ts, their runs and checks in
// bench/xen/measure.ts, the report in bench/xen/report.ts. It prints a table
// (median / min / max / p90 in ms), the ratios and the targets, and exits 0
// when every target passes, 1 otherwise.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { aptDownload } from "./lib/apt.ts";
import { addInternalPorts, productionOvsLogLevels } from "./lib/bridge.ts";
import { COLD_RUNS } from "./lib/cold.ts";
import { enterPrivateNamespaces, removeTemp } from "./lib/namespaces.ts";
import { buildFloor, compileAsProduct } from "./lib/product-build.ts";
import { allOwnFlowCount, BridgeMark, installOtherPortFlows } from "./lib/port-security.ts";
import { productionSyslog, type ProductionSyslog } from "./lib/production-syslog.ts";
import { floorAndVersion } from "./lib/runtime-floor.ts";
import { Samples } from "./lib/samples.ts";
import type { SpawnRecord } from "./lib/syslog-count.ts";
import { isolateXenLog } from "./lib/xen-log.ts";
import { unpackXenStock, XEN_STOCK_PACKAGE, type XenStock } from "./lib/xen-stock.ts";
import { inNamespace, xenContenders } from "./xen/contenders.ts";
import { coldPhase, contextRuns, measurePhase, peakRss, watchedColdPhase, type XenRig } from "./xen/measure.ts";
import { printReport, syslogCounts, type SyslogCounts } from "./xen/report.ts";
import { CONTEXT_RUNS, FLOOR_RUNS, LARGE, SMALL, VIF_BRIDGE_KEY, VIF_DOMID } from "./xen/settings.ts";

const MNTNS_MARK = "OVS_VIF_BENCH_IN_MNTNS";

// Stage 0: get into private namespaces; the stock package is fetched first
// (the network namespace has no network).
const OWN_NETNS = await enterPrivateNamespaces(MNTNS_MARK, async () => {
  const dl = aptDownload([XEN_STOCK_PACKAGE]);
  return { env: { OVS_VIF_BENCH_DEB_DIR: dl.dir }, cleanup: () => rmSync(dl.dir, { recursive: true, force: true }) };
});

// Inside (or the fallback): the real bench. Harness modules install exit and
// signal hooks at import, so they are imported only here.
const { startOvs, BINARY } = await import("../test/harness/ovs.ts");
const { startXenstored } = await import("../test/harness/xenstore.ts");
const { makeXenVif } = await import("../test/harness/xen-domain.ts");
type OvsHandle = Awaited<ReturnType<typeof startOvs>>;
type XenstoredHandle = Awaited<ReturnType<typeof startXenstored>>;

const binary = resolve(BINARY);
const notes: string[] = [];
const problems: string[] = [];
const samples = new Samples();
const spawns: SpawnRecord[] = [];
const labels = new Map<string, string>();

async function portCount(ovs: OvsHandle): Promise<number> {
  return (await ovs.vsctl("--no-wait", "list-ports", "sw1")).split("\n").filter(Boolean).length;
}

async function main(): Promise<number> {
  if (!existsSync(binary)) {
    process.stderr.write(`bench: no binary at ${binary} (run 'npm run bench', or set OVS_VIF_BINARY)\n`);
    return 1;
  }
  const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-bench-"));
  let ovs: OvsHandle | undefined;
  let xs: XenstoredHandle | undefined;
  let sys: ProductionSyslog | undefined;
  let syslog: SyslogCounts | undefined;
  let fv = { floor: [] as number[], version: [] as number[] };
  const rss = new Map<string, number | undefined>();
  let stock: XenStock | undefined;
  try {
    const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
    const dlDir = join(tmp, "stock");
    mkdirSync(dlDir);
    const xenLogDir = isolateXenLog(tmp, OWN_NETNS);
    if (xenLogDir) notes.push(xenLogDir.note);
    const logDir = xenLogDir?.dir;
    if (logDir === undefined) {
      problems.push(
        "no private mount namespace: /var/log/xen and /dev/log cannot be isolated, the stock script (which appends to /var/log/xen/xen-hotplug.log) is not run and syslog is off",
      );
    } else {
      // Fetched by stage 0 (the bench's namespace has no network), else here (no namespace).
      stock = unpackXenStock(dlDir, process.env.OVS_VIF_BENCH_DEB_DIR, problems);
      if (stock) log(`stock scripts from xen-utils-common ${stock.version}`);
      sys = await productionSyslog(tmp, OWN_NETNS);
      notes.push(...sys.notes);
    }
    const xenLog = logDir ? join(logDir, "xen-hotplug.log") : undefined;

    log("building the runtime floor (empty program, product build flags)...");
    const floor = buildFloor(tmp);
    // The least hook this runtime allows (bench/least-hook.ts), compiled alike.
    const leastHook = join(tmp, "least-hook");
    compileAsProduct(join(import.meta.dirname, "least-hook.ts"), leastHook);

    log("starting ovsdb-server + ovs-vswitchd and xenstored...");
    ovs = await startOvs({ netns: OWN_NETNS ? "current" : "own" });
    notes.push(await productionOvsLogLevels(ovs));
    const xsDir = join(tmp, "xenstored");
    mkdirSync(xsDir);
    xs = await startXenstored(xsDir);
    await ovs.addBridge("sw1");
    const vif = await makeXenVif(ovs, xs, VIF_DOMID, { bridge: VIF_BRIDGE_KEY });
    const rig: XenRig = { ovs, xs, vif, logFile: xenLog, samples, spawns, problems, mark: new BridgeMark(ovs, "sw1") };

    const binDir = join(tmp, "bin");
    mkdirSync(binDir);
    const hook = join(binDir, "vif-openvswitch");
    symlinkSync(binary, hook);
    const other = process.env.OVS_VIF_BENCH_OTHER_BINARY;
    const otherHook = other ? join(binDir, "other", "vif-openvswitch") : undefined;
    if (other && otherHook) {
      mkdirSync(join(binDir, "other"));
      symlinkSync(resolve(other), otherHook);
      notes.push(`other binary: ${resolve(other)}`);
    }
    const contenders = xenContenders({ stock, hook, otherHook, leastHook, logDir, tmp });

    const penv = { ...process.env, ...ovs.env };
    // Context: what merely launching a process costs here.
    await contextRuns(samples, "true", CONTEXT_RUNS, 3, "/bin/true", [], penv);
    if (ovs.ns) {
      await contextRuns(samples, "nstrue", CONTEXT_RUNS, 3, "ip", ["netns", "exec", ovs.ns, "/bin/true"], penv);
      labels.set("nstrue", "ip netns exec NS /bin/true (launcher)");
    } else {
      notes.push("contenders run in the bench's own network namespace, spawned directly (no ip netns exec)");
    }
    labels.set("true", "spawn /bin/true (baseline)");

    let live = contenders;
    let ownFlows = 0;
    for (const n of [SMALL, LARGE]) {
      const have = await portCount(ovs);
      log(`adding ports: ${have} -> ${n}...`);
      const t0 = performance.now();
      await addInternalPorts(ovs.vsctl, "sw1", have + 1, n);
      const count = await portCount(ovs);
      if (count !== n) throw new Error(`sw1 has ${count} ports, expected ${n}`);
      ownFlows += await installOtherPortFlows(ovs, "sw1", have + 1, n);
      log(`sw1 has ${count} other ports, ${ownFlows} port-security flows (added in ${((performance.now() - t0) / 1000).toFixed(1)} s); measuring...`);
      for (const c of contenders) labels.set(`${c.key}@${n}`, `${c.label} [${n} ports]`);
      live = await measurePhase(rig, n, live);
      const left = await allOwnFlowCount(ovs, "sw1");
      if (left !== ownFlows) throw new Error(`after the runs at ${n} ports sw1 has ${left} port-security flows, expected the other ports' ${ownFlows}`);
      labels.set(`vsctl@${n}`, `ovs-vsctl --no-wait list-ports sw1 [${n} ports]`);
      await contextRuns(samples, `vsctl@${n}`, CONTEXT_RUNS, 2, ...inNamespace(ovs, "ovs-vsctl", ["--no-wait", "list-ports", "sw1"]), penv, (r) => {
        if (r.stdout.trim().split("\n").length !== n) throw new Error(`list-ports: expected ${n} lines`);
      });
      if (n === SMALL) {
        // Context for the breakdown: one `ip link set` process, as the stock script runs several.
        labels.set("ip", `${ovs.ns ? "ip netns exec NS " : ""}ip link set dev ${vif.device} down`);
        await contextRuns(samples, "ip", CONTEXT_RUNS, 2, ...inNamespace(ovs, "ip", ["link", "set", "dev", vif.device, "down"]), penv);
        for (const c of live.filter((x) => x.key === "stock" || x.key === "ovsvif")) rss.set(`${c.label} [${n} ports]`, await peakRss(rig, c, tmp));
        const cold = live.filter((x) => x.key === "stock" || x.key === "ovsvif");
        log(`cold: ${COLD_RUNS} runs each after dropping the page cache...`);
        for (const c of cold) labels.set(`cold-${c.key}@${n}`, `${c.label} [${n} ports, page cache dropped]`);
        await coldPhase(rig, n, cold);
        // A node runs ovs-vif-watch.service: the hook's binary is mapped by it.
        const ours = cold.find((x) => x.key === "ovsvif");
        if (ours) {
          labels.set(`coldwatch@${n}`, `${ours.label} [${n} ports, page cache dropped, ovs-vif watch running]`);
          await watchedColdPhase(rig, n, ours, binary);
        }
      }
    }

    log("runtime floor and ovs-vif --version...");
    fv = await floorAndVersion(floor, binary, penv, FLOOR_RUNS);

    if (sys) {
      // Give the last lines (the stock script's detached loggers) time to land.
      const expected = contenders.reduce((a, c) => a + (c.syslogPerRun ?? 1) * spawns.filter((s) => s.key === c.key).length, 0);
      await sys.receiver.settle(expected, 1000);
      syslog = syslogCounts(sys.receiver.lines(), spawns, contenders, stock);
    }
    if (xenLog && existsSync(xenLog)) {
      const lines = readFileSync(xenLog, "utf8").split("\n").filter(Boolean);
      const fromOvsVif = lines.filter((l) => / vif-openvswitch\[\d+\] /.test(l)).length;
      notes.push(
        `xen-hotplug.log (temp): ${fromOvsVif} lines from ovs-vif (one per online at info level), ${lines.length - fromOvsVif} from the stock script (its stderr).`,
      );
    }
  } catch (err) {
    problems.push(`bench aborted: ${(err as Error).message}`);
  } finally {
    await ovs?.stop().catch(() => undefined);
    await xs?.stop().catch(() => undefined);
    sys?.stop();
    removeTemp(tmp);
  }
  return printReport({ binary, stock, samples, labels, rss, syslog, fv, notes, problems }) ? 0 : 1;
}

process.exit(await main());
