// Collecting what ovs-vif made and nothing uses any more: ports whose
// device is gone (with this chassis' claim on their OVN logical ports), and
// QoS rows no port uses.
import { type RunContext, applyOf } from "./context.ts";
import { deviceExists } from "./netdev.ts";
import type { OvsdbClient } from "./ovsdb/client.ts";
import { ID } from "./ovsdb/keys.ts";
import { removeManagedPorts, type ManagedPort } from "./ovsdb/ports.ts";
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

