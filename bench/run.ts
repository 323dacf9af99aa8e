// Benchmark: ovs-vif as Xen's vif-openvswitch against the stock script, under
// production conditions.
//
//   node_modules/.bin/bun bench/run.ts          (npm run bench builds dist/ovs-vif first)
//   OVS_VIF_BINARY=/path/to/ovs-vif             binary under test (default dist/ovs-vif)
//   OVS_VIF_BENCH_RUNS=20                        timed runs per contender and port count (>= 15)
//
// The stock script is Debian's xen-utils-common, fetched at run time with
// `apt-get download` into a temp dir and unpacked with `dpkg -x`; it is never
// copied into the repository. Everything runs against a private ovsdb-server +
// ovs-vswitchd and a private xenstored.
//
// Production conditions, with nothing written at system paths: the bench
// re-executes itself in a private mount + network namespace (bench/lib.ts)
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
// Prints a table (median / min / max / p90 in ms), the ratios and the targets,
// and exits 0 when every target passes, 1 otherwise.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  aboveFloorLines,
  addInternalPorts,
  aptDownload,
  buildFloor,
  COLD_RUNS,
  compileAsProduct,
  dropPageCache,
  startWatcher,
  countSyslog,
  enterPrivateNamespaces,
  floorAndVersion,
  fmt,
  isolateXenLog,
  productionOvsLogLevels,
  productionSyslog,
  removeTemp,
  stats,
  statsTable,
  syslogTag,
  targetLines,
  timedSpawn,
  versionTarget,
  xenVif,
  xenVifKeys,
  type ProductionSyslog,
  type Run,
  type SpawnRecord,
  type Target,
} from "./lib.ts";

const MNTNS_MARK = "OVS_VIF_BENCH_IN_MNTNS";

// ---------------------------------------------------------------------------
// Stage 0: get into private namespaces; the stock package is fetched first
// (the network namespace has no network).
const OWN_NETNS = await enterPrivateNamespaces(MNTNS_MARK, async () => {
  const dl = aptDownload(["xen-utils-common"]);
  return { env: { OVS_VIF_BENCH_DEB_DIR: dl.dir }, cleanup: () => rmSync(dl.dir, { recursive: true, force: true }) };
});

// Inside (or the fallback): the real bench. Harness modules install exit and
// signal hooks at import, so they are imported only here.
const { startOvs, BINARY } = await import("../test/harness/ovs.ts");
const { startXenstored } = await import("../test/harness/xenstore.ts");
type OvsHandle = Awaited<ReturnType<typeof startOvs>>;
type XenstoredHandle = Awaited<ReturnType<typeof startXenstored>>;

const RUNS = Math.max(15, Number(process.env.OVS_VIF_BENCH_RUNS ?? 20) || 20);
const WARMUPS = 2;
const FLOOR_RUNS = 40;
const CONTEXT_RUNS = 20;
const SMALL = 10;
const LARGE = 1000;
const TARGET_XEN = 0.2;

const VIF = xenVif(7, "sw1.3:10:20");
const DEV = VIF.dev;
const XENBUS = VIF.xenbus;
const BRIDGE_KEY = VIF.bridgeKey;
const MAC = VIF.mac;

const binary = resolve(BINARY);
const notes: string[] = [];
const problems: string[] = [];

// ---------------------------------------------------------------------------
// Timing and statistics.

const results = new Map<string, number[]>();
const order: string[] = [];
const spawns: SpawnRecord[] = [];
function record(key: string, ms: number): void {
  if (!results.has(key)) {
    results.set(key, []);
    order.push(key);
  }
  results.get(key)!.push(ms);
}
function median(key: string): number | undefined {
  const xs = results.get(key);
  return xs && xs.length > 0 ? stats(xs).median : undefined;
}

// ---------------------------------------------------------------------------
// Stage 1: the stock scripts.

interface Stock {
  scriptsDir: string;
  version: string;
}

function fetchStock(workDir: string): Stock | undefined {
  const debIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /^xen-utils-common_.*\.deb$/.test(f)) : []);
  // Fetched by stage 0 (the bench's namespace has no network), else here (no namespace).
  const pre = process.env.OVS_VIF_BENCH_DEB_DIR;
  const dl = pre && debIn(pre).length > 0 ? { dir: pre, debs: debIn(pre), error: undefined } : aptDownload(["xen-utils-common"]);
  const deb = dl.debs[0];
  if (dl.error || deb === undefined) {
    problems.push(`stock script unavailable: 'apt-get download xen-utils-common' failed (${dl.error}); try 'apt-get update' first. Only ovs-vif was measured.`);
    return undefined;
  }
  const root = join(workDir, "root");
  const x = spawnSync("dpkg", ["-x", join(dl.dir, deb), root], { encoding: "utf8", timeout: 60_000 });
  if (dl.dir !== pre) rmSync(dl.dir, { recursive: true, force: true });
  const scriptsDir = join(root, "etc", "xen", "scripts");
  if (x.status !== 0 || !existsSync(join(scriptsDir, "vif-openvswitch"))) {
    problems.push(`stock script unavailable: dpkg -x ${deb} failed or has no etc/xen/scripts/vif-openvswitch (${(x.stderr || "").trim()})`);
    return undefined;
  }
  return { scriptsDir, version: deb.replace(/^xen-utils-common_/, "").replace(/_[^_]*\.deb$/, "") };
}

// ---------------------------------------------------------------------------
// Stage 2: OVS, xenstore, the VM's keys, the tap.

async function portCount(ovs: OvsHandle): Promise<number> {
  return (await ovs.vsctl("--no-wait", "list-ports", "sw1")).split("\n").filter(Boolean).length;
}

// ---------------------------------------------------------------------------
// Stage 3: contenders.

interface Contender {
  key: string;
  label: string;
  file: string;
  args: string[];
  env: Record<string, string>;
  /** ovs-vif sets vlan_mode; the stock script does not. */
  ovsVif: boolean;
  /** Waits for ovs-vswitchd, so ofport must be assigned at exit. */
  waits: boolean;
  /** Syslog lines each run sends (ovs-vif: one at info level; stock: counted, at least one). */
  syslogPerRun?: number;
  /** Its syslog tag, where it is not ovs-vif's. */
  syslogTag?: string;
}

function contenderEnv(ovs: OvsHandle, xs: XenstoredHandle, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ovs.env, ...xs.env, vif: DEV, XENBUS_PATH: XENBUS, ...extra };
  // Production defaults unless a contender sets them.
  for (const k of ["OVS_VIF_LOG_LEVEL", "OVS_VIF_SYSLOG", "OVS_VIF_TRACE", "OVS_VIF_XEN_LOG"]) if (!(k in extra)) delete env[k];
  return env;
}

/** In the bench's own network namespace a contender is spawned directly, as
 * Xen spawns it; otherwise through `ip netns exec`. */
async function runIn(ovs: OvsHandle, xs: XenstoredHandle, c: Contender): Promise<Run> {
  const run = await timedSpawn(...inNamespace(ovs, c.file, c.args), contenderEnv(ovs, xs, c.env));
  spawns.push({ key: c.key, start: run.start });
  return run;
}

/** The command line that runs FILE ARGS in the OVS's network namespace. */
function inNamespace(ovs: OvsHandle, file: string, args: string[]): [string, string[]] {
  return ovs.ns ? ["ip", ["netns", "exec", ovs.ns, file, ...args]] : [file, args];
}

/** Untimed oracle: the port is on sw1 with the VLANs of sw1.3:10:20, hotplug-status is connected. */
async function verify(ovs: OvsHandle, xs: XenstoredHandle, c: Contender, run: Run, logFile: string | undefined): Promise<void> {
  const fail = (why: string): never => {
    const tail = logFile && existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-8).join("\n") : "";
    throw new Error(`${c.label}: ${why}\n--- exit ${run.code}; stderr ---\n${run.stderr.trim()}${tail ? `\n--- xen-hotplug.log (tail) ---\n${tail}` : ""}`);
  };
  if (run.code !== 0) fail("non-zero exit");
  let out: string;
  try {
    out = await ovs.vsctl("--no-wait", "--", "port-to-br", DEV, "--", "get", "port", DEV, "vlan_mode", "tag", "trunks", "--", "get", "interface", DEV, "ofport", "external_ids:attached-mac");
  } catch (err) {
    return fail(`port ${DEV} not in OVSDB: ${(err as Error).message}`);
  }
  const [br, vlanMode, tag, trunks, ofport, mac] = out.trim().split("\n");
  if (br !== "sw1") fail(`port on ${br}, expected sw1`);
  if (tag !== "3" || trunks !== "[10, 20]") fail(`tag=${tag} trunks=${trunks}, expected 3 and [10, 20]`);
  if (c.ovsVif && vlanMode !== "native-untagged") fail(`vlan_mode=${vlanMode}, expected native-untagged`);
  if (mac?.replace(/"/g, "") !== MAC) fail(`external_ids:attached-mac=${mac}, expected ${MAC}`);
  if (c.waits && !(Number(ofport) > 0)) fail(`ofport=${ofport} after a waited attach`);
  const status = await xs.read(`${XENBUS}/hotplug-status`);
  if (status !== "connected") fail(`hotplug-status=${status}`);
}

/** Untimed reset, the same for every contender: what `offline` does. */
async function reset(ovs: OvsHandle, xs: XenstoredHandle): Promise<void> {
  await ovs.vsctl("--if-exists", "del-port", DEV);
  await xs.rm(`${XENBUS}/hotplug-status`).catch(() => undefined);
  await xs.rm(`${XENBUS}/hotplug-error`).catch(() => undefined);
  const r = await ovs.inNs("ip", ["link", "set", "dev", DEV, "down"]);
  if (r.code !== 0) throw new Error(`reset: ip link set ${DEV} down: ${r.stderr.trim()}`);
}

/** Each run after the page cache was dropped (the order flips every round), timed as the warm ones. */
async function coldPhase(ovs: OvsHandle, xs: XenstoredHandle, n: number, contenders: Contender[], logFile: string | undefined): Promise<void> {
  for (let i = 0; i < COLD_RUNS; i++) {
    for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
      dropPageCache();
      const run = await runIn(ovs, xs, c);
      await verify(ovs, xs, c, run, logFile);
      record(`cold-${c.key}@${n}`, run.ms);
      await reset(ovs, xs);
    }
  }
}

async function measurePhase(ovs: OvsHandle, xs: XenstoredHandle, n: number, contenders: Contender[], logFile: string | undefined): Promise<Contender[]> {
  let live = [...contenders];
  // Warm-ups, verified: a contender that fails here is never timed.
  for (let w = 0; w < WARMUPS; w++) {
    for (const c of [...live]) {
      const run = await runIn(ovs, xs, c);
      try {
        await verify(ovs, xs, c, run, logFile);
      } catch (err) {
        if (c.ovsVif) throw err;
        problems.push(`stock script failed its warm-up at ${n} ports, not timed: ${(err as Error).message}`);
        live = live.filter((x) => x !== c);
      }
      await reset(ovs, xs);
    }
  }
  // Timed, interleaved; the order flips every round (ABC CBA ...) so drift and
  // "who runs right after a reset" hit every contender alike.
  for (let i = 0; i < RUNS; i++) {
    const round = i % 2 === 0 ? live : [...live].reverse();
    for (const c of round) {
      const run = await runIn(ovs, xs, c);
      await verify(ovs, xs, c, run, logFile);
      record(`${c.key}@${n}`, run.ms);
      await reset(ovs, xs);
    }
  }
  return live;
}

/** Peak RSS (KiB) of one run: GNU time's %M is the largest process of the tree (wait4 rusage). */
async function peakRss(ovs: OvsHandle, xs: XenstoredHandle, c: Contender, tmp: string, logFile: string | undefined): Promise<number | undefined> {
  if (!existsSync("/usr/bin/time")) return undefined;
  const out = join(tmp, `rss-${c.key}.txt`);
  const run = await timedSpawn(...inNamespace(ovs, "/usr/bin/time", ["-f", "%M", "-o", out, c.file, ...c.args]), contenderEnv(ovs, xs, c.env));
  spawns.push({ key: c.key, start: run.start });
  await verify(ovs, xs, c, run, logFile);
  await reset(ovs, xs);
  const kb = Number(readFileSync(out, "utf8").trim().split("\n").pop());
  return Number.isFinite(kb) ? kb : undefined;
}

async function contextRuns(key: string, times: number, warm: number, file: string, args: string[], env: NodeJS.ProcessEnv, check?: (r: Run) => void): Promise<void> {
  for (let i = 0; i < warm + times; i++) {
    const r = await timedSpawn(file, args, env);
    if (r.code !== 0) throw new Error(`${file} ${args.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
    check?.(r);
    if (i >= warm) record(key, r.ms);
  }
}

// ---------------------------------------------------------------------------
// Syslog: what arrived, from whom.

function syslogCounts(sys: ProductionSyslog, contenders: Contender[], stock: Stock | undefined): ReturnType<typeof countSyslog> {
  const stockPath = stock ? join(stock.scriptsDir, "vif-openvswitch") : undefined;
  // logger(1) as the stock script calls it: tag = user name, message "$0: ...".
  const isStock = (t: string) => stockPath !== undefined && t.includes(` ${stockPath}: `);
  const isOvsVif = (t: string) => syslogTag(t) === "vif-openvswitch";
  return countSyslog(
    sys.receiver.lines(),
    spawns,
    contenders.map((c) => ({ key: c.key, label: c.label, expectedPerRun: c.syslogPerRun, own: c.syslogTag ? (t: string) => syslogTag(t) === c.syslogTag : c.ovsVif ? isOvsVif : isStock })),
  );
}

// ---------------------------------------------------------------------------
// Report.

const LABELS = new Map<string, string>();

function ratio(a: string, b: string): number | undefined {
  const ma = median(a);
  const mb = median(b);
  return ma === undefined || mb === undefined ? undefined : ma / mb;
}

function printReport(rss: Map<string, number | undefined>, stock: Stock | undefined, syslog: ReturnType<typeof countSyslog> | undefined, fv: { floor: number[]; version: number[] }): boolean {
  const lines: string[] = [];
  lines.push("");
  lines.push(`ovs-vif bench — binary ${binary}; stock vif-openvswitch ${stock ? `from xen-utils-common ${stock.version}` : "NOT AVAILABLE"}`);
  lines.push(`VM vif ${DEV}, xenstore bridge=${BRIDGE_KEY}; ${RUNS} timed runs per contender (after ${WARMUPS} warm-ups), interleaved; wall clock spawn-to-exit`);
  lines.push(`syslog on (/dev/log a datagram socket read by the bench), default log level, hotplug log in /var/log/xen${syslog ? "" : " — NOT under production conditions, see PROBLEMS"}`);
  lines.push("");
  lines.push(
    ...statsTable([
      ...order.map((k) => ({ label: LABELS.get(k) ?? k, xs: results.get(k)! })),
      { label: "runtime floor: empty program, product build", xs: fv.floor },
      { label: "ovs-vif --version", xs: fv.version },
    ]),
  );
  lines.push("");
  lines.push("ratios (of medians)");
  const r10 = ratio(`ovsvif@${SMALL}`, `stock@${SMALL}`);
  const r1000 = ratio(`ovsvif@${LARGE}`, `stock@${LARGE}`);
  const scaleWait = ratio(`ovsvif@${LARGE}`, `ovsvif@${SMALL}`);
  const scaleNoWait = ratio(`nowait@${LARGE}`, `nowait@${SMALL}`);
  lines.push(`  ovs-vif / stock             at ${SMALL} ports: ${fmt(r10, 3)}   at ${LARGE} ports: ${fmt(r1000, 3)}`);
  lines.push(`  cold, ovs-vif watch running (the package's service) / stock cold: ${fmt(ratio(`coldwatch@${SMALL}`, `cold-stock@${SMALL}`), 3)}`);
  lines.push(`  cold: ovs-vif / stock       at ${SMALL} ports: ${fmt(ratio(`cold-ovsvif@${SMALL}`, `cold-stock@${SMALL}`), 3)}   (the page cache dropped before each run; ovs-vif cold / warm: ${fmt(ratio(`cold-ovsvif@${SMALL}`, `ovsvif@${SMALL}`), 2)}, stock cold / warm: ${fmt(ratio(`cold-stock@${SMALL}`, `stock@${SMALL}`), 2)})`);
  lines.push(`  least Bun hook / stock      at ${SMALL} ports: ${fmt(ratio(`least@${SMALL}`, `stock@${SMALL}`), 3)}   at ${LARGE} ports: ${fmt(ratio(`least@${LARGE}`, `stock@${LARGE}`), 3)}   (the runtime's floor for a hook)`);
  lines.push(`  ovs-vif / least Bun hook    at ${SMALL} ports: ${fmt(ratio(`ovsvif@${SMALL}`, `least@${SMALL}`), 3)}   at ${LARGE} ports: ${fmt(ratio(`ovsvif@${LARGE}`, `least@${LARGE}`), 3)}`);
  lines.push(`  ovs-vif ${LARGE} / ${SMALL} ports     waited: ${fmt(scaleWait, 3)}   --no-wait: ${fmt(scaleNoWait, 3)}`);
  lines.push(
    `  stock ${LARGE} / ${SMALL} ports: ${fmt(ratio(`stock@${LARGE}`, `stock@${SMALL}`), 3)}   ovs-vsctl list-ports ${LARGE} / ${SMALL}: ${fmt(ratio(`vsctl@${LARGE}`, `vsctl@${SMALL}`), 3)}`,
  );
  lines.push("");
  lines.push(
    ...aboveFloorLines(
      [...order.filter((k) => /^(ovsvif|nowait|logerr|least)@/.test(k)).map((k) => ({ label: LABELS.get(k) ?? k, xs: results.get(k)! })), { label: "ovs-vif --version", xs: fv.version }],
      fv.floor,
    ),
  );
  if (rss.size > 0) {
    lines.push("");
    lines.push("peak RSS of one online (largest process of the tree, GNU time %M)");
    for (const [label, kb] of rss) lines.push(`  ${label.padEnd(52)} ${kb === undefined ? "n/a" : `${(kb / 1024).toFixed(1)} MiB`}`);
  }
  if (syslog) {
    lines.push("");
    lines.push("syslog lines received at /dev/log, per contender (all its runs: warm-ups, timed, RSS):");
    lines.push(...syslog.report);
    if (!syslog.ok) problems.push("syslog: not every contender's lines arrived as expected (see the syslog counts)");
  }
  lines.push("");
  lines.push("targets");
  const targets: Target[] = [
    {
      name: `Xen online at ${SMALL} ports <= ${TARGET_XEN}x stock (waited)`,
      value: r10 === undefined ? "stock not measured" : `${r10.toFixed(3)}x`,
      pass: r10 !== undefined && r10 <= TARGET_XEN,
      gate: true,
    },
    versionTarget(fv.version, fv.floor),
    { name: `ovs-vif --no-wait at ${LARGE} <= 1.5x at ${SMALL} ports`, value: `${fmt(scaleNoWait, 3)}x`, pass: scaleNoWait !== undefined && scaleNoWait <= 1.5, gate: true },
    { name: "syslog lines of every contender arrived", value: syslog ? syslog.counts.map((c) => c.lines).join(" / ") : "no syslog", pass: syslog?.ok ?? false, gate: true },
    { name: `ovs-vif waited at ${LARGE} <= 1.5x at ${SMALL} ports`, value: `${fmt(scaleWait, 3)}x`, pass: scaleWait !== undefined && scaleWait <= 1.5, gate: false },
  ];
  lines.push(...targetLines(targets));
  if (notes.length) {
    lines.push("");
    lines.push("notes");
    for (const n of notes) lines.push(`  - ${n}`);
  }
  if (problems.length) {
    lines.push("");
    lines.push("PROBLEMS");
    for (const p of problems) lines.push(`  ! ${p}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  return problems.length === 0 && targets.every((t) => t.pass || !t.gate);
}

// ---------------------------------------------------------------------------
// Main.

async function main(): Promise<number> {
  if (!existsSync(binary)) {
    process.stderr.write(`bench: no binary at ${binary} (run 'npm run bench', or set OVS_VIF_BINARY)\n`);
    return 1;
  }
  const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-bench-"));
  let ovs: OvsHandle | undefined;
  let xs: XenstoredHandle | undefined;
  let sys: ProductionSyslog | undefined;
  let syslog: ReturnType<typeof countSyslog> | undefined;
  let fv = { floor: [] as number[], version: [] as number[] };
  const rss = new Map<string, number | undefined>();
  let stock: Stock | undefined;
  try {
    const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
    const dlDir = join(tmp, "stock");
    mkdirSync(dlDir);
    const xenLogDir = isolateXenLog(tmp, OWN_NETNS);
    if (xenLogDir) notes.push(xenLogDir.note);
    const logDir = xenLogDir?.dir;
    if (logDir === undefined) {
      problems.push("no private mount namespace: /var/log/xen and /dev/log cannot be isolated, the stock script (which appends to /var/log/xen/xen-hotplug.log) is not run and syslog is off");
    } else {
      stock = fetchStock(dlDir);
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
    notes.push(productionOvsLogLevels(ovs.dir));
    const xsDir = join(tmp, "xenstored");
    mkdirSync(xsDir);
    xs = await startXenstored(xsDir);
    await ovs.addBridge("sw1");
    await ovs.addTap(DEV);
    for (const [k, v] of xenVifKeys(VIF)) await xs.write(k, v);

    const binDir = join(tmp, "bin");
    mkdirSync(binDir);
    const hook = join(binDir, "vif-openvswitch");
    symlinkSync(binary, hook);
    const xenArgs = ["online", "type_if=vif"];
    // ovs-vif runs with its production defaults (log to /var/log/xen/xen-hotplug.log,
    // syslog to /dev/log); without the mount namespace its log goes to tmp.
    const vifEnv: Record<string, string> = logDir ? {} : { OVS_VIF_XEN_LOG: join(tmp, "xen-hotplug.log") };
    const contenders: Contender[] = [];
    if (stock) contenders.push({ key: "stock", label: "stock vif-openvswitch online", file: join(stock.scriptsDir, "vif-openvswitch"), args: xenArgs, env: {}, ovsVif: false, waits: true });
    contenders.push(
      { key: "ovsvif", label: "ovs-vif (as vif-openvswitch) online", file: hook, args: xenArgs, env: vifEnv, ovsVif: true, waits: true, syslogPerRun: 1 },
      { key: "nowait", label: "ovs-vif online --no-wait", file: hook, args: [...xenArgs, "--no-wait"], env: vifEnv, ovsVif: true, waits: false, syslogPerRun: 1 },
      { key: "logerr", label: "ovs-vif online OVS_VIF_LOG_LEVEL=error", file: hook, args: xenArgs, env: { ...vifEnv, OVS_VIF_LOG_LEVEL: "error" }, ovsVif: true, waits: true, syslogPerRun: 0 },
    );
    // Needs /var/log/xen (the private mount namespace), as the stock script does.
    if (logDir) contenders.push({ key: "least", label: "least Bun hook (bench/least-hook.ts)", file: leastHook, args: xenArgs, env: {}, ovsVif: true, waits: true, syslogPerRun: 1, syslogTag: "least-hook" });

    const penv = { ...process.env, ...ovs.env };
    // Context: what merely launching a process costs here.
    await contextRuns("true", CONTEXT_RUNS, 3, "/bin/true", [], penv);
    if (ovs.ns) {
      await contextRuns("nstrue", CONTEXT_RUNS, 3, "ip", ["netns", "exec", ovs.ns, "/bin/true"], penv);
      LABELS.set("nstrue", "ip netns exec NS /bin/true (launcher)");
    } else {
      notes.push("contenders run in the bench's own network namespace, spawned directly (no ip netns exec)");
    }
    LABELS.set("true", "spawn /bin/true (baseline)");

    let live = contenders;
    for (const n of [SMALL, LARGE]) {
      const have = await portCount(ovs);
      log(`adding ports: ${have} -> ${n}...`);
      const t0 = performance.now();
      await addInternalPorts(ovs.vsctl, "sw1", have + 1, n);
      const count = await portCount(ovs);
      if (count !== n) throw new Error(`sw1 has ${count} ports, expected ${n}`);
      log(`sw1 has ${count} other ports (added in ${((performance.now() - t0) / 1000).toFixed(1)} s); measuring...`);
      for (const c of contenders) LABELS.set(`${c.key}@${n}`, `${c.label} [${n} ports]`);
      live = await measurePhase(ovs, xs, n, live, xenLog);
      LABELS.set(`vsctl@${n}`, `ovs-vsctl --no-wait list-ports sw1 [${n} ports]`);
      await contextRuns(`vsctl@${n}`, CONTEXT_RUNS, 2, ...inNamespace(ovs, "ovs-vsctl", ["--no-wait", "list-ports", "sw1"]), penv, (r) => {
        if (r.stdout.trim().split("\n").length !== n) throw new Error(`list-ports: expected ${n} lines`);
      });
      if (n === SMALL) {
        // Context for the breakdown: one `ip link set` process, as the stock script runs several.
        LABELS.set("ip", `${ovs.ns ? "ip netns exec NS " : ""}ip link set dev ${DEV} down`);
        await contextRuns("ip", CONTEXT_RUNS, 2, ...inNamespace(ovs, "ip", ["link", "set", "dev", DEV, "down"]), penv);
        for (const c of live.filter((x) => x.key === "stock" || x.key === "ovsvif")) rss.set(`${c.label} [${n} ports]`, await peakRss(ovs, xs, c, tmp, xenLog));
        const cold = live.filter((x) => x.key === "stock" || x.key === "ovsvif");
        log(`cold: ${COLD_RUNS} runs each after dropping the page cache...`);
        for (const c of cold) LABELS.set(`cold-${c.key}@${n}`, `${c.label} [${n} ports, page cache dropped]`);
        await coldPhase(ovs, xs, n, cold, xenLog);
        // A node runs ovs-vif-watch.service: the hook's binary is mapped by it.
        const ours = cold.find((x) => x.key === "ovsvif");
        if (ours) {
          const watcher = await startWatcher(binary, contenderEnv(ovs, xs, {}));
          try {
            LABELS.set(`coldwatch@${n}`, `${ours.label} [${n} ports, page cache dropped, ovs-vif watch running]`);
            for (let i = 0; i < COLD_RUNS; i++) {
              dropPageCache();
              const run = await runIn(ovs, xs, ours);
              await verify(ovs, xs, ours, run, xenLog);
              record(`coldwatch@${n}`, run.ms);
              await reset(ovs, xs);
            }
          } finally {
            watcher.stop();
          }
        }
      }
    }

    log("runtime floor and ovs-vif --version...");
    fv = await floorAndVersion(floor, binary, penv, FLOOR_RUNS);

    if (sys) {
      // Give the last lines (the stock script's detached loggers) time to land.
      const expected = contenders.reduce((a, c) => a + (c.syslogPerRun ?? 1) * spawns.filter((s) => s.key === c.key).length, 0);
      await sys.receiver.settle(expected, 1000);
      syslog = syslogCounts(sys, contenders, stock);
    }
    if (xenLog && existsSync(xenLog)) {
      const lines = readFileSync(xenLog, "utf8").split("\n").filter(Boolean);
      const fromOvsVif = lines.filter((l) => / vif-openvswitch\[\d+\] /.test(l)).length;
      notes.push(`xen-hotplug.log (temp): ${fromOvsVif} lines from ovs-vif (one per online at info level), ${lines.length - fromOvsVif} from the stock script (its stderr).`);
    }
  } catch (err) {
    problems.push(`bench aborted: ${(err as Error).message}`);
  } finally {
    await ovs?.stop().catch(() => undefined);
    await xs?.stop().catch(() => undefined);
    sys?.stop();
    removeTemp(tmp);
  }
  return printReport(rss, stock, syslog, fv) ? 0 : 1;
}

process.exit(await main());
