// Collecting what ovs-vif made and nothing uses any more: ports whose
// device is gone (with this chassis' claim on their OVN logical ports and
// their port-security flows), QoS rows no port uses, and port-security
// flows no port has.
import { type RunContext, applyOf } from "./context.ts";
import { deviceExists } from "./netdev.ts";
import type { OvsdbClient } from "./ovsdb/client.ts";
import { ID } from "./ovsdb/keys.ts";
import { flowBridges, listManagedPorts, removeManagedPorts, type ManagedPort } from "./ovsdb/ports.ts";
import { findOrphanQos, removeOrphanQos } from "./ovsdb/qos-orphans.ts";
import type { Outcome } from "./outcome.ts";

/** A port is stale when its device is gone or vswitchd says it cannot open it. */
export function isStale(p: ManagedPort): boolean {
  return !deviceExists(p.name) || (p.error !== undefined && /no such device|could not open/i.test(p.error));
}

export async function collectStalePorts(db: OvsdbClient, ctx: RunContext, ports: ManagedPort[]): Promise<Outcome[]> {
  const stale = ports.filter(isStale);
  if (stale.length === 0) return [];
  await removeManagedPorts(db, stale, applyOf(ctx));
  // An OVN port: this chassis no longer wants its logical port.
  const { releasePorts } = await import("./ovn/lifecycle.ts");
  const released = (await releasePorts(stale, ctx, db)).map((line) => ({ line: `released ${line}`, failed: false }));
  // Their port-security flows would match the next port given their ofport.
  const flowPorts = stale
    .filter((p) => p.bridgeFlows && p.ofport !== undefined && p.ofport > 0)
    .map((p) => ({ bridge: p.bridge!, name: p.name, ofport: p.ofport! }));
  const flows = flowPorts.length > 0 ? await (await import("./port-flows.ts")).removeFlowsOf(flowPorts, ctx) : [];
  return [
    ...stale.map((p) => ({
      line: `${ctx.dryRun ? "would remove" : "removed"} ${p.name} from ${p.bridge ?? "?"} (owner ${p.owner}${p.ifaceIds[ID.instance] ? `, instance ${p.ifaceIds[ID.instance]}` : ""}${p.ifaceIds[ID.xenVmName] ? `, vm ${p.ifaceIds[ID.xenVmName]}` : ""}): ${deviceExists(p.name) ? p.error : "device gone"}`,
      failed: false,
    })),
    ...released,
    ...flows,
  ];
}

/** ovs-vif's port-security flows whose ofport is no ovs-vif port's any more
 * (a port removed by someone else, a removal that failed), on every bridge
 * that carries them. */
export async function collectStaleFlows(db: OvsdbClient, ctx: RunContext): Promise<Outcome[]> {
  const ports = await listManagedPorts(db, ctx.deadline);
  const bridges = await flowBridges(db, ctx.deadline);
  if (bridges.length === 0) return [];
  const { sweepStaleFlows, withFlows } = await import("./port-flows.ts");
  const out: Outcome[] = [];
  for (const bridge of bridges) {
    const live = ports.filter((p) => p.bridge === bridge && p.ofport !== undefined && p.ofport > 0).map((p) => ({ name: p.name, ofport: p.ofport! }));
    try {
      const stale = await withFlows(bridge, ctx, (client) =>
        sweepStaleFlows(client, live, { timeoutMs: ctx.deadline.left(), ...(ctx.dryRun ? { dryRun: true } : {}) }),
      );
      for (const c of stale)
        out.push({
          line: `${ctx.dryRun ? "would remove" : "removed"} ${c.flows} port-security flow(s) of ofport ${c.ofport} from ${bridge} (no ovs-vif port has it)`,
          failed: false,
        });
    } catch (err) {
      out.push({ line: `${bridge}: stale port-security flows not swept: ${(err as Error).message}`, failed: true });
    }
  }
  return out;
}

/** QoS/Queue rows ovs-vif made that no port uses any more. */
export async function collectOrphanQos(db: OvsdbClient, ctx: RunContext): Promise<Outcome[]> {
  const orphans = await findOrphanQos(db, ctx.deadline);
  await removeOrphanQos(db, orphans, applyOf(ctx));
  return orphans.map((o) => ({
    line: `${ctx.dryRun ? "would remove" : "removed"} orphaned ${o.table} row ${o.uuid} (made for port ${o.port}, which no longer uses it)`,
    failed: false,
  }));
}
