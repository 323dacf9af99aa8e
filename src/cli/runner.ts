// The one way every command and hook runs: parse the arguments, answer
// --help, validate the global options, make the log, run, and turn any
// failure into one line (the only place that formats an error), with a
// stack on OVS_VIF_DEBUG_STACK=1 and, for Xen, the hotplug-error report.
import { writeFd } from "../files.ts";
export { exitProcess } from "../libc.ts";
import { exitCodeOf, formatError } from "../errors.ts";
import { makeLog, type Fields, type Log } from "../log.ts";
import { makeContext, type GlobalOptions, type RunContext } from "../context.ts";
import { globalOptions, parseArgs, type OptionSpec, type ParsedArgs } from "./args.ts";

/** A hook location of the role registry (src/roles.ts), as main hands it over. */
export interface HookLocation {
  integration: string;
  path: string;
  kind?: string;
}

export interface Invocation {
  args: ParsedArgs;
  opts: GlobalOptions;
  log: Log;
  ctx: RunContext;
  env: NodeJS.ProcessEnv;
  tag: string;
  /** What the failure line says before and after the error, once known
   * (Xen: "online failed: ..." and device=vif5.0). */
  failure: { prefix?: string; fields?: Fields };
  /** Every hook location (doctor checks them): the registry's, from main. */
  hookLocations: readonly HookLocation[];
}

export interface EntryPoint {
  /** Log tag and the prefix of the failure line. */
  tag: string;
  help: string;
  /** Options besides the global ones. */
  options?: OptionSpec;
  /** An extra log file (Xen's xen-hotplug.log). */
  logFile?: (env: NodeJS.ProcessEnv) => string | undefined;
  /** Exit code, or throws. */
  run(inv: Invocation): Promise<number>;
  /** Also told of a failure (not in a dry run): Xen's hotplug-error. Must not throw. */
  reportFailure?(message: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void>;
}

function debugStack(err: unknown, env: NodeJS.ProcessEnv): void {
  if (env.OVS_VIF_DEBUG_STACK !== "1" || !(err instanceof Error) || !err.stack) return;
  let e: unknown = err;
  const lines: string[] = [];
  while (e instanceof Error) {
    lines.push(e.stack ?? e.message);
    e = e.cause;
  }
  writeFd(2, `${lines.join("\ncaused by: ")}\n`);
}

/** Runs an entry point; never throws; returns the exit code. */
export async function runEntry(
  entry: EntryPoint,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  hookLocations: readonly HookLocation[] = [],
): Promise<number> {
  const failure: Invocation["failure"] = {};
  let log: Log | undefined;
  let dryRun = false;
  try {
    const args = parseArgs(argv, entry.options);
    if (args.flag("help")) {
      writeFd(1, entry.help + "\n");
      return 0;
    }
    dryRun = args.flag("dry-run");
    log = makeLog(entry.tag, args.flag("verbose"), entry.logFile?.(env), env, dryRun);
    const opts = globalOptions(args, env);
    return await entry.run({ args, opts, log, ctx: makeContext(opts, log), env, tag: entry.tag, failure, hookLocations });
  } catch (err) {
    const message = formatError(err);
    (log ?? makeLog(entry.tag, false, entry.logFile?.(env), env)).error([failure.prefix, message].filter(Boolean).join(": "), failure.fields);
    debugStack(err, env);
    if (entry.reportFailure && !dryRun) await entry.reportFailure(message, argv, env);
    return exitCodeOf(err);
  }
}
