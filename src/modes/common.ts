// What the non-OVS modes share: a NIC that is not (or no longer) on Open
// vSwitch must not keep an OVS port of its device's name (Ganeti issue
// 1412): ovs-vswitchd would grab the new device of that name.
import { exists } from "../files.ts";
import { connectOvsdb, type RunContext, applyOf } from "../context.ts";
import { AfterCommitError, OvsdbError } from "../errors.ts";
import { resolveEndpoint, type OvsdbClient } from "../ovsdb/client.ts";
import { detachPort } from "../ovsdb/ports.ts";
import { Deadline } from "../deadline.ts";

/** Connects only when an OVSDB is there: undefined (and a debug line) when
 * the socket is missing or refuses, so nodes without OVS keep working. */
async function optionalOvsdb(ctx: RunContext): Promise<OvsdbClient | undefined> {
  const endpoint = resolveEndpoint(ctx.opts.db);
  if (endpoint.kind === "unix" && !exists(endpoint.path!)) {
    ctx.log.debug("no OVSDB socket, skipping the OVS leftover check", { db: endpoint.text });
    return undefined;
  }
  try {
    return await connectOvsdb({ opts: ctx.opts, deadline: new Deadline(Math.min(2000, ctx.deadline.left())) });
  } catch (err) {
    if (err instanceof OvsdbError) {
      ctx.log.debug("OVSDB not reachable, skipping the OVS leftover check", { db: endpoint.text, error: err.message });
      return undefined;
    }
    throw err;
  }
}

/** Removes the device's leftover OVS port, waiting (bounded) for vswitchd
 * so the device is released before it is used. */
export async function removeLeftoverOvsPort(device: string, ctx: RunContext): Promise<number> {
  const db = await optionalOvsdb(ctx);
  if (!db) return 0;
  try {
    // Bounded: a stopped ovs-vswitchd holds no device, so not hearing from
    // it is no reason to fail a bridged or routed NIC.
    const deadline = new Deadline(Math.min(5000, ctx.deadline.left()));
    const res = await detachPort(db, device, { ...applyOf(ctx), deadline }).catch((err: unknown) => {
      if (err instanceof AfterCommitError) {
        ctx.log.info("removed leftover OVS port; ovs-vswitchd did not confirm", { device });
        return { removed: 1, bridges: [] as string[] };
      }
      throw err;
    });
    if (res.removed > 0) ctx.log.info("removed leftover OVS port", { device, bridge: res.bridges.join(",") || undefined });
    return res.removed;
  } finally {
    db.close();
  }
}
