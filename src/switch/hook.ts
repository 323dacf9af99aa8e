// Ganeti network hooks for switches. Ganeti runs network-connect and
// network-disconnect hooks on every node of the node group, and node-add
// post hooks on the new node: Ganeti is the distribution engine.
//
//   network-connect post, GANETI_GROUP_NETWORK_MODE=openvswitch:
//     apply the spec's switch GANETI_GROUP_NETWORK_LINK (a bare bridge when
//     the spec has no entry for it).
//   network-disconnect post: remove the switch GANETI_GROUP_NETWORK_LINK
//     when the spec marks it managed, no longer lists it for the group
//     (node_groups), and no port other than ovs-vif's own remains on it;
//     with ports remaining, refuse, naming them, and exit 1.
//   node-add post, on the new node only: apply every switch of its group
//     (node_groups in the spec).
//   pre phases, other hook paths, other modes: nothing, exit 0.
//
// What Ganeti 3.0 sends (captured from a real cluster, see
// test/fixtures/ganeti-hooks/network-*.env): network-connect and
// network-disconnect both carry GANETI_GROUP_NAME and
// GANETI_GROUP_NETWORK_MODE/_LINK/_VLAN (plus GANETI_POST_GROUP_* copies in
// the post phase); neither names the network (no GANETI_NETWORK_*).
import { connectOvsdb, type RunContext, applyOf } from "../context.ts";
import { InputError, StateError } from "../errors.ts";
import { SWITCH_HOOK_PATHS } from "../ganeti/hook-env.ts";
import type { Log } from "../log.ts";
import { parseBridgeName, parseNodeName } from "../names.ts";

import type { OvsdbClient } from "../ovsdb/client.ts";
import { applySwitches, removeSwitch } from "./apply.ts";
import { localNodeName } from "../ganeti/node.ts";
import { needsNodeName, outcomeLines } from "./session.ts";
import { checkDisjoint, groupOfNode, nodeMatches, resolveSwitch, switchForNetwork, type DesiredSwitch } from "./spec-resolve.ts";
import type { Spec } from "./spec-types.ts";

import { loadSpec } from "./spec-validate.ts";
import { specPath, defaultsPath } from "../paths.ts";

/** Is this Ganeti hook invocation one for runSwitchHook? */
export function isSwitchHook(env: NodeJS.ProcessEnv): boolean {
  return (SWITCH_HOOK_PATHS as readonly string[]).includes(env.GANETI_HOOKS_PATH ?? "");
}

/** The variables of a Ganeti hook environment the switch hooks use; empty
 * values are absent. */
export interface SwitchHookEnv {
  path: string;
  /** "pre" or "post" (lower-cased). */
  phase: string;
  /** GANETI_GROUP_NAME (network hooks). */
  group?: string;
  /** GANETI_GROUP_NETWORK_MODE: openvswitch, bridged, routed. */
  mode?: string;
  /** GANETI_GROUP_NETWORK_LINK: the switch (unvalidated). */
  link?: string;
  /** GANETI_GROUP_NETWORK_VLAN. */
  vlan?: string;
  /** GANETI_NETWORK_NAME: not sent by Ganeti 3.0's network hooks; used when present. */
  network?: string;
  /** GANETI_NODE_NAME (node-add). */
  node?: string;
}

export function readSwitchHookEnv(env: NodeJS.ProcessEnv): SwitchHookEnv {
  const v = (name: string) => {
    const x = env[name];
    return x === undefined || x === "" ? undefined : x;
  };
  const out: SwitchHookEnv = { path: env.GANETI_HOOKS_PATH ?? "", phase: (env.GANETI_HOOKS_PHASE ?? "").toLowerCase() };
  const fields: [keyof SwitchHookEnv, string][] = [
    ["group", "GANETI_GROUP_NAME"],
    ["mode", "GANETI_GROUP_NETWORK_MODE"],
    ["link", "GANETI_GROUP_NETWORK_LINK"],
    ["vlan", "GANETI_GROUP_NETWORK_VLAN"],
    ["network", "GANETI_NETWORK_NAME"],
    ["node", "GANETI_NODE_NAME"],
  ];
  for (const [key, name] of fields) {
    const x = v(name);
    if (x !== undefined) out[key] = x;
  }
  return out;
}

export interface SwitchHookOptions {
  /** Spec file (default $OVS_VIF_SWITCHES, then /etc/ovs-vif/switches.json). */
  spec?: string;
  /** This node's name (default `hostname --fqdn`). */
  node?: string;
  /** Node group (default GANETI_GROUP_NAME, then the spec's node_groups membership). */
  group?: string;
}

/** Runs the switch part of a Ganeti hook; returns the exit code. */
export async function runSwitchHook(env: NodeJS.ProcessEnv, run: RunContext, opts: SwitchHookOptions = {}): Promise<number> {
  const hookEnv = readSwitchHookEnv(env);
  const { path, phase } = hookEnv;
  if (!isSwitchHook(env)) {
    run.log.debug(`hook ${path || "(GANETI_HOOKS_PATH unset)"}: not a switch hook, nothing to do`);
    return 0;
  }
  if (phase !== "post") {
    run.log.debug(`${path} ${phase || "(no phase)"}: switches act in the post phase only`);
    return 0;
  }
  const ctx: SwitchHookRun = { env, hookEnv, opts, run, log: run.log };
  if (path === "network-connect") return networkConnect(ctx);
  if (path === "network-disconnect") return networkDisconnect(ctx);
  return nodeAdd(ctx);
}

interface SwitchHookRun {
  env: NodeJS.ProcessEnv;
  hookEnv: SwitchHookEnv;
  opts: SwitchHookOptions;
  run: RunContext;
  log: Log;
}

function specFile(ctx: SwitchHookRun): string {
  return specPath(ctx.opts.spec, ctx.env);
}

async function connect(ctx: SwitchHookRun): Promise<OvsdbClient> {
  return connectOvsdb(ctx.run);
}

async function applyAndReport(ctx: SwitchHookRun, what: string, switches: DesiredSwitch[]): Promise<number> {
  const db = await connect(ctx);
  try {
    const outcomes = await applySwitches(db, switches, applyOf(ctx.run));
    if (ctx.run.dryRun) return 0;
    let failed = false;
    for (const o of outcomes) {
      for (const line of outcomeLines(o)) ctx.log.info(`${what}: ${line}`);
      if (o.failures.length > 0) failed = true;
    }
    if (failed) ctx.log.error(`${what}: ovs-vswitchd could not attach all of it (see above)`);
    return failed ? 1 : 0;
  } finally {
    db.close();
  }
}

async function networkConnect(ctx: SwitchHookRun): Promise<number> {
  const { mode: m, network } = ctx.hookEnv;
  const net = network ? `network ${network} ` : "";
  if (m !== "openvswitch") {
    ctx.log.debug(`network-connect: ${net}mode ${m ?? "(unset)"}: not an Open vSwitch network, nothing to do`);
    return 0;
  }
  const raw = ctx.hookEnv.link ?? "";
  if (raw === "") throw new InputError("GANETI_GROUP_NETWORK_LINK", raw, "required for mode openvswitch (the switch to create)");
  const link = parseBridgeName("GANETI_GROUP_NETWORK_LINK", raw);
  const spec = loadSpec(specFile(ctx), true);
  const group = ctx.opts.group ?? ctx.hookEnv.group;
  const node = ctx.opts.node ?? (needsNodeName(spec, group !== undefined) ? await localNodeName() : undefined);
  const where = { ...(node !== undefined ? { node } : {}), ...(group !== undefined ? { group } : {}) };
  const desired = resolveSwitch(spec, link, where);
  const origin = desired.origin === "bare" ? (spec ? `not in ${spec.file}: bare bridge` : `no spec file ${specFile(ctx)}: bare bridge`) : `from ${spec!.file}`;
  ctx.log.info(
    `network-connect: ${net}group ${group ?? "(unknown)"} link ${link}${ctx.hookEnv.vlan ? ` vlan ${ctx.hookEnv.vlan}` : ""}: switch ${link} (${origin})`,
  );
  return applyAndReport(ctx, "network-connect", [desired]);
}

async function networkDisconnect(ctx: SwitchHookRun): Promise<number> {
  const { mode: m, network } = ctx.hookEnv;
  // Ganeti 3.0 sends the group's mode and link here as for connect; without
  // a link (another sender), the switch whose spec `networks` lists
  // GANETI_NETWORK_NAME, when that is set.
  if (m !== undefined && m !== "openvswitch") {
    ctx.log.debug(`network-disconnect: mode ${m}: not an Open vSwitch network, nothing to do`);
    return 0;
  }
  const spec = loadSpec(specFile(ctx), true);
  const raw = ctx.hookEnv.link || switchForNetwork(spec, network);
  if (!raw) {
    ctx.log.info(
      `network-disconnect: ${network ? `network ${network}` : "network"}: no GANETI_GROUP_NETWORK_LINK and no switch in ${specFile(ctx)} lists it under networks: nothing removed`,
    );
    return 0;
  }
  const link = parseBridgeName("GANETI_GROUP_NETWORK_LINK", raw);
  const sw = spec?.switches.find((s) => s.name === link);
  if (!sw?.managed) {
    ctx.log.info(`network-disconnect: ${link}: not marked managed in ${specFile(ctx)}: left in place`);
    return 0;
  }
  // The spec still says the group uses it (node-add would create it again): keep it.
  const group = ctx.opts.group ?? ctx.hookEnv.group;
  if (group !== undefined && spec?.nodeGroups[group]?.switches.includes(link)) {
    ctx.log.info(
      `network-disconnect: ${link}: still listed for node group ${group} in ${spec.file} (node_groups.${group}.switches): left in place; drop it from that list to have it removed`,
    );
    return 0;
  }
  const db = await connect(ctx);
  try {
    const r = await removeSwitch(db, link, { ...applyOf(ctx.run), requireMarker: false });
    if (!r.present) {
      ctx.log.info(`network-disconnect: ${link}: not present on this node, nothing to remove`);
      return 0;
    }
    if (r.remaining.length > 0) {
      const list = r.remaining.map((p) => `${p.name} (${p.kind === "instance" ? "VM port" : "foreign port"})`).join(", ");
      ctx.log.error(
        `network-disconnect: ${link}: refusing to remove the switch: ports remain on it that ovs-vif does not own: ${list}; move or remove them, then run 'ovs-vif switch remove ${link}'`,
      );
      return 1;
    }
    if (ctx.run.dryRun) return 0;
    ctx.log.info(`network-disconnect: ${link}: switch removed`);
    return 0;
  } finally {
    db.close();
  }
}

async function nodeAdd(ctx: SwitchHookRun): Promise<number> {
  const target = ctx.hookEnv.node ?? "";
  if (target === "") throw new InputError("GANETI_NODE_NAME", target, "required for node-add");
  const me = await localNodeName(ctx.opts.node);
  if (!nodeMatches(target, me) && !nodeMatches(me, target)) {
    // The master gives the new node its files (the new node's own hook may
    // run before they arrive: the master then applies its switches there).
    if (ctx.env.GANETI_MASTER !== undefined && nodeMatches(ctx.env.GANETI_MASTER, me)) {
      const { provisionNode } = await import("../ganeti/provision.ts");
      const node = parseNodeName("GANETI_NODE_NAME", target);
      return provisionNode(node, { spec: specFile(ctx), defaults: defaultsPath(ctx.env) }, ctx.log);
    }
    ctx.log.debug(`node-add: ${target} is not this node (${me}), nothing to do`);
    return 0;
  }
  const spec = loadSpec(specFile(ctx), true);
  if (!spec) {
    ctx.log.info(`node-add: no spec file ${specFile(ctx)}: nothing to do`);
    return 0;
  }
  const group = nodeGroup(ctx, spec, me);
  const entry = spec.nodeGroups[group];
  if (!entry || entry.switches.length === 0) {
    ctx.log.info(`node-add: node group ${group} has no switches in ${spec.file} (node_groups): nothing to do`);
    return 0;
  }
  const switches = entry.switches.map((n) => resolveSwitch(spec, n, { node: me, group }));
  checkDisjoint(switches, me);
  ctx.log.info(`node-add: ${me} in node group ${group}: switches ${entry.switches.join(", ")}`);
  return applyAndReport(ctx, "node-add", switches);
}

/** node-add hooks do not carry the group: --group, then the spec's lists. */
function nodeGroup(ctx: SwitchHookRun, spec: Spec, me: string): string {
  const fromEnv = ctx.hookEnv.group || ctx.env.GANETI_NODE_GROUP;
  if (ctx.opts.group) return ctx.opts.group;
  if (fromEnv) return fromEnv;
  const listed = groupOfNode(spec, me);
  if (listed) return listed;
  const groups = Object.keys(spec.nodeGroups);
  if (groups.length === 1) return groups[0]!;
  throw new StateError(
    "node group",
    me,
    `unknown (node-add hooks do not name it): list the node under node_groups.GROUP.nodes in ${spec.file}, or run 'ovs-vif switch apply --group GROUP' on it`,
  );
}
