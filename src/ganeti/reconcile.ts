// Bringing this node's Ganeti ports in line with Ganeti's view of their
// NICs (VLAN + QoS), in place.
import { type RunContext, applyOf } from "../context.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import { listManagedPorts, reconcilePort, type ManagedPort } from "../ovsdb/ports.ts";
import { describePortSecurity, portSecurityOf, type PortSecurity } from "../port.ts";
import type { Outcome } from "../outcome.ts";
import { nodeDefaultsLevel } from "../sources/defaults.ts";
import { configuredNicFields, ganetiNicPort, nicParamsOf } from "./nic-port.ts";
import type { GanetiNetworkInfo, InstanceNic } from "../nic.ts";
import type { GanetiInstance } from "./query.ts";
import { ID } from "../ovsdb/keys.ts";

/** The network of an instance's NIC, as the caller knows it. */
export type NetworkOf = (inst: GanetiInstance, nic: InstanceNic) => GanetiNetworkInfo | undefined;

/** Networks from a name -> network map (the CLI's or a snapshot's). */
export function networksFrom(networks: ReadonlyMap<string, GanetiNetworkInfo>): NetworkOf {
  return (_inst, nic) => (nic.network ? networks.get(nic.network) : undefined);
}

export async function ganetiPorts(db: OvsdbClient, ctx: RunContext, instance?: string): Promise<ManagedPort[]> {
  return (await listManagedPorts(db, ctx.deadline)).filter((p) => p.owner === "ganeti" && (instance === undefined || p.ifaceIds[ID.instance] === instance));
}

export async function reconcileGanetiPorts(
  db: OvsdbClient,
  ctx: RunContext,
  ports: ManagedPort[],
  instances: GanetiInstance[],
  networkOf: NetworkOf,
): Promise<Outcome[]> {
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
      const desired = ganetiNicPort(nicParamsOf(inst, nic, networkOf(inst, nic)), port.name, [nodeDefaultsLevel(nic.link)], configuredNicFields(inst, nic));
      const security = portSecurityOf(desired);
      const res = await reconcilePort(db, desired, applyOf(ctx), security.policy !== undefined);
      const rate = res.policing ? ` rate=${res.policing.rate} burst=${res.policing.burst}` : "";
      const flows = await settleFlows(port, desired.bridge, security, ctx);
      out.push({ line: `${label}: ${res.status}${rate}${res.changes.length ? ` (${res.changes.join("; ")})` : ""}${flows}`, failed: false });
    } catch (err) {
      out.push({ line: `${label}: failed: ${(err as Error).message}`, failed: true });
    }
  }
  return out;
}

/** The port's port-security flows replaced in place as its policy says (or
 * removed, on a bridge that carries ovs-vif's flows); a note for its line. */
async function settleFlows(port: ManagedPort, bridge: string, security: PortSecurity, ctx: RunContext): Promise<string> {
  if (!security.policy && !(port.bridgeFlows && port.bridge === bridge)) return "";
  const ofport = port.ofport;
  if (ofport === undefined || ofport < 1) return security.policy ? " port-security: no ofport yet, flows not set" : "";
  if (ctx.dryRun) return ` port-security: would set ${describePortSecurity(security)}`;
  const { settlePortFlows, withFlows } = await import("../port-flows.ts");
  const n = await withFlows(bridge, ctx, (client) => settlePortFlows(client, { bridge, name: port.name, ofport }, security.policy, ctx));
  return security.policy ? ` port-security: ${n} flows` : "";
}
