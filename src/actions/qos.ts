// `ovs-vif qos set|unset|show`: QoS per Ganeti NIC kept in instance tags,
// checked as the NIC script will read them, and applied to the running port
// in place on the node where the instance runs.
import { connectOvsdb, out, withOvsdb, type RunContext } from "../context.ts";
import { isLocalNode, reportAnswers, runWithView } from "../ganeti/cluster.ts";
import { configuredNicFields, ganetiNicPort, nicParamsOf } from "../ganeti/nic-port.ts";
import { addTags, findNic, networksOf, queryInstance, queryInstances, removeTags, type GanetiInstance } from "../ganeti/query.ts";
import type { GanetiNetworkInfo, InstanceNic } from "../nic.ts";
import { ganetiPorts, networksFrom, reconcileGanetiPorts } from "../ganeti/reconcile.ts";
import { reportOutcomes } from "../outcome.ts";
import { ID } from "../ovsdb/keys.ts";
import type { ManagedPort } from "../ovsdb/ports.ts";
import { bridgeMtu } from "../ovsdb/select.ts";
import { snapshotFile } from "../paths.ts";
import { DEFAULT_MTU, effectivePolicing, effectiveShaping } from "../port.ts";
import { QOS_KINDS, type QosKind } from "../qos.ts";
import { formatQosTag, nicQosTagsOf } from "../qos-tags.ts";
import { nodeDefaultsLevel } from "../sources/defaults.ts";
import { table } from "../status/format.ts";

export interface QosEdit {
  action: "set" | "unset";
  instance: string;
  /** The NIC's index, name or UUID. */
  nicId: string;
  /** The values given, each checked as typed; set replaces the tags of the
   * directions given, unset drops all of the NIC's own. */
  given: (readonly [QosKind, string])[];
  /** This node's Ganeti name (--node), when not hostname --fqdn. */
  node?: string;
}

const TX: readonly QosKind[] = ["rate", "burst"];
const RX: readonly QosKind[] = ["rx-rate", "rx-burst"];

/** The NIC's desired port with the instance's tags as they would be. */
function desiredOf(inst: GanetiInstance, nic: InstanceNic, network: GanetiNetworkInfo | undefined, device: string) {
  return ganetiNicPort(nicParamsOf(inst, nic, network), device, [nodeDefaultsLevel(nic.link)], configuredNicFields(inst, nic));
}

/** The NIC's QoS with the new tags, resolved exactly as its NIC script will
 * (the bridge's MTU on this node, else Ganeti's default 1500): a value the
 * hook would refuse is refused before Ganeti is changed. */
async function checkNicQos(inst: GanetiInstance, nic: InstanceNic, ctx: RunContext): Promise<void> {
  const desired = desiredOf(inst, nic, (await networksOf([inst])).get(nic.network ?? ""), "check");
  const db = await connectOvsdb(ctx).catch(() => undefined);
  const mtu = db
    ? await bridgeMtu(db, nic.link, ctx.deadline)
        .finally(() => db.close())
        .catch(() => undefined)
    : undefined;
  effectivePolicing(desired, mtu ?? DEFAULT_MTU);
  effectiveShaping(desired, mtu ?? DEFAULT_MTU);
}

/** Changes the NIC's tags in Ganeti and its running port; the exit code. */
export async function editNicQos(edit: QosEdit, ctx: RunContext): Promise<number> {
  const { action, instance } = edit;
  const givenKinds = edit.given.map(([k]) => k);
  const kinds = action === "unset" ? QOS_KINDS : [...(givenKinds.includes("rate") ? TX : []), ...(givenKinds.includes("rx-rate") ? RX : [])];
  const inst = await queryInstance(instance);
  const nic = findNic(inst, edit.nicId);
  const old = nicQosTagsOf(inst.tags, nic, kinds);
  const add = edit.given.map(([k, v]) => formatQosTag(nic.index, k, v));
  const remove = old.filter((t) => !add.includes(t));
  const toAdd = add.filter((t) => !old.includes(t));
  const after: GanetiInstance = { ...inst, tags: [...inst.tags.filter((t) => !remove.includes(t)), ...toAdd] };
  // Validated as the hook will read it, before Ganeti is changed.
  if (nic.mode === "openvswitch") await checkNicQos(after, nic, ctx);
  if (ctx.dryRun) {
    out(`gnt-instance remove-tags ${instance} ${remove.join(" ") || "(none)"}\ngnt-instance add-tags ${instance} ${toAdd.join(" ") || "(none)"}\n`);
  } else {
    // Remove first: the old and new rate tags of one NIC would conflict.
    await removeTags(instance, remove);
    await addTags(instance, toAdd);
  }
  // Ganeti runs no hook on tag changes: the port is changed where the instance runs.
  if (!(await isLocalNode(inst.primary, edit.node))) return applyOnNode(inst.primary, instance, ctx, `qos ${action}`);
  return withOvsdb(ctx, async (db) => {
    const ports = (await ganetiPorts(db, ctx, instance)).filter((p) => p.ifaceIds[ID.nicUuid] === nic.uuid);
    if (ports.length === 0) {
      out(`${instance} nic ${nic.index}: tags set; no running port on this node (applied at the next start)\n`);
      return 0;
    }
    const results = await reconcileGanetiPorts(db, ctx, ports, [after], networksFrom(await networksOf([after])));
    return reportOutcomes(results, ctx, `qos ${action} `) ? 1 : 0;
  });
}

/** The change reaches the node where the instance runs before this returns:
 * Ganeti's view exported, copied there, reconciled there (gnt-cluster). */
async function applyOnNode(node: string, instance: string, ctx: RunContext, what: string): Promise<number> {
  const remote = ["ovs-vif", "reconcile", "--instance", instance];
  if (ctx.dryRun) {
    out(`gnt-cluster copyfile -n ${node} ${snapshotFile()}\ngnt-cluster command -n ${node} ${remote.join(" ")} --from ${snapshotFile()}\n`);
    return 0;
  }
  const { answers } = await runWithView(remote, [node]);
  out(`${instance}: tags set; applied on ${node}, where it runs:\n`);
  return reportAnswers(answers, ctx, what) ? 1 : 0;
}

/** A table of every NIC's QoS (both directions), where each value comes
 * from, and its port on this node. */
export async function showQos(names: string[], ctx: RunContext): Promise<number> {
  const instances = await queryInstances(names);
  const networks = await networksOf(instances);
  let live = new Map<string, ManagedPort>();
  try {
    live = await withOvsdb(ctx, async (db) => new Map((await ganetiPorts(db, ctx)).map((p) => [p.ifaceIds[ID.nicUuid] ?? "", p])));
  } catch {
    // No OVSDB here: show the configured values only.
  }
  const rows: string[][] = [
    [
      "instance",
      "nic",
      "mode",
      "rate kbps",
      "burst kb",
      "rate from",
      "burst from",
      "rx-rate bit/s",
      "rx-burst bits",
      "rx-rate from",
      "rx-burst from",
      "port here",
    ],
  ];
  for (const inst of instances) {
    for (const nic of inst.nics) {
      if (nic.mode !== "openvswitch") {
        rows.push([inst.name, String(nic.index), nic.mode, ...Array<string>(9).fill("-")]);
        continue;
      }
      const desired = desiredOf(inst, nic, networks.get(nic.network ?? ""), "show");
      const q = effectivePolicing(desired);
      const rx = effectiveShaping(desired);
      const rxBurst = rx.shaping?.burst !== undefined ? String(rx.shaping.burst) : rx.shaping ? "default" : "0";
      rows.push([
        inst.name,
        String(nic.index),
        nic.mode,
        String(q.policing.rate),
        String(q.policing.burst),
        q.rateSource,
        q.burstSource,
        rx.shaping ? String(rx.shaping.rate) : "0",
        rxBurst,
        rx.rateSource,
        rx.burstSource,
        live.get(nic.uuid)?.name ?? "-",
      ]);
    }
  }
  out(table(rows, true));
  return 0;
}
