// Ganeti instance lifecycle: the hook (start, reboot, modify, migrate,
// failover, stop, remove), live VLAN edits, and stale-port collection.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { connectOvsdb, out, withOvsdb } from "../src/context.ts";
import { InputError } from "../src/errors.ts";
import { instanceAction, instanceFromHookEnv, SWITCH_HOOK_PATHS } from "../src/ganeti/hook-env.ts";
import { localNodeName } from "../src/ganeti/node.ts";
import { findNic, networkTagsOf, noHotplugOptions, queryInstance } from "../src/ganeti/query.ts";
import { collectOrphanQos, collectStalePorts, ganetiPorts, networkTagsFrom, reconcileGanetiPorts, reportOutcomes } from "../src/ganeti/reconcile.ts";
import { editVlan, parseVlanEdit, parseVlanEditArgs } from "../src/ganeti/vlan-edit.ts";
import { run as runCommand } from "../src/exec.ts";
import { parseInstanceName } from "../src/names.ts";
import { listManagedPorts } from "../src/ovsdb/ports.ts";
import { ID } from "../src/ovsdb/keys.ts";

const GC_HELP = `usage: ovs-vif gc [--instance NAME] [--dry-run]

Removes ports that ovs-vif created (Port external_ids ovs-vif-owner) whose
device no longer exists or that ovs-vswitchd cannot open, in one
transaction, with their receive-limit QoS rows; without --instance also the
QoS/Queue rows ovs-vif made (external_ids ovs-vif-port) that no port uses.
Never touches ports or rows it did not create. Prints what it removed.

${GLOBAL_HELP}`;

const VLAN_HELP = `usage: ovs-vif vlan add INSTANCE NIC VLAN...
       ovs-vif vlan remove INSTANCE NIC VLAN...
       ovs-vif vlan set INSTANCE NIC VLANSTRING|none

Changes a Ganeti NIC's vlan without retyping it: add makes VLANs tagged on
the NIC (an access port .3 becomes hybrid .3:20); remove drops them (the last
tagged VLAN of a hybrid leaves an access port; its native VLAN makes it a
trunk). The new string is validated, then set with
'gnt-instance modify --net NIC:modify,vlan=NEW INSTANCE' (on the master), and
applied to the running port in place (here, and by the instance-modify hook
where the instance runs). --dry-run prints the new string and the port change.

${GLOBAL_HELP}`;

const HOOK_HELP = `usage: ovs-vif ganeti-hook [--node NAME]     (as /etc/ganeti/hooks/PATH-post.d/ovs-vif)

The Ganeti hook, reading GANETI_* from the environment: instance paths bring
this node's ports of the instance in line or collect them; network-connect,
network-disconnect and node-add set up switches (docs/switches.md);
network-rename (Ganeti 3.1) renames the network's OVN logical switch with it
(on the master; its pre phase refuses a name another logical switch has).
--node (or OVS_VIF_NODE_NAME) is this node's name (default: hostname --fqdn).

${GLOBAL_HELP}`;

async function gc({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "gc takes options only; use --instance NAME for one instance");
  const instance = args.string("instance");
  if (instance !== undefined) parseInstanceName("--instance", instance);
  return withOvsdb(ctx, async (db) => {
    const ports = (await listManagedPorts(db, ctx.deadline)).filter((p) => instance === undefined || p.ifaceIds[ID.instance] === instance);
    const results = await collectStalePorts(db, ctx, ports);
    // QoS rows are not an instance's: only a gc of the whole node takes them.
    if (instance === undefined) results.push(...(await collectOrphanQos(db, ctx)));
    if (results.length === 0) out("no stale ports\n");
    return reportOutcomes(results, ctx, out, "gc ") ? 1 : 0;
  });
}

async function vlan({ args, ctx, log }: Invocation): Promise<number> {
  const edit = args.positionals[0];
  if (edit === undefined) {
    out(VLAN_HELP + "\n");
    return 2;
  }
  const kind = parseVlanEdit("vlan action", edit);
  const instance = parseInstanceName("INSTANCE", args.required(1, "INSTANCE"));
  const nicId = args.required(2, "NIC", "required (index, name or UUID)");
  // Validated before Ganeti is asked anything (a bad edit never reaches it).
  const edit_ = parseVlanEditArgs(kind, args.positionals.slice(3));
  const inst = await queryInstance(instance);
  const nic = findNic(inst, nicId);
  if (nic.mode !== "openvswitch") throw new InputError("NIC", nicId, `is mode ${nic.mode}, not openvswitch`);
  const { before, after } = editVlan(nic.vlan, edit_);
  out(`${instance} nic ${nic.index}: vlan ${JSON.stringify(before)} -> ${JSON.stringify(after)}\n`);
  if (before === after) return 0;
  if (!ctx.dryRun) {
    // Ganeti stores "" as no VLAN; modify needs the key with an empty value then.
    await runCommand("gnt-instance", ["modify", ...(await noHotplugOptions()), "--net", `${nic.index}:modify,vlan=${after}`, instance], { timeoutMs: 300_000 });
    log.info("vlan changed in Ganeti", { instance, nic: nic.index, before, after });
  }
  const db = await connectOvsdb(ctx).catch(() => undefined);
  if (!db) {
    out("no OVSDB on this node: the instance-modify hook applies it where the instance runs\n");
    return 0;
  }
  try {
    const ports = (await ganetiPorts(db, ctx, instance)).filter((p) => p.ifaceIds[ID.nicUuid] === nic.uuid);
    if (ports.length === 0) {
      out(`${instance} nic ${nic.index}: no running port on this node (the instance-modify hook applies it where it runs)\n`);
      return 0;
    }
    const updated = { ...inst, nics: inst.nics.map((n) => (n.uuid === nic.uuid ? { ...n, vlan: after } : n)) };
    const results = await reconcileGanetiPorts(db, ctx, ports, [updated], networkTagsFrom(await networkTagsOf([updated])));
    return reportOutcomes(results, ctx, out, "vlan ") ? 1 : 0;
  } finally {
    db.close();
  }
}

/** The Ganeti hook: network and node-add paths set up switches; instance
 * paths reconcile or collect this node's ports of the instance. */
async function ganetiHook({ args, ctx, env, failure }: Invocation): Promise<number> {
  args.atMost(0, "Ganeti runs hooks without arguments");
  const path = env.GANETI_HOOKS_PATH ?? "";
  failure.prefix = path || "hook";
  const node = args.string("node") ?? env.OVS_VIF_NODE_NAME;
  if (path === "network-rename") {
    const { networkRenameHook } = await import("../src/ovn/rename.ts");
    return networkRenameHook(env, ctx, node);
  }
  if ((SWITCH_HOOK_PATHS as readonly string[]).includes(path)) {
    // Loaded only here: the instance paths (VM start, migration) do not pay for it.
    const { runSwitchHook } = await import("../src/switch/hook.ts");
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
    ctx.log.debug(`no OVSDB and no openvswitch NIC: nothing to do`, base);
    return 0;
  }
  try {
    const ports = await ganetiPorts(db, ctx, hook.instance.name);
    const ovn = await import("../src/ovn/lifecycle.ts");
    const line = (l: string) => ({ line: l, failed: false });
    if (action === "collect") {
      const results = await collectStalePorts(db, ctx, ports);
      // A removed instance's logical ports go with it.
      if (hook.path === "instance-remove") results.push(...(await ovn.dropLsps(hook.instance.name, [], ctx)).map(line));
      if (results.length === 0) ctx.log.info(`${hook.path}: no stale ports`, base);
      return reportOutcomes(results, ctx, out, `${hook.path} `) ? 1 : 0;
    }
    const mine = ports.filter((p) => hook.instance.nics.some((n) => n.uuid === p.ifaceIds[ID.nicUuid] && n.mode === "openvswitch"));
    const gone = ports.filter((p) => !mine.includes(p));
    const results = await reconcileGanetiPorts(db, ctx, mine, [hook.instance], (_inst, nic) => hook.instance.networkTags.get(nic.index) ?? []);
    // The instance runs here: its logical ports are wanted on this chassis alone.
    results.push(...(await ovn.promotePorts(mine, ctx, db)).map(line));
    // NICs that left OVN: their logical ports go.
    const config = ovn.nodeOvn();
    if (config && hook.path === "instance-modify") {
      const onOvn = hook.instance.nics.filter((n) => n.mode === "openvswitch" && n.link === config.bridge).map((n) => n.uuid);
      results.push(...(await ovn.dropLsps(hook.instance.name, onOvn, ctx)).map(line));
    }
    // NICs removed or moved to another mode: their ports go once the device is gone.
    results.push(...(await collectStalePorts(db, ctx, gone)));
    if (results.length === 0) ctx.log.info(`${hook.path}: no ports of this instance here`, base);
    return reportOutcomes(results, ctx, out, `${hook.path} `) ? 1 : 0;
  } finally {
    db.close();
  }
}

export const gcCommand: EntryPoint = { tag: "ovs-vif", help: GC_HELP, options: { instance: "string" }, run: gc };
export const vlanCommand: EntryPoint = { tag: "ovs-vif", help: VLAN_HELP, run: vlan };
export const ganetiHookEntry: EntryPoint = { tag: "ovs-vif", help: HOOK_HELP, options: { node: "string" }, run: ganetiHook };
