// Every external_ids (and options) key ovs-vif reads or writes, declared
// once: where it lives, who writes it, who reads it. A new key is one line
// here; code never spells a key as a string of its own.
export const ID = {
  /** Port (and QoS, Queue, OVN logical port): ovs-vif made it; the value is
   * the caller (xen, ganeti, qemu, cli). gc, watch, reconcile and the hooks
   * touch nothing without it. */
  owner: "ovs-vif-owner",
  /** Interface: the Ganeti instance of the NIC (also on its OVN logical port). */
  instance: "ganeti-instance",
  /** Interface: the Ganeti NIC's UUID, which finds its ports on any node. */
  nicUuid: "ganeti-nic-uuid",
  /** Interface: the NIC's index in its instance. */
  nicIndex: "ganeti-nic-index",
  /** Interface: the guest's MAC (OpenStack's and Xen's convention). */
  attachedMac: "attached-mac",
  /** Interface: the logical port (OVN) or the NIC's UUID (Ganeti). */
  ifaceId: "iface-id",
  /** Interface: the Xen domain's name and UUID. */
  xenVmName: "xen-vm-name",
  xenVmUuid: "xen-vm-uuid",
  /** QoS, Queue: the port name a receive limit's rows were made for. */
  qosPort: "ovs-vif-port",
  /** Port: an uplink ovs-vif's switch spec made (switch apply removes only these). */
  uplink: "ovs-vif-uplink",
  /** Bridge: a switch ovs-vif applied (value "managed" when the spec says so). */
  switch: "ovs-vif-switch",
  /** Bridge: ovs-vif has put port-security flows on it (value "true"); a
   * port plugged there with port security off has its ofport's flows
   * removed, a bridge without it is never asked. */
  portSecurity: "ovs-vif-port-security",
  /** Interface, written by ovn-controller: the port's flows are in place. */
  ovnInstalled: "ovn-installed",
  /** Open_vSwitch: this node's OVN chassis name. */
  systemId: "system-id",
  /** Open_vSwitch: the chassis' Southbound remote and tunnel endpoint (doctor). */
  ovnRemote: "ovn-remote",
  ovnEncapIp: "ovn-encap-ip",
  ovnEncapType: "ovn-encap-type",
} as const;

/** OVN logical port options ovs-vif sets (placement across a live migration). */
export const LSP_OPTION = {
  requestedChassis: "requested-chassis",
  activationStrategy: "activation-strategy",
} as const;
