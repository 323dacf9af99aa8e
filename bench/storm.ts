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
// Production conditions as in bench/run.ts (bench/lib.ts): private mount + net
// namespace, /dev/log read by a receiver, /var/log/xen a temp dir, default
// log level, OVS daemons at syslog:err.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  addInternalPorts,
  aptDownload,
  childrenCpuMs,
  cpuSample,
  enterPrivateNamespaces,
  fmt,
  isolateXenLog,
  mustSync,
  productionOvsLogLevels,
  productionSyslog,
  readPidFile,
  removeTemp,
  stats,
  syslogTag,
  timedSpawn,
  xenstoreWrite,
  xenVif,
  xenVifKeys,
  type Run,
  type XenVif,
} from "./lib.ts";

const MARK = "OVS_VIF_BENCH_STORM_INNER";
const FAMILIES = (process.env.OVS_VIF_STORM ?? "both") === "both" ? ["xen", "kvm"] : [process.env.OVS_VIF_STORM!];
const VMS = Math.max(2, Number(process.env.OVS_VIF_STORM_VMS ?? 100) || 100);
const SMALL = 10;
const LARGE = 1000;
const HOOK_TIMEOUT_MS = 180_000;

// Outside: both stock packages (the private namespace has no network).
const inside = await enterPrivateNamespaces(MARK, async () => {
  const xen = FAMILIES.includes("xen") ? aptDownload(["xen-utils-common"]) : undefined;
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

// ---------------------------------------------------------------------------
// The node.

interface Nic {
  /** Device (a tap), vif{domid}.0. */
  dev: string;
  tag: number;
  trunks: number[];
  vif: XenVif;
}

const nics: Nic[] = Array.from({ length: VMS }, (_, i) => {
  const domid = 101 + i;
  const tag = 10 + (i % 90);
  const trunks = [2000 + (i % 40), 3000];
  const vif = xenVif(domid, `sw1.${tag}:${trunks.join(":")}`);
  return { dev: vif.dev, tag, trunks, vif };
});

const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-storm-"));
const problems: string[] = [];
const notes: string[] = [];
const xenLog = isolateXenLog(tmp, true);
if (xenLog) notes.push(xenLog.note);
const sys = await productionSyslog(tmp, true);
notes.push(...sys.notes);
const ovs = await startOvs({ netns: "current" });
notes.push(productionOvsLogLevels(ovs.dir));
const db = `unix:${ovs.dbSock}`;
const vsctl = (...args: string[]) => mustSync("ovs-vsctl", [`--db=${db}`, "--timeout=120", ...args]);
mkdirSync(join(tmp, "xs"));
const xs = await startXenstored(join(tmp, "xs"));
const daemons: { name: string; pid: number }[] = [
  { name: "ovsdb-server", pid: readPidFile(join(ovs.dir, "ovsdb-server.pid")) },
  { name: "ovs-vswitchd", pid: readPidFile(join(ovs.dir, "ovs-vswitchd.pid")) },
];

function portCount(): number {
  return vsctl("--no-wait", "list-ports", "sw1").split("\n").filter(Boolean).length;
}

/** Every NIC's port gone, status keys removed, devices down: the state each contender starts from. */
function cleanState(base: number): void {
  vsctl(...nics.flatMap((n) => ["--", "--if-exists", "del-port", n.dev]));
  // One xenstore-rm per key: xenstore-rm runs all its paths in one transaction, aborted by the first missing one.
  const keys = nics.flatMap((n) => [`${n.vif.xenbus}/hotplug-status`, `${n.vif.xenbus}/hotplug-error`]);
  spawnSync("bash", ["-c", 'for p in "$@"; do xenstore-rm -s "$p" 2>/dev/null; done', "rm", ...keys], { env: { ...process.env, ...xs.env } });
  const left = spawnSync("xenstore-ls", ["-s", "/local/domain/0/backend/vif"], { env: { ...process.env, ...xs.env }, encoding: "utf8" }).stdout;
  if (/hotplug-(status|error)/.test(left)) throw new Error("hotplug-status keys left after clean-up");
  const r = spawnSync("ip", ["-batch", "-"], { input: nics.map((n) => `link set dev ${n.dev} down\n`).join(""), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip -batch: ${r.stderr}`);
  const count = portCount();
  if (count !== base) throw new Error(`after clean-up sw1 has ${count} ports, expected ${base}`);
}

/** Every NIC's port on sw1 with its tag and trunks (and vlan_mode when ovs-vif); for Xen, every hotplug-status. */
function checkPorts(ovsVif: boolean, family: string): { badPorts: string[]; notConnected: string[] } {
  const out = vsctl("--no-wait", "--format=csv", "--data=bare", "--no-headings", "--columns=name,tag,trunks,vlan_mode", "list", "port");
  const rows = new Map(
    out
      .trim()
      .split("\n")
      .map((l) => l.split(","))
      .map((f) => [
        f[0]!,
        {
          tag: f[1]!,
          trunks: f[2]!
            .replace(/"/g, "")
            .split(/\s+/)
            .filter(Boolean)
            .map(Number)
            .sort((a, b) => a - b),
          mode: f[3]!,
        },
      ]),
  );
  const onBridge = new Set(vsctl("--no-wait", "list-ports", "sw1").split("\n").filter(Boolean));
  const badPorts: string[] = [];
  for (const n of nics) {
    const r = rows.get(n.dev);
    if (!r || !onBridge.has(n.dev)) badPorts.push(`${n.dev}: no port on sw1`);
    else if (r.tag !== String(n.tag) || r.trunks.join(",") !== n.trunks.join(",")) badPorts.push(`${n.dev}: tag=${r.tag} trunks=${r.trunks.join(",")}, expected ${n.tag} and ${n.trunks.join(",")}`);
    else if (ovsVif && r.mode !== "native-untagged") badPorts.push(`${n.dev}: vlan_mode=${r.mode || "[]"}, expected native-untagged`);
  }
  const notConnected: string[] = [];
  if (family === "xen") {
    // One read per key (xenstore-read stops at the first missing one).
    const script = 'for p in "$@"; do printf "%s\\n" "$(xenstore-read -s "$p" 2>/dev/null || echo "(missing)")"; done';
    const r = spawnSync("bash", ["-c", script, "read", ...nics.map((n) => `${n.vif.xenbus}/hotplug-status`)], { env: { ...process.env, ...xs.env }, encoding: "utf8" });
    const statuses = r.stdout.split("\n");
    nics.forEach((n, i) => {
      if (statuses[i] !== "connected") notConnected.push(`${n.dev}: hotplug-status ${statuses[i] || "(missing)"}`);
    });
  }
  return { badPorts, notConnected };
}

/** A Xen hook's own words about its failure: hotplug-error, as the toolstack reads it. */
function hotplugError(n: Nic): string {
  const r = spawnSync("xenstore-read", ["-s", `${n.vif.xenbus}/hotplug-error`], { env: { ...process.env, ...xs.env }, encoding: "utf8" });
  return r.status === 0 ? `hotplug-error: ${r.stdout.trim()}` : "";
}

// ---------------------------------------------------------------------------
// Contenders.

interface Contender {
  key: string;
  label: string;
  family: "xen" | "kvm";
  ovsVif: boolean;
  file: string;
  args: string[];
  env(n: Nic): NodeJS.ProcessEnv;
  /** Syslog lines of this contender (by content). */
  own(text: string): boolean;
}

const contenders: Contender[] = [];
const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ovs.env };
  for (const k of ["OVS_VIF_LOG_LEVEL", "OVS_VIF_SYSLOG", "OVS_VIF_TRACE", "OVS_VIF_XEN_LOG", "OVS_VIF_SYSLOG_SOCKET"]) delete env[k];
  return env;
};
const binDir = join(tmp, "bin");
mkdirSync(binDir);
if (FAMILIES.includes("xen")) {
  const debDir = process.env.STORM_XEN_DEB_DIR ?? "";
  const deb = existsSync(debDir) ? readdirSync(debDir).find((f) => /^xen-utils-common_.*\.deb$/.test(f)) : undefined;
  if (!deb) throw new Error("xen-utils-common could not be downloaded (apt-get download); try apt-get update");
  mustSync("dpkg", ["-x", join(debDir, deb), join(tmp, "xen-root")]);
  const stockHook = join(tmp, "xen-root", "etc", "xen", "scripts", "vif-openvswitch");
  symlinkSync(binary, join(binDir, "vif-openvswitch"));
  const xenEnv = (n: Nic) => ({ ...baseEnv(), ...xs.env, vif: n.dev, XENBUS_PATH: n.vif.xenbus });
  contenders.push(
    { key: "xen-stock", label: "stock vif-openvswitch", family: "xen", ovsVif: false, file: stockHook, args: ["online", "type_if=vif"], env: xenEnv, own: (t) => t.includes(` ${stockHook}: `) },
    {
      key: "xen-ovsvif",
      label: "ovs-vif as vif-openvswitch",
      family: "xen",
      ovsVif: true,
      file: join(binDir, "vif-openvswitch"),
      args: ["online", "type_if=vif"],
      env: xenEnv,
      own: (t) => syslogTag(t) === "vif-openvswitch",
    },
  );
  notes.push(`Xen stock: ${deb}`);
}
if (FAMILIES.includes("kvm")) {
  const kvmIfup = process.env.STORM_KVM_IFUP!;
  mkdirSync(join(tmp, "stock-root/etc/ganeti"), { recursive: true });
  symlinkSync(binary, join(binDir, "kvm-vif-bridge"));
  const kvmEnv = (extra: Record<string, string>) => (n: Nic) => ({
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    OVS_RUNDIR: ovs.env.OVS_RUNDIR!,
    INSTANCE: `${n.vif.name}.example.com`,
    MAC: n.vif.mac.replace(/^00:16:3e/, "aa:00:00"),
    MODE: "openvswitch",
    LINK: "sw1",
    VLAN: `.${n.tag}:${n.trunks.join(":")}`,
    INTERFACE: n.dev,
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: n.vif.uuid,
    TAGS: "",
    ...extra,
  });
  contenders.push(
    {
      key: "kvm-stock",
      label: "stock kvm-ifup + net-common",
      family: "kvm",
      ovsVif: false,
      file: kvmIfup,
      args: [],
      env: kvmEnv({ GANETI_ROOTDIR: join(tmp, "stock-root") }),
      own: (t) => syslogTag(t) === kvmIfup,
    },
    {
      key: "kvm-ovsvif",
      label: "ovs-vif as kvm-vif-bridge",
      family: "kvm",
      ovsVif: true,
      file: join(binDir, "kvm-vif-bridge"),
      args: [],
      env: kvmEnv({}),
      own: (t) => syslogTag(t) === "kvm-vif-bridge",
    },
  );
  notes.push(`KVM stock: ${process.env.STORM_KVM_SOURCE}`);
}

// ---------------------------------------------------------------------------
// Phases.

interface PhaseResult {
  phase: string;
  contender: Contender;
  wallMs: number;
  failures: number;
  firstFailure?: string;
  latencies: number[];
  cpu: Map<string, number>;
  hooksCpuMs: number;
  syslogLines: number;
  badPorts: string[];
  notConnected: string[];
}

async function runPhase(phase: string, c: Contender, concurrent: boolean, base: number): Promise<PhaseResult> {
  cleanState(base);
  const cpuPids = c.family === "xen" ? [...daemons, { name: "xenstored", pid: xs.pid }] : daemons;
  const before = cpuPids.map((d) => cpuSample(d.pid));
  const childBefore = childrenCpuMs();
  const t0 = performance.now();
  const windowStart = performance.timeOrigin + t0;
  let runs: (Run | Error)[];
  if (concurrent) {
    runs = await Promise.all(nics.map((n) => timedSpawn(c.file, c.args, c.env(n), HOOK_TIMEOUT_MS).catch((e: Error) => e)));
  } else {
    runs = [];
    for (const n of nics) runs.push(await timedSpawn(c.file, c.args, c.env(n), HOOK_TIMEOUT_MS).catch((e: Error) => e));
  }
  const wallMs = performance.now() - t0;
  const windowEnd = performance.timeOrigin + performance.now();
  const after = cpuPids.map((d) => cpuSample(d.pid));
  const hooksCpuMs = childrenCpuMs() - childBefore;
  const cpu = new Map(cpuPids.map((d, i) => [d.name, after[i]!.statMs - before[i]!.statMs]));
  const failed = runs.map((r, i) => ({ r, n: nics[i]! })).filter(({ r }) => r instanceof Error || r.code !== 0);
  const why = (f: { r: Run | Error; n: Nic }) =>
    f.r instanceof Error ? f.r.message : `exit ${f.r.code}: ${(f.r.stderr || f.r.stdout).trim().split("\n").slice(-2).join(" | ") || (c.family === "xen" ? hotplugError(f.n) : "")}`;
  const firstFailure = failed[0] ? `${failed[0].n.dev}: ${why(failed[0])}` : undefined;
  await new Promise((r) => setTimeout(r, 300)); // the last lines of the stock scripts' loggers
  const lines = sys.receiver.lines().filter((l) => l.t >= windowStart && l.t <= windowEnd + 300 && c.own(l.text));
  const { badPorts, notConnected } = checkPorts(c.ovsVif, c.family);
  const res: PhaseResult = {
    phase,
    contender: c,
    wallMs,
    failures: failed.length,
    latencies: runs.filter((r): r is Run => !(r instanceof Error)).map((r) => r.ms),
    cpu,
    hooksCpuMs,
    syslogLines: lines.length,
    badPorts,
    notConnected,
  };
  if (firstFailure) res.firstFailure = firstFailure;
  log(`${phase}, ${c.label}: ${fmt(wallMs / 1000)} s, ${failed.length} failed, ${badPorts.length} ports wrong, ${notConnected.length} not connected`);
  return res;
}

const results: PhaseResult[] = [];
let code = 0;
try {
  await ovs.addBridge("sw1");
  log(`creating ${VMS} taps and their xenstore keys...`);
  const ipr = spawnSync("ip", ["-batch", "-"], { input: nics.map((n) => `tuntap add dev ${n.dev} mode tap\n`).join(""), encoding: "utf8" });
  if (ipr.status !== 0) throw new Error(`creating taps: ${ipr.stderr}`);
  xenstoreWrite(
    xs.socketPath,
    nics.flatMap((n) => xenVifKeys(n.vif)),
  );
  await addInternalPorts(async (...a) => vsctl(...a), "sw1", 1, SMALL);

  // Warm-up (untimed): each contender plugs a few NICs once, so no phase pays for cold caches.
  for (const c of contenders) {
    cleanState(SMALL);
    for (const n of nics.slice(0, 3)) {
      const r = await timedSpawn(c.file, c.args, c.env(n), HOOK_TIMEOUT_MS);
      if (r.code !== 0) throw new Error(`${c.label} warm-up failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
  }
  for (const family of FAMILIES) {
    const fam = contenders.filter((c) => c.family === family);
    for (const c of fam) results.push(await runPhase(`sequential, ${SMALL} ports`, c, false, SMALL));
  }
  log(`adding ports: ${SMALL} -> ${LARGE}...`);
  await addInternalPorts(async (...a) => vsctl(...a), "sw1", SMALL + 1, LARGE);
  for (const family of FAMILIES) {
    const fam = contenders.filter((c) => c.family === family);
    // The order flips between phases, so neither contender always goes first.
    for (const c of [...fam].reverse()) results.push(await runPhase(`concurrent, ${LARGE} ports`, c, true, LARGE));
    for (const c of fam) results.push(await runPhase(`sequential, ${LARGE} ports`, c, false, LARGE));
  }
  cleanState(LARGE);
} catch (err) {
  problems.push(`storm aborted: ${(err as Error).stack ?? err}`);
} finally {
  await ovs.stop();
  await xs.stop();
  sys.stop();
  removeTemp(tmp);
}

// ---------------------------------------------------------------------------
// Report.

const lines: string[] = [];
lines.push("", `boot storm: ${VMS} NICs on sw1 (own VLANs each), binary ${binary}; production syslog on, default log level`);
for (const family of FAMILIES) {
  const fam = results.filter((r) => r.contender.family === family);
  if (fam.length === 0) continue;
  const daemonNames = family === "xen" ? ["ovsdb-server", "ovs-vswitchd", "xenstored"] : ["ovsdb-server", "ovs-vswitchd"];
  lines.push("", family === "xen" ? "Xen (vif-openvswitch online)" : "Ganeti KVM (kvm-ifup, openvswitch mode)");
  const head = `  ${"phase".padEnd(24)} ${"contender".padEnd(28)} ${"wall s".padStart(7)} ${"fail".padStart(4)} ${"plug med/p90/max ms".padStart(22)} ${daemonNames.map((d) => `${d} CPU ms`.padStart(20)).join("")} ${"hooks CPU ms".padStart(13)} ${"syslog".padStart(7)} ${"ports ok".padStart(9)}${family === "xen" ? "  connected" : ""}`;
  lines.push(head, "  " + "-".repeat(head.length - 2));
  for (const r of fam) {
    const s = r.latencies.length ? stats(r.latencies) : undefined;
    lines.push(
      `  ${r.phase.padEnd(24)} ${r.contender.label.padEnd(28)} ${fmt(r.wallMs / 1000).padStart(7)} ${String(r.failures).padStart(4)} ${(s ? `${fmt(s.median, 1)}/${fmt(s.p90, 1)}/${fmt(s.max, 1)}` : "-").padStart(22)} ${daemonNames.map((d) => fmt(r.cpu.get(d), 0).padStart(20)).join("")} ${fmt(r.hooksCpuMs, 0).padStart(13)} ${String(r.syslogLines).padStart(7)} ${`${VMS - r.badPorts.length}/${VMS}`.padStart(9)}${family === "xen" ? `${`${VMS - r.notConnected.length}/${VMS}`.padStart(11)}` : ""}`,
    );
  }
  const get = (phase: string, ovsVif: boolean) => fam.find((r) => r.phase === phase && r.contender.ovsVif === ovsVif);
  const med = (r: PhaseResult | undefined) => (r && r.latencies.length ? stats(r.latencies).median : undefined);
  lines.push("");
  for (const ovsVif of [false, true]) {
    const a = med(get(`sequential, ${SMALL} ports`, ovsVif));
    const b = med(get(`sequential, ${LARGE} ports`, ovsVif));
    const label = fam.find((r) => r.contender.ovsVif === ovsVif)?.contender.label ?? "?";
    lines.push(`  per-plug cost, sequential median: ${label}: ${fmt(a, 1)} ms at ${SMALL} ports, ${fmt(b, 1)} ms at ${LARGE} ports (${fmt(a && b ? b / a : undefined)}x)`);
  }
  for (const phase of [`concurrent, ${LARGE} ports`, `sequential, ${LARGE} ports`, `sequential, ${SMALL} ports`]) {
    const st = get(phase, false);
    const ov = get(phase, true);
    if (st && ov) {
      const cpuRatio = (d: string) => fmt((ov.cpu.get(d) ?? 0) / Math.max(1, st.cpu.get(d) ?? 0));
      lines.push(
        `  ${phase}: ovs-vif / stock wall ${fmt(ov.wallMs / st.wallMs, 3)}x; ovsdb-server CPU ${cpuRatio("ovsdb-server")}x, ovs-vswitchd CPU ${cpuRatio("ovs-vswitchd")}x, hooks' CPU ${fmt(ov.hooksCpuMs / Math.max(1, st.hooksCpuMs))}x`,
      );
    }
  }
  for (const r of fam) {
    if (r.firstFailure) lines.push(`  ! ${r.phase}, ${r.contender.label}: ${r.failures} failed; first: ${r.firstFailure}`);
    if (r.badPorts.length) lines.push(`  ! ${r.phase}, ${r.contender.label}: ${r.badPorts.length} ports wrong: ${r.badPorts.slice(0, 3).join("; ")}`);
    if (r.notConnected.length) lines.push(`  ! ${r.phase}, ${r.contender.label}: ${r.notConnected.length} not connected: ${r.notConnected.slice(0, 3).join("; ")}`);
    if (r.contender.ovsVif && (r.failures || r.badPorts.length || r.notConnected.length))
      problems.push(`${r.phase}, ${r.contender.label}: ${r.failures} failed, ${r.badPorts.length} ports wrong, ${r.notConnected.length} not connected`);
    if (r.contender.ovsVif && r.syslogLines !== VMS - r.failures) problems.push(`${r.phase}, ${r.contender.label}: ${r.syslogLines} syslog lines for ${VMS - r.failures} plugs`);
  }
}
lines.push(
  "",
  "notes",
  ...notes.map((n) => `  - ${n}`),
  "  - wall: from the first spawn to the last hook's exit (the concurrent phase spawns all hooks from one event loop, within a few ms); CPU: utime+stime deltas (10 ms ticks); hooks' CPU: this process's reaped children (hooks and what they ran).",
  "  - the stock scripts leave vlan_mode empty (OVS then ignores the trunks of a tagged port); only tag and trunks are checked for them.",
);
if (problems.length) lines.push("", "PROBLEMS", ...problems.map((p) => `  ! ${p}`));
console.log(lines.join("\n"));
code = problems.length ? 1 : 0;
process.exit(code);
