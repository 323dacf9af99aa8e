// Bringing this node's Ganeti ports in line with Ganeti's view of their
// NICs (VLAN + QoS), in place; and collecting ports whose device is gone.
import { ganetiNicPort } from "./nic-port.ts";
import type { GanetiInstance, GanetiNic } from "./query.ts";
import { deviceExists } from "../netdev.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import { listManagedPorts, reconcilePort, removeManagedPorts, type ManagedPort } from "../ovsdb/ports.ts";
import type { Deadline } from "../ovsdb/transact.ts";
import { nodeDefaultsLevel } from "../sources/defaults.ts";
import { printTransaction, type GlobalOptions } from "../cli/common.ts";

export interface Outcome {
  line: string;
  failed: boolean;
}

export type NetworkTags = (inst: GanetiInstance, nic: GanetiNic) => string[];

export async function ganetiPorts(db: OvsdbClient, deadline: Deadline, instance?: string): Promise<ManagedPort[]> {
  return (await listManagedPorts(db, deadline)).filter((p) => p.owner === "ganeti" && (instance === undefined || p.ifaceIds["ganeti-instance"] === instance));
}

export async function reconcileGanetiPorts(db: OvsdbClient, deadline: Deadline, opts: GlobalOptions, ports: ManagedPort[], instances: GanetiInstance[], networkTags: NetworkTags): Promise<Outcome[]> {
  const byName = new Map(instances.map((i) => [i.name, i]));
  const out: Outcome[] = [];
  for (const port of ports) {
    const instName = port.ifaceIds["ganeti-instance"] ?? "";
    const inst = byName.get(instName);
    const label = `${instName || "?"} ${port.name}`;
    if (!inst) {
      out.push({ line: `${label}: skipped: Ganeti does not know instance ${JSON.stringify(instName)} (stale port? see ovs-vif gc)`, failed: false });
      continue;
    }
    const nic = inst.nics.find((n) => n.uuid === port.ifaceIds["ganeti-nic-uuid"]);
    if (!nic) {
      out.push({ line: `${label}: skipped: the instance has no such NIC any more`, failed: false });
      continue;
    }
    if (nic.mode !== "openvswitch") {
      out.push({ line: `${label}: skipped: NIC ${nic.index} is now mode ${nic.mode}`, failed: false });
      continue;
    }
    try {
      const desired = ganetiNicPort(
        { instance: inst.name, index: nic.index, uuid: nic.uuid, ...(nic.name ? { name: nic.name } : {}), mac: nic.mac, link: nic.link, vlan: nic.vlan, tags: inst.tags, networkTags: networkTags(inst, nic) },
        port.name,
        [nodeDefaultsLevel(nic.link)],
        { link: `${inst.name} nic ${nic.index} link`, vlan: `${inst.name} nic ${nic.index} vlan` },
      );
      const res = await reconcilePort(db, desired, { deadline, wait: opts.wait, ...(opts.dryRun ? { dryRun: printTransaction } : {}) });
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

export async function collectStalePorts(db: OvsdbClient, deadline: Deadline, opts: GlobalOptions, ports: ManagedPort[]): Promise<Outcome[]> {
  const stale = ports.filter(isStale);
  if (stale.length === 0) return [];
  await removeManagedPorts(db, stale, { deadline, wait: opts.wait, ...(opts.dryRun ? { dryRun: printTransaction } : {}) });
  return stale.map((p) => ({
    line: `${opts.dryRun ? "would remove" : "removed"} ${p.name} from ${p.bridge ?? "?"} (owner ${p.owner}${p.ifaceIds["ganeti-instance"] ? `, instance ${p.ifaceIds["ganeti-instance"]}` : ""}${p.ifaceIds["xen-vm-name"] ? `, vm ${p.ifaceIds["xen-vm-name"]}` : ""}): ${deviceExists(p.name) ? p.error : "device gone"}`,
    failed: false,
  }));
}
