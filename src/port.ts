// The desired state of one VM port, built from whatever the caller read
// (xenstore, Ganeti environment, command line), and its OVSDB columns.
import { resolvePolicing, resolveShaping, type QosLevel, type QosResult, type Shaping, type ShapingResult } from "./qos.ts";
import { portVlanColumns, type VlanSpec } from "./vlan.ts";
import { ID } from "./ovsdb/keys.ts";

export interface DesiredPort {
  bridge: string;
  /** Where the bridge name came from, for messages (LINK, a xenstore key; default "bridge"). */
  bridgeField?: string;
  /** Port and Interface name: the device (vif5.0, tap0, ...). */
  name: string;
  vlan: VlanSpec;
  /** Interface external_ids (xen-vm-name, attached-mac, iface-id, ...). */
  interfaceIds: Record<string, string>;
  /** Who attached it: xen, ganeti, qemu, cli. Stored in the Port's external_ids. */
  owner: string;
  /** QoS sources (both directions), most specific first (resolved against the port's MTU); none: no limits. */
  qos?: QosLevel[];
  /** Interface mtu_request; undefined means "the bridge's MTU". */
  mtu?: number;
}

export interface PortColumns {
  port: { vlan_mode: string; tag?: number; trunks: number[]; external_ids: Record<string, string> };
  iface: {
    external_ids: Record<string, string>;
    ingress_policing_rate: number;
    ingress_policing_burst: number;
    mtu_request?: number;
  };
  /** What the VM may receive: a linux-htb QoS row on the Port (none: no row). */
  shaping?: Shaping;
}

export const DEFAULT_MTU = 1500;

/** The policing this port gets, and where it came from. */
export function effectivePolicing(desired: DesiredPort, bridgeMtu?: number): QosResult {
  return resolvePolicing(desired.qos ?? [], desired.mtu ?? bridgeMtu ?? DEFAULT_MTU);
}

/** The receive limit this port gets, and where it came from. */
export function effectiveShaping(desired: DesiredPort, bridgeMtu?: number): ShapingResult {
  if (!desired.qos) return { rateSource: "none", burstSource: "none" };
  return resolveShaping(desired.qos, desired.mtu ?? bridgeMtu ?? DEFAULT_MTU);
}

export function portColumns(desired: DesiredPort, bridgeMtu?: number): PortColumns {
  const { policing } = effectivePolicing(desired, bridgeMtu);
  const { shaping } = effectiveShaping(desired, bridgeMtu);
  const vlan = portVlanColumns(desired.vlan);
  const port: PortColumns["port"] = { vlan_mode: vlan.vlan_mode, trunks: vlan.trunks, external_ids: { [ID.owner]: desired.owner } };
  if (vlan.tag !== undefined) port.tag = vlan.tag;
  const iface: PortColumns["iface"] = {
    external_ids: { ...desired.interfaceIds },
    ingress_policing_rate: policing.rate,
    ingress_policing_burst: policing.burst,
  };
  const mtu = desired.mtu ?? bridgeMtu;
  if (mtu !== undefined) iface.mtu_request = mtu;
  return shaping ? { port, iface, shaping } : { port, iface };
}
