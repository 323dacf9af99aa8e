// Bringing this node's Ganeti ports in line with Ganeti's view of their
// NICs (VLAN + QoS), in place.
import { type RunContext, applyOf } from "../context.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import { listManagedPorts, reconcilePort, type ManagedPort } from "../ovsdb/ports.ts";
import type { Outcome } from "../outcome.ts";
import { nodeDefaultsLevel } from "../sources/defaults.ts";
import { ganetiNicPort, nicParamsOf } from "./nic-port.ts";
import type { InstanceNic } from "../nic.ts";
import type { GanetiInstance } from "./query.ts";
import { ID } from "../ovsdb/keys.ts";

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

