// One line per action to stderr, syslog (daemon facility, as Xen's scripts
// log) and, for the Xen hook, /var/log/xen/xen-hotplug.log when writable.
import { appendFileSync, existsSync, writeSync } from "node:fs";

export type Level = "error" | "warn" | "info" | "debug";
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LogOptions {
  /** Program name for syslog and the line prefix (vif-openvswitch, ovs-vif, ...). */
  tag: string;
  level: Level;
  /** Extra file to append to (xen-hotplug.log). */
  file?: string;
  syslog: boolean;
}

export function levelFrom(env: NodeJS.ProcessEnv, verbose: boolean): Level {
  if (verbose) return "debug";
  const v = env.OVS_VIF_LOG_LEVEL?.toLowerCase();
  return v === "error" || v === "warn" || v === "info" || v === "debug" ? v : "info";
}

export type Fields = Record<string, string | number | undefined>;

/** A log for one run: level from --verbose / OVS_VIF_LOG_LEVEL, syslog unless OVS_VIF_SYSLOG=0. */
export function makeLog(tag: string, verbose: boolean, file?: string, env: NodeJS.ProcessEnv = process.env): Log {
  const opts: LogOptions = { tag, level: levelFrom(env, verbose), syslog: env.OVS_VIF_SYSLOG !== "0" };
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
    const text = [message, formatFields(fields)].filter(Boolean).join(" ");
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
  const sinks: Sink[] = [(level, text) => writeSync(2, `${opts.tag}: ${level === "info" ? "" : level + ": "}${text}\n`)];
  if (opts.file) {
    const file = opts.file;
    sinks.push((level, text) => {
      try {
        appendFileSync(file, `${new Date().toISOString()} ${opts.tag}[${process.pid}] ${level}: ${text}\n`);
      } catch {
        // not writable: the line still went to stderr and syslog
      }
    });
  }
  if (opts.syslog && existsSync("/dev/log")) {
    sinks.push((level, text) => {
      // logger(1) speaks whatever /dev/log is (datagram or stream);
      // detached, so a slow syslog never delays the hook.
      const priority = `daemon.${level === "warn" ? "warning" : level}`;
      const { spawn } = require("node:child_process") as typeof import("node:child_process");
      const child = spawn("logger", ["-t", opts.tag, "-p", priority, "--", text], { stdio: "ignore", detached: true });
      child.on("error", () => undefined);
      child.unref();
    });
  }
  return sinks;
}
