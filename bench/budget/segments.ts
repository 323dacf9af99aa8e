// One traced run cut into consecutive segments whose ends are events: the
// hook's marks, each connect, each round trip's first request and first
// reply, an OVSDB notification, the netdev ioctl socket, the first teardown
// of a connection, exit_group and the process's end. They add up to the run.
import { basename } from "node:path";
import { fmt } from "../lib/stats.ts";
import { describeRequests, fdOf, parseStrace, retFd, type Call } from "./strace.ts";

export interface Segment {
  start: number;
  end: number;
  label: string;
  category: string;
  /** Syscalls of interest inside the segment. */
  detail: string;
}

export interface Budget {
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

export function budgetOf(text: string, paths: { ovsdb: string; xenstore: string }): Budget {
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
        if (kind !== "syslog")
          add(c.ts + c.dur, `socket() + connect() ${kind === "ovsdb" ? "OVSDB" : "xenstored"} (${fmt(c.dur, 3)} ms in connect)`, "connect");
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
    const syslogSend = syslogConnect
      ? inLog.find((c) => c.ts > syslogConnect.ts && (c.name === "sendto" || c.name === "write") && fdOf(c.args) === fdOf(syslogConnect.args))
      : undefined;
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
    const interesting = inside.filter(
      (c) => c.name === "ioctl" || c.name === "openat" || c.name === "clone3" || c.name === "clone" || c.name === "vfork" || c.name === "mmap",
    );
    const counts = new Map<string, number>();
    for (const c of interesting) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
    segments.push({ start: prev - t0, end: e.ts - t0, label: e.label, category: e.category, detail: [...counts].map(([k, v]) => `${k}×${v}`).join(" ") });
    prev = e.ts;
  }
  return { total: endTs - t0, segments, notes };
}
