// The command line of every command and hook. Every value stays the exact
// string typed: nothing is turned into a number here (the project's own
// validators parse it, naming the option). Unknown options, options without
// their value, values for flags, repeated single-valued options and surplus
// arguments are errors, each one line naming the option.
//
// Not minimist: it turns `0x10` into 16 and `1e3` into 1000 unless told
// otherwise, and takes `--vlan --rate 5` as an empty --vlan. Not node:util
// parseArgs: Bun's has no `--no-` options. Measured in the compiled binary,
// this parser costs nothing above the runtime's start (DEVELOPERS.md).
import type { GlobalOptions } from "../context.ts";
import { InputError, UsageError } from "../errors.ts";
import { parseNodeName } from "../names.ts";
import { resolveEndpoint } from "../remote.ts";

/** string: one value; list: repeatable; flag: no value. */
export type OptionKind = "string" | "list" | "flag";
export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** Options every command and hook takes. */
export const GLOBAL_OPTIONS: OptionSpec = {
  db: "string",
  timeout: "string",
  "no-wait": "flag",
  "dry-run": "flag",
  verbose: "flag",
  help: "flag",
};

export const GLOBAL_HELP = `Common options:
  --db unix:PATH     OVSDB socket, or tcp:HOST:PORT (default: $OVS_RUNDIR/db.sock,
                     OVS_RUNDIR=/var/run/openvswitch)
  --timeout SECONDS  bound on the whole operation, including ovs-vswitchd
                     (default: $OVS_VIF_TIMEOUT, else 30)
  --no-wait          do not wait for ovs-vswitchd to apply the change
  --dry-run          print the OVSDB transaction that would be sent, change nothing
  --verbose          debug logging (or OVS_VIF_LOG_LEVEL=error|warn|info|debug)`;

export class ParsedArgs {
  readonly positionals: string[] = [];
  /** Options in the order given, with their values ("" for flags). */
  readonly given: { name: string; value: string }[] = [];
  private readonly values = new Map<string, string[]>();

  add(name: string, value: string): void {
    this.given.push({ name, value });
    const list = this.values.get(name);
    if (list) list.push(value);
    else this.values.set(name, [value]);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  list(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  flag(name: string): boolean {
    return this.values.has(name);
  }

  /** Refuses options that this mode of a command does not take (its modes
   * share one parse); the message lists what the mode takes. */
  onlyOptions(allowed: readonly string[], context: string): void {
    for (const { name, value } of this.given) {
      if (name in GLOBAL_OPTIONS || allowed.includes(name)) continue;
      const takes = allowed.length > 0 ? `${allowed.map((o) => `--${o}`).join(", ")} and the common options` : "only the common options";
      throw new UsageError(`--${name}`, value, `not an option of ${context} (it takes ${takes})`);
    }
  }

  /** Positional i (0-based) or a usage error naming it. */
  required(i: number, name: string, what = "required"): string {
    const v = this.positionals[i];
    if (v === undefined) throw new UsageError(name, "", what);
    return v;
  }

  /** No positional beyond the first `count`. */
  atMost(count: number, context: string): void {
    const extra = this.positionals[count];
    if (extra !== undefined) throw new UsageError(`argument ${count + 1}`, extra, `unexpected argument (${context})`);
  }
}

function suggestion(name: string, known: string[]): string {
  const near = known.filter((k) => k.startsWith(name.slice(0, 3)) || name.startsWith(k.slice(0, 3)));
  return near.length > 0 && near.length <= 3 ? ` (did you mean ${near.map((k) => `--${k}`).join(" or ")}?)` : "";
}

/** Parses argv against `spec` (plus the global options). */
export function parseArgs(argv: readonly string[], spec: OptionSpec = {}): ParsedArgs {
  const all: Record<string, OptionKind> = { ...GLOBAL_OPTIONS, ...spec };
  const out = new ParsedArgs();
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || arg === "-" || !arg.startsWith("-")) {
      out.positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg === "-h") {
      out.add("help", "");
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError("option", arg, "unknown option (options are --NAME)");
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const kind = all[name];
    if (kind === undefined) throw new UsageError("option", arg, `unknown option${suggestion(name, Object.keys(all))}`);
    if (kind === "flag") {
      if (eq >= 0) throw new UsageError(`--${name}`, arg.slice(eq + 1), "takes no value");
      if (!out.has(name)) out.add(name, "");
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--${name}`, "", "missing value");
      if (next.startsWith("-") && next !== "-") {
        throw new UsageError(`--${name}`, "", `missing value (${JSON.stringify(next)} is an option; write --${name}=VALUE for a value that starts with '-')`);
      }
      value = next;
      i++;
    }
    if (value === "") throw new UsageError(`--${name}`, value, "empty value");
    if (kind === "string" && out.has(name)) throw new UsageError(`--${name}`, value, `given more than once (first ${JSON.stringify(out.string(name))})`);
    out.add(name, value);
  }
  return out;
}

export function globalOptions(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): GlobalOptions {
  // Hooks get fixed arguments from their caller: OVS_VIF_TIMEOUT sets it there.
  const given = args.string("timeout");
  const field = given === undefined ? "OVS_VIF_TIMEOUT" : "--timeout";
  const raw = given ?? env.OVS_VIF_TIMEOUT ?? "30";
  if (!/^[0-9]{1,4}(\.[0-9]{1,3})?$/.test(raw) || Number(raw) <= 0 || Number(raw) > 3600) throw new InputError(field, raw, "expected seconds, 0 < T <= 3600");
  const opts: GlobalOptions = {
    timeoutMs: Math.round(Number(raw) * 1000),
    dryRun: args.flag("dry-run"),
    wait: !args.flag("no-wait"),
    verbose: args.flag("verbose"),
  };
  const db = args.string("db");
  if (db !== undefined) {
    // Checked before the command runs: a remote that cannot be used fails here, naming --db.
    resolveEndpoint(db, env);
    opts.db = db;
  }
  return opts;
}

/** This node's Ganeti name: --node, else OVS_VIF_NODE_NAME, checked as a
 * node name before anything is asked of Ganeti (undefined: hostname --fqdn). */
export function nodeNameOption(args: ParsedArgs, env: NodeJS.ProcessEnv): string | undefined {
  const raw = args.string("node");
  const node = raw ?? env.OVS_VIF_NODE_NAME;
  return node === undefined ? undefined : parseNodeName(raw !== undefined ? "--node" : "OVS_VIF_NODE_NAME", node);
}
