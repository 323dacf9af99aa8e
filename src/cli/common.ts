// What every entry point shares: global options, the OVSDB connection, the
// log, and turning an error into one line and an exit code.
import { writeSync } from "node:fs";
import minimist from "minimist";
import { InputError } from "../errors.ts";
import { Log, levelFrom } from "../log.ts";
import { OvsdbClient, resolveEndpoint } from "../ovsdb/client.ts";
import { Deadline } from "../ovsdb/transact.ts";

export interface GlobalOptions {
  db?: string;
  timeoutMs: number;
  dryRun: boolean;
  wait: boolean;
  verbose: boolean;
}

export const GLOBAL_HELP = `Common options:
  --db unix:PATH     OVSDB socket (default: $OVS_RUNDIR/db.sock, OVS_RUNDIR=/var/run/openvswitch)
  --timeout SECONDS  bound on the whole operation, including ovs-vswitchd
                     (default: $OVS_VIF_TIMEOUT, else 30)
  --no-wait          do not wait for ovs-vswitchd to apply the change
  --dry-run          print the OVSDB transaction that would be sent, change nothing
  --verbose          debug logging (or OVS_VIF_LOG_LEVEL=error|warn|info|debug)`;

export interface ParsedArgs {
  _: string[];
  [key: string]: unknown;
}

export function parseArgs(argv: string[], spec: { string?: string[]; boolean?: string[] }): ParsedArgs {
  const known = new Set(["db", "timeout", "dry-run", "wait", "verbose", "help", ...(spec.string ?? []), ...(spec.boolean ?? [])]);
  const args = minimist(argv, {
    string: ["db", "timeout", ...(spec.string ?? [])],
    boolean: ["dry-run", "verbose", "help", "wait", ...(spec.boolean ?? [])],
    default: { wait: true },
    unknown: (arg: string) => {
      if (arg.startsWith("-")) {
        const name = arg.replace(/^--?(no-)?/, "").replace(/=.*$/, "");
        if (!known.has(name)) throw new InputError("option", arg, "unknown option");
      }
      return true;
    },
  });
  return args as ParsedArgs;
}

export function globalOptions(args: ParsedArgs): GlobalOptions {
  // Hooks get fixed arguments from their caller: OVS_VIF_TIMEOUT sets it there.
  const field = args.timeout === undefined ? "OVS_VIF_TIMEOUT" : "--timeout";
  const raw = args.timeout === undefined ? (process.env.OVS_VIF_TIMEOUT ?? "30") : String(args.timeout);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) || Number(raw) <= 0 || Number(raw) > 3600) throw new InputError(field, raw, "expected seconds, 0 < T <= 3600");
  const opts: GlobalOptions = { timeoutMs: Math.round(Number(raw) * 1000), dryRun: args["dry-run"] === true, wait: args.wait !== false, verbose: args.verbose === true };
  if (typeof args.db === "string") opts.db = args.db;
  return opts;
}

/** A single-valued string option (minimist turns repeats into arrays). */
export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new InputError(`--${name}`, v.join(","), "given more than once");
  return String(v);
}

export function listOpt(args: ParsedArgs, name: string): string[] {
  const v = args[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export async function connectOvsdb(opts: GlobalOptions, deadline: Deadline): Promise<OvsdbClient> {
  return OvsdbClient.connect(resolveEndpoint(opts.db), Math.min(deadline.left(), 5000));
}

export function makeLog(tag: string, verbose: boolean, file?: string): Log {
  const opts = { tag, level: levelFrom(process.env, verbose), syslog: process.env.OVS_VIF_SYSLOG !== "0" } as const;
  return new Log(file ? { ...opts, file } : opts);
}

/** Synchronous stdout/stderr: Bun's process.stdout stream costs ~10 ms to set up. */
export function out(text: string): void {
  writeSync(1, text);
}
export function err(text: string): void {
  writeSync(2, text);
}

export function printTransaction(txn: unknown): void {
  out(JSON.stringify({ method: "transact", params: txn }, null, 2) + "\n");
}
