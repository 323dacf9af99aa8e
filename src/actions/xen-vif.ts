// Xen's vif-openvswitch: one vif up (online, add) or down (offline, remove),
// its bridge and VLAN from xenstore (or the script's bridge= argument).
import { connectOvsdb, type RunContext } from "../context.ts";
import type { Fields } from "../log.ts";
import { loadDeviceCalls } from "../netdev.ts";
import { plug, plugFields, unplug, unplugFields } from "../plug.ts";
import { nodeDefaultsLevel, nodePortSecurityLevel } from "../sources/defaults.ts";
import { readXenVifKeys, targetDeviceName, xenDesiredPort, type XenInvocation } from "../sources/xen.ts";
import { openXenStore } from "../sources/xenstore.ts";
import { mark } from "../trace.ts";
import { ID } from "../ovsdb/keys.ts";

/** Plugs or unplugs the vif; the fields of its log line.
 * On success of an up, hotplug-status is `connected` (Xen's contract). */
export async function xenVif(inv: XenInvocation, ctx: RunContext): Promise<Fields> {
  // Both connections at once: their latencies overlap.
  const db = connectOvsdb(ctx);
  db.catch(() => undefined);
  const xs = await openXenStore({ timeoutMs: Math.min(ctx.opts.timeoutMs, 5000) });
  mark("xenstore connected");
  try {
    const up = inv.command === "online" || inv.command === "add";
    const reading = readXenVifKeys(xs, inv.xenbusPath, up);
    // While xenstored answers: what the device steps need.
    if (up && !ctx.dryRun) loadDeviceCalls();
    const keys = await reading;
    mark("xenstore read");
    const device = targetDeviceName(inv, keys);
    if (!up) return unplugFields(device, await unplug(device, ctx, db));
    const started = Date.now();
    const { desired, vlanSource } = xenDesiredPort(
      inv,
      keys,
      device,
      (bridge) => [nodeDefaultsLevel(bridge)],
      (bridge) => [nodePortSecurityLevel(bridge)],
    );
    const res = await plug(
      { desired, device: inv.device, deviceField: inv.typeIf === "tap" ? "INTERFACE" : "vif", renameField: "vifname", xenBackend: true },
      ctx,
      db,
    );
    if (ctx.dryRun) ctx.dryRun.print(`xenstore-write ${inv.xenbusPath}/hotplug-status connected`);
    else await xs.write(`${inv.xenbusPath}/hotplug-status`, "connected");
    mark("hotplug-status written");
    return { vm: desired.interfaceIds[ID.xenVmName], ...plugFields(desired, res), vlan_from: vlanSource, ms: Date.now() - started };
  } finally {
    xs.close();
    await db.then(
      (c) => c.close(),
      () => undefined,
    );
  }
}
