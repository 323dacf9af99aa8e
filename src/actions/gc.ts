// `ovs-vif gc`: ovs-vif's ports whose device is gone, and (for the whole
// node) the QoS rows and port-security flows ovs-vif made that no port uses.
import { out, withOvsdb, type RunContext } from "../context.ts";
import { collectOrphanQos, collectStaleFlows, collectStalePorts } from "../stale.ts";
import { reportOutcomes } from "../outcome.ts";
import { ID } from "../ovsdb/keys.ts";
import { listManagedPorts } from "../ovsdb/ports.ts";

/** Removes them and prints what went; 1 when a removal failed. */
export async function collectGarbage(ctx: RunContext, instance: string | undefined): Promise<number> {
  return withOvsdb(ctx, async (db) => {
    const ports = (await listManagedPorts(db, ctx.deadline)).filter((p) => instance === undefined || p.ifaceIds[ID.instance] === instance);
    const results = await collectStalePorts(db, ctx, ports);
    // QoS rows and flows are not an instance's: only a gc of the whole node takes them.
    if (instance === undefined) results.push(...(await collectOrphanQos(db, ctx)), ...(await collectStaleFlows(db, ctx)));
    if (results.length === 0) out("no stale ports\n");
    return reportOutcomes(results, ctx, "gc ") ? 1 : 0;
  });
}
