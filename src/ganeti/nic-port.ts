// The desired OVS port of a Ganeti openvswitch NIC, from its parameters,
// the instance's tags and its network's tags and IPv6 prefix, and the
// node's defaults.
import { parseBridgeName, parseMac } from "../names.ts";
import type { DesiredPort } from "../port.ts";
import { type QosLevel } from "../qos.ts";
import { ganetiLevels } from "../qos-tags.ts";
import { parseVlanSpec } from "../vlan.ts";

import type { GanetiNetworkInfo, InstanceNic, NicParams } from "../nic.ts";
import { ganetiLevels as portSecurityLevels } from "../port-security/sources.ts";
import { nodePortSecurityLevel } from "../sources/defaults.ts";
import type { GanetiInstance } from "./query.ts";
import { ID } from "../ovsdb/keys.ts";

export function ganetiInterfaceIds(nic: NicParams): Record<string, string> {
  return {
    [ID.instance]: nic.instance,
    [ID.nicUuid]: nic.uuid,
    [ID.nicIndex]: String(nic.index),
    [ID.attachedMac]: parseMac("MAC", nic.mac),
    [ID.ifaceId]: nic.uuid,
  };
}

/** How the NIC's values are named in messages. */
export interface NicFields {
  link: string;
  vlan: string;
  mac?: string;
  ip?: string;
  subnet6?: string;
}

/** `tail`: QoS levels below the tags (node defaults, Xen's rate); port
 * security's come from the tags and the node default. */
export function ganetiNicPort(nic: NicParams, device: string, tail: QosLevel[], fields: NicFields = { link: "LINK", vlan: "VLAN" }): DesiredPort {
  const identity = { index: nic.index, uuid: nic.uuid, ...(nic.name ? { name: nic.name } : {}) };
  const bridge = parseBridgeName(fields.link, nic.link);
  return {
    bridge,
    bridgeField: fields.link,
    name: device,
    vlan: parseVlanSpec(fields.vlan, nic.vlan),
    interfaceIds: ganetiInterfaceIds(nic),
    owner: "ganeti",
    qos: [...ganetiLevels(nic.tags, nic.networkTags, identity), ...tail],
    portSecurity: {
      levels: [...portSecurityLevels(nic.tags, nic.networkTags, identity), nodePortSecurityLevel(bridge)],
      mac: { field: fields.mac ?? "MAC", value: nic.mac },
      macField: fields.mac ?? "MAC",
      ipv4: nic.ip ? [{ field: fields.ip ?? "IP", value: nic.ip }] : [],
      ipv6Prefixes: nic.networkSubnet6 ? [{ field: fields.subnet6 ?? "NETWORK_SUBNET6", value: nic.networkSubnet6 }] : [],
    },
  };
}

/** The parameters of an instance's NIC as Ganeti's configuration has them. */
export function nicParamsOf(inst: GanetiInstance, nic: InstanceNic, network: GanetiNetworkInfo | undefined): NicParams {
  const p: NicParams = {
    instance: inst.name,
    index: nic.index,
    uuid: nic.uuid,
    mac: nic.mac,
    link: nic.link,
    vlan: nic.vlan,
    tags: inst.tags,
    networkTags: network?.tags ?? [],
  };
  if (nic.name) p.name = nic.name;
  if (nic.ip) p.ip = nic.ip;
  if (network?.subnet6) p.networkSubnet6 = network.subnet6;
  return p;
}

/** How a configured NIC's values are named in messages ("INST nic 0 vlan"). */
export function configuredNicFields(inst: GanetiInstance, nic: InstanceNic): NicFields {
  const at = `${inst.name} nic ${nic.index}`;
  return { link: `${at} link`, vlan: `${at} vlan`, mac: `${at} mac`, ip: `${at} ip`, subnet6: `${at} network ${nic.network ?? ""} network6` };
}
