// What the benchmarks share: timing and statistics, the private namespaces
// they run in, production's syslog socket at /dev/log (private), the runtime
// floor (an empty program compiled as the product), CPU time of daemons.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");

// ---------------------------------------------------------------------------
// Timing.

export interface Run {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
  /** Wall clock (epoch ms) at spawn, to attribute syslog lines to runs. */
  start: number;
  pid: number;
}

/** Wall clock from spawn to the child's exit. */
export function timedSpawn(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    let ms = 0;
    let code = -1;
    const start = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} ${args.join(" ")}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (c, signal) => {
      ms = performance.now() - t0;
      code = c ?? (signal ? 128 : -1);
    });
    child.on("close", () => {
      clearTimeout(timer);
      resolvePromise({ ms, code, stdout, stderr, start, pid: child.pid ?? -1 });
    });
  });
}

export interface Stats {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)]!;
  return { n, median, p90, min: s[0]!, max: s[n - 1]! };
}

export function fmt(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(digits);
}

/** Table rows: label, runs, median, min, max, p90 (ms). */
export function statsTable(rows: { label: string; xs: number[] }[], title = "measurement (ms)"): string[] {
  const w = Math.max(title.length, ...rows.map((r) => r.label.length));
  const cols = ["runs", "median", "min", "max", "p90"];
  const out = [`${title.padEnd(w)}  ${cols.map((c, i) => c.padStart(i === 0 ? 4 : 8)).join("  ")}`, "-".repeat(w + 46)];
  for (const r of rows) {
    if (r.xs.length === 0) continue;
    const s = stats(r.xs);
    out.push(`${r.label.padEnd(w)}  ${String(s.n).padStart(4)}  ${[s.median, s.min, s.max, s.p90].map((x) => fmt(x).padStart(8)).join("  ")}`);
  }
  return out;
}

export interface Target {
  name: string;
  value: string;
  pass: boolean;
  /** false: reported, not a gate. */
  gate: boolean;
}

export function targetLines(targets: Target[]): string[] {
  const w = Math.max(...targets.map((t) => t.name.length));
  return targets.map((t) => `  ${t.pass ? "PASS" : "FAIL"}  ${t.name.padEnd(w)}  ${t.value}${t.gate ? "" : "  (reported, not a gate)"}`);
}

// ---------------------------------------------------------------------------
// The runtime floor: an empty program compiled exactly as the product.

/** The bun executable: this process when it runs on Bun, else the devDependency. */
export function bunExecutable(): string {
  return process.versions.bun ? process.execPath : join(ROOT, "node_modules", ".bin", "bun");
}

/** The product's `bun build` flags, read from package.json's build script so they cannot drift. */
export function productBuildFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const words = pkg.scripts.build!.split(/\s+/);
  const flags: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "--outfile") i++;
    else if (words[i]!.startsWith("--")) flags.push(words[i]!);
  }
  if (!flags.includes("--compile")) throw new Error(`package.json build script has no --compile: ${pkg.scripts.build}`);
  return flags;
}

/** Compiles ENTRY as the product is compiled. */
export function compileAsProduct(entry: string, outfile: string): void {
  const r = spawnSync(bunExecutable(), ["build", ...productBuildFlags(), entry, "--outfile", outfile], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`bun build ${entry} failed: ${(r.stderr || r.stdout || r.error?.message || "").trim()}`);
}

/** An empty program (no statements) compiled as the product: what Bun costs before any of our code. */
export function buildFloor(dir: string): string {
  const src = join(dir, "floor-empty.ts");
  writeFileSync(src, "");
  const out = join(dir, "floor-empty");
  compileAsProduct(src, out);
  return out;
}

// ---------------------------------------------------------------------------
// Private namespaces.

/**
 * Re-executes this script in a private mount + network namespace
 * (`unshare --mount --net --propagation private`) and exits with its status:
 * binds made there (/var/log/xen, /dev/log) vanish with it, and contenders are
 * spawned directly, as Xen and Ganeti spawn them. `prepare` runs first, outside
 * (the new namespace has no network: fetch the stock packages there); it returns
 * environment for the inner run and a cleanup. Inside, /sys is remounted for the
 * namespace. Returns true inside, false when no namespace could be made.
 */
export async function enterPrivateNamespaces(mark: string, prepare: () => Promise<{ env: Record<string, string>; cleanup(): void }>): Promise<boolean> {
  if (process.env[mark] === undefined) {
    const probe = spawnSync("unshare", ["--mount", "--net", "--propagation", "private", "true"], { encoding: "utf8" });
    if (probe.status !== 0) {
      process.stderr.write(`bench: cannot enter a private mount + network namespace (${probe.error?.message ?? probe.stderr.trim()})\n`);
      process.env[mark] = "0";
      return false;
    }
    const { env, cleanup } = await prepare();
    const r = spawnSync("unshare", ["--mount", "--net", "--propagation", "private", process.execPath, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, ...env, [mark]: "1" },
    });
    cleanup();
    process.exit(r.status ?? 1);
  }
  if (process.env[mark] !== "1") return false;
  // sysfs shows the network namespace of whoever mounted it: show ours.
  spawnSync("mount", ["-t", "sysfs", "sysfs", "/sys"]);
  return true;
}

/** Fetches Debian packages with `apt-get download` into a new temp dir (never into the repository). */
export function aptDownload(packages: string[]): { dir: string; debs: string[]; error?: string } {
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-bench-deb-"));
  process.stderr.write(`bench: fetching ${packages.join(", ")} (apt-get download)...\n`);
  const r = spawnSync("apt-get", ["download", "-q", ...packages], { cwd: dir, encoding: "utf8", timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  const debs = readdirSync(dir).filter((f) => f.endsWith(".deb"));
  const error =
    r.status === 0 && debs.length === packages.length
      ? undefined
      : (r.error?.message ??
          (r.stderr || r.stdout || "")
            .trim()
            .split("\n")
            .filter((l) => !/unsandboxed/.test(l))
            .slice(-3)
            .join(" | ")) ||
        `exit ${r.status}`;
  return error === undefined ? { dir, debs } : { dir, debs, error };
}

/** Runs a command that must succeed (mount and friends). */
export function mustSync(file: string, args: string[]): string {
  const r = spawnSync(file, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${file} ${args.join(" ")} failed: ${(r.stderr || r.stdout || r.error?.message || "").trim()}`);
  return r.stdout;
}

/** Mount points strictly below DIR (from /proc/self/mountinfo), outermost first. */
function mountsBelow(dir: string): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((p): p is string => p !== undefined && p.startsWith(`${dir}/`));
  const sorted = [...new Set(points)].sort((a, b) => a.length - b.length);
  return sorted.filter((p, i) => !sorted.slice(0, i).some((q) => p.startsWith(`${q}/`)));
}

// ---------------------------------------------------------------------------
// Syslog, as production has it: a datagram socket at /dev/log, read by a
// daemon (rsyslog's imuxsock, journald). Here a small receiver records each
// message with its arrival time; /dev/log is bound over (created in a private
// overlay of /dev when the host has none) inside the private mount namespace.

export interface SyslogLine {
  /** Arrival, epoch ms. */
  t: number;
  text: string;
}

export interface SyslogReceiver {
  path: string;
  kind: "dgram" | "stream";
  /** Everything received so far. */
  lines(): SyslogLine[];
  /** Waits until at least N lines arrived (or the timeout), then returns them. */
  settle(n: number, timeoutMs?: number): Promise<SyslogLine[]>;
  stop(): void;
}

const RECEIVER_PY = String.raw`
import json, os, socket, sys, threading, time
kind, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
f = open(out, "a", buffering=1)
lock = threading.Lock()
def emit(data):
    t = time.time() * 1000.0
    with lock:
        f.write("%.3f %s\n" % (t, json.dumps(data.decode("utf-8", "replace"))))
try:
    os.unlink(path)
except FileNotFoundError:
    pass
if kind == "dgram":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(path)
    os.chmod(path, 0o666)
    open(out + ".ready", "w").close()
    while True:
        emit(s.recv(65536))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(512)
    open(out + ".ready", "w").close()
    def serve(c):
        buf = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
            while True:
                cut = [i for i in (buf.find(b"\n"), buf.find(b"\0")) if i >= 0]
                if not cut:
                    break
                i = min(cut)
                if i > 0:
                    emit(buf[:i])
                buf = buf[i + 1:]
        if buf:
            emit(buf)
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Starts a syslog receiver bound at DIR/syslog-KIND.sock. */
export async function startSyslogReceiver(dir: string, kind: "dgram" | "stream" = "dgram"): Promise<SyslogReceiver> {
  const path = join(dir, `syslog-${kind}.sock`);
  const outFile = join(dir, `syslog-${kind}.received`);
  writeFileSync(outFile, "");
  const child = spawn("python3", ["-c", RECEIVER_PY, kind, path, outFile], { stdio: ["ignore", "ignore", "inherit"] });
  let failed: string | undefined;
  child.once("error", (e) => (failed = `${e.message} (needs python3)`));
  child.once("exit", (c, sig) => (failed ??= `exited (${c ?? sig})`));
  const until = performance.now() + 10_000;
  while (!existsSync(`${outFile}.ready`)) {
    if (failed) throw new Error(`syslog receiver: ${failed}`);
    if (performance.now() > until) {
      child.kill("SIGKILL");
      throw new Error("syslog receiver (python3) did not start within 10 s");
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  child.unref();
  const lines = (): SyslogLine[] =>
    readFileSync(outFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const sp = l.indexOf(" ");
        return { t: Number(l.slice(0, sp)), text: JSON.parse(l.slice(sp + 1)) as string };
      });
  return {
    path,
    kind,
    lines,
    async settle(n, timeoutMs = 2000) {
      const until = performance.now() + timeoutMs;
      let got = lines();
      while (got.length < n && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
        got = lines();
      }
      return got;
    },
    stop() {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

export interface DevLog {
  note: string;
  undo(): void;
}

/**
 * Makes /dev/log this socket, in the current (private!) mount namespace: a
 * bind mount over an existing /dev/log; where the host has none, /dev is first
 * covered by an overlay whose upper layer is a temp dir (its submounts moved
 * onto it), so the mount point is created there, not in the host's /dev.
 */
export function installDevLog(socketPath: string, tmp: string, privateNamespace: boolean): DevLog {
  if (!privateNamespace) throw new Error("/dev/log is only replaced inside the bench's private mount namespace");
  const undo: (() => void)[] = [];
  let how: string;
  if (existsSync("/dev/log")) {
    how = "bind-mounted over the existing /dev/log";
  } else {
    const layer = mkdtempSync(join(tmp, "dev-overlay-"));
    mkdirSync(join(layer, "upper"));
    mkdirSync(join(layer, "work"));
    // Submounts (pts, shm, ...) would be hidden by the overlay: move them aside, then onto it.
    const subs = mountsBelow("/dev");
    const parked = mkdtempSync(join(tmpdir(), "ovs-vif-bench-devsubs-"));
    subs.forEach((p, i) => {
      mkdirSync(join(parked, String(i)));
      mustSync("mount", ["--move", p, join(parked, String(i))]);
    });
    mustSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=/dev,upperdir=${join(layer, "upper")},workdir=${join(layer, "work")}`, "/dev"]);
    subs.forEach((p, i) => mustSync("mount", ["--move", join(parked, String(i)), p]));
    subs.forEach((_, i) => rmdirSync(join(parked, String(i))));
    rmdirSync(parked);
    writeFileSync("/dev/log", ""); // lands in the overlay's upper layer (temp dir)
    undo.push(() => spawnSync("umount", ["-l", "/dev"]));
    how = `/dev had no log: /dev is overlaid (upper layer a temp dir, ${subs.length} submounts moved onto it) and a mount point made there`;
  }
  mustSync("mount", ["--bind", socketPath, "/dev/log"]);
  undo.unshift(() => spawnSync("umount", ["/dev/log"]));
  return {
    note: `/dev/log: a private syslog receiver's socket, ${how}, in the bench's private mount namespace (host /dev untouched)`,
    undo: () => undo.forEach((f) => f()),
  };
}

/** net.unix.max_dgram_qlen of this (private) network namespace: Debian's systemd sets 512, the kernel default is 10. */
export function setDgramQueueLength(n: number): void {
  writeFileSync("/proc/sys/net/unix/max_dgram_qlen", `${n}\n`);
}

export interface ProductionSyslog {
  receiver: SyslogReceiver;
  notes: string[];
  stop(): void;
}

/** Production syslog inside the private namespaces: queue length as Debian sets it, a receiver, /dev/log bound to it. */
export async function productionSyslog(tmp: string, privateNamespace: boolean): Promise<ProductionSyslog> {
  setDgramQueueLength(512);
  const receiver = await startSyslogReceiver(tmp, "dgram");
  let dev: DevLog;
  try {
    dev = installDevLog(receiver.path, tmp, privateNamespace);
  } catch (err) {
    receiver.stop();
    throw err;
  }
  return {
    receiver,
    notes: [dev.note, "net.unix.max_dgram_qlen=512 in the bench's network namespace (as Debian's systemd sets it; the kernel default is 10)"],
    stop: () => {
      dev.undo();
      receiver.stop();
    },
  };
}

/** Removes a temp dir, refusing when anything is still mounted below it. */
export function removeTemp(dir: string): void {
  const mounted = mountsBelow(dir);
  for (const m of mounted.reverse()) spawnSync("umount", ["-l", m]);
  if (mountsBelow(dir).length > 0) throw new Error(`not removing ${dir}: still mounted below it`);
  rmSync(dir, { recursive: true, force: true });
}

/** The sender's tag: RFC 3164 `<PRI>Mmm dd hh:mm:ss TAG[PID]: ` or RFC 5424 `<PRI>1 TIME HOST APP ...`. */
export function syslogTag(text: string): string {
  const m3164 = /^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d ([^\s[:]+)(\[\d+\])?:/.exec(text);
  if (m3164) return m3164[1]!;
  const m5424 = /^<\d+>1 \S+ \S+ (\S+) /.exec(text);
  return m5424 ? m5424[1]! : "(unparsed)";
}

/** Counts per tag, largest first: "tag N, tag N". */
export function tagSummary(lines: SyslogLine[]): string {
  const n = new Map<string, number>();
  for (const l of lines) n.set(syslogTag(l.text), (n.get(syslogTag(l.text)) ?? 0) + 1);
  return [...n]
    .sort((a, b) => b[1] - a[1])
    .map(([t, c]) => `${t} ${c}`)
    .join(", ");
}

/** A spawned contender run, to attribute the syslog lines that arrive during it. */
export interface SpawnRecord {
  key: string;
  start: number;
}

/** Each line goes to the latest run that started before it arrived. */
export function attributeLines(lines: SyslogLine[], runs: SpawnRecord[]): Map<string, SyslogLine[]> {
  const sorted = [...runs].sort((a, b) => a.start - b.start);
  const out = new Map<string, SyslogLine[]>();
  for (const line of lines) {
    let owner: SpawnRecord | undefined;
    for (const r of sorted) {
      if (r.start <= line.t) owner = r;
      else break;
    }
    const key = owner?.key ?? "(before any run)";
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push(line);
  }
  return out;
}

// ---------------------------------------------------------------------------
// CPU time of a daemon (all its threads), for the boot storm.

const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

export interface CpuSample {
  /** utime + stime from /proc/PID/stat, ms (CLK_TCK resolution). */
  statMs: number;
  /** Sum of /proc/PID/task/*\/schedstat on-CPU time, ms (ns resolution; threads alive at the sample). */
  schedMs: number;
}

export function cpuSample(pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields after "(comm)": state=3 ... utime=14 stime=15 (1-based in proc(5)) -> index 11, 12 here
  const statMs = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  let schedNs = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      schedNs += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread gone
    }
  }
  return { statMs, schedMs: schedNs / 1e6 };
}

/** CPU time (utime + stime, ms) of this process's waited-for children: the hooks and everything they ran. */
export function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
}

export function readPidFile(path: string): number {
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!(pid > 0)) throw new Error(`no pid in ${path}`);
  return pid;
}

// ---------------------------------------------------------------------------
// Floor and --version, reported alike by every bench.

export const TARGET_VERSION_ABOVE_FLOOR_MS = 1.5;

/** The floor and `BINARY --version`, alternating so both see the same machine (3 warm-ups each). */
export async function floorAndVersion(floor: string, binary: string, env: NodeJS.ProcessEnv, runs: number): Promise<{ floor: number[]; version: number[] }> {
  const out = { floor: [] as number[], version: [] as number[] };
  for (let i = 0; i < 3 + runs; i++) {
    const f = await timedSpawn(floor, [], env);
    const v = await timedSpawn(binary, ["--version"], env);
    if (f.code !== 0) throw new Error(`floor program: exit ${f.code}: ${f.stderr.trim()}`);
    if (v.code !== 0 || !/^ovs-vif \S+/.test(v.stdout)) throw new Error(`--version: exit ${v.code}, printed ${JSON.stringify(v.stdout)}`);
    if (i >= 3) {
      out.floor.push(f.ms);
      out.version.push(v.ms);
    }
  }
  return out;
}

/** "label  median-floor" lines for ovs-vif's measurements. */
export function aboveFloorLines(rows: { label: string; xs: number[] }[], floor: number[]): string[] {
  const f = floor.length ? stats(floor).median : undefined;
  const w = Math.max(...rows.map((r) => r.label.length));
  const out = [`runtime floor (empty program compiled as the product): median ${fmt(f)} ms; ovs-vif above the floor (median - floor, ms):`];
  for (const r of rows) if (r.xs.length) out.push(`  ${r.label.padEnd(w)}  ${fmt(f === undefined ? undefined : stats(r.xs).median - f).padStart(8)}`);
  return out;
}

export function versionTarget(version: number[], floor: number[]): Target {
  const v = version.length ? stats(version).median : undefined;
  const f = floor.length ? stats(floor).median : undefined;
  const above = v !== undefined && f !== undefined ? v - f : undefined;
  return {
    name: `ovs-vif --version within ${TARGET_VERSION_ABOVE_FLOOR_MS} ms of the floor`,
    value: `${fmt(above)} ms above (${fmt(v)} vs ${fmt(f)})`,
    pass: above !== undefined && above <= TARGET_VERSION_ABOVE_FLOOR_MS,
    gate: true,
  };
}

/** Syslog lines per contender: each contender's own lines (by content) in its runs' windows (by time). */
export interface SyslogCount {
  label: string;
  runs: number;
  lines: number;
  /** Lines each run must send; undefined: at least one. */
  expectedPerRun?: number;
}

export function countSyslog(
  lines: SyslogLine[],
  spawns: SpawnRecord[],
  contenders: { key: string; label: string; expectedPerRun?: number | undefined; own(text: string): boolean }[],
): { counts: SyslogCount[]; ok: boolean; report: string[] } {
  const byRun = attributeLines(lines, spawns);
  const counts = contenders.map((c) => {
    const count: SyslogCount = { label: c.label, runs: spawns.filter((s) => s.key === c.key).length, lines: (byRun.get(c.key) ?? []).filter((l) => c.own(l.text)).length };
    if (c.expectedPerRun !== undefined) count.expectedPerRun = c.expectedPerRun;
    return count;
  });
  const ok = counts.every((c) => (c.expectedPerRun !== undefined ? c.lines === c.expectedPerRun * c.runs : c.lines >= c.runs));
  const w = Math.max(...counts.map((c) => c.label.length));
  const report = counts.map((c) => {
    const per = c.runs > 0 ? c.lines / c.runs : 0;
    return `  ${c.label.padEnd(w)}  ${String(c.lines).padStart(5)} lines / ${String(c.runs).padStart(3)} runs = ${per.toFixed(2)} per run${c.expectedPerRun !== undefined ? ` (expected ${c.expectedPerRun})` : " (expected >= 1)"}`;
  });
  report.push(`  all lines by sender tag: ${tagSummary(lines)}`);
  const shown = new Set<string>();
  for (const c of contenders) {
    const sample = lines.find((l) => c.own(l.text));
    if (sample && !shown.has(syslogTag(sample.text))) {
      shown.add(syslogTag(sample.text));
      report.push(`  e.g. ${c.label}: ${JSON.stringify(sample.text)}`);
    }
  }
  return { counts, ok, report };
}

/** OVS's daemons log to syslog at error level only, as Debian's ovs-ctl starts them (-vsyslog:err); the test harness leaves info. */
export function productionOvsLogLevels(ovsDir: string): string {
  for (const daemon of ["ovs-vswitchd", "ovsdb-server"]) mustSync("ovs-appctl", ["-t", join(ovsDir, `${daemon}.ctl`), "vlog/set", "syslog:err"]);
  return "ovsdb-server and ovs-vswitchd log to syslog at error level (vlog/set syslog:err), as Debian's ovs-ctl starts them; ovs-vsctl keeps its default (info: it logs each changing call)";
}

// ---------------------------------------------------------------------------
// Xen: the hotplug log directory, a VM's vif in xenstore, ports on a bridge.

/** Bind-mounts a temp dir over /var/log/xen (private mount namespace only); returns the dir the log lands in. */
export function isolateXenLog(tmp: string, privateNamespace: boolean): { dir: string; note: string } | undefined {
  if (!privateNamespace) return undefined;
  if (existsSync("/var/log/xen")) {
    const dir = join(tmp, "var-log-xen");
    mkdirSync(dir, { recursive: true });
    if (spawnSync("mount", ["--bind", dir, "/var/log/xen"]).status !== 0) return undefined;
    return { dir, note: "/var/log/xen: a temp dir is bind-mounted over it in the bench's private mount namespace; the hooks append their hotplug log there (system /var/log/xen untouched)." };
  }
  // No /var/log/xen on this host: shadow /var/log (in this namespace only)
  // with a temp dir holding xen/, rather than creating a system directory.
  const shadow = join(tmp, "var-log");
  mkdirSync(join(shadow, "xen"), { recursive: true });
  if (spawnSync("mount", ["--bind", shadow, "/var/log"]).status !== 0) return undefined;
  return { dir: join(shadow, "xen"), note: "/var/log/xen did not exist: /var/log is shadowed by a temp dir holding xen/ in the bench's private mount namespace (nothing created at system paths)." };
}

export interface XenVif {
  domid: number;
  /** Backend device, vif{domid}.0. */
  dev: string;
  xenbus: string;
  uuid: string;
  name: string;
  mac: string;
  bridgeKey: string;
}

export function xenVif(domid: number, bridgeKey: string): XenVif {
  const hex = domid.toString(16).padStart(4, "0");
  return {
    domid,
    dev: `vif${domid}.0`,
    xenbus: `/local/domain/0/backend/vif/${domid}/0`,
    uuid: `6f1f2c3e-7a6b-4c5d-9e8f-${domid.toString(16).padStart(12, "0")}`,
    name: `bench-vm-${domid}`,
    mac: `00:16:3e:00:${hex.slice(0, 2)}:${hex.slice(2)}`,
    bridgeKey,
  };
}

/** The keys xl writes for a vif (backend and the domain's vm path), as path/value pairs. */
export function xenVifKeys(v: XenVif): [string, string][] {
  const vm = `/vm/${v.uuid}`;
  return [
    [`${v.xenbus}/bridge`, v.bridgeKey],
    [`${v.xenbus}/mac`, v.mac],
    [`${v.xenbus}/frontend-id`, String(v.domid)],
    [`${v.xenbus}/frontend`, `/local/domain/${v.domid}/device/vif/0`],
    [`${v.xenbus}/handle`, "0"],
    [`${v.xenbus}/script`, "/etc/xen/scripts/vif-openvswitch"],
    [`/local/domain/${v.domid}/vm`, vm],
    [`/local/domain/${v.domid}/name`, v.name],
    [`${vm}/name`, v.name],
    [`${vm}/uuid`, v.uuid],
  ];
}

/** Writes path/value pairs with xenstore-write, many per call. */
export function xenstoreWrite(xenstoredPath: string, pairs: [string, string][]): void {
  for (let i = 0; i < pairs.length; i += 100) {
    const args = ["-s", ...pairs.slice(i, i + 100).flat()];
    const r = spawnSync("xenstore-write", args, { env: { ...process.env, XENSTORED_PATH: xenstoredPath }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`xenstore-write failed: ${(r.stderr || r.error?.message || "").trim()}`);
  }
}

/** Adds internal ports p{from}..p{to} to BRIDGE, 100 per ovs-vsctl call. */
export async function addInternalPorts(vsctl: (...args: string[]) => Promise<string>, bridge: string, from: number, to: number): Promise<void> {
  for (let start = from; start <= to; start += 100) {
    const args: string[] = ["--timeout=120"];
    for (let i = start; i <= Math.min(to, start + 99); i++) args.push("--", "add-port", bridge, `p${i}`, "--", "set", "interface", `p${i}`, "type=internal");
    await vsctl(...args);
  }
}

/** Runs BODY for its exit code; an exception is printed as PROBLEMS (after PREFIX's lines, if any); CLEANUPS run in order whatever happened. */
export async function guarded(what: string, body: () => Promise<number>, cleanups: (() => unknown)[], prefix: () => string = () => ""): Promise<number> {
  let code: number;
  try {
    code = await body();
  } catch (err) {
    const pre = prefix();
    if (pre) console.log(pre);
    console.log(`\nPROBLEMS\n  ! ${what} aborted: ${(err as Error).stack ?? err}`);
    code = 1;
  } finally {
    for (const c of cleanups) {
      try {
        await c();
      } catch {
        // the next clean-up still runs
      }
    }
  }
  return code;
}

/** Cold runs: how many, and the page cache dropped before each (as on a node
 * under memory pressure, where the hook's binary and the stock script's
 * interpreters and tools are read from disk again). Needs root. */
export const COLD_RUNS = 8;

/** `ovs-vif watch` running, as the package's ovs-vif-watch.service keeps it
 * on every node: a process that maps the binary keeps its pages in memory
 * (dropping the page cache leaves mapped pages alone, and reclaim prefers
 * unmapped ones). Resolves once it runs; stop() ends it. */
export async function startWatcher(binary: string, env: NodeJS.ProcessEnv): Promise<{ stop(): void }> {
  const child = spawn(binary, ["watch", "--sweep", "3600"], { env, stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode !== null) throw new Error(`ovs-vif watch exited at once (${child.exitCode})`);
  return { stop: () => child.kill("SIGTERM") };
}

export function dropPageCache(): void {
  spawnSync("sync", []);
  writeFileSync("/proc/sys/vm/drop_caches", "3\n");
}
