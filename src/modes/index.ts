// One Ganeti NIC up or down, whatever its mode. Every check runs before the
// first change; the log fields describe what was done.
import type { RunContext } from "../context.ts";
import type { Fields } from "../log.ts";
import { deviceExists, runSteps } from "../netdev.ts";
import { connectOvsdb } from "../context.ts";
import { loadOvnConfig } from "../ovn/config.ts";
import { ovnPortOf } from "../ovn/ganeti.ts";
import { plug, qosFields, unplug, type PlugRequest, type PlugResult } from "../plug.ts";
import type { QosLevel } from "../qos.ts";
import { nodeDefaultsLevel } from "../sources/defaults.ts";
import { nicField, type NicRequest, type ScriptNic } from "../sources/ganeti.ts";
import { describeVlan, vlanMode } from "../vlan.ts";
import { removeLeftoverOvsPort } from "./common.ts";
import { ganetiDesiredPort } from "./openvswitch.ts";
// bridged and routed are loaded when used: the openvswitch path (VM start
// and migration downtime) does not pay for them.
const bridgedMode = () => import("./bridged.ts");
const routedMode = () => import("./routed.ts");

/** The rename a non-OVS mode starts with (Xen vifname). */
const renamed = (o: NicUpOptions, device: string) => (o.currentDevice !== undefined && o.currentDevice !== device ? { renameFrom: o.currentDevice } : {});

const stepOptions = (ctx: RunContext) => ({ timeoutMs: ctx.deadline.left(), ...(ctx.dryRun ? { dryRun: ctx.dryRun } : {}) });

export interface NicUpOptions {
  /** The variable naming the device in messages (INTERFACE, vif, ifname). */
  deviceField: string;
  /** QoS levels after the NIC's tags (node defaults, Xen rate). */
  tail?: (bridge: string) => QosLevel[];
  /** More Interface external-ids (Xen: xen-vm-name, ...). */
  extraIds?: Record<string, string>;
  mtu?: number;
  /** A Xen backend device, prepared (and renamed) by the plug. */
  xenBackend?: boolean;
  /** The device's current name, when the plug renames it (Xen vifname). */
  currentDevice?: string;
}

export async function ganetiNicUp(nic: ScriptNic, ctx: RunContext, o: NicUpOptions): Promise<Fields> {
  const device = nic.device;
  const fields: Fields = { mode: nic.mode, device, link: nic.link };
  switch (nic.mode) {
    case "openvswitch": {
      const ovn = loadOvnConfig();
      const ovnPort = ovnPortOf(nic, ovn);
      // An OVN NIC's VLAN is its logical switch: the port itself is untagged.
      const desired = ganetiDesiredPort(ovnPort ? { ...nic, vlan: "" } : nic, device, o.tail ? o.tail(nic.link!) : []);
      Object.assign(desired.interfaceIds, o.extraIds ?? {});
      if (o.mtu !== undefined) desired.mtu = o.mtu;
      const req: PlugRequest = {
        desired,
        device: o.currentDevice ?? device,
        deviceField: o.deviceField,
        ...(o.xenBackend ? { xenBackend: true, renameField: "vifname" } : {}),
        ...(nic.uuid ? { nicUuid: nic.uuid } : {}),
      };
      let res: PlugResult;
      if (ovnPort && ovn) {
        const { ovnPlug } = await import("../ovn/plug.ts");
        const db = connectOvsdb(ctx);
        db.catch(() => undefined);
        try {
          const r = await ovnPlug(req, ovnPort, ovn, ctx, db);
          Object.assign(fields, { lsp: ovnPort.lsp.name, ls: ovnPort.lsp.ls, chassis: r.placement.chassis.join(","), activation: r.placement.activation });
          res = r;
        } finally {
          await db.then(
            (c) => c.close(),
            () => undefined,
          );
        }
      } else {
        res = await plug(req, ctx);
      }
      Object.assign(fields, {
        vlan_mode: vlanMode(desired.vlan),
        vlan: describeVlan(desired.vlan),
        mtu: desired.mtu ?? res.bridgeMtu,
        ...qosFields(res),
        ofport: res.ofport,
        replaced: res.replaced || undefined,
        stale_removed: res.stale.join(",") || undefined,
      });
      return fields;
    }
    case "bridged": {
      const { planBridgedUp } = await bridgedMode();
      const steps = await planBridgedUp({
        device,
        ...renamed(o, device),
        link: nic.link!,
        ...(nic.vlanSpec ? { vlan: nic.vlanSpec } : {}),
        vlanRaw: nic.vlan,
        fields: { device: o.deviceField, link: nicField(nic, "LINK"), vlan: nicField(nic, "VLAN") },
        instance: nic.instance,
      });
      const removed = await removeLeftoverOvsPort(device, ctx);
      await runSteps(steps, stepOptions(ctx));
      if (nic.vlanSpec) fields.vlan = describeVlan(nic.vlanSpec);
      if (removed) fields.ovs_port_removed = removed;
      return fields;
    }
    case "routed": {
      const { planRoutedUp } = await routedMode();
      const steps = await planRoutedUp({
        device,
        ...renamed(o, device),
        ...(nic.ip ? { ip: nic.ip } : {}),
        ...(nic.link ? { table: nic.link } : {}),
        fields: { device: o.deviceField, ip: nicField(nic, "IP") },
      });
      const removed = await removeLeftoverOvsPort(device, ctx);
      await runSteps(steps, stepOptions(ctx));
      fields.ip = nic.ip;
      fields.table = nic.link ?? "main";
      if (removed) fields.ovs_port_removed = removed;
      return fields;
    }
  }
}

/** What `down` needs to know of a NIC; the mode may be unknown (Xen offline
 * after the NIC file is gone): then every mode's leftovers are removed. */
export type NicDownTarget = Pick<ScriptNic, "device" | "uuid" | "link" | "ip"> & { mode?: ScriptNic["mode"] };

export interface NicDownOptions {
  /** A device that still exists keeps its port, bridge membership and
   * routes: they go with the device. For Ganeti 3.2's KVM `down`, which
   * runs right after Ganeti asks the guest to power off (ACPI) while the
   * guest may still be shutting down, again on every retry, and on a
   * migration's source before QEMU is killed: cutting the network there
   * would cut a clean shutdown's (network file systems, DHCP release,
   * cluster leave). When QEMU exits the tap goes, and with it the port
   * (ovs-vif watch at once; else the instance's post hook, gc, or the
   * NIC's next plug). */
  keepLiveDevice?: boolean;
}

/** One KVM NIC script run (Ganeti 3.2's down keeps a device that still
 * exists: see NicDownOptions). */
export function ganetiNic(req: NicRequest, ctx: RunContext): Promise<Fields> {
  if (req.action === "up") return ganetiNicUp(req.nic, ctx, { deviceField: "INTERFACE", tail: (bridge) => [nodeDefaultsLevel(bridge)] });
  return ganetiNicDown(req.nic, ctx, { keepLiveDevice: true });
}

export async function ganetiNicDown(t: NicDownTarget, ctx: RunContext, o: NicDownOptions = {}): Promise<Fields> {
  const fields: Fields = { mode: t.mode ?? "unknown", device: t.device };
  if (o.keepLiveDevice && deviceExists(t.device)) {
    fields.kept = "the device still exists (a guest still shutting down, or a migration's source): its port goes with it";
    return fields;
  }
  if (t.mode === "openvswitch") {
    const ovn = loadOvnConfig();
    if (ovn && t.link === ovn.bridge && t.uuid !== undefined) {
      const { ovnUnplug } = await import("../ovn/plug.ts");
      const res = await ovnUnplug(t.device, t.uuid, ovn, ctx);
      Object.assign(fields, { removed: res.removed, bridge: res.bridges.join(",") || undefined, lsp: t.uuid, released: res.released });
      return fields;
    }
    const res = await unplug(t.device, ctx);
    fields.removed = res.removed;
    fields.bridge = res.bridges.join(",") || undefined;
    return fields;
  }
  const removed = await removeLeftoverOvsPort(t.device, ctx);
  if (removed) fields.ovs_port_removed = removed;
  if (t.mode === undefined || t.mode === "bridged") {
    const { planBridgedDown } = await bridgedMode();
    await runSteps(planBridgedDown(t.device, t.mode === "bridged" ? t.link : undefined), stepOptions(ctx));
  }
  if (t.mode === undefined || t.mode === "routed") {
    const { planRoutedDown } = await routedMode();
    await runSteps(
      await planRoutedDown({
        device: t.device,
        ...(t.ip ? { ip: t.ip } : {}),
        ...(t.link && t.mode === "routed" ? { table: t.link } : {}),
        fields: { device: "INTERFACE", ip: "IP" },
      }),
      stepOptions(ctx),
    );
  }
  return fields;
}
