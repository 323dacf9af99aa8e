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
// xenstored, under the Xen bench's production conditions (bench/lib.ts:
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
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import {
  addInternalPorts,
  buildFloor,
  compileAsProduct,
  enterPrivateNamespaces,
  fmt,
  guarded,
  isolateXenLog,
  productionOvsLogLevels,
  productionSyslog,
  removeTemp,
  stats,
  timedSpawn,
  xenVif,
  xenVifKeys,
  type Run,
} from "./lib.ts";

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

// ---------------------------------------------------------------------------
// strace parsing.

interface Call {
  pid: number;
  ts: number;
  name: string;
  args: string;
  ret: string;
  dur: number;
}

/** Calls (unfinished/resumed pairs joined, at the start time) and process exits, in order. */
function parseStrace(text: string): { calls: Call[]; exits: Map<number, number>; execs: Map<number, { ts: number; file: string }> } {
  const calls: Call[] = [];
  const exits = new Map<number, number>();
  const execs = new Map<number, { ts: number; file: string }>();
  const pending = new Map<number, Call>();
  for (const line of text.split("\n")) {
    const m = /^(\d+) +(\d+\.\d+) (.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const ts = Number(m[2]) * 1000;
    const rest = m[3]!;
    if (rest.startsWith("+++ exited") || rest.startsWith("+++ killed")) {
      exits.set(pid, ts);
      continue;
    }
    if (rest.startsWith("---")) continue;
    const resumed = /^<\.\.\. (\w+) resumed>(.*?)(?: = (.*?))?(?: <([\d.]+)>)?$/.exec(rest);
    if (resumed) {
      const p = pending.get(pid);
      if (p) {
        p.args += resumed[2] ?? "";
        p.ret = resumed[3] ?? "";
        p.dur = Number(resumed[4] ?? 0) * 1000;
        pending.delete(pid);
      }
      continue;
    }
    const unfinished = /^(\w+)\((.*) <unfinished \.\.\.>$/.exec(rest);
    if (unfinished) {
      const c: Call = { pid, ts, name: unfinished[1]!, args: unfinished[2]!, ret: "", dur: 0 };
      pending.set(pid, c);
      calls.push(c);
      continue;
    }
    const full = /^(\w+)\((.*)\) += (.*?)(?: <([\d.]+)>)?$/.exec(rest) ?? /^(\w+)\((.*)\) += \?$/.exec(rest);
    if (!full) continue;
    const c: Call = { pid, ts, name: full[1]!, args: full[2]!, ret: full[3] ?? "?", dur: Number(full[4] ?? 0) * 1000 };
    calls.push(c);
    if (c.name === "execve" && c.ret.startsWith("0")) execs.set(pid, { ts, file: /^"([^"]*)"/.exec(c.args)?.[1] ?? "" });
  }
  return { calls, exits, execs };
}

const fdOf = (args: string) => Number(/^(\d+)/.exec(args)?.[1] ?? -1);
const retFd = (ret: string) => Number(/^(\d+)/.exec(ret)?.[1] ?? -1);

/** What a batch of requests on a socket asked for. */
function describeRequests(kind: "ovsdb" | "xenstore", payloads: string[]): string {
  if (kind === "ovsdb") {
    const methods = payloads.flatMap((p) => [...p.matchAll(/\\"method\\":\\"(\w+)\\"/g)].map((m) => m[1]!));
    const ops = payloads.flatMap((p) => [...p.matchAll(/\\"op\\":\\"(\w+)\\"/g)].map((m) => m[1]!));
    const opCounts = [...new Set(ops)].map((o) => `${o}×${ops.filter((x) => x === o).length}`).join(" ");
    return `${methods.join(" + ") || "?"}${opCounts ? ` [${opCounts}]` : ""}`;
  }
  // xsd_sockmsg: type is the first little-endian u32 (strace shows \2\0\0\0 for XS_READ).
  const names: Record<string, string> = { "\\1": "directory", "\\2": "read", "\\v": "write", "\\r": "rm" };
  const ops = payloads.map((p) => names[/^"(\\\w+|\\\d+)/.exec(p)?.[1] ?? ""] ?? "op");
  return [...new Set(ops)].map((o) => `${ops.filter((x) => x === o).length} × ${o}`).join(", ");
}

interface Segment {
  start: number;
  end: number;
  label: string;
  category: string;
  /** Syscalls of interest inside the segment. */
  detail: string;
}

interface Budget {
  total: number;
  segments: Segment[];
  notes: string[];
}

const CATEGORY_OF_MARK: Record<string, string> = {
  main: "exec + runtime start",
  "xen hook loaded": "module load",
  "xenstore connected": "connect",
  "xenstore read": "JS work",
  "ovsdb connected": "JS work",
  "device prepared": "device preparation",
  committed: "commit",
  "vswitchd applied": "vswitchd wait",
  attached: "JS work",
  "hotplug-status written": "status write",
};

function budgetOf(text: string, paths: { ovsdb: string; xenstore: string }): Budget {
  const { calls, exits, execs } = parseStrace(text);
  const first = calls[0];
  if (first?.name !== "execve") throw new Error("trace does not start with execve");
  const main = first.pid;
  const t0 = first.ts;
  const mine = calls.filter((c) => c.pid === main);
  const endTs = exits.get(main) ?? mine[mine.length - 1]!.ts;
  const events: { ts: number; label: string; category: string }[] = [];
  const notes: string[] = [];
  const add = (ts: number, label: string, category: string) => events.push({ ts, label, category });

  const firstOf = (pred: (c: Call) => boolean) => mine.find(pred);
  const sysinfo = firstOf((c) => c.name === "sysinfo");
  if (sysinfo) add(sysinfo.ts, "exec, ELF and shared libraries (ld.so)", "exec + runtime start");
  const epoll = firstOf((c) => c.name === "epoll_create1");
  if (epoll) add(epoll.ts, "Bun/JSC VM and heap set-up (to its event loop)", "exec + runtime start");

  // Marks (OVS_VIF_TRACE=1): write(2, "trace N ms STEP\n").
  let hotplugWritten: number | undefined;
  for (const c of mine) {
    const m = c.name === "write" && fdOf(c.args) === 2 ? /"trace [\d.]+ ms (.+?)\\n"/.exec(c.args) : null;
    if (!m) continue;
    const step = m[1]!;
    if (step === "hotplug-status written") hotplugWritten = c.ts;
    add(c.ts, step === "main" ? "runtime start, entry chunk (to main)" : `to mark '${step}'`, CATEGORY_OF_MARK[step] ?? "JS work");
  }

  // socket() of each connection the hook makes to OVSDB or xenstored: what comes before is JS work.
  for (const c of mine) {
    if (c.name !== "connect") continue;
    const path = /sun_path="([^"]*)"/.exec(c.args)?.[1] ?? "";
    const kind = path === paths.ovsdb ? "OVSDB" : path === paths.xenstore ? "xenstored" : undefined;
    if (!kind) continue;
    const fd = fdOf(c.args);
    const sock = [...mine].reverse().find((x) => x.ts <= c.ts && x.name === "socket" && retFd(x.ret) === fd);
    if (sock) add(sock.ts, `JS work to the ${kind} socket()${kind === "OVSDB" ? ": arguments, options, log set-up, client modules" : ""}`, "JS work");
  }

  // Sockets: connect, round trips (first request after a reply, first reply after a request), notifications.
  const kindOf = new Map<number, "ovsdb" | "xenstore" | "syslog">();
  let firstTeardown: number | undefined;
  let ffiSocket: Call | undefined;
  const rt = new Map<number, { sends: string[]; start: number; n: number }>();
  const counters = { ovsdb: 0, xenstore: 0, notify: 0 };
  for (const c of mine) {
    if (c.name === "socket" && c.args.startsWith("AF_INET, SOCK_DGRAM") && !ffiSocket && retFd(c.ret) >= 0) {
      ffiSocket = c;
      add(c.ts + c.dur, "bun:ffi loaded, libc dlopen'd (netdev ioctl socket)", "device preparation");
    }
    if (c.name === "connect") {
      const path = /sun_path="([^"]*)"/.exec(c.args)?.[1] ?? "";
      const fd = fdOf(c.args);
      const kind = path === paths.ovsdb ? "ovsdb" : path === paths.xenstore ? "xenstore" : path === "/dev/log" || /syslog/.test(path) ? "syslog" : undefined;
      if (kind) {
        kindOf.set(fd, kind);
        if (kind !== "syslog") add(c.ts + c.dur, `socket() + connect() ${kind === "ovsdb" ? "OVSDB" : "xenstored"} (${fmt(c.dur, 3)} ms in connect)`, "connect");
      }
      continue;
    }
    const fd = fdOf(c.args);
    const kind = kindOf.get(fd);
    if (kind === undefined || kind === "syslog") continue;
    if (["close", "shutdown"].includes(c.name) || (c.name === "setsockopt" && c.args.includes("SO_LINGER"))) {
      firstTeardown ??= c.ts;
      continue;
    }
    const isSend = c.name === "sendto" || c.name === "write" || c.name === "sendmsg";
    const isRecv = (c.name === "recvfrom" || c.name === "read" || c.name === "recvmsg") && !c.ret.startsWith("-1");
    if (isSend) {
      const cur = rt.get(fd);
      if (!cur) {
        const n = ++counters[kind];
        rt.set(fd, { sends: [c.args.slice(c.args.indexOf(",") + 2)], start: c.ts, n });
        add(c.ts, `JS work before ${kind} request #${n}`, "JS work");
      } else cur.sends.push(c.args.slice(c.args.indexOf(",") + 2));
    } else if (isRecv) {
      const cur = rt.get(fd);
      if (cur) {
        const what = describeRequests(kind, cur.sends);
        const isStatus = kind === "xenstore" && cur.sends.some((s) => s.includes("hotplug-status"));
        const isCommit = kind === "ovsdb" && /\\"op\\":\\"(insert|mutate|update|delete)\\"/.test(cur.sends.join(""));
        const category = isStatus ? "status write" : isCommit ? "commit" : kind === "ovsdb" ? "OVSDB round trips" : "xenstore round trips";
        add(c.ts + c.dur, `${kind === "ovsdb" ? "OVSDB" : "xenstore"} round trip #${cur.n}: ${what}`, category);
        rt.delete(fd);
      } else if (kind === "ovsdb") {
        const n = ++counters.notify;
        add(c.ts + c.dur, `OVSDB notification #${n} (no request outstanding: the cur_cfg update)`, "vswitchd wait");
      }
    }
  }
  // The epoll_ctl DEL names the socket as its third argument: find the teardown by that too.
  for (const c of mine) {
    if (c.name !== "epoll_ctl" || !c.args.includes("EPOLL_CTL_DEL")) continue;
    const sock = Number(/EPOLL_CTL_DEL, (\d+)/.exec(c.args)?.[1] ?? -1);
    const k = kindOf.get(sock);
    if (k === "ovsdb" || k === "xenstore") {
      if (firstTeardown === undefined || c.ts < firstTeardown) firstTeardown = c.ts;
      break;
    }
  }
  if (firstTeardown !== undefined) add(firstTeardown, "log: stderr, xen-hotplug.log, syslog (to the first connection teardown)", "log");
  const exitGroup = firstOf((c) => c.name === "exit_group");
  if (exitGroup) add(exitGroup.ts, "close the connections (to exit_group)", "exit");
  add(endTs, "exit: exit_group until the process is gone (threads, address space)", "exit");

  // Log details: what happened between the status write and the teardown.
  if (hotplugWritten !== undefined) {
    const until = firstTeardown ?? endTs;
    const inLog = mine.filter((c) => c.ts >= hotplugWritten! && c.ts <= until);
    const hotplugOpen = inLog.find((c) => c.name === "openat" && c.args.includes("xen-hotplug.log"));
    const hotplugClose = hotplugOpen ? inLog.find((c) => c.ts > hotplugOpen.ts && c.name === "close" && fdOf(c.args) === retFd(hotplugOpen.ret)) : undefined;
    if (hotplugOpen && hotplugClose) notes.push(`xen-hotplug.log append: ${fmt(hotplugClose.ts + hotplugClose.dur - hotplugOpen.ts, 3)} ms (openat .. close)`);
    const tz = inLog.filter((c) => c.name === "readlink" && c.args.startsWith('"/etc/localtime"'));
    if (tz.length) notes.push(`JavaScript local time: ${tz.length} time-zone lookups (readlink /etc/localtime: ICU) in the log step`);
    const syslogConnect = inLog.find((c) => c.name === "connect" && kindOf.get(fdOf(c.args)) === "syslog");
    const syslogSend = syslogConnect ? inLog.find((c) => c.ts > syslogConnect.ts && (c.name === "sendto" || c.name === "write") && fdOf(c.args) === fdOf(syslogConnect.args)) : undefined;
    const devlog = inLog.find((c) => (c.name === "access" || c.name === "statx" || c.name === "newfstatat") && c.args.includes('"/dev/log"'));
    if (syslogConnect && syslogSend) {
      notes.push(
        `syslog in-process: socket/connect/send to /dev/log ${fmt(syslogSend.ts + syslogSend.dur - syslogConnect.ts, 3)} ms; from the /dev/log check to the datagram sent ${devlog ? fmt(syslogSend.ts + syslogSend.dur - devlog.ts, 3) : "?"} ms`,
      );
    }
    const spawn = inLog.find((c) => ["clone", "clone3", "vfork", "fork"].includes(c.name) && !c.args.includes("CLONE_THREAD"));
    if (spawn) {
      const child = Number(/^(\d+)/.exec(spawn.ret)?.[1] ?? -1);
      const ex = execs.get(child);
      notes.push(
        `syslog through a process: ${spawn.name} at +${fmt(spawn.ts - t0)} ms${ex ? `, child ${basename(ex.file)} exec'd +${fmt(ex.ts - spawn.ts, 3)} ms later, gone after ${fmt((exits.get(child) ?? ex.ts) - ex.ts)} ms (off the hook's path, on the node's CPU)` : ""}`,
      );
    }
  }
  // Device preparation detail.
  const ioctls = mine.filter((c) => c.name === "ioctl" && /SIOC\w+/.test(c.args));
  if (ioctls.length) notes.push(`ioctls: ${ioctls.map((c) => `${/SIOC\w+/.exec(c.args)![0]} ${fmt(c.dur, 3)}`).join(", ")} ms (kernel time each)`);
  const threads = new Set(calls.filter((c) => c.pid !== main && !execs.has(c.pid)).map((c) => c.pid));
  notes.push(`threads besides the main one: ${threads.size}; syscalls of the main thread: ${mine.length}`);

  events.sort((a, b) => a.ts - b.ts);
  const segments: Segment[] = [];
  let prev = t0;
  for (const e of events) {
    if (e.ts < prev) continue;
    const inside = mine.filter((c) => c.ts >= prev && c.ts < e.ts);
    const interesting = inside.filter((c) => c.name === "ioctl" || c.name === "openat" || c.name === "clone3" || c.name === "clone" || c.name === "vfork" || c.name === "mmap");
    const counts = new Map<string, number>();
    for (const c of interesting) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
    segments.push({ start: prev - t0, end: e.ts - t0, label: e.label, category: e.category, detail: [...counts].map(([k, v]) => `${k}×${v}`).join(" ") });
    prev = e.ts;
  }
  return { total: endTs - t0, segments, notes };
}

/** The hook's own marks (OVS_VIF_TRACE=1: "trace N ms STEP" on stderr, ms since the runtime's time origin) plus the spawn-to-exit time. */
function marksOf(r: Run): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of r.stderr.split("\n")) {
    const x = /^trace ([\d.]+) ms (.+)$/.exec(l);
    if (x) m.set(x[2]!, Number(x[1]));
  }
  m.set("exit: spawn to exit as the parent sees it (also counts exec and Bun before its time origin)", r.ms);
  return m;
}

/** Untraced step times from the marks: the median of each step's increment over the runs. */
function untracedSteps(runs: Map<string, number>[], totals: number[]): string[] {
  const names = [...(runs[0]?.keys() ?? [])];
  const out = [`   untraced, from the hook's own marks (${runs.length} runs, total median ${fmt(stats(totals).median)} ms; no strace overhead, mark resolution):`];
  out.push(`   ${"at".padStart(7)} ${"step".padStart(7)}  to`);
  names.forEach((name, i) => {
    const at = runs.map((m) => m.get(name)).filter((x): x is number => x !== undefined);
    const step = runs.map((m) => (i === 0 ? m.get(name)! : m.get(name)! - m.get(names[i - 1]!)!)).filter((x) => Number.isFinite(x));
    if (at.length) out.push(`   ${fmt(stats(at).median).padStart(7)} ${fmt(stats(step).median).padStart(7)}  ${i === 0 ? `${name} (from the runtime's time origin)` : name}`);
  });
  return out;
}

// ---------------------------------------------------------------------------
// The environment: the Xen bench's, for one VM.

const binaries = (process.argv.slice(2).length ? process.argv.slice(2) : [process.env.OVS_VIF_BINARY ?? join(import.meta.dirname, "..", "dist", "ovs-vif")]).map((b) => resolve(b));
for (const b of binaries) if (!existsSync(b)) throw new Error(`no binary at ${b} (npm run build)`);
const { startOvs } = await import("../test/harness/ovs.ts");
const { startXenstored } = await import("../test/harness/xenstore.ts");
const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-budget-"));
const keep = process.env.OVS_VIF_BUDGET_KEEP;
if (keep) mkdirSync(keep, { recursive: true });
const xenLog = isolateXenLog(tmp, true);
const sys = await productionSyslog(tmp, true);
const ovs = await startOvs({ netns: "current" });
const code = await guarded(
  "budget",
  async () => {
    const notes = [productionOvsLogLevels(ovs.dir), ...sys.notes, ...(xenLog ? [xenLog.note] : [])];
    mkdirSync(join(tmp, "xs"));
    const xs = await startXenstored(join(tmp, "xs"));
    const vif = xenVif(7, "sw1.3:10:20");
    await ovs.addBridge("sw1");
    await addInternalPorts(ovs.vsctl, "sw1", 1, PORTS);
    await ovs.addTap(vif.dev);
    for (const [k, v] of xenVifKeys(vif)) await xs.write(k, v);
    const env: NodeJS.ProcessEnv = { ...process.env, ...ovs.env, ...xs.env, vif: vif.dev, XENBUS_PATH: vif.xenbus, OVS_VIF_TRACE: "1" };
    for (const k of ["OVS_VIF_LOG_LEVEL", "OVS_VIF_SYSLOG", "OVS_VIF_XEN_LOG", "OVS_VIF_SYSLOG_SOCKET"]) delete env[k];
    const reset = async () => {
      await ovs.vsctl("--if-exists", "del-port", vif.dev);
      await xs.rm(`${vif.xenbus}/hotplug-status`).catch(() => undefined);
      const r = spawnSync("ip", ["link", "set", "dev", vif.dev, "down"]);
      if (r.status !== 0) throw new Error("ip link set down failed");
    };
    const check = async (what: string) => {
      if ((await xs.read(`${vif.xenbus}/hotplug-status`)) !== "connected") throw new Error(`${what}: hotplug-status is not connected`);
    };

    // The runtime floor, traced the same way: what Bun costs before any of our code.
    const floor = buildFloor(tmp);
    const hooks = binaries.map((binary, bi) => {
      const hook = join(tmp, `bin${bi}`, "vif-openvswitch");
      mkdirSync(join(tmp, `bin${bi}`));
      symlinkSync(binary, hook);
      return hook;
    });
    const results = binaries.map((binary) => ({ binary, budgets: [] as Budget[], untraced: [] as number[], untracedNoMarks: [] as number[], marks: [] as Map<string, number>[] }));
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
    const twiceBinary = join(tmp, "plug-twice");
    compileAsProduct(join(import.meta.dirname, "plug-twice.ts"), twiceBinary);
    const twice = { first: [] as number[], second: [] as number[], steps: [new Map<string, number[]>(), new Map<string, number[]>()] as const, order: [] as string[] };
    for (let i = 0; i < UNTRACED_RUNS + 2; i++) {
      await reset();
      // Marks on (both runs alike): the steps of each.
      const r = await timedSpawn(twiceBinary, [], env);
      const m = /plug-twice first=([\d.]+) offline=[\d.]+ second=([\d.]+)/.exec(r.stderr);
      if (r.code !== 0 || !m) throw new Error(`plug-twice failed (exit ${r.code}): ${r.stderr}`);
      await check("plug-twice run");
      if (i < 2) continue;
      twice.first.push(Number(m[1]));
      twice.second.push(Number(m[2]));
      const marks = [...r.stderr.matchAll(/^trace ([\d.]+) ms (.*)$/gm)].map((x) => ({ at: Number(x[1]), name: x[2]! }));
      for (const [k, [from, to]] of [["first online", "offline"], ["second online", undefined]].entries()) {
        const start = marks.findIndex((x) => x.name === from);
        const end = to === undefined ? marks.length : marks.findIndex((x) => x.name === to);
        for (let j = start + 1; j < end; j++) {
          const name = marks[j]!.name;
          if (k === 0 && !twice.order.includes(name)) twice.order.push(name);
          const list = twice.steps[k as 0 | 1].get(name) ?? [];
          list.push(marks[j]!.at - marks[j - 1]!.at);
          twice.steps[k as 0 | 1].set(name, list);
        }
      }
    }

    // Report.
    const lines: string[] = [];
    lines.push("", `Xen hook budget: vif-openvswitch online, ${PORTS} other ports, strace -f -ttt -T; ms since execve`);
    for (const res of results) {
      const totals = res.budgets.map((b) => b.total);
      const medianRun = [...res.budgets].sort((a, b) => a.total - b.total)[Math.floor(res.budgets.length / 2)]!;
      lines.push("", `== ${res.binary}`);
      lines.push(
        `   traced total: median ${fmt(stats(totals).median)} ms (${res.budgets.length} runs, min ${fmt(stats(totals).min)}); untraced: median ${fmt(stats(res.untraced).median)} ms with OVS_VIF_TRACE=1, ${fmt(stats(res.untracedNoMarks).median)} ms without (${UNTRACED_RUNS} runs each)`,
      );
      lines.push("", `   the median traced run (${fmt(medianRun.total)} ms), step by step:`);
      lines.push(`   ${"start".padStart(7)} ${"ms".padStart(7)}  ${"category".padEnd(22)} step`);
      for (const s of medianRun.segments) {
        lines.push(`   ${fmt(s.start).padStart(7)} ${fmt(s.end - s.start).padStart(7)}  ${s.category.padEnd(22)} ${s.label}${s.detail ? `  [${s.detail}]` : ""}`);
      }
      for (const n of medianRun.notes) lines.push(`   - ${n}`);
      lines.push("", ...untracedSteps(res.marks, res.untraced));
    }
    // Per category: the median over runs of each run's sum.
    const categories = [...new Set(results.flatMap((r) => r.budgets.flatMap((b) => b.segments.map((s) => s.category))))];
    const perCat = (b: Budget, c: string) => b.segments.filter((s) => s.category === c).reduce((a, s) => a + s.end - s.start, 0);
    lines.push("", "per category, median over the traced runs (ms; share of the traced total)");
    lines.push(`   ${"category".padEnd(22)} ${results.map((r, i) => `#${i + 1}`.padStart(16)).join("")}`);
    for (const c of categories) {
      lines.push(
        `   ${c.padEnd(22)} ${results
          .map((r) => {
            const v = stats(r.budgets.map((b) => perCat(b, c))).median;
            const share = v / stats(r.budgets.map((b) => b.total)).median;
            return `${fmt(v).padStart(8)} (${(share * 100).toFixed(0).padStart(2)}%)`;
          })
          .join("")}`,
      );
    }
    lines.push(`   ${"total".padEnd(22)} ${results.map((r) => fmt(stats(r.budgets.map((b) => b.total)).median).padStart(8) + "      ").join("")}`);
    results.forEach((r, i) => lines.push(`   #${i + 1} = ${r.binary}`));
    lines.push(
      "",
      `runtime floor (empty program, product build flags), traced alike: total median ${fmt(stats(floorTotals).median)} ms, of which exec + runtime start (to its event loop) ${fmt(stats(floorRuntime).median)} ms; untraced ${fmt(stats(floorUntraced).median)} ms`,
    );
    lines.push(
      "",
      `the same online twice in one process (bench/plug-twice.ts, product build flags, modules loaded before; ${UNTRACED_RUNS} runs): first ${fmt(stats(twice.first).median)} ms, second ${fmt(stats(twice.second).median)} ms (median); the difference is the runtime's first use of what the hook runs`,
      `   ${"first".padStart(7)} ${"second".padStart(7)} ${"diff".padStart(7)}  step (median of each step's time, ms)`,
      ...twice.order.map((name) => {
        const [a, b] = [0, 1].map((k) => stats(twice.steps[k as 0 | 1].get(name) ?? [0]).median) as [number, number];
        return `   ${fmt(a).padStart(7)} ${fmt(b).padStart(7)} ${fmt(a - b).padStart(7)}  ${name}`;
      }),
    );
    lines.push("", "notes", ...notes.map((n) => `  - ${n}`), "  - strace stops the process at every syscall: absolute numbers are inflated (see traced vs untraced); compare shares and before/after.");
    console.log(lines.join("\n"));
    await xs.stop();
    return 0;
  },
  [() => ovs.stop(), () => sys.stop(), () => removeTemp(tmp)],
);
process.exit(code);
