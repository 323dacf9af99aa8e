// Ganeti 3.1's network-rename hook (GANETI_OLD_NAME, GANETI_NEW_NAME; run on
// the master and on the nodes of the groups the network is connected to).
// An OVN NIC's logical switch is named by its Ganeti network (unless the
// network's tag ovs-vif:ovn-switch:NAME names it): renamed with the network,
// the NICs would look for a switch of the new name at their next plug. So
// the master renames the logical switch in OVN's Northbound database with
// it, in one guarded transaction. The pre phase refuses (and Ganeti aborts
// the rename) when a logical switch of the new name exists already: the
// network's NICs would land on that other switch. VLAN ports do not depend
// on a network's name: nothing to do for them.
import type { RunContext } from "../context.ts";
import { StateError } from "../errors.ts";
import { queryNetworks } from "../ganeti/query.ts";
import { parseGanetiObjectName } from "../names.ts";
import type { Json } from "../ovsdb/json.ts";
import { checkResults } from "../ovsdb/transact.ts";
import { uuidOf } from "../ovsdb/values.ts";
import { loadOvnConfig, type OvnConfig } from "./config.ts";
import { switchTag } from "./ganeti.ts";
import { connectNb } from "./nb.ts";

export interface NetworkRename {
  phase: string;
  oldName: string;
  newName: string;
  master: string;
}

/** The rename from a hook environment; undefined when it is not one. */
export function networkRenameFromEnv(env: NodeJS.ProcessEnv): NetworkRename | undefined {
  if (env.GANETI_HOOKS_PATH !== "network-rename") return undefined;
  return {
    phase: (env.GANETI_HOOKS_PHASE ?? "").toLowerCase(),
    oldName: parseGanetiObjectName("GANETI_OLD_NAME", env.GANETI_OLD_NAME ?? ""),
    newName: parseGanetiObjectName("GANETI_NEW_NAME", env.GANETI_NEW_NAME ?? ""),
    master: env.GANETI_MASTER ?? "",
  };
}

const byName = (name: string): Json => [["name", "==", name]];

/** What the rename means for OVN: a line for the log; throws (naming both
 * switches) when it would move the network's NICs onto another switch. The
 * post phase renames the switch (dry run: says it would). */
export async function renameNetworkSwitch(r: NetworkRename, config: OvnConfig, ctx: RunContext): Promise<string> {
  // A network whose tag names its switch does not follow its name. The tag
  // is asked of Ganeti by either name: the pre phase sees the old one.
  const networks = await queryNetworks();
  const tag = switchTag((networks.get(r.newName) ?? networks.get(r.oldName))?.tags ?? []);
  if (tag) return `network ${r.oldName} -> ${r.newName}: its logical switch is ${tag.ls} (tag ${tag.tag}): nothing to rename`;
  const nb = await connectNb(config.nb, Math.min(ctx.deadline.left(), 5000));
  try {
    const ops: Json[] = [
      { op: "select", table: "Logical_Switch", where: byName(r.oldName), columns: ["_uuid"] },
      { op: "select", table: "Logical_Switch", where: byName(r.newName), columns: ["_uuid"] },
    ];
    const res = await nb.transact(ops, ctx.deadline.left());
    checkResults(ops, res, `read logical switches ${r.oldName} and ${r.newName}`);
    const old = (res[0]?.rows ?? []).map((row) => uuidOf(row._uuid));
    const taken = (res[1]?.rows ?? []).map((row) => uuidOf(row._uuid));
    if (taken.length > 0 && old.length > 0) {
      throw new StateError(
        "GANETI_NEW_NAME",
        r.newName,
        `a logical switch of that name exists already in ${config.nb.text}: the network's OVN NICs (on logical switch ${r.oldName}) would move onto it; rename or remove that switch first, or tag the network ovs-vif:ovn-switch:${r.oldName}`,
      );
    }
    if (old.length > 1)
      throw new StateError(
        "GANETI_OLD_NAME",
        r.oldName,
        `${old.length} logical switches have that name in ${config.nb.text}: cannot tell which is the network's`,
      );
    if (old.length === 0)
      return `network ${r.oldName} -> ${r.newName}: no logical switch ${r.oldName}${taken.length ? `; ${r.newName} exists and is used from now on` : ""}: nothing to rename`;
    if (r.phase !== "post") return `network ${r.oldName} -> ${r.newName}: logical switch ${r.oldName} can follow`;
    if (ctx.dryRun) return `would rename logical switch ${r.oldName} to ${r.newName}`;
    const rename: Json[] = [
      { op: "wait", table: "Logical_Switch", where: byName(r.oldName), columns: ["_uuid"], until: "==", rows: [{ _uuid: ["uuid", old[0]!] }], timeout: 0 },
      { op: "wait", table: "Logical_Switch", where: byName(r.newName), columns: ["_uuid"], until: "==", rows: [], timeout: 0 },
      { op: "update", table: "Logical_Switch", where: [["_uuid", "==", ["uuid", old[0]!]]], row: { name: r.newName } },
      { op: "comment", comment: `ovs-vif: network-rename ${r.oldName} ${r.newName}` },
    ];
    checkResults(rename, await nb.transact(rename, ctx.deadline.left()), `rename logical switch ${r.oldName}`);
    return `renamed logical switch ${r.oldName} to ${r.newName}`;
  } finally {
    nb.close();
  }
}

/** The hook: only the master acts (the Northbound database is the
 * cluster's), and only where OVN is set up. Exit code. */
export async function networkRenameHook(env: NodeJS.ProcessEnv, ctx: RunContext, node?: string): Promise<number> {
  const r = networkRenameFromEnv(env)!;
  const config = loadOvnConfig();
  if (!config) {
    ctx.log.debug("network-rename: no OVN settings on this node: nothing to do", { old: r.oldName, new: r.newName });
    return 0;
  }
  const { localNodeName } = await import("../ganeti/node.ts");
  const local = await localNodeName(node);
  if (local !== r.master) {
    ctx.log.debug(`network-rename: not the master (${r.master}): the master renames the logical switch`, { node: local });
    return 0;
  }
  ctx.log.info(`network-rename ${r.phase}: ${await renameNetworkSwitch(r, config, ctx)}`);
  return 0;
}
