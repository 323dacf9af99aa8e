// The switch spec (/etc/ovs-vif/switches.json): a versioned JSON file that
// describes the vSwitches of every node group. Its types; validation is in
// spec-validate.ts, resolution for one node in spec-resolve.ts.

export const SPEC_VERSION = 1;

export type BondMode = "active-backup" | "balance-slb" | "balance-tcp";
export type LacpMode = "active" | "passive" | "off";
export type LacpTime = "fast" | "slow";
export type FailMode = "standalone" | "secure";

export const BOND_MODES: readonly BondMode[] = ["active-backup", "balance-slb", "balance-tcp"];
export const LACP_MODES: readonly LacpMode[] = ["active", "passive", "off"];
export const LACP_TIMES: readonly LacpTime[] = ["fast", "slow"];
export const FAIL_MODES: readonly FailMode[] = ["standalone", "secure"];
export const DATAPATH_TYPES = ["system", "netdev"] as const;
export type DatapathType = (typeof DATAPATH_TYPES)[number];

export interface BondSpec {
  members: string[];
  mode: BondMode;
  lacp: LacpMode;
  /** Only with LACP on; defaults to slow (OVS's default). */
  lacpTime?: LacpTime;
  updelay: number;
  downdelay: number;
}

export interface UplinkSpec {
  /** Port name: the device for a plain uplink, the bond's name for a bond. */
  name: string;
  /** Set for a bond (two or more members). */
  bond?: BondSpec;
  /** Tagged VLANs carried; "all" (the default) carries every VLAN and untagged frames. */
  vlans: number[] | "all";
  /** With a VLAN list: also carry untagged frames (VLAN 0). */
  untagged: boolean;
}

export interface SwitchOverride {
  uplinks?: UplinkSpec[];
  mtu?: number;
  failMode?: FailMode;
}

export interface SwitchSpec {
  name: string;
  mtu?: number;
  failMode?: FailMode;
  datapathType?: DatapathType;
  /** Lifecycle owned by ovs-vif: network-disconnect may remove it. */
  managed: boolean;
  uplinks: UplinkSpec[];
  /** Ganeti networks connected through this switch (maps network-disconnect to it). */
  networks: string[];
  groupOverrides: Record<string, SwitchOverride>;
  nodeOverrides: Record<string, SwitchOverride>;
}

export interface NodeGroupSpec {
  switches: string[];
  nodes: string[];
}

export interface Defaults {
  datapathType?: DatapathType;
  failMode?: FailMode;
  mtu?: number;
}

export interface Spec {
  file: string;
  version: number;
  defaults: Defaults;
  switches: SwitchSpec[];
  nodeGroups: Record<string, NodeGroupSpec>;
}
