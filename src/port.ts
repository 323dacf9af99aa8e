// The desired state of one VM port, built from whatever the caller read
// (xenstore, Ganeti environment, command line), and its OVSDB columns.
import { resolvePolicing, resolveShaping, type QosLevel, type QosResult, type Shaping, type ShapingResult } from "./qos.ts";
import { portVlanColumns, type VlanSpec } from "./vlan.ts";
import { ID } from "./ovsdb/keys.ts";
import { InputError } from "./errors.ts";
import { buildPolicy, describePolicy, type FieldValue, type PortPolicy } from "./port-security/policy.ts";
import { resolvePortSecurity, type PortSecurityLevel } from "./port-security/sources.ts";

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
  /** Port security's sources (none: off). */
  portSecurity?: PortSecurityInput;
}

/** Where a port's port security comes from: its levels, most specific first
 * (tags, the command line or Xen's ip key, the node default), and the NIC's
 * own MAC and addresses the filter is built from. */
export interface PortSecurityInput {
  levels: PortSecurityLevel[];
  /** The NIC's MAC: required once port security is on. */
  mac?: FieldValue;
  /** How to name the MAC when it is missing (MAC, --mac, OVS_VIF_MAC). */
  macField: string;
  ipv4?: FieldValue[];
  /** The NIC's network's IPv6 prefixes (a /64 gives the MAC's address in it). */
  ipv6Prefixes?: FieldValue[];
}

/** A port's port security: the policy when on; where on or off came from. */
export interface PortSecurity {
  policy?: PortPolicy;
  source: string;
}

/** Resolves and checks a port's port security (every input error names its
 * field and value); nothing is read or changed. */
export function portSecurityOf(desired: DesiredPort): PortSecurity {
  const ps = desired.portSecurity;
  if (!ps) return { source: "none: off by default" };
  const choice = resolvePortSecurity(ps.levels);
  if (!choice.on) return { source: choice.source };
  if (!ps.mac) throw new InputError(ps.macField, "", `required: port security is on (${choice.source}) and lets the VM send only from its own MAC`);
  const policy = buildPolicy({
    mac: ps.mac,
    ipv4: ps.ipv4 ?? [],
    ipv6Prefixes: ps.ipv6Prefixes ?? [],
    allowAddresses: choice.allowAddresses,
    allowDhcpServer: choice.allowDhcpServer,
    allowRouterAdv: choice.allowRouterAdv,
  });
  return { policy, source: choice.source };
}

/** "off", or "on" and what the VM may send from, for log lines and status. */
export function describePortSecurity(c: PortSecurity): string {
  return c.policy ? `on ${describePolicy(c.policy)}` : "off";
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
