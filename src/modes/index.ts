// One Ganeti NIC up or down, whatever its mode. Every check runs before the
// first change; the log fields describe what was done.
import { StateError } from "../errors.ts";
import type { Fields } from "../log.ts";
import type { QosLevel } from "../qos.ts";
import { nicField, type GanetiNic } from "../sources/ganeti.ts";
import { describeVlan, vlanMode } from "../vlan.ts";
import { linkExists, removeLeftoverOvsPort, runSteps, type ModeContext } from "./common.ts";
import { ganetiDesiredPort, ovsDown, ovsUp } from "./openvswitch.ts";
// bridged and routed are loaded when used: the openvswitch path (VM start
// and migration downtime) does not pay for them.
const bridgedMode = () => import("./bridged.ts");
const routedMode = () => import("./routed.ts");

export interface NicUpOptions {
  /** The variable naming the device in messages (INTERFACE, vif, ifname). */
  deviceField: string;
  /** QoS levels after the NIC's tags (node defaults, Xen rate). */
  tail?: (bridge: string) => QosLevel[];
  /** More Interface external-ids (Xen: xen-vm-name, ...). */
  extraIds?: Record<string, string>;
  mtu?: number;
  /** Runs after the checks, before any change of an openvswitch NIC. */
  prepare?: () => Promise<void>;
  /** The device's current name, when prepare renames it (Xen vifname). */
  currentDevice?: string;
}

export async function ganetiNicUp(nic: GanetiNic, ctx: ModeContext, o: NicUpOptions): Promise<Fields> {
  const device = nic.device;
  const fields: Fields = { mode: nic.mode, device, link: nic.link };
  switch (nic.mode) {
    case "openvswitch": {
      const desired = ganetiDesiredPort(nic, device, o.tail ? o.tail(nic.link!) : []);
      Object.assign(desired.interfaceIds, o.extraIds ?? {});
      if (o.mtu !== undefined) desired.mtu = o.mtu;
      const current = o.currentDevice ?? device;
      if (!ctx.print && !linkExists(current)) throw new StateError(o.deviceField, current, "no such network device");
      const res = await ovsUp({ desired, ...(nic.uuid ? { nicUuid: nic.uuid } : {}), ...(o.prepare ? { prepare: o.prepare } : {}) }, ctx).catch((err: unknown) => {
        // attachPort names its input "bridge"; Ganeti's operator knows it as LINK.
        if (err instanceof StateError && err.field === "bridge") {
          const reason = err.message.slice(`${err.field} ${JSON.stringify(err.value)}: `.length);
          throw new StateError(nicField(nic, "LINK"), err.value, reason);
        }
        throw err;
      });
      Object.assign(fields, {
        vlan_mode: vlanMode(desired.vlan),
        vlan: describeVlan(desired.vlan),
        mtu: desired.mtu ?? res.attach.bridgeMtu,
        rate: res.attach.policing.rate || undefined,
        burst: res.attach.policing.burst || undefined,
        ofport: res.attach.ofport,
        replaced: res.attach.replaced || undefined,
        stale_removed: res.stale.join(",") || undefined,
      });
      return fields;
    }
    case "bridged": {
      const { planBridgedUp } = await bridgedMode();
      const steps = await planBridgedUp({
        device,
        link: nic.link!,
        ...(nic.vlanSpec ? { vlan: nic.vlanSpec } : {}),
        vlanRaw: nic.vlan,
        fields: { device: o.deviceField, link: nicField(nic, "LINK"), vlan: nicField(nic, "VLAN") },
        instance: nic.instance,
      });
      const removed = await removeLeftoverOvsPort(device, ctx);
      await runSteps(steps, ctx);
      if (nic.vlanSpec) fields.vlan = describeVlan(nic.vlanSpec);
      if (removed) fields.ovs_port_removed = removed;
      return fields;
    }
    case "routed": {
      const { planRoutedUp } = await routedMode();
      const steps = await planRoutedUp({ device, ...(nic.ip ? { ip: nic.ip } : {}), ...(nic.link ? { table: nic.link } : {}), fields: { device: o.deviceField, ip: nicField(nic, "IP") } });
      const removed = await removeLeftoverOvsPort(device, ctx);
      await runSteps(steps, ctx);
      fields.ip = nic.ip;
      fields.table = nic.link ?? "main";
      if (removed) fields.ovs_port_removed = removed;
      return fields;
    }
  }
}

/** What `down` needs to know; the mode may be unknown (Xen offline after
 * the NIC file is gone): then every mode's leftovers are removed. */
export interface NicDownTarget {
  device: string;
  mode?: GanetiNic["mode"];
  link?: string;
  ip?: string;
}

export async function ganetiNicDown(t: NicDownTarget, ctx: ModeContext): Promise<Fields> {
  const fields: Fields = { mode: t.mode ?? "unknown", device: t.device };
  if (t.mode === "openvswitch") {
    const res = await ovsDown(t.device, ctx);
    fields.removed = res.removed;
    fields.bridge = res.bridges.join(",") || undefined;
    return fields;
  }
  const removed = await removeLeftoverOvsPort(t.device, ctx);
  if (removed) fields.ovs_port_removed = removed;
  if (t.mode === undefined || t.mode === "bridged") {
    const { planBridgedDown } = await bridgedMode();
    await runSteps(planBridgedDown(t.device, t.mode === "bridged" ? t.link : undefined), ctx);
  }
  if (t.mode === undefined || t.mode === "routed") {
    const { planRoutedDown } = await routedMode();
    await runSteps(await planRoutedDown({ device: t.device, ...(t.ip ? { ip: t.ip } : {}), ...(t.link && t.mode === "routed" ? { table: t.link } : {}), fields: { device: "INTERFACE", ip: "IP" } }), ctx);
  }
  return fields;
}
