// `ovs-vif switch plan|apply|show|remove|check|hook` (src/actions/switch.ts;
// the hook: src/switch/hook.ts).
import { GLOBAL_HELP, type ParsedArgs } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { out } from "../src/context.ts";
import { UsageError } from "../src/errors.ts";
import { checkSpec, planOrApply, removeSwitchNamed, showSwitches, type Where } from "../src/actions/switch.ts";
import { parseBridgeName, parseGanetiObjectName, parseNodeName } from "../src/names.ts";
import { runSwitchHook, type SwitchHookOptions } from "../src/switch/hook.ts";

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
      return showSwitches(names, w, ctx);
    case "remove":
      args.onlyOptions(["spec"], "switch remove");
      if (names.length !== 1) throw new UsageError("remove", names.join(" "), "expected exactly one SWITCH");
      return removeSwitchNamed(names[0]!, w, ctx);
    case "check": {
      args.onlyOptions(["spec"], "switch check");
      args.atMost(1, "switch check takes no SWITCH");
      return checkSpec(w);
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
