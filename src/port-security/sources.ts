// Where a NIC's port security is set, most specific first (as QoS, see
// src/qos.ts):
//   1. Ganeti instance tags for one NIC: ovs-vif:nic:ID:KEYWORD[:VALUE]
//      (ID = the NIC's index, name or UUID)
//   2. Ganeti instance tags: ovs-vif:KEYWORD[:VALUE]
//   3. tags of the NIC's Ganeti network: ovs-vif:KEYWORD[:VALUE]
//   4. explicit: `attach --port-security on|off`, `--allow-address`
//      (repeatable), `--allow-dhcp-server`, `--allow-router-adv`; Xen
//      without Ganeti: on when the vif has an `ip` key (as Xen's vif-bridge
//      restricts such a vif)
//   5. the node default (off unless set: an upgrade changes nothing)
// KEYWORD[:VALUE] is port-security:on|off, allow-address:ADDR[/PREFIX]
// (a MAC, or an IP address or prefix; repeatable), allow-dhcp-server,
// allow-router-adv.
//
// On or off comes from the most specific level that says; the allowances
// are added up over every level (a network's VRRP address and an
// instance's own both apply), and count only while it is on. At one level,
// on and off together, or off with an allowance, are conflicting input.
import { InputError } from "../errors.ts";
import type { NicIdentity } from "../nic.ts";
import { tagNamesNic } from "../qos-tags.ts";
import { parseAllowAddress, type FieldValue } from "./policy.ts";

const KEYWORDS = ["port-security", "allow-address", "allow-dhcp-server", "allow-router-adv"] as const;
type Keyword = (typeof KEYWORDS)[number];

export interface PortSecurityTag {
  tag: string;
  nic?: string;
  keyword: Keyword;
  value?: string;
}

const TAG = /^ovs-vif:(?:nic:(.+?):)?(port-security|allow-address|allow-dhcp-server|allow-router-adv)(?::(.*))?$/;

/** Reads a tag: undefined when it is not a port-security tag (QoS tags and
 * others are not); one that names a port-security keyword but does not
 * parse is an error naming the whole tag. */
export function parsePortSecurityTag(field: string, tag: string): PortSecurityTag | undefined {
  const m = TAG.exec(tag);
  if (!m) return undefined;
  const hit: PortSecurityTag = { tag, keyword: m[2] as Keyword };
  if (m[1] !== undefined) hit.nic = m[1];
  const value = m[3];
  switch (hit.keyword) {
    case "port-security":
      if (value !== "on" && value !== "off") throw new InputError(field, tag, "expected ovs-vif:[nic:ID:]port-security:on or :off");
      hit.value = value;
      break;
    case "allow-address":
      if (value === undefined || value === "")
        throw new InputError(field, tag, "expected ovs-vif:[nic:ID:]allow-address:ADDRESS (a MAC, an IP address or ADDRESS/LENGTH)");
      try {
        parseAllowAddress(field, value);
      } catch (err) {
        if (err instanceof InputError) throw new InputError(field, tag, err.reason);
        throw err;
      }
      hit.value = value;
      break;
    default:
      if (value !== undefined) throw new InputError(field, tag, `expected ovs-vif:[nic:ID:]${hit.keyword}, without a value`);
  }
  return hit;
}

/** What one level says. */
export interface PortSecurityLevel {
  name: string;
  state?: { on: boolean; source: string; field: string; shown: string };
  allow: FieldValue[];
  allowDhcpServer?: string;
  allowRouterAdv?: string;
}

function describeHit(field: string, hit: PortSecurityTag): { field: string; shown: string; source: string } {
  return { field, shown: hit.tag, source: `${field} ${JSON.stringify(hit.tag)}` };
}

/** A level from tag hits; conflicting ones are an error naming both. */
export function levelFromTags(name: string, field: string, hits: PortSecurityTag[]): PortSecurityLevel {
  const level: PortSecurityLevel = { name, allow: [] };
  let firstAllowance: string | undefined;
  for (const hit of hits) {
    if (hit.keyword === "port-security") {
      const on = hit.value === "on";
      if (level.state && level.state.on !== on)
        throw new InputError(field, hit.tag, `conflicts with ${JSON.stringify(level.state.shown)}: port security both on and off for the same NIC`);
      level.state ??= { on, ...describeHit(field, hit) };
      continue;
    }
    firstAllowance ??= hit.tag;
    if (hit.keyword === "allow-address") level.allow.push({ field, value: hit.value!, shown: hit.tag });
    else if (hit.keyword === "allow-dhcp-server") level.allowDhcpServer = describeHit(field, hit).source;
    else level.allowRouterAdv = describeHit(field, hit).source;
  }
  if (level.state && !level.state.on && firstAllowance !== undefined) {
    throw new InputError(field, firstAllowance, `conflicts with ${JSON.stringify(level.state.shown)}: an allowance for a NIC whose port security is off`);
  }
  return level;
}

function tagHits(kind: "instance" | "network", tags: string[], nic: NicIdentity): { nic: PortSecurityTag[]; all: PortSecurityTag[] } {
  const field = `${kind} tag`;
  const out = { nic: [] as PortSecurityTag[], all: [] as PortSecurityTag[] };
  for (const tag of tags) {
    const hit = parsePortSecurityTag(field, tag);
    if (!hit) continue;
    if (hit.nic === undefined) out.all.push(hit);
    else if (kind === "network") throw new InputError(field, tag, "per-NIC tags belong on the instance, not the network");
    else if (tagNamesNic(hit.nic, nic)) out.nic.push(hit);
  }
  return out;
}

/** Levels 1-3 for a Ganeti NIC. */
export function ganetiLevels(instanceTags: string[], networkTags: string[], nic: NicIdentity): PortSecurityLevel[] {
  const inst = tagHits("instance", instanceTags, nic);
  const net = tagHits("network", networkTags, nic);
  return [
    levelFromTags("instance tag (NIC)", "instance tag", inst.nic),
    levelFromTags("instance tag", "instance tag", inst.all),
    levelFromTags("network tag", "network tag", net.all),
  ];
}

/** `on` or `off`, as --port-security and the node default take it. */
export function parseOnOff(field: string, value: string): boolean {
  if (value === "on") return true;
  if (value === "off") return false;
  throw new InputError(field, value, "expected on or off");
}

export interface ExplicitOptions {
  portSecurity?: string;
  allowAddresses?: string[];
  allowDhcpServer?: boolean;
  allowRouterAdv?: boolean;
}

/** How the caller names the explicit settings (attach's options, QEMU's variables). */
export interface ExplicitNames {
  level: string;
  portSecurity: string;
  allowAddress: string;
  allowDhcpServer: string;
  allowRouterAdv: string;
}

const OPTION_NAMES: ExplicitNames = {
  level: "command line",
  portSecurity: "--port-security",
  allowAddress: "--allow-address",
  allowDhcpServer: "--allow-dhcp-server",
  allowRouterAdv: "--allow-router-adv",
};

/** Level 4 from `attach`'s options (or QEMU's variables, named by `names`). */
export function explicitLevel(opts: ExplicitOptions, names: ExplicitNames = OPTION_NAMES): PortSecurityLevel {
  const level: PortSecurityLevel = { name: names.level, allow: [] };
  if (opts.portSecurity !== undefined) {
    const on = parseOnOff(names.portSecurity, opts.portSecurity);
    level.state = { on, source: `${names.portSecurity} ${opts.portSecurity}`, field: names.portSecurity, shown: opts.portSecurity };
  }
  for (const value of opts.allowAddresses ?? []) {
    parseAllowAddress(names.allowAddress, value);
    level.allow.push({ field: names.allowAddress, value });
  }
  if (opts.allowDhcpServer) level.allowDhcpServer = names.allowDhcpServer;
  if (opts.allowRouterAdv) level.allowRouterAdv = names.allowRouterAdv;
  if (level.state && !level.state.on) {
    const [option, value] = level.allow.length
      ? [names.allowAddress, level.allow[0]!.value]
      : opts.allowDhcpServer
        ? [names.allowDhcpServer, ""]
        : opts.allowRouterAdv
          ? [names.allowRouterAdv, ""]
          : [undefined, ""];
    if (option) throw new InputError(option, value, `conflicts with ${names.portSecurity} off`);
  }
  return level;
}

/** Xen's backend `ip` key (xl's ip=): a space-separated list. A plain IPv4
 * address is the NIC's; a prefix or an IPv6 address is an allowance. Its
 * presence turns port security on (level 4). */
export function xenIpLevel(field: string, raw: string | undefined): { level: PortSecurityLevel; ipv4: FieldValue[] } {
  const level: PortSecurityLevel = { name: `xenstore ${field}`, allow: [] };
  const ipv4: FieldValue[] = [];
  if (raw === undefined) return { level, ipv4 };
  const words = raw.split(" ").filter((w) => w !== "");
  if (words.length === 0) throw new InputError(field, raw, "empty: expected IP addresses separated by spaces");
  for (const word of words) {
    const fv = { field, value: word };
    const a = parseAllowAddress(field, word);
    if (a.kind === "mac") throw new InputError(field, word, "a MAC in the ip key: expected IP addresses");
    if (a.prefix.family === 4 && !word.includes("/")) ipv4.push(fv);
    else level.allow.push(fv);
  }
  level.state = { on: true, source: `${field} present`, field, shown: raw };
  return { level, ipv4 };
}

/** Level 5: the node default. */
export function defaultLevel(on: boolean, source: string): PortSecurityLevel {
  return { name: "node default", state: { on, source, field: source, shown: on ? "on" : "off" }, allow: [] };
}

export interface PortSecurityChoice {
  on: boolean;
  /** Where on/off came from ("none: off by default"). */
  source: string;
  allowAddresses: FieldValue[];
  allowDhcpServer: boolean;
  allowRouterAdv: boolean;
}

/** On/off from the most specific level that says; allowances from all. */
export function resolvePortSecurity(levels: PortSecurityLevel[]): PortSecurityChoice {
  const decided = levels.find((l) => l.state !== undefined);
  const on = decided?.state?.on ?? false;
  return {
    on,
    source: decided?.state?.source ?? "none: off by default",
    allowAddresses: on ? levels.flatMap((l) => l.allow) : [],
    allowDhcpServer: on && levels.some((l) => l.allowDhcpServer !== undefined),
    allowRouterAdv: on && levels.some((l) => l.allowRouterAdv !== undefined),
  };
}

export { KEYWORDS as PORT_SECURITY_KEYWORDS };
