// Ganeti instance lifecycle: the hook (start, reboot, modify, migrate,
// failover, stop, remove), live VLAN edits, and stale-port collection.
import { InputError } from "../src/errors.ts";
import { collectStalePorts, ganetiPorts, reconcileGanetiPorts, type Outcome } from "../src/ganeti/reconcile.ts";
import { instanceAction, instanceFromHookEnv } from "../src/ganeti/hook-env.ts";
import { editVlan, type VlanEdit } from "../src/ganeti/vlan-edit.ts";
import { findNic, queryInstance } from "../src/ganeti/query.ts";
import { listManagedPorts } from "../src/ovsdb/ports.ts";
import { Deadline } from "../src/ovsdb/transact.ts";
import { run } from "../src/exec.ts";
import { localNodeName } from "../src/switch/session.ts";
import { connectOvsdb, globalOptions, GLOBAL_HELP, makeLog, out, parseArgs, stringOpt } from "../src/cli/common.ts";
import { networkTagsFromGaneti } from "./qos.ts";

export const GC_HELP = `usage: ovs-vif gc [--instance NAME] [--dry-run]

Removes ports that ovs-vif created (Port external_ids ovs-vif-owner) whose
device no longer exists or that ovs-vswitchd cannot open, in one
transaction; never touches ports it did not create. Prints what it removed.

${GLOBAL_HELP}`;

export const VLAN_HELP = `usage: ovs-vif vlan add INSTANCE NIC VLAN...
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

function print(results: Outcome[], log: ReturnType<typeof makeLog>, prefix: string): boolean {
  for (const r of results) {
    out(r.line + "\n");
    log.write(r.failed ? "error" : "info", `${prefix}${r.line}`);
  }
  return results.some((r) => r.failed);
}

export async function gcCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { string: ["instance"] });
  if (args.help) {
    out(GC_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const instance = stringOpt(args, "instance");
  const log = makeLog("ovs-vif", opts.verbose);
  const deadline = new Deadline(opts.timeoutMs);
  const db = await connectOvsdb(opts, deadline);
  try {
    const ports = (await listManagedPorts(db, deadline)).filter((p) => instance === undefined || p.ifaceIds["ganeti-instance"] === instance);
    const results = await collectStalePorts(db, deadline, opts, ports);
    if (results.length === 0) out("no stale ports\n");
    return print(results, log, "gc ") ? 1 : 0;
  } finally {
    db.close();
  }
}

export async function vlanCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {});
  const [edit, instance, nicId, ...vlans] = args._.map(String);
  if (args.help || edit === undefined) {
    out(VLAN_HELP + "\n");
    return args.help ? 0 : 2;
  }
  if (edit !== "add" && edit !== "remove" && edit !== "set") throw new InputError("vlan action", edit, "expected add, remove or set");
  if (instance === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(instance)) throw new InputError("INSTANCE", instance ?? "", "not a Ganeti instance name");
  if (nicId === undefined) throw new InputError("NIC", "", "required (index, name or UUID)");
  const opts = globalOptions(args);
  const inst = await queryInstance(instance);
  const nic = findNic(inst, nicId);
  if (nic.mode !== "openvswitch") throw new InputError("NIC", nicId, `is mode ${nic.mode}, not openvswitch`);
  // Validated before Ganeti is called: a bad edit never reaches the config.
  const { before, after } = editVlan(nic.vlan, edit as VlanEdit, vlans);
  out(`${instance} nic ${nic.index}: vlan ${JSON.stringify(before)} -> ${JSON.stringify(after)}\n`);
  if (before === after) return 0;
  const log = makeLog("ovs-vif", opts.verbose);
  if (!opts.dryRun) {
    // Ganeti stores "" as no VLAN; modify needs the key with an empty value then.
    await run("gnt-instance", ["modify", "--net", `${nic.index}:modify,vlan=${after}`, instance], { timeoutMs: 300_000 });
    log.info("vlan changed in Ganeti", { instance, nic: nic.index, before, after });
  }
  const deadline = new Deadline(opts.timeoutMs);
  const db = await connectOvsdb(opts, deadline).catch(() => undefined);
  if (!db) {
    out("no OVSDB on this node: the instance-modify hook applies it where the instance runs\n");
    return 0;
  }
  try {
    const ports = (await ganetiPorts(db, deadline, instance)).filter((p) => p.ifaceIds["ganeti-nic-uuid"] === nic.uuid);
    if (ports.length === 0) {
      out(`${instance} nic ${nic.index}: no running port on this node (the instance-modify hook applies it where it runs)\n`);
      return 0;
    }
    const updated = { ...inst, nics: inst.nics.map((n) => (n.uuid === nic.uuid ? { ...n, vlan: after } : n)) };
    const results = await reconcileGanetiPorts(db, deadline, opts, ports, [updated], await networkTagsFromGaneti([updated]));
    return print(results, log, "vlan ") ? 1 : 0;
  } finally {
    db.close();
  }
}

/** The Ganeti hook: network and node-add paths set up switches; instance
 * paths reconcile or collect this node's ports of the instance. */
export async function ganetiHook(argv: string[], tag: string): Promise<number> {
  const env = process.env;
  const { isSwitchHook, runSwitchHook } = await import("../src/switch/hook.ts");
  if (isSwitchHook(env)) return runSwitchHook(env);
  const args = parseArgs(argv, { string: ["node"] });
  const opts = globalOptions(args);
  const log = makeLog(tag, opts.verbose);
  const ctx = instanceFromHookEnv(env);
  if (!ctx) {
    log.debug("not an instance hook: nothing to do", { path: env.GANETI_HOOKS_PATH });
    return 0;
  }
  const local = await localNodeName(stringOpt(args, "node") ?? env.OVS_VIF_NODE_NAME);
  const { action, why } = instanceAction(ctx, local);
  const base = { path: ctx.path, instance: ctx.instance.name, node: local };
  if (action === "none") {
    log.debug(`nothing to do (${why})`, base);
    return 0;
  }
  const deadline = new Deadline(opts.timeoutMs);
  const hasOvsNic = ctx.instance.nics.some((n) => n.mode === "openvswitch");
  let db;
  try {
    db = await connectOvsdb(opts, deadline);
  } catch (err) {
    // A node without Open vSwitch and an instance without openvswitch NICs: not ours.
    if (!hasOvsNic) {
      log.debug(`no OVSDB and no openvswitch NIC: nothing to do`, base);
      return 0;
    }
    throw err;
  }
  try {
    const ports = await ganetiPorts(db, deadline, ctx.instance.name);
    if (action === "collect") {
      const results = await collectStalePorts(db, deadline, opts, ports);
      if (results.length === 0) log.info(`${ctx.path}: no stale ports`, base);
      return print(results, log, `${ctx.path} `) ? 1 : 0;
    }
    const mine = ports.filter((p) => ctx.instance.nics.some((n) => n.uuid === p.ifaceIds["ganeti-nic-uuid"] && n.mode === "openvswitch"));
    const gone = ports.filter((p) => !mine.includes(p));
    const results = await reconcileGanetiPorts(db, deadline, opts, mine, [ctx.instance], (_inst, nic) => ctx.instance.networkTags.get(nic.index) ?? []);
    // NICs removed or moved to another mode: their ports go once the device is gone.
    results.push(...(await collectStalePorts(db, deadline, opts, gone)));
    if (results.length === 0) log.info(`${ctx.path}: no ports of this instance here`, base);
    return print(results, log, `${ctx.path} `) ? 1 : 0;
  } finally {
    db.close();
  }
}
