// `ovs-vif switch plan|apply|show|remove|check|hook`: node-group vSwitches
// and bonds from the declarative spec (src/switch/).
import { InputError } from "../src/errors.ts";
import { parseBridgeName } from "../src/names.ts";
import { deviceExists } from "../src/netdev.ts";
import { resolveEndpoint } from "../src/ovsdb/client.ts";
import { Deadline } from "../src/ovsdb/transact.ts";
import { applySwitches, planOnly, removeSwitch } from "../src/switch/apply.ts";
import { runSwitchHook, type SwitchHookOptions } from "../src/switch/hook.ts";
import { outcomeLines, planLines, selectSwitches } from "../src/switch/session.ts";
import { markedBridges, showSwitch, vswitchdTarget } from "../src/switch/show.ts";
import { loadSpec, specPath } from "../src/switch/spec.ts";
import { connectOvsdb, globalOptions, GLOBAL_HELP, makeLog, parseArgs, printTransaction, stringOpt, out, err } from "../src/cli/common.ts";

export const SWITCH_HELP = `usage: ovs-vif switch plan   [SWITCH...] [--spec FILE] [--node NAME] [--group NAME]
       ovs-vif switch apply  [SWITCH...] [--spec FILE] [--node NAME] [--group NAME]
       ovs-vif switch show   [SWITCH...] [--spec FILE]
       ovs-vif switch remove SWITCH [--spec FILE]
       ovs-vif switch check  [--spec FILE]
       ovs-vif switch hook   [--spec FILE] [--node NAME] [--group NAME]

Node-group vSwitches and NIC bonds from a declarative spec (JSON, version 1):
  plan    print what apply would create (+), change (~) and remove (-) on
          this node; changes nothing
  apply   make it so: one guarded OVSDB transaction per switch; a second
          apply prints "SWITCH: no changes". Only uplinks ovs-vif created
          (external_ids:ovs-vif-uplink) are ever removed, and only when the
          spec no longer lists them; VM and foreign ports are never touched
  show    switches, uplinks, bonds with member and LACP state (ovs-appctl)
  remove  delete a switch ovs-vif applied, if only its own ports remain
  check   validate the spec file and exit
  hook    the Ganeti network-connect / network-disconnect / node-add hook,
          reading GANETI_* from the environment

Without SWITCH, plan/apply/show cover the node group's switches (the spec's
node_groups.GROUP.switches, GROUP from --group or the group listing this
node), else every switch of the spec.

  --spec FILE   spec file (default $OVS_VIF_SWITCHES, else /etc/ovs-vif/switches.json)
  --node NAME   this node's name for per-node overrides (default: hostname --fqdn)
  --group NAME  this node's Ganeti node group, for per-group overrides and lists

${GLOBAL_HELP}`;

export async function switchCommand(argv: string[], tag: string): Promise<number> {
  const args = parseArgs(argv, { string: ["spec", "node", "group"] });
  const [action, ...names] = args._.map(String);
  if (args.help || action === "help") {
    out(SWITCH_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const spec = stringOpt(args, "spec");
  const node = stringOpt(args, "node");
  const group = stringOpt(args, "group");
  for (const n of names) parseBridgeName("switch", n);
  switch (action) {
    case "plan":
    case "apply":
      return planOrApply(action, names, { spec, node, group, opts, tag });
    case "show":
      return show(names, { spec, opts });
    case "remove":
      if (names.length !== 1) throw new InputError("remove", names.join(" "), "expected exactly one SWITCH");
      return remove(names[0]!, { spec, opts, tag });
    case "check": {
      if (names.length > 0) throw new InputError("argument", names[0]!, "unexpected argument");
      const s = loadSpec(specPath(spec))!;
      out(`${s.file}: ok (${s.switches.length} switch${s.switches.length === 1 ? "" : "es"}: ${s.switches.map((x) => x.name).join(", ") || "none"})\n`);
      return 0;
    }
    case "hook": {
      if (names.length > 0) throw new InputError("argument", names[0]!, "unexpected argument");
      const hookOpts: SwitchHookOptions = { timeoutMs: opts.timeoutMs, wait: opts.wait, verbose: opts.verbose };
      if (spec !== undefined) hookOpts.spec = spec;
      if (node !== undefined) hookOpts.node = node;
      if (group !== undefined) hookOpts.group = group;
      if (opts.db !== undefined) hookOpts.db = opts.db;
      if (opts.dryRun) hookOpts.dryRun = printTransaction;
      return runSwitchHook(process.env, hookOpts);
    }
    case undefined:
      err(SWITCH_HELP + "\n");
      return 2;
    default:
      throw new InputError("action", action, "expected plan, apply, show, remove, check or hook");
  }
}

type Opts = ReturnType<typeof globalOptions>;

async function planOrApply(action: "plan" | "apply", names: string[], a: { spec?: string | undefined; node?: string | undefined; group?: string | undefined; opts: Opts; tag: string }): Promise<number> {
  const spec = loadSpec(specPath(a.spec))!;
  const sel = await selectSwitches(spec, names, { ...(a.node !== undefined ? { node: a.node } : {}), ...(a.group !== undefined ? { group: a.group } : {}) });
  if (sel.note) out(`${sel.note}\n`);
  if (sel.switches.length === 0) return 0;
  const deadline = new Deadline(a.opts.timeoutMs);
  const db = await connectOvsdb(a.opts, deadline);
  const log = makeLog(a.tag, a.opts.verbose);
  try {
    if (action === "plan") {
      for (const sw of sel.switches) {
        const plan = await planOnly(db, sw, { deadline, deviceExists });
        out(planLines(plan).join("\n") + "\n");
      }
      return 0;
    }
    const outcomes = await applySwitches(db, sel.switches, { deadline, wait: a.opts.wait, deviceExists, ...(a.opts.dryRun ? { dryRun: printTransaction } : {}) });
    if (a.opts.dryRun) return 0;
    let failed = false;
    for (const o of outcomes) {
      out(outcomeLines(o).join("\n") + "\n");
      if (o.plan.changes.length > 0) log.info(`switch apply ${o.plan.name}: ${o.plan.changes.join("; ")}`);
      for (const f of o.failures) log.error(`switch apply ${o.plan.name}: ${f}`);
      if (o.failures.length > 0) failed = true;
    }
    return failed ? 1 : 0;
  } finally {
    db.close();
    await log.close();
  }
}

async function show(names: string[], a: { spec?: string | undefined; opts: Opts }): Promise<number> {
  // The spec is optional here: show works on what OVSDB holds.
  const spec = loadSpec(specPath(a.spec), true);
  const deadline = new Deadline(a.opts.timeoutMs);
  const db = await connectOvsdb(a.opts, deadline);
  try {
    let list = names;
    if (list.length === 0) {
      const set = new Set([...(spec?.switches.map((s) => s.name) ?? []), ...(await markedBridges(db, deadline))]);
      list = [...set];
    }
    if (list.length === 0) {
      out("no switches (none in the spec, none applied by ovs-vif on this node)\n");
      return 0;
    }
    const endpoint = resolveEndpoint(a.opts.db);
    const target = vswitchdTarget(process.env, endpoint.kind === "unix" ? endpoint.path : undefined);
    for (const n of list) {
      const s = spec?.switches.find((x) => x.name === n);
      const note = spec ? (s ? (s.managed ? "in spec (managed)" : "in spec") : "not in spec") : undefined;
      out(await showSwitch(db, n, target, deadline, note));
    }
    return 0;
  } finally {
    db.close();
  }
}

async function remove(name: string, a: { spec?: string | undefined; opts: Opts; tag: string }): Promise<number> {
  const spec = loadSpec(specPath(a.spec), true);
  const managed = spec?.switches.find((s) => s.name === name)?.managed === true;
  const deadline = new Deadline(a.opts.timeoutMs);
  const db = await connectOvsdb(a.opts, deadline);
  const log = makeLog(a.tag, a.opts.verbose);
  try {
    const r = await removeSwitch(db, name, { deadline, wait: a.opts.wait, requireMarker: !managed, ...(a.opts.dryRun ? { dryRun: printTransaction } : {}) });
    if (a.opts.dryRun && r.remaining.length === 0) return 0;
    if (!r.present) {
      out(`${name}: not present on this node\n`);
      return 0;
    }
    if (r.remaining.length > 0) {
      const list = r.remaining.map((p) => `${p.name} (${p.kind === "instance" ? "VM port" : "foreign port"})`).join(", ");
      err(`${name}: not removed: ports remain on it that ovs-vif does not own: ${list}\n`);
      return 1;
    }
    out(`${name}: removed\n`);
    log.info(`switch remove ${name}: removed`);
    return 0;
  } finally {
    db.close();
    await log.close();
  }
}
