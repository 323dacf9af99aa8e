// One line per action to stderr, syslog (daemon facility, as Xen's scripts
// log) and, for the Xen hook, /var/log/xen/xen-hotplug.log when writable.
//
// Syslog is written by this process, one message per line, to the local
// socket: /dev/log, or OVS_VIF_SYSLOG_SOCKET (another socket path, e.g. for
// tests) or the `syslogSocket` option. The format is what logger(1) sends to a
// local socket (RFC 3164): `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`, PRI = daemon
// facility (3) * 8 + the level's severity (error 3, warn 4, info 6, debug 7),
// local time. A datagram socket (rsyslog, journald) gets one datagram per
// line; a stream socket (syslog-ng's unix-stream) the line and a newline, as
// logger sends it. The socket is opened on the first line, non-blocking, with
// libc's socket/connect/send through bun:ffi: synchronous, no process. When
// syslog is absent, refuses the connection, or its queue is full, the line is
// dropped: the hook never fails or waits for it. Only where bun:ffi cannot be
// loaded (not on Bun, or OVS_VIF_NO_FFI=1 as for src/netdev.ts) does a
// detached logger(1) carry the line.
import { escapeControls } from "./errors.ts";
import { appendFile, exists, writeFd } from "./files.ts";
import { openLibc } from "./libc.ts";

export type Level = "error" | "warn" | "info" | "debug";
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LogOptions {
  /** Program name for syslog and the line prefix (vif-openvswitch, ovs-vif, ...). */
  tag: string;
  level: Level;
  /** Extra file to append to (xen-hotplug.log). */
  file?: string;
  syslog: boolean;
  /** Syslog socket path; default $OVS_VIF_SYSLOG_SOCKET, else /dev/log. */
  syslogSocket?: string;
}

export function levelFrom(env: NodeJS.ProcessEnv, verbose: boolean): Level {
  if (verbose) return "debug";
  const v = env.OVS_VIF_LOG_LEVEL?.toLowerCase();
  return v === "error" || v === "warn" || v === "info" || v === "debug" ? v : "info";
}

export type Fields = Record<string, string | number | undefined>;

/** A log for one run: level from --verbose / OVS_VIF_LOG_LEVEL, syslog unless
 * OVS_VIF_SYSLOG=0. A dry run changes nothing, so it logs no "done" lines:
 * warnings and errors only, unless --verbose. */
export function makeLog(tag: string, verbose: boolean, file?: string, env: NodeJS.ProcessEnv = process.env, dryRun = false): Log {
  let level = levelFrom(env, verbose);
  if (dryRun && !verbose && ORDER[level] > ORDER.warn) level = "warn";
  const opts: LogOptions = { tag, level, syslog: env.OVS_VIF_SYSLOG !== "0" };
  if (file) opts.file = file;
  return new Log(opts);
}

/** `key=value` pairs; values with spaces or quotes are JSON-quoted. */
export function formatFields(fields: Fields): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => {
      const s = String(v);
      return `${k}=${/^[^\s"=]+$/.test(s) ? s : JSON.stringify(s)}`;
    })
    .join(" ");
}

/** Writes each record straight to its sinks, synchronously: a hook exits
 * right after logging, and nothing may be lost or delay it.
 *
 * No logging library: in the compiled binary, importing winston cost 8-17 ms,
 * more than half of a VM-start hook's whole budget. */
export class Log {
  private sinks: Sink[] | undefined;
  constructor(readonly opts: LogOptions) {}

  enabled(level: Level): boolean {
    return ORDER[level] <= ORDER[this.opts.level];
  }

  write(level: Level, message: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    // Every line, to every sink, with its control characters escaped: a
    // value in a message or a field can neither break the line nor hide it.
    const text = escapeControls([message, formatFields(fields)].filter(Boolean).join(" "));
    this.sinks ??= makeSinks(this.opts);
    for (const sink of this.sinks) sink(level, text);
  }

  error(message: string, fields?: Fields): void {
    this.write("error", message, fields);
  }
  warn(message: string, fields?: Fields): void {
    this.write("warn", message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.write("info", message, fields);
  }
  debug(message: string, fields?: Fields): void {
    this.write("debug", message, fields);
  }
}

type Sink = (level: Level, text: string) => void;

function makeSinks(opts: LogOptions): Sink[] {
  const sinks: Sink[] = [(level, text) => writeFd(2, `${opts.tag}: ${level === "info" ? "" : level + ": "}${text}\n`)];
  if (opts.file) {
    const file = opts.file;
    sinks.push((level, text) => {
      try {
        appendFile(file, `${new Date().toISOString()} ${opts.tag}[${process.pid}] ${level}: ${text}\n`);
      } catch {
        // not writable: the line still went to stderr and syslog
      }
    });
  }
  const socketPath = opts.syslogSocket ?? (process.env.OVS_VIF_SYSLOG_SOCKET || "/dev/log");
  // Looked at on the first line only, at the end of a hook's run: nothing
  // is loaded or opened before the hook's own work.
  if (opts.syslog) sinks.push(syslogSink(opts.tag, socketPath));
  return sinks;
}

// ---------------------------------------------------------------------------
// Syslog.

const LOG_DAEMON = 3 << 3;
const SEVERITY: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7 };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** rsyslog's default maximum message size; longer lines are cut. */
const MAX_MESSAGE = 8192;

/** Local time, broken down as struct tm has it (month 0-11). */
export interface LocalTime {
  month: number;
  day: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** The message as logger(1) sends it to a local socket (RFC 3164), without framing. */
export function syslogMessage(tag: string, level: Level, text: string, pid: number, t: LocalTime): string {
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  const stamp = `${MONTHS[t.month]} ${t.day < 10 ? ` ${t.day}` : t.day} ${two(t.hours)}:${two(t.minutes)}:${two(t.seconds)}`;
  return `<${LOG_DAEMON | SEVERITY[level]}>${stamp} ${tag}[${pid}]: ${text}`;
}

function syslogSink(tag: string, socketPath: string): Sink {
  let conn: SyslogConnection | null | undefined;
  let fallback: Sink | undefined;
  return (level, text) => {
    if (conn === undefined) {
      // No socket, no cost (a connect to a missing path just fails).
      const transport = loadTransport();
      if (transport === null && exists(socketPath)) fallback = loggerSink(tag, socketPath);
      conn = transport === null ? null : transport.open(socketPath);
    }
    if (fallback) return fallback(level, text);
    if (conn === null) return; // no syslog listening: dropped
    if (!conn.send(syslogMessage(tag, level, text, process.pid, transport!.localTime()))) conn = null; // a broken stream: the rest is dropped too
  };
}

interface SyslogConnection {
  /** Sends one message (dropped when the socket's queue is full); false when the connection is unusable. */
  send(message: string): boolean;
}

interface SyslogTransport {
  open(path: string): SyslogConnection | null;
  /** Now, in local time, from libc: the first local-time access in JavaScript
   * loads ICU's time zones (measured 5-29 ms in the compiled binary). */
  localTime(): LocalTime;
}

// libc, as <sys/socket.h> and <sys/un.h> define it on Linux.
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;

let transport: SyslogTransport | null | undefined;

/** libc's socket calls; null where they cannot be had. */
function loadTransport(): SyslogTransport | null {
  if (transport !== undefined) return transport;
  transport = null;
  const access = openLibc();
  if (!access) return null;
  const { libc, ptr } = access;
  const encoder = new TextEncoder();
  const timeT = new BigInt64Array(1);
  const tm = new Int32Array(16); // struct tm: sec, min, hour, mday, mon, ... (56 bytes on x86-64 and arm64)
  transport = {
    localTime() {
      timeT[0] = BigInt(Math.floor(Date.now() / 1000));
      libc.localtime_r(ptr(timeT), ptr(tm));
      return { seconds: tm[0]!, minutes: tm[1]!, hours: tm[2]!, day: tm[3]!, month: tm[4]! };
    },
    open(path) {
      const name = encoder.encode(path);
      if (name.length >= SUN_PATH_MAX) return null;
      const addr = new Uint8Array(2 + SUN_PATH_MAX);
      addr[0] = AF_UNIX; // sa_family_t, little-endian
      addr.set(name, 2);
      const addrLen = 2 + name.length + 1;
      // A datagram socket first (rsyslog, journald); a stream socket refuses
      // that connect (EPROTOTYPE) and takes the second.
      for (const type of [SOCK_DGRAM, SOCK_STREAM]) {
        const fd = libc.socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return null;
        if (libc.connect(fd, ptr(addr), addrLen) === 0) {
          const stream = type === SOCK_STREAM;
          return {
            send(message) {
              const bytes = encoder.encode(stream ? `${message}\n` : message);
              const len = Math.min(bytes.length, MAX_MESSAGE);
              if (stream && len < bytes.length) bytes[len - 1] = 0x0a;
              const sent = libc.send(fd, ptr(bytes), len, MSG_DONTWAIT | MSG_NOSIGNAL);
              if (sent === len || !stream) return true; // a datagram that did not fit the queue is just dropped
              libc.close(fd); // part of a line on a stream would garble the next one
              return false;
            },
          };
        }
        libc.close(fd);
      }
      return null;
    },
  };
  return transport;
}

/** Last resort: logger(1), detached, so a slow syslog never delays the hook. */
function loggerSink(tag: string, socketPath: string): Sink {
  return (level, text) => {
    const priority = `daemon.${level === "warn" ? "warning" : level}`;
    try {
      const { spawn } = require("node:child_process") as typeof import("node:child_process");
      const child = spawn("logger", ["-u", socketPath, `--id=${process.pid}`, "-t", tag, "-p", priority, "--", text], { stdio: "ignore", detached: true });
      child.on("error", () => undefined);
      child.unref();
    } catch {
      // no logger: the line still went to stderr
    }
  };
}
