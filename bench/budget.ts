// Step budget of the Xen hook (`vif-openvswitch online`), from exec to exit,
// seen by strace (every thread, every syscall, timestamps and durations).
//
//   node_modules/.bin/bun bench/budget.ts [BINARY ...]     (npm run bench:budget)
//   OVS_VIF_BUDGET_RUNS=7        traced runs per binary (median run shown, steps as medians)
//   OVS_VIF_BUDGET_PORTS=10      other ports on the bridge
//   OVS_VIF_BUDGET_KEEP=DIR      keep the raw strace files there
//   OVS_VIF_BUDGET_UNTRACED=20   untraced runs per binary (total and step marks)
//
// Each BINARY (default dist/ovs-vif; give two to compare, e.g. before and
// after a change) runs as vif-openvswitch against the bench's private OVS and
// xenstored, under the Xen bench's production conditions (bench/lib/:
// private namespaces, /dev/log read by a receiver, /var/log/xen a temp dir,
// default log level), with OVS_VIF_TRACE=1 so the hook's own step marks show
// up in the trace as writes to stderr. The trace (`strace -f -ttt -T -yy`) is
// cut into consecutive segments whose ends are events: the marks, each
// connect, each round trip's first request and its first reply on the OVSDB
// and xenstored sockets (decoded: JSON-RPC methods, xenstore operations), an
// OVSDB notification (the cur_cfg update vswitchd's work ends with), the
// netdev ioctl socket (bun:ffi loaded), the first teardown of a connection,
// exit_group and the process's end. The segments add up to the whole run.
// strace slows every syscall down: the traced total is printed next to the
// untraced one, so the shares count more than the absolute numbers.
//
// The trace is read in bench/budget/strace.ts and cut in bench/budget/segments.ts;
// the marks are in bench/budget/marks.ts, the run twice in one process in
// bench/budget/twice.ts, the report in bench/budget/report.ts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { marksOf } from "./budget/marks.ts";
import { budgetReport, type BinaryResult } from "./budget/report.ts";
import { budgetOf } from "./budget/segments.ts";
import { plugTwice } from "./budget/twice.ts";
import { addInternalPorts, productionOvsLogLevels } from "./lib/bridge.ts";
import { enterPrivateNamespaces, removeTemp } from "./lib/namespaces.ts";
import { buildFloor } from "./lib/product-build.ts";
import { productionSyslog } from "./lib/production-syslog.ts";
import { guarded } from "./lib/report.ts";
import { timedSpawn } from "./lib/timed-spawn.ts";
import { isolateXenLog } from "./lib/xen-log.ts";

const MARK = "OVS_VIF_BENCH_BUDGET_INNER";
const RUNS = Math.max(3, Number(process.env.OVS_VIF_BUDGET_RUNS ?? 7) || 7);
const PORTS = Math.max(0, Number(process.env.OVS_VIF_BUDGET_PORTS ?? 10) || 0);
const UNTRACED_RUNS = Math.max(3, Number(process.env.OVS_VIF_BUDGET_UNTRACED ?? 20) || 20);

if (!(await enterPrivateNamespaces(MARK, async () => ({ env: {}, cleanup: () => undefined })))) {
  process.stderr.write("budget: needs a private mount + network namespace (unshare)\n");
  process.exit(1);
}
if (spawnSync("strace", ["-V"]).status !== 0) {
  process.stderr.write("budget: strace not found (apt-get install strace; .ci/setup installs it)\n");
  process.exit(1);
}

// The environment: the Xen bench's, for one VM.
const binaries = (
  process.argv.slice(2).length ? process.argv.slice(2) : [process.env.OVS_VIF_BINARY ?? join(import.meta.dirname, "..", "dist", "ovs-vif")]
).map((b) => resolve(b));
for (const b of binaries) if (!existsSync(b)) throw new Error(`no binary at ${b} (npm run build)`);
const { startOvs } = await import("../test/harness/ovs.ts");
const { startXenstored } = await import("../test/harness/xenstore.ts");
const { makeXenVif } = await import("../test/harness/xen-domain.ts");
const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-budget-"));
const keep = process.env.OVS_VIF_BUDGET_KEEP;
if (keep) mkdirSync(keep, { recursive: true });
const xenLog = isolateXenLog(tmp, true);
const sys = await productionSyslog(tmp, true);
const ovs = await startOvs({ netns: "current" });
const code = await guarded("budget", async () => {
  const notes = [await productionOvsLogLevels(ovs), ...sys.notes, ...(xenLog ? [xenLog.note] : [])];
  mkdirSync(join(tmp, "xs"));
  const xs = await startXenstored(join(tmp, "xs"));
  await ovs.addBridge("sw1");
  await addInternalPorts(ovs.vsctl, "sw1", 1, PORTS);
  const vif = await makeXenVif(ovs, xs, 7, { bridge: "sw1.3:10:20" });
  const env: NodeJS.ProcessEnv = { ...process.env, ...ovs.env, ...xs.env, vif: vif.device, XENBUS_PATH: vif.backend, OVS_VIF_TRACE: "1" };
  for (const k of ["OVS_VIF_LOG_LEVEL", "OVS_VIF_SYSLOG", "OVS_VIF_XEN_LOG", "OVS_VIF_SYSLOG_SOCKET"]) delete env[k];
  const reset = async () => {
    await ovs.vsctl("--if-exists", "del-port", vif.device);
    await xs.rm(`${vif.backend}/hotplug-status`).catch(() => undefined);
    const r = spawnSync("ip", ["link", "set", "dev", vif.device, "down"]);
    if (r.status !== 0) throw new Error("ip link set down failed");
  };
  const check = async (what: string) => {
    if ((await xs.read(`${vif.backend}/hotplug-status`)) !== "connected") throw new Error(`${what}: hotplug-status is not connected`);
  };

  // The runtime floor, traced the same way: what Bun costs before any of our code.
  const floor = buildFloor(tmp);
  const hooks = binaries.map((binary, bi) => {
    const hook = join(tmp, `bin${bi}`, "vif-openvswitch");
    mkdirSync(join(tmp, `bin${bi}`));
    symlinkSync(binary, hook);
    return hook;
  });
  const results: BinaryResult[] = binaries.map((binary) => ({ binary, budgets: [], untraced: [], untracedNoMarks: [], marks: [] }));
  const floorTotals: number[] = [];
  const floorRuntime: number[] = [];
  const traced = (file: string, args: string[], out: string) => {
    const r = spawnSync("strace", ["-f", "-ttt", "-T", "-yy", "-s", "512", "-o", out, file, ...args], { env, encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`traced ${file} failed (exit ${r.status}): ${r.stderr}`);
    return readFileSync(out, "utf8");
  };
  process.stderr.write(`budget: ${RUNS} traced runs of ${binaries.length} binaries and the floor, interleaved; then ${UNTRACED_RUNS} untraced each...\n`);
  for (let i = 0; i <= RUNS; i++) {
    for (const [bi, hook] of hooks.entries()) {
      await reset();
      const text = traced(hook, ["online", "type_if=vif"], join(keep ?? tmp, `strace-${bi}-${i}.txt`));
      await check("traced run");
      if (i > 0) results[bi]!.budgets.push(budgetOf(text, { ovsdb: ovs.dbSock, xenstore: xs.socketPath }));
    }
    const f = budgetOf(traced(floor, [], join(keep ?? tmp, `strace-floor-${i}.txt`)), { ovsdb: "", xenstore: "" });
    if (i > 0) {
      floorTotals.push(f.total);
      floorRuntime.push(f.segments.filter((x) => x.category === "exec + runtime start").reduce((a, x) => a + x.end - x.start, 0));
    }
  }
  for (let i = 0; i < UNTRACED_RUNS + 2; i++) {
    for (const [bi, hook] of hooks.entries()) {
      for (const [list, e] of [
        [results[bi]!.untraced, env],
        [results[bi]!.untracedNoMarks, { ...env, OVS_VIF_TRACE: "" }],
      ] as const) {
        await reset();
        const r = await timedSpawn(hook, ["online", "type_if=vif"], e);
        if (r.code !== 0) throw new Error(`untraced run failed: ${r.stderr}`);
        await check("untraced run");
        if (i >= 2) list.push(r.ms);
        if (i >= 2 && e === env) results[bi]!.marks.push(marksOf(r));
      }
    }
  }
  const floorUntraced: number[] = [];
  for (let i = 0; i < UNTRACED_RUNS + 2; i++) {
    const r = await timedSpawn(floor, [], env);
    if (i >= 2) floorUntraced.push(r.ms);
  }
  // The same online twice in one process: what the first use costs.
  const twice = await plugTwice(tmp, env, UNTRACED_RUNS, reset, check);

  console.log(budgetReport({ ports: PORTS, untracedRuns: UNTRACED_RUNS, results, floorTotals, floorRuntime, floorUntraced, twice, notes }).join("\n"));
  await xs.stop();
  return 0;
}, [() => ovs.stop(), () => sys.stop(), () => removeTemp(tmp)]);
process.exit(code);
