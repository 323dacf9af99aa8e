// The Ganeti NIC contract: the variables Ganeti hands a NIC script (KVM:
// environment of kvm-ifup / network/MODE/ACTION; Xen: the NIC file vif-ganeti
// sources), validated once into a structured NIC description that every
// mode (openvswitch, bridged, routed) and the QoS resolution work from.
import { InputError } from "../errors.ts";
import { parseBridgeName, parseInterfaceName, parseIpAddress, parseMac, parseNicUuid } from "../names.ts";
import { parseVlanSpec, type VlanSpec } from "../vlan.ts";

import { NIC_MODES, type GanetiNic, type NicAction, type NicMode } from "../nic.ts";
export { NIC_MODES, type NicAction, type NicMode };

export interface GanetiNetwork {
  name: string;
  uuid?: string;
  subnet?: string;
  gateway?: string;
  subnet6?: string;
  gateway6?: string;
  macPrefix?: string;
  tags: string[];
}

/** One NIC as a NIC script sees it (src/nic.ts): validated, with what the
 * script gets besides (the device, the instance's and network's tags). Raw
 * strings are kept next to parsed ones so that callers (logs, QoS,
 * external-ids) see what Ganeti said. */
export interface ScriptNic extends GanetiNic {
  /** Where the variables came from: "environment" or the NIC file's path. */
  source: string;
  instance: string;
  mode: NicMode;
  /** Parsed VLAN: always for openvswitch, for bridged when vlan is set. */
  vlanSpec?: VlanSpec;
  tags: string[];
  network?: GanetiNetwork;
  networkTags: string[];
  /** The host device (tap, vif). */
  device: string;
}

/** A set of KEY=value variables and how to name a key in an error message. */
export interface NicVars {
  vars: Record<string, string | undefined>;
  source: string;
  /** "VLAN" for the environment, "/var/run/.../0: VLAN" for a file. */
  label(key: string): string;
}

export function envVars(env: NodeJS.ProcessEnv): NicVars {
  return { vars: env, source: "environment", label: (k) => k };
}

export function fileVars(path: string, vars: Record<string, string>): NicVars {
  return { vars, source: path, label: (k) => `${path}: ${k}` };
}

/** Ganeti's instance-communication taps (gnt.com.N), handled by kvm-ifup-os. */
export function isCommunicationTap(device: string | undefined): boolean {
  return device !== undefined && /^gnt\.com(\.|$)/.test(device);
}

/** Instance and network tags: space-separated; the Xen NIC file writes them
 * as "a\ b" inside double quotes, which a shell reads as `a\ b`. Ganeti tags
 * never contain a backslash (^[\w.+*\/:@-]+$). */
export function splitTags(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(/\s+/)
    .map((t) => t.replace(/\\+$/, ""))
    .filter((t) => t !== "");
}

const ROUTING_TABLE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export function parseRoutingTable(field: string, value: string): string {
  if (!ROUTING_TABLE.test(value)) throw new InputError(field, value, "not a routing table name or number (letters, digits, _ . -)");
  return value;
}

export function parseMode(field: string, value: string | undefined): NicMode {
  if (value === undefined || value === "") throw new InputError(field, "", "not set (expected openvswitch, bridged or routed)");
  if ((NIC_MODES as readonly string[]).includes(value)) return value as NicMode;
  throw new InputError(field, value, "unknown NIC mode (ovs-vif handles openvswitch, bridged and routed)");
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

function plainText(field: string, value: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value) || value.length > 255) throw new InputError(field, value, `${what} has control characters or is longer than 255`);
  return value;
}

export interface ParseNicOptions {
  /** The device when it does not come from INTERFACE (Xen: the vif). */
  device?: string;
  /** The instance name when it does not come from INSTANCE (Xen: xenstore). */
  instance?: string;
  /** Mode from elsewhere (the script's directory) when MODE is unset. */
  mode?: NicMode;
  /** For `down`: only what identifies the NIC must be valid; LINK, IP and
   * VLAN are optional and a bad VLAN does not stop the teardown. */
  lenient?: boolean;
}

/** Validates Ganeti's NIC variables into a ScriptNic. Every error names the
 * variable (and the file) and its value. */
export function parseScriptNic(src: NicVars, opts: ParseNicOptions = {}): ScriptNic {
  const v = (k: string) => nonEmpty(src.vars[k]);
  const L = (k: string) => src.label(k);

  let device: string;
  if (opts.device !== undefined) device = opts.device;
  else {
    const raw = src.vars.INTERFACE;
    if (raw === undefined || raw === "") throw new InputError(L("INTERFACE"), "", "not set (the host device of the NIC)");
    device = parseInterfaceName(L("INTERFACE"), raw);
  }

  const modeRaw = v("MODE");
  const mode = modeRaw === undefined && opts.mode !== undefined ? opts.mode : parseMode(L("MODE"), modeRaw);

  const nic: ScriptNic = {
    source: src.source,
    instance: opts.instance ?? plainText(L("INSTANCE"), v("INSTANCE") ?? "", "instance name"),
    mode,
    vlan: src.vars.VLAN ?? "",
    tags: splitTags(src.vars.TAGS),
    networkTags: splitTags(src.vars.NETWORK_TAGS),
    device,
  };

  const index = v("INTERFACE_INDEX");
  if (index !== undefined) {
    if (!/^[0-9]{1,4}$/.test(index)) throw new InputError(L("INTERFACE_INDEX"), index, "not a NIC index (0, 1, ...)");
    nic.index = Number(index);
  }
  const uuid = v("INTERFACE_UUID");
  if (uuid !== undefined) {
    nic.uuid = parseNicUuid(L("INTERFACE_UUID"), uuid);
  }
  const name = v("INTERFACE_NAME");
  if (name !== undefined) nic.name = plainText(L("INTERFACE_NAME"), name, "NIC name");
  const mac = v("MAC");
  if (mac !== undefined) nic.mac = parseMac(L("MAC"), mac);
  const ip = v("IP");
  if (ip !== undefined) nic.ip = parseIpAddress(L("IP"), ip);

  const netName = v("NETWORK_NAME");
  if (netName !== undefined) {
    const net: GanetiNetwork = { name: plainText(L("NETWORK_NAME"), netName, "network name"), tags: nic.networkTags };
    const opt = (key: string, prop: Exclude<keyof GanetiNetwork, "name" | "tags">) => {
      const value = v(key);
      if (value !== undefined) net[prop] = plainText(L(key), value, key);
    };
    opt("NETWORK_UUID", "uuid");
    opt("NETWORK_SUBNET", "subnet");
    opt("NETWORK_GATEWAY", "gateway");
    opt("NETWORK_SUBNET6", "subnet6");
    opt("NETWORK_GATEWAY6", "gateway6");
    opt("NETWORK_MAC_PREFIX", "macPrefix");
    nic.network = net;
  }

  // LINK (BRIDGE is the same value for bridged NICs).
  const link = v("LINK") ?? (mode === "bridged" ? v("BRIDGE") : undefined);
  const linkField = v("LINK") !== undefined ? L("LINK") : L("BRIDGE");
  if (opts.lenient) {
    if (link !== undefined) nic.link = mode === "routed" ? parseRoutingTable(linkField, link) : parseBridgeName(linkField, link);
    return nic;
  }
  switch (mode) {
    case "openvswitch":
      if (link === undefined) throw new InputError(L("LINK"), "", "not set: an openvswitch NIC needs the OVS bridge in its link parameter");
      nic.link = parseBridgeName(linkField, link);
      nic.vlanSpec = parseVlanSpec(L("VLAN"), nic.vlan);
      break;
    case "bridged":
      if (link === undefined) throw new InputError(L("LINK"), "", "not set: a bridged NIC needs the bridge in its link parameter");
      nic.link = parseBridgeName(linkField, link);
      if (nic.vlan !== "") nic.vlanSpec = parseVlanSpec(L("VLAN"), nic.vlan);
      break;
    case "routed":
      if (link !== undefined) nic.link = parseRoutingTable(linkField, link);
      if (nic.ip === undefined) throw new InputError(L("IP"), "", "not set: a routed NIC needs an IP address");
      break;
  }
  return nic;
}

/** How a KVM NIC script was invoked: what its path says (Ganeti 3.2's
 * network/MODE/ACTION) or what the command fixes (3.0's kvm-vif-bridge). */
export interface NicInvocation {
  /** Fixed action (kvm-vif-bridge is always up). */
  action?: NicAction;
  /** Action from the script's name, used when ACTION is unset. */
  nameAction?: NicAction;
  /** Mode from the script's directory. */
  dirMode?: NicMode;
  /** The path it was run as. */
  path?: string;
}

export function parseNicAction(field: string, value: string): NicAction {
  if (value === "up" || value === "down") return value;
  throw new InputError(field, value, "expected up or down");
}

/** A KVM NIC script's invocation from its path: .../network/MODE/ACTION. */
export function nicInvocationOfPath(path: string): NicInvocation {
  // Split by hand: node:path costs ~0.7 ms to load.
  const parts = path.split("/");
  const name = parts[parts.length - 1]!;
  const dir = parts.length > 1 ? parts[parts.length - 2]! : ".";
  const how: NicInvocation = { path, nameAction: parseNicAction("script name", name) };
  if ((NIC_MODES as readonly string[]).includes(dir)) how.dirMode = dir as NicMode;
  return how;
}

/** One KVM NIC script run: the action and the NIC, from the environment. */
export interface NicRequest {
  action: NicAction;
  nic: ScriptNic;
}

/** The action and the NIC of a KVM NIC script run, every variable checked.
 * Undefined for Ganeti's instance-communication taps (kvm-ifup-os's). */
export function parseNicRequest(env: NodeJS.ProcessEnv, how: NicInvocation): NicRequest | undefined {
  if (isCommunicationTap(env.INTERFACE)) return undefined;
  let action: NicAction;
  if (how.action) action = how.action;
  else if (env.ACTION !== undefined && env.ACTION !== "") action = parseNicAction("ACTION", env.ACTION);
  else if (how.nameAction) action = how.nameAction;
  else throw new InputError("ACTION", "", "not set (expected up or down, or run as .../MODE/up or .../MODE/down)");
  if (how.path !== undefined && how.dirMode === undefined && !env.MODE) {
    throw new InputError("MODE", "", `not set, and the script's directory (${how.path}) names no mode (openvswitch, bridged, routed)`);
  }
  if (how.dirMode !== undefined && env.MODE && env.MODE !== how.dirMode) {
    parseMode("MODE", env.MODE);
    throw new InputError("MODE", env.MODE, `but this script is the ${how.dirMode} one (${how.path})`);
  }
  const nic = parseScriptNic(envVars(env), { ...(how.dirMode ? { mode: how.dirMode } : {}), lenient: action === "down" });
  return { action, nic };
}

/** A short description of the NIC for log lines. */
export function nicLabel(nic: ScriptNic): string {
  return `${nic.instance || "?"} NIC ${nic.index ?? "?"}${nic.name ? ` (${nic.name})` : ""}`;
}

/** Where Ganeti keeps runtime state: GANETI_ROOTDIR (tests) + /var/run/ganeti. */
export function ganetiRunDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.GANETI_ROOTDIR ?? "";
  if (root !== "" && !root.startsWith("/")) throw new InputError("GANETI_ROOTDIR", root, "must be an absolute path");
  return `${root.replace(/\/+$/, "")}/var/run/ganeti`;
}

/** The Xen NIC file of an instance's NIC. */
export function xenNicFilePath(instance: string, devid: number, env: NodeJS.ProcessEnv = process.env): string {
  return `${ganetiRunDir(env)}/xen-hypervisor/nic/${instance}/${devid}`;
}

/** How to name one of the NIC's variables in a message. */
export function nicField(nic: Pick<ScriptNic, "source">, key: string): string {
  return nic.source === "environment" ? key : `${nic.source}: ${key}`;
}
