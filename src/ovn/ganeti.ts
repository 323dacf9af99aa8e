// How a Ganeti NIC selects OVN, in Ganeti's own terms: a NIC in mode
// openvswitch whose link is the node's OVN integration bridge (br-int, or
// "bridge" in /etc/ovs-vif/ovn.json) and whose Ganeti network names the
// logical switch (the network's name, or its tag ovs-vif:ovn-switch:NAME).
// Anything ambiguous is refused: such a NIC without a network, with a VLAN,
// or the tag on a NIC that is not on the integration bridge.
import { InputError } from "../errors.ts";
import { nicField, type ScriptNic } from "../sources/ganeti.ts";
import type { OvnConfig } from "./config.ts";
import type { OvnPort } from "./plug.ts";
import { ID } from "../ovsdb/keys.ts";

export const OVN_SWITCH_TAG = /^ovs-vif:ovn-switch:(.+)$/;

/** The logical switch a network tag names, if one does. */
export function switchTag(tags: string[]): { tag: string; ls: string } | undefined {
  const hits = tags.map((t) => ({ tag: t, m: OVN_SWITCH_TAG.exec(t) })).filter((h) => h.m);
  if (hits.length > 1) throw new InputError("network tag", hits[1]!.tag, `a second logical switch for the network (also ${JSON.stringify(hits[0]!.tag)})`);
  return hits[0] ? { tag: hits[0].tag, ls: hits[0].m![1]! } : undefined;
}

/** The NIC's OVN port, or undefined for a NIC that is not on OVN. */
export function ovnPortOf(nic: ScriptNic, config: OvnConfig | undefined): OvnPort | undefined {
  const tag = switchTag(nic.networkTags);
  const onOvn = config !== undefined && nic.link === config.bridge;
  if (!onOvn) {
    if (tag)
      throw new InputError(
        "network tag",
        tag.tag,
        `names an OVN logical switch, but ${nicField(nic, "LINK")} ${JSON.stringify(nic.link ?? "")} is not the OVN integration bridge${config ? ` ${config.bridge}` : " (no OVN settings on this node: /etc/ovs-vif/ovn.json)"}`,
      );
    return undefined;
  }
  if (nic.vlan !== "")
    throw new InputError(
      nicField(nic, "VLAN"),
      nic.vlan,
      `a NIC on the OVN integration bridge ${config.bridge} carries no VLAN: its logical switch (the Ganeti network) is its network`,
    );
  if (!nic.network)
    throw new InputError(
      nicField(nic, "NETWORK_NAME"),
      "",
      `not set: a NIC on the OVN integration bridge ${config.bridge} needs a Ganeti network, which names its logical switch`,
    );
  if (nic.uuid === undefined) throw new InputError(nicField(nic, "INTERFACE_UUID"), "", "not set (the logical port is named after it)");
  if (nic.mac === undefined) throw new InputError(nicField(nic, "MAC"), "", "not set (port security needs it)");
  const ids: Record<string, string> = { [ID.owner]: "ganeti", [ID.nicUuid]: nic.uuid };
  if (nic.instance) ids[ID.instance] = nic.instance;
  if (nic.index !== undefined) ids[ID.nicIndex] = String(nic.index);
  const port: OvnPort = {
    lsp: { name: nic.uuid, ls: tag?.ls ?? nic.network.name, address: nic.ip ? `${nic.mac} ${nic.ip}` : nic.mac, externalIds: ids },
    lsField: tag ? `network tag ${JSON.stringify(tag.tag)}` : nicField(nic, "NETWORK_NAME"),
    lspField: nicField(nic, "INTERFACE_UUID"),
  };
  return port;
}
