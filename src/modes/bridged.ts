// mode=bridged, as Ganeti's net-common does it, with every check done before
// the first change: tap MAC first octet fe (so the bridge never adopts it),
// bridge MTU, link up, `ip link set master`, and with a vlan on a
// VLAN-filtering bridge, `bridge vlan` entries on the tap (first VLAN of
// `.N...` as pvid untagged) and on the bridge's uplinks.
import { StateError } from "../errors.ts";
import type { VlanSpec } from "../vlan.ts";
import { bridgePorts, deviceExists, isLinuxBridge, isVeth, linkAttr, masterOf, readSys, renameStep, type Step } from "../netdev.ts";

export interface BridgedNic {
  device: string;
  /** The device's current name when the first step renames it to `device` (Xen vifname). */
  renameFrom?: string;
  /** The Linux bridge. */
  link: string;
  vlan?: VlanSpec;
  /** The vlan as given, for messages ("" when unset). */
  vlanRaw: string;
  /** Variable names for messages (INTERFACE, LINK, VLAN, or the NIC file's). */
  fields: { device: string; link: string; vlan: string };
  /** For the log line of an uplink change: the instance. */
  instance: string;
}

/** What the plan reads from the system (a seam for unit tests). */
export interface BridgeSys {
  exists(dev: string): boolean;
  isBridge(dev: string): boolean;
  address(dev: string): string | undefined;
  mtu(dev: string): string | undefined;
  vlanFiltering(bridge: string): string | undefined;
  ports(bridge: string): string[];
  /** /proc/net/vlan/config, undefined when absent (no 8021q). */
  vlanConfig(): string | undefined;
  isVeth(dev: string): Promise<boolean>;
  master(dev: string): string | undefined;
}

export const realBridgeSys: BridgeSys = {
  exists: deviceExists,
  isBridge: isLinuxBridge,
  address: (dev) => linkAttr(dev, "address"),
  mtu: (dev) => linkAttr(dev, "mtu"),
  vlanFiltering: (bridge) => linkAttr(bridge, "bridge/vlan_filtering"),
  ports: bridgePorts,
  vlanConfig: () => readSys("/proc/net/vlan/config"),
  isVeth,
  master: masterOf,
};

/** Devices that are VM ports, never uplinks: Ganeti's taps (stock excludes
 * tap*), Xen backends and instance-communication taps, and the NIC itself. */
function isUplink(dev: string, nicDevice: string): boolean {
  return dev !== nicDevice && !/^(tap|vif|gnt\.com)/.test(dev);
}

/** The VLAN ids in stock order: the native one first ("pvid untagged"), then the tagged ones. */
function vlanOrder(spec: VlanSpec): { vid: number; native: boolean }[] {
  const out: { vid: number; native: boolean }[] = [];
  if (spec.native !== undefined) out.push({ vid: spec.native, native: true });
  for (const vid of spec.trunks) if (vid !== spec.native) out.push({ vid, native: false });
  return out;
}

/** Checks everything, then returns the steps of `up`. Throws before any change. */
export async function planBridgedUp(nic: BridgedNic, sys: BridgeSys = realBridgeSys): Promise<Step[]> {
  const { device, link } = nic;
  const current = nic.renameFrom ?? device;
  if (!sys.exists(current)) throw new StateError(nic.fields.device, current, "no such network device");
  if (current !== device && sys.exists(device))
    throw new StateError(`${nic.fields.device} rename`, device, `cannot rename ${current}: a device with that name already exists`);
  if (!sys.exists(link)) throw new StateError(nic.fields.link, link, "no such bridge (no network device of that name)");
  if (!sys.isBridge(link))
    throw new StateError(nic.fields.link, link, "not a Linux bridge (bridged NICs need one; an Open vSwitch bridge needs mode=openvswitch)");
  const mtu = sys.mtu(link);
  if (mtu === undefined || !/^[0-9]+$/.test(mtu)) throw new StateError(nic.fields.link, link, "cannot read the bridge's MTU");

  const vlanLines: string[] = [];
  if (nic.vlan) {
    const filtering = sys.vlanFiltering(link);
    if (filtering === undefined) {
      throw new StateError(nic.fields.vlan, nic.vlanRaw, `bridge ${link} has no VLAN filtering support (kernel without CONFIG_BRIDGE_VLAN_FILTERING)`);
    }
    if (filtering !== "1") {
      throw new StateError(nic.fields.vlan, nic.vlanRaw, `bridge ${link} has VLAN filtering disabled (enable vlan_filtering on it, or drop the NIC's vlan)`);
    }
    const order = vlanOrder(nic.vlan);
    // A VID used by a classic VLAN device (eth0.100) would starve the tap.
    const config = sys.vlanConfig();
    if (config !== undefined) {
      for (const line of config.split("\n").slice(2)) {
        const [name, vid, lower] = line.split("|").map((f) => f.trim());
        if (!name || !vid || !lower) continue;
        if (order.some((o) => String(o.vid) === vid) && !(await sys.isVeth(lower))) {
          throw new StateError(nic.fields.vlan, nic.vlanRaw, `VLAN ${vid} is in use by VLAN interface ${name} on ${lower}`);
        }
      }
    }
    const uplinks = sys.ports(link).filter((p) => isUplink(p, device));
    for (const { vid, native } of order) {
      vlanLines.push(`vlan add dev ${device} vid ${vid}${native ? " pvid untagged" : ""} master`);
      for (const up of uplinks) vlanLines.push(`vlan add dev ${up} vid ${vid} master`);
    }
  }

  const steps: Step[] = current === device ? [] : [renameStep(current, device)];
  const mac = sys.address(current);
  if (mac !== undefined && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) {
    // A xen-netback vif refuses a MAC change: not an error (stock: `|| true`).
    steps.push({ kind: "ip", lines: [`link set dev ${device} address fe${mac.slice(2)}`], tolerate: true });
  }
  steps.push({ kind: "ip", lines: [`link set dev ${device} up`, `link set dev ${device} mtu ${mtu}`, `link set dev ${device} master ${link}`] });
  if (vlanLines.length > 0) steps.push({ kind: "bridge", lines: vlanLines });
  return steps;
}

/** `down`: release the bridge port (its VLAN entries go with it). Uplink
 * VLANs stay: other NICs may use them. A missing device is fine. */
export function planBridgedDown(device: string, link: string | undefined, sys: BridgeSys = realBridgeSys): Step[] {
  if (!sys.exists(device)) return [];
  const master = sys.master(device);
  if (master === undefined) return [];
  if (link !== undefined ? master !== link : !sys.isBridge(master)) return [];
  return [{ kind: "ip", lines: [`link set dev ${device} nomaster`] }];
}
