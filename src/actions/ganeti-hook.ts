// The Ganeti post (and pre) hook: network and node-add paths set up
// switches; network-rename renames the OVN logical switch; instance paths
// bring this node's ports of the instance in line with Ganeti or collect
// them, with their OVN logical ports.
import { connectOvsdb, type RunContext } from "../context.ts";
import { instanceAction, instanceFromHookEnv, SWITCH_HOOK_PATHS, type InstanceHookContext } from "../ganeti/hook-env.ts";
import { localNodeName } from "../ganeti/node.ts";
import { ganetiPorts, reconcileGanetiPorts } from "../ganeti/reconcile.ts";
import { collectStalePorts } from "../stale.ts";
import { reportOutcomes, type Outcome } from "../outcome.ts";
import { loadOvnConfig } from "../ovn/config.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import { ID } from "../ovsdb/keys.ts";

/** Runs the hook Ganeti's environment describes; the exit code. */
export async function ganetiHook(env: NodeJS.ProcessEnv, ctx: RunContext, node: string | undefined): Promise<number> {
  const path = env.GANETI_HOOKS_PATH ?? "";
  if (path === "network-rename") {
    const { networkRenameHook } = await import("../ovn/rename.ts");
    return networkRenameHook(env, ctx, node);
  }
  if ((SWITCH_HOOK_PATHS as readonly string[]).includes(path)) {
    // Loaded only here: the instance paths (VM start, migration) do not pay for it.
    const { runSwitchHook } = await import("../switch/hook.ts");
    return runSwitchHook(env, ctx, node !== undefined ? { node } : {});
  }
  const hook = instanceFromHookEnv(env);
  if (!hook) {
    ctx.log.debug("not an instance hook: nothing to do", { path });
    return 0;
  }
  const local = await localNodeName(node);
  const { action, why } = instanceAction(hook, local);
  const base = { path: hook.path, instance: hook.instance.name, node: local };
  if (action === "none") {
    ctx.log.debug(`nothing to do (${why})`, base);
    return 0;
  }
  const hasOvsNic = hook.instance.nics.some((n) => n.mode === "openvswitch");
  const db = await connectOvsdb(ctx).catch((err: unknown) => {
    // A node without Open vSwitch and an instance without openvswitch NICs: not ours.
    if (!hasOvsNic) return undefined;
    throw err;
  });
  if (!db) {
    ctx.log.debug("no OVSDB and no openvswitch NIC: nothing to do", base);
    return 0;
  }
  try {
    const results = action === "collect" ? await collectInstance(hook, db, ctx) : await reconcileInstance(hook, db, ctx);
    if (results.length === 0) ctx.log.info(`${hook.path}: ${action === "collect" ? "no stale ports" : "no ports of this instance here"}`, base);
    return reportOutcomes(results, ctx, `${hook.path} `) ? 1 : 0;
  } finally {
    db.close();
  }
}

const line = (l: string): Outcome => ({ line: l, failed: false });

/** The instance stopped, left this node or was removed: its dead ports go
 * (a removed instance's logical ports too). */
async function collectInstance(hook: InstanceHookContext, db: OvsdbClient, ctx: RunContext): Promise<Outcome[]> {
  const results = await collectStalePorts(db, ctx, await ganetiPorts(db, ctx, hook.instance.name));
  if (hook.path === "instance-remove") {
    const ovn = await import("../ovn/lifecycle.ts");
    results.push(...(await ovn.dropLsps(hook.instance.name, [], ctx)).map(line));
  }
  return results;
}

/** The instance runs here: its ports as Ganeti says, its logical ports
 * wanted on this chassis alone; ports of NICs it no longer has (or that
 * left OVN) go. */
async function reconcileInstance(hook: InstanceHookContext, db: OvsdbClient, ctx: RunContext): Promise<Outcome[]> {
  const ports = await ganetiPorts(db, ctx, hook.instance.name);
  const mine = ports.filter((p) => hook.instance.nics.some((n) => n.uuid === p.ifaceIds[ID.nicUuid] && n.mode === "openvswitch"));
  const gone = ports.filter((p) => !mine.includes(p));
  const results = await reconcileGanetiPorts(db, ctx, mine, [hook.instance], (_inst, nic) => hook.instance.networks.get(nic.index));
  const ovn = await import("../ovn/lifecycle.ts");
  results.push(...(await ovn.promotePorts(mine, ctx, db)).map(line));
  const config = loadOvnConfig();
  if (config && hook.path === "instance-modify") {
    const onOvn = hook.instance.nics.filter((n) => n.mode === "openvswitch" && n.link === config.bridge).map((n) => n.uuid);
    results.push(...(await ovn.dropLsps(hook.instance.name, onOvn, ctx)).map(line));
  }
  // NICs removed or moved to another mode: their ports go once the device is gone.
  results.push(...(await collectStalePorts(db, ctx, gone)));
  return results;
}
