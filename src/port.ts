// The desired state of one VM port, built from whatever the caller read
// (xenstore, Ganeti environment, command line), and its OVSDB columns.
import { portVlanColumns, type VlanSpec } from "./vlan.ts";

/** OVS Interface policing: rate in kbps (1000 bit/s), burst in kb (1024 bit); 0 disables. */
export interface Policing {
  rate: number;
  burst: number;
}

export const NO_POLICING: Policing = Object.freeze({ rate: 0, burst: 0 });

/** Port external_ids key marking a port as created by ovs-vif (value: the caller). */
export const OWNER_KEY = "ovs-vif-owner";

export interface DesiredPort {
  bridge: string;
  /** Port and Interface name: the device (vif5.0, tap0, ...). */
  name: string;
  vlan: VlanSpec;
  /** Interface external_ids (xen-vm-name, attached-mac, iface-id, ...). */
  interfaceIds: Record<string, string>;
  /** Who attached it: xen, ganeti, qemu, cli. Stored in the Port's external_ids. */
  owner: string;
  policing: Policing;
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
}

export function portColumns(desired: DesiredPort, bridgeMtu?: number): PortColumns {
  const vlan = portVlanColumns(desired.vlan);
  const port: PortColumns["port"] = { vlan_mode: vlan.vlan_mode, trunks: vlan.trunks, external_ids: { [OWNER_KEY]: desired.owner } };
  if (vlan.tag !== undefined) port.tag = vlan.tag;
  const iface: PortColumns["iface"] = {
    external_ids: { ...desired.interfaceIds },
    ingress_policing_rate: desired.policing.rate,
    ingress_policing_burst: desired.policing.burst,
  };
  const mtu = desired.mtu ?? bridgeMtu;
  if (mtu !== undefined) iface.mtu_request = mtu;
  return { port, iface };
}
