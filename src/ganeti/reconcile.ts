// Bringing this node's Ganeti ports in line with Ganeti's view of their
// NICs (VLAN + QoS), in place; and collecting ports whose device is gone.
import { type RunContext, applyOf } from "../context.ts";
import { deviceExists } from "../netdev.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import { listManagedPorts, reconcilePort, removeManagedPorts, type ManagedPort } from "../ovsdb/ports.ts";
import { findOrphanQos, removeOrphanQos } from "../ovsdb/qos-orphans.ts";
import { nodeDefaultsLevel } from "../sources/defaults.ts";
import { ganetiNicPort, nicParamsOf } from "./nic-port.ts";
import type { GanetiInstance, InstanceNic } from "./query.ts";
import { ID } from "../ovsdb/keys.ts";

export interface Outcome {
  line: string;
  failed: boolean;
}

export type NetworkTags = (inst: GanetiInstance, nic: InstanceNic) => string[];

/** Network tags from a name -> tags map (the CLI's or a snapshot's). */
export function networkTagsFrom(tags: ReadonlyMap<string, string[]>): NetworkTags {
  return (_inst, nic) => (nic.network ? (tags.get(nic.network) ?? []) : []);
}

export async function ganetiPorts(db: OvsdbClient, ctx: RunContext, instance?: string): Promise<ManagedPort[]> {
  return (await listManagedPorts(db, ctx.deadline)).filter((p) => p.owner === "ganeti" && (instance === undefined || p.ifaceIds[ID.instance] === instance));
}

export async function reconcileGanetiPorts(db: OvsdbClient, ctx: RunContext, ports: ManagedPort[], instances: GanetiInstance[], networkTags: NetworkTags): Promise<Outcome[]> {
  const byName = new Map(instances.map((i) => [i.name, i]));
  const out: Outcome[] = [];
  for (const port of ports) {
    const instName = port.ifaceIds[ID.instance] ?? "";
    const inst = byName.get(instName);
    const label = `${instName || "?"} ${port.name}`;
    if (!inst) {
      out.push({ line: `${label}: skipped: Ganeti does not know instance ${JSON.stringify(instName)} (stale port? see ovs-vif gc)`, failed: false });
      continue;
    }
    const nic = inst.nics.find((n) => n.uuid === port.ifaceIds[ID.nicUuid]);
    if (!nic) {
      out.push({ line: `${label}: skipped: the instance has no such NIC any more`, failed: false });
      continue;
    }
    if (nic.mode !== "openvswitch") {
      out.push({ line: `${label}: skipped: NIC ${nic.index} is now mode ${nic.mode}`, failed: false });
      continue;
    }
    try {
      const desired = ganetiNicPort(nicParamsOf(inst, nic, networkTags(inst, nic)), port.name, [nodeDefaultsLevel(nic.link)], {
        link: `${inst.name} nic ${nic.index} link`,
        vlan: `${inst.name} nic ${nic.index} vlan`,
      });
      const res = await reconcilePort(db, desired, applyOf(ctx));
      const rate = res.policing ? ` rate=${res.policing.rate} burst=${res.policing.burst}` : "";
      out.push({ line: `${label}: ${res.status}${rate}${res.changes.length ? ` (${res.changes.join("; ")})` : ""}`, failed: false });
    } catch (err) {
      out.push({ line: `${label}: failed: ${(err as Error).message}`, failed: true });
    }
  }
  return out;
}

/** A port is stale when its device is gone or vswitchd says it cannot open it. */
export function isStale(p: ManagedPort): boolean {
  return !deviceExists(p.name) || (p.error !== undefined && /no such device|could not open/i.test(p.error));
}

export async function collectStalePorts(db: OvsdbClient, ctx: RunContext, ports: ManagedPort[]): Promise<Outcome[]> {
  const stale = ports.filter(isStale);
  if (stale.length === 0) return [];
  await removeManagedPorts(db, stale, applyOf(ctx));
  // An OVN port: this chassis no longer wants its logical port.
  const { releasePorts } = await import("../ovn/lifecycle.ts");
  const released = (await releasePorts(stale, ctx, db)).map((line) => ({ line: `released ${line}`, failed: false }));
  return [...stale.map((p) => ({
    line: `${ctx.dryRun ? "would remove" : "removed"} ${p.name} from ${p.bridge ?? "?"} (owner ${p.owner}${p.ifaceIds[ID.instance] ? `, instance ${p.ifaceIds[ID.instance]}` : ""}${p.ifaceIds[ID.xenVmName] ? `, vm ${p.ifaceIds[ID.xenVmName]}` : ""}): ${deviceExists(p.name) ? p.error : "device gone"}`,
    failed: false,
  })), ...released];
}

/** QoS/Queue rows ovs-vif made that no port uses any more. */
export async function collectOrphanQos(db: OvsdbClient, ctx: RunContext): Promise<Outcome[]> {
  const orphans = await findOrphanQos(db, ctx.deadline);
  await removeOrphanQos(db, orphans, applyOf(ctx));
  return orphans.map((o) => ({ line: `${ctx.dryRun ? "would remove" : "removed"} orphaned ${o.table} row ${o.uuid} (made for port ${o.port}, which no longer uses it)`, failed: false }));
}

/** Outcome lines on stdout and in the log; true when one failed. */
export function reportOutcomes(results: Outcome[], ctx: RunContext, out: (text: string) => void, prefix: string): boolean {
  for (const r of results) {
    out(r.line + "\n");
    ctx.log.write(r.failed ? "error" : "info", `${prefix}${r.line}`);
  }
  return results.some((r) => r.failed);
}
