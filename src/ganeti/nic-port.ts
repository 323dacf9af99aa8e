// The desired OVS port of a Ganeti openvswitch NIC, from its parameters,
// the instance's tags and its network's tags. Pure.
import { parseMac } from "../names.ts";
import type { DesiredPort } from "../port.ts";
import { ganetiLevels, type QosLevel } from "../qos.ts";
import { parseBridgeName } from "../names.ts";
import { parseVlanSpec } from "../vlan.ts";

export interface NicParams {
  instance: string;
  index: number;
  uuid: string;
  name?: string;
  mac: string;
  link: string;
  vlan: string;
  tags: string[];
  networkTags: string[];
}

export function ganetiInterfaceIds(nic: NicParams): Record<string, string> {
  return {
    "ganeti-instance": nic.instance,
    "ganeti-nic-uuid": nic.uuid,
    "ganeti-nic-index": String(nic.index),
    "attached-mac": parseMac("MAC", nic.mac),
    "iface-id": nic.uuid,
  };
}

/** `fields` names the variables the values came from, for error messages. */
export function ganetiNicPort(nic: NicParams, device: string, tail: QosLevel[], fields = { link: "LINK", vlan: "VLAN" }): DesiredPort {
  return {
    bridge: parseBridgeName(fields.link, nic.link),
    name: device,
    vlan: parseVlanSpec(fields.vlan, nic.vlan),
    interfaceIds: ganetiInterfaceIds(nic),
    owner: "ganeti",
    qos: [...ganetiLevels(nic.tags, nic.networkTags, { index: nic.index, uuid: nic.uuid, ...(nic.name ? { name: nic.name } : {}) }), ...tail],
  };
}
