// mode=openvswitch: the desired port of a Ganeti NIC, from the variables
// Ganeti hands its NIC script (the port itself is made by src/plug.ts).
import { InputError } from "../errors.ts";
import { ganetiNicPort } from "../ganeti/nic-port.ts";
import type { DesiredPort } from "../port.ts";
import type { QosLevel } from "../qos.ts";
import { nicField, type ScriptNic } from "../sources/ganeti.ts";

/** The desired port of a Ganeti openvswitch NIC (QoS: the NIC's and
 * instance's tags, the network's tags, then `tail`, e.g. node defaults). */
export function ganetiDesiredPort(nic: ScriptNic, device: string, tail: QosLevel[]): DesiredPort {
  const F = (k: string) => nicField(nic, k);
  if (nic.index === undefined) throw new InputError(F("INTERFACE_INDEX"), "", "not set (Ganeti always passes the NIC index)");
  if (nic.uuid === undefined) throw new InputError(F("INTERFACE_UUID"), "", "not set (Ganeti always passes the NIC UUID)");
  if (nic.mac === undefined) throw new InputError(F("MAC"), "", "not set (Ganeti always passes the NIC's MAC)");
  if (nic.link === undefined) throw new InputError(F("LINK"), "", "not set: an openvswitch NIC needs the OVS bridge in its link parameter");
  return ganetiNicPort(
    {
      instance: nic.instance,
      index: nic.index,
      uuid: nic.uuid,
      ...(nic.name !== undefined ? { name: nic.name } : {}),
      mac: nic.mac,
      link: nic.link,
      vlan: nic.vlan,
      tags: nic.tags,
      networkTags: nic.networkTags,
      ...(nic.ip !== undefined ? { ip: nic.ip } : {}),
      ...(nic.network?.subnet6 !== undefined ? { networkSubnet6: nic.network.subnet6 } : {}),
    },
    device,
    tail,
    { link: F("LINK"), vlan: F("VLAN"), mac: F("MAC"), ip: F("IP"), subnet6: F("NETWORK_SUBNET6") },
  );
}
