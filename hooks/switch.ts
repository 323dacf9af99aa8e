// `ovs-vif switch plan|apply|show|remove|check|hook`: node-group vSwitches
// and bonds from the declarative spec (src/switch/).
import { GLOBAL_HELP, type ParsedArgs } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { out, withOvsdb, type RunContext, applyOf } from "../src/context.ts";
import { StateError, UsageError } from "../src/errors.ts";
import { parseBridgeName, parseGanetiObjectName, parseNodeName } from "../src/names.ts";
import { deviceExists } from "../src/netdev.ts";
import { resolveEndpoint } from "../src/ovsdb/client.ts";
import { applySwitches, planOnly, removeSwitch } from "../src/switch/apply.ts";
import { runSwitchHook, type SwitchHookOptions } from "../src/switch/hook.ts";
import { outcomeLines, planLines, selectSwitches } from "../src/switch/session.ts";
import { markedBridges, showSwitch, vswitchdTarget } from "../src/switch/show.ts";

import { loadSpec } from "../src/switch/spec-validate.ts";
import { specPath } from "../src/paths.ts";

const HELP = `usage: ovs-vif switch plan   [SWITCH...] [--spec FILE] [--node NAME] [--group NAME]
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

interface Where {
  spec?: string;
  node?: string;
  group?: string;
}

function where(args: ParsedArgs): Where {
  const w: Where = {};
  const spec = args.string("spec");
  const node = args.string("node");
  const group = args.string("group");
  if (spec !== undefined) w.spec = spec;
  if (node !== undefined) w.node = parseNodeName("--node", node);
  if (group !== undefined) w.group = parseGanetiObjectName("--group", group);
  return w;
}

async function planOrApply(action: "plan" | "apply", names: string[], w: Where, ctx: RunContext): Promise<number> {
  const spec = loadSpec(specPath(w.spec))!;
  const sel = await selectSwitches(spec, names, { ...(w.node !== undefined ? { node: w.node } : {}), ...(w.group !== undefined ? { group: w.group } : {}) });
  if (sel.note) out(`${sel.note}\n`);
  if (sel.switches.length === 0) return 0;
  return withOvsdb(ctx, async (db) => {
    if (action === "plan") {
      for (const sw of sel.switches) out(planLines(await planOnly(db, sw, { deadline: ctx.deadline, deviceExists })).join("\n") + "\n");
      return 0;
    }
    const outcomes = await applySwitches(db, sel.switches, { ...applyOf(ctx), deviceExists });
    if (ctx.dryRun) return 0;
    let failed = false;
    for (const o of outcomes) {
      out(outcomeLines(o).join("\n") + "\n");
      if (o.plan.changes.length > 0) ctx.log.info(`switch apply ${o.plan.name}: ${o.plan.changes.join("; ")}`);
      for (const f of o.failures) ctx.log.error(`switch apply ${o.plan.name}: ${f}`);
      if (o.failures.length > 0) failed = true;
    }
    return failed ? 1 : 0;
  });
}

async function show(names: string[], w: Where, ctx: RunContext): Promise<number> {
  // The spec is optional here: show works on what OVSDB holds.
  const spec = loadSpec(specPath(w.spec), true);
  return withOvsdb(ctx, async (db) => {
    let list = names;
    if (list.length === 0) list = [...new Set([...(spec?.switches.map((s) => s.name) ?? []), ...(await markedBridges(db, ctx.deadline))])];
    if (list.length === 0) {
      out("no switches (none in the spec, none applied by ovs-vif on this node)\n");
      return 0;
    }
    const endpoint = resolveEndpoint(ctx.opts.db);
    const target = vswitchdTarget(process.env, endpoint.kind === "unix" ? endpoint.path : undefined);
    for (const n of list) {
      const s = spec?.switches.find((x) => x.name === n);
      const note = spec ? (s ? (s.managed ? "in spec (managed)" : "in spec") : "not in spec") : undefined;
      out(await showSwitch(db, n, target, ctx.deadline, note));
    }
    return 0;
  });
}

async function remove(name: string, w: Where, ctx: RunContext): Promise<number> {
  const spec = loadSpec(specPath(w.spec), true);
  const managed = spec?.switches.find((s) => s.name === name)?.managed === true;
  return withOvsdb(ctx, async (db) => {
    const r = await removeSwitch(db, name, { ...applyOf(ctx), requireMarker: !managed });
    if (ctx.dryRun && r.remaining.length === 0) return 0;
    if (!r.present) {
      out(`${name}: not present on this node\n`);
      return 0;
    }
    if (r.remaining.length > 0) {
      const list = r.remaining.map((p) => `${p.name} (${p.kind === "instance" ? "VM port" : "foreign port"})`).join(", ");
      throw new StateError("switch", name, `not removed: ports remain on it that ovs-vif does not own: ${list}`);
    }
    out(`${name}: removed\n`);
    ctx.log.info(`switch remove ${name}: removed`);
    return 0;
  });
}

async function run({ args, ctx, env }: Invocation): Promise<number> {
  const [action, ...names] = args.positionals;
  const w = where(args);
  for (const n of names) parseBridgeName("switch", n);
  switch (action) {
    case "plan":
    case "apply":
      return planOrApply(action, names, w, ctx);
    case "show":
      args.onlyOptions(["spec"], "switch show");
      return show(names, w, ctx);
    case "remove":
      args.onlyOptions(["spec"], "switch remove");
      if (names.length !== 1) throw new UsageError("remove", names.join(" "), "expected exactly one SWITCH");
      return remove(names[0]!, w, ctx);
    case "check": {
      args.onlyOptions(["spec"], "switch check");
      args.atMost(1, "switch check takes no SWITCH");
      const s = loadSpec(specPath(w.spec))!;
      out(`${s.file}: ok (${s.switches.length} switch${s.switches.length === 1 ? "" : "es"}: ${s.switches.map((x) => x.name).join(", ") || "none"})\n`);
      return 0;
    }
    case "hook": {
      args.atMost(1, "switch hook reads GANETI_* from the environment");
      const hookOpts: SwitchHookOptions = { ...w };
      return runSwitchHook(env, ctx, hookOpts);
    }
    case undefined:
      out(HELP + "\n");
      return 2;
    default:
      throw new UsageError("action", action, "expected plan, apply, show, remove, check or hook");
  }
}

export const switchCommand: EntryPoint = { tag: "ovs-vif switch", help: HELP, options: { spec: "string", node: "string", group: "string" }, run };
