// One line per action to stderr, syslog (daemon facility, as Xen's scripts
// log) and, for the Xen hook, /var/log/xen/xen-hotplug.log when writable.
// Records are formatted here; winston routes them. winston is loaded on the
// first record, not at start-up.
import { appendFileSync, existsSync, writeSync } from "node:fs";
import { spawn } from "node:child_process";

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

interface Record_ {
  level: Level;
  text: string;
}

/** Collects records and hands them to winston at close(): the winston import
 * is paid once, after the work, never on paths that log nothing. */
export class Log {
  private readonly records: Record_[] = [];
  constructor(readonly opts: LogOptions) {}

  enabled(level: Level): boolean {
    return ORDER[level] <= ORDER[this.opts.level];
  }

  write(level: Level, message: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    this.records.push({ level, text: [message, formatFields(fields)].filter(Boolean).join(" ") });
  }

  error(message: string, fields?: Fields): void {
    this.write("error", message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.write("info", message, fields);
  }
  debug(message: string, fields?: Fields): void {
    this.write("debug", message, fields);
  }

  async close(): Promise<void> {
    if (this.records.length === 0) return;
    const records = this.records.splice(0);
    const winston = (await import("winston")).default;
    const logger = winston.createLogger({
      level: this.opts.level,
      format: winston.format.printf((info) => String(info.message)),
      transports: makeTransports((winston as unknown as { Transport: TransportClass }).Transport, this.opts) as never,
    });
    for (const r of records) logger.log(r.level, r.text);
    logger.close();
  }
}

interface Info {
  level: string;
  message: unknown;
}
// winston.Transport (winston-transport's TransportStream), typed by what we use.
type TransportClass = new (opts?: object) => { log?(info: Info, next: () => void): void };

// Synchronous transports: a hook exits right after logging, and winston's
// stream-based File transport can lose the last lines at exit.
function makeTransports(Transport: TransportClass, opts: LogOptions): InstanceType<TransportClass>[] {
  const prefix = (level: string) => `${opts.tag}: ${level === "info" ? "" : level + ": "}`;
  class Stderr extends Transport {
    override log(info: Info, next: () => void): void {
      writeSync(2, `${prefix(info.level)}${String(info.message)}\n`);
      next();
    }
  }
  const out: InstanceType<TransportClass>[] = [new Stderr()];
  if (opts.file) {
    const file = opts.file;
    class File extends Transport {
      override log(info: Info, next: () => void): void {
        try {
          appendFileSync(file, `${new Date().toISOString()} ${opts.tag}[${process.pid}] ${info.level}: ${String(info.message)}\n`);
        } catch {
          // not writable: the line still went to stderr and syslog
        }
        next();
      }
    }
    out.push(new File());
  }
  if (opts.syslog && existsSync("/dev/log")) {
    class Syslog extends Transport {
      override log(info: Info, next: () => void): void {
        // logger(1) speaks whatever /dev/log is (datagram or stream);
        // detached, so a slow syslog never delays the hook.
        const priority = `daemon.${info.level === "warn" ? "warning" : info.level}`;
        const child = spawn("logger", ["-t", opts.tag, "-p", priority, "--", String(info.message)], { stdio: "ignore", detached: true });
        child.on("error", () => undefined);
        child.unref();
        next();
      }
    }
    out.push(new Syslog());
  }
  return out;
}
