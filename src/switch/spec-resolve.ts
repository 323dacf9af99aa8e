// The switch spec resolved for one node: its group's and its own overrides
// applied, and the checks that span switches.
import { InputError } from "../errors.ts";
import type { DatapathType, FailMode, Spec, SwitchOverride, UplinkSpec } from "./spec-types.ts";

/** Does a node-name key from the spec name this node? Keys without a dot
 * match the node's short name; others must match in full (case-insensitive). */
export function nodeMatches(key: string, node: string): boolean {
  const k = key.toLowerCase();
  const n = node.toLowerCase();
  if (k === n) return true;
  if (!k.includes(".")) return k === n.split(".")[0];
  return false;
}

/** The node group the spec lists this node in (node_groups.G.nodes). */
export function groupOfNode(spec: Spec, node: string): string | undefined {
  for (const [group, entry] of Object.entries(spec.nodeGroups)) {
    if (entry.nodes.some((n) => nodeMatches(n, node))) return group;
  }
  return undefined;
}

/** Where the desired state of a switch came from; stored in the Bridge's
 * external_ids as ovs-vif-switch. */
export type SwitchOrigin = "managed" | "spec" | "bare";

export interface DesiredUplink extends UplinkSpec {}

export interface DesiredSwitch {
  name: string;
  origin: SwitchOrigin;
  /** Only compared/changed when set (explicitly or by defaults). */
  mtu?: number;
  failMode?: FailMode;
  datapathType?: DatapathType;
  /** undefined: leave the uplinks alone (a bare bridge). */
  uplinks?: DesiredUplink[];
}

export interface Placement {
  node?: string;
  group?: string;
}

/** The spec's switch for this node: base, then the group's override, then the node's. */
export function resolveSwitch(spec: Spec | undefined, name: string, where: Placement): DesiredSwitch {
  const defaults = spec?.defaults ?? {};
  const sw = spec?.switches.find((s) => s.name === name);
  if (!sw) {
    // Not in the spec: a bare bridge with the defaults.
    const bare: DesiredSwitch = { name, origin: "bare" };
    if (defaults.datapathType) bare.datapathType = defaults.datapathType;
    if (defaults.failMode) bare.failMode = defaults.failMode;
    if (defaults.mtu !== undefined) bare.mtu = defaults.mtu;
    return bare;
  }
  const layers: SwitchOverride[] = [];
  if (where.group !== undefined && sw.groupOverrides[where.group]) layers.push(sw.groupOverrides[where.group]!);
  if (where.node !== undefined) {
    // Exact keys win over short-name keys.
    const keys = Object.keys(sw.nodeOverrides).filter((k) => nodeMatches(k, where.node!));
    keys.sort((a, b) => Number(a.toLowerCase() === where.node!.toLowerCase()) - Number(b.toLowerCase() === where.node!.toLowerCase()));
    for (const k of keys) layers.push(sw.nodeOverrides[k]!);
  }
  const out: DesiredSwitch = { name, origin: sw.managed ? "managed" : "spec", uplinks: sw.uplinks };
  const mtu = sw.mtu ?? defaults.mtu;
  if (mtu !== undefined) out.mtu = mtu;
  const failMode = sw.failMode ?? defaults.failMode;
  if (failMode) out.failMode = failMode;
  const dp = sw.datapathType ?? defaults.datapathType;
  if (dp) out.datapathType = dp;
  for (const layer of layers) {
    if (layer.uplinks) out.uplinks = layer.uplinks;
    if (layer.mtu !== undefined) out.mtu = layer.mtu;
    if (layer.failMode) out.failMode = layer.failMode;
  }
  return out;
}

/** Devices used by uplinks of the switches given (for cross-switch conflicts). */
export function checkDisjoint(switches: DesiredSwitch[], node: string | undefined): void {
  const owner = new Map<string, string>();
  for (const sw of switches) {
    for (const u of sw.uplinks ?? []) {
      for (const dev of [u.name, ...(u.bond?.members ?? [])]) {
        const prev = owner.get(dev);
        if (prev !== undefined && prev !== sw.name) {
          throw new InputError("spec", dev, `device is an uplink of both ${prev} and ${sw.name}${node ? ` on node ${node}` : ""}`);
        }
        owner.set(dev, sw.name);
      }
    }
  }
}

/** The spec's switch for a Ganeti network (switches[].networks). */
export function switchForNetwork(spec: Spec | undefined, network: string | undefined): string | undefined {
  if (!spec || !network) return undefined;
  return spec.switches.find((s) => s.networks.includes(network))?.name;
}

export function describeVlans(u: UplinkSpec): string {
  if (u.vlans === "all") return "all";
  return `${compactRanges(u.vlans)}${u.untagged ? "+untagged" : ""}`;
}

export function compactRanges(ids: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < ids.length) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${ids[i]}-${ids[j]}` : ids.slice(i, j + 1).join(","));
    i = j + 1;
  }
  return parts.join(",");
}
