// A Ganeti NIC, declared once. Ganeti describes a NIC in four places: its
// configuration (the CLI and the exported view), an instance hook's
// environment, a KVM NIC script's environment and Xen's NIC file. Each fills
// what it is given; the views below say which fields a user can count on.
// Pure: no imports (the role registry reads NIC_MODES at every start).

/** The NIC modes ovs-vif sets up (Ganeti has no others). */
export const NIC_MODES = ["openvswitch", "bridged", "routed"] as const;
export type NicMode = (typeof NIC_MODES)[number];
export type NicAction = "up" | "down";

export interface GanetiNic {
  index?: number;
  uuid?: string;
  name?: string;
  mac?: string;
  /** A NicMode once validated; the CLI's answer as given. */
  mode: string;
  /** OVS bridge, Linux bridge or routing table, by mode. */
  link?: string;
  /** Ganeti's vlan parameter as given ("" when unset). */
  vlan: string;
  ip?: string;
}

/** A NIC of Ganeti's configuration (the CLI, a hook, the exported view):
 * every NIC there has its index, UUID, MAC and link. */
export type InstanceNic = GanetiNic & Required<Pick<GanetiNic, "index" | "uuid" | "mac" | "link">> & { /** Its network's name. */ network?: string };

/** What names a NIC in a per-NIC tag (ovs-vif:nic:ID:...). */
export type NicIdentity = Pick<GanetiNic, "index" | "name" | "uuid">;

/** What ovs-vif uses of a Ganeti network: its tags (QoS, port security,
 * the OVN switch) and its IPv6 prefix (port security's derived address). */
export interface GanetiNetworkInfo {
  tags: string[];
  subnet6?: string;
}

/** A configured NIC with what its port's QoS and port security are resolved from. */
export type NicParams = Pick<InstanceNic, "index" | "uuid" | "name" | "mac" | "link" | "vlan" | "ip"> & {
  instance: string;
  tags: string[];
  networkTags: string[];
  /** Its network's IPv6 prefix. */
  networkSubnet6?: string;
};
