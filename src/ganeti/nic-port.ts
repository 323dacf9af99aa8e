// The desired OVS port of a Ganeti openvswitch NIC, from its parameters,
// the instance's tags and its network's tags. Pure.
import { parseBridgeName, parseMac } from "../names.ts";
import type { DesiredPort } from "../port.ts";
import { ganetiLevels, type QosLevel } from "../qos.ts";
import { parseVlanSpec } from "../vlan.ts";

import type { InstanceNic, NicParams } from "../nic.ts";
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

/** `fields` names the variables the values came from, for error messages. */
export function ganetiNicPort(nic: NicParams, device: string, tail: QosLevel[], fields = { link: "LINK", vlan: "VLAN" }): DesiredPort {
  return {
    bridge: parseBridgeName(fields.link, nic.link),
    bridgeField: fields.link,
    name: device,
    vlan: parseVlanSpec(fields.vlan, nic.vlan),
    interfaceIds: ganetiInterfaceIds(nic),
    owner: "ganeti",
    qos: [...ganetiLevels(nic.tags, nic.networkTags, { index: nic.index, uuid: nic.uuid, ...(nic.name ? { name: nic.name } : {}) }), ...tail],
  };
}

/** The parameters of an instance's NIC as Ganeti's configuration has them. */
export function nicParamsOf(inst: GanetiInstance, nic: InstanceNic, networkTags: string[]): NicParams {
  return { instance: inst.name, index: nic.index, uuid: nic.uuid, ...(nic.name ? { name: nic.name } : {}), mac: nic.mac, link: nic.link, vlan: nic.vlan, tags: inst.tags, networkTags };
}
