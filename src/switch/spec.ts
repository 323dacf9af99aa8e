// The switch spec (/etc/ovs-vif/switches.json): a versioned JSON file that
// describes the vSwitches of every node group. Validation is hand-written
// and names the JSON path of every problem in the file, e.g.
//   switches[0].uplinks[1].bond_mode "balance-xyz": expected active-backup, balance-slb or balance-tcp
import { readFileSync } from "node:fs";
import { InputError } from "../errors.ts";

export const DEFAULT_SPEC_PATH = "/etc/ovs-vif/switches.json";
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

/** Every problem found in the spec file, each with its JSON path. */
export class SpecError extends InputError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(file, "", problems.join("; "));
    const shown = problems.length > 12 ? [...problems.slice(0, 12), `(and ${problems.length - 12} more)`] : problems;
    this.message = `${file}: ${shown.join("; ")}`;
  }
}

// ---------------------------------------------------------------- helpers

type Obj = Record<string, unknown>;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function keyPath(path: string, key: string): string {
  const step = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return path === "" ? step.replace(/^\./, "") : `${path}${step}`;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

const DEVICE = /^[A-Za-z0-9_.+@-]{1,15}$/;
const BRIDGE = /^[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,14}$/;
const HOST = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/;
const NAME = /^[A-Za-z0-9_.:+@-]{1,128}$/;

class Checker {
  readonly problems: string[] = [];

  fail(path: string, value: unknown, reason: string): undefined {
    this.problems.push(`${path} ${show(value)}: ${reason}`);
    return undefined;
  }

  missing(path: string, reason = "required"): undefined {
    this.problems.push(`${path}: ${reason}`);
    return undefined;
  }

  object(path: string, value: unknown): Obj | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return this.fail(path, value, "expected an object");
    return value as Obj;
  }

  /** Rejects keys outside `allowed`, suggesting the closest known key. */
  keys(path: string, obj: Obj, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const near = allowed.filter((a) => distance(a.replace(/_/g, "-"), key.replace(/_/g, "-")) <= 2);
      this.problems.push(`${keyPath(path, key)}: unknown key${near.length ? ` (did you mean ${listWords(near)}?)` : ` (known: ${allowed.join(", ")})`}`);
    }
  }

  /** A key that may be spelled with '-' or '_' (lacp-time / lacp_time). */
  either(path: string, obj: Obj, dashed: string): [string, unknown] {
    const underscored = dashed.replace(/-/g, "_");
    if (dashed !== underscored && obj[dashed] !== undefined && obj[underscored] !== undefined) {
      this.missing(keyPath(path, underscored), `given together with ${dashed}; use one`);
    }
    if (obj[dashed] !== undefined) return [keyPath(path, dashed), obj[dashed]];
    return [keyPath(path, underscored), obj[underscored]];
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    return this.fail(path, value, `expected ${listWords(allowed)}`);
  }

  integer(path: string, value: unknown, min: number, max: number, what = "a whole number"): number | undefined {
    if (typeof value !== "number" || !Number.isInteger(value)) return this.fail(path, value, `expected ${what} ${min}..${max}`);
    if (value < min || value > max) return this.fail(path, value, `out of range ${min}..${max}`);
    return value;
  }

  boolean(path: string, value: unknown): boolean | undefined {
    if (typeof value !== "boolean") return this.fail(path, value, "expected true or false");
    return value;
  }

  name(path: string, value: unknown, pattern: RegExp, what: string): string | undefined {
    if (typeof value !== "string") return this.fail(path, value, `expected a ${what} name (string)`);
    if (value === "") return this.fail(path, value, `empty ${what} name`);
    if (what !== "node" && what !== "network" && [...value].length > 15) return this.fail(path, value, `${what} name longer than 15 characters`);
    if (!pattern.test(value) || value === "." || value === "..") return this.fail(path, value, `not a valid ${what} name (allowed: letters, digits and _ . + @ -)`);
    return value;
  }

  array(path: string, value: unknown): unknown[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, value, "expected a list");
    return value;
  }
}

// ---------------------------------------------------------------- parts

function parseVlans(c: Checker, path: string, value: unknown): number[] | "all" | undefined {
  if (value === undefined || value === "all") return "all";
  if (!Array.isArray(value)) return c.fail(path, value, 'expected "all" or a list of VLAN ids 1..4094 and "A-B" ranges');
  if (value.length === 0) return c.fail(path, value, 'empty list; use "all" to trunk every VLAN');
  const out = new Set<number>();
  value.forEach((item, i) => {
    const p = `${path}[${i}]`;
    let lo: number;
    let hi: number;
    if (typeof item === "number" && Number.isInteger(item)) {
      lo = hi = item;
    } else if (typeof item === "string" && /^[0-9]{1,4}(-[0-9]{1,4})?$/.test(item)) {
      const [a, b] = item.split("-");
      lo = Number(a);
      hi = Number(b ?? a);
      if (lo > hi) {
        c.fail(p, item, "range start is above its end");
        return;
      }
    } else {
      c.fail(p, item, 'expected a VLAN id 1..4094 or a range "A-B"');
      return;
    }
    if (lo < 1 || hi > 4094) {
      c.fail(p, item, "VLAN ids are 1..4094 (0 and 4095 are reserved; use untagged: true for untagged frames)");
      return;
    }
    for (let v = lo; v <= hi; v++) {
      if (out.has(v)) {
        c.fail(p, item, `VLAN ${v} listed more than once`);
        return;
      }
      out.add(v);
    }
  });
  return [...out].sort((a, b) => a - b);
}

const UPLINK_KEYS = ["name", "members", "bond_mode", "lacp", "lacp-time", "lacp_time", "bond-updelay", "bond_updelay", "bond-downdelay", "bond_downdelay", "vlans", "untagged"];

function parseUplink(c: Checker, path: string, value: unknown): UplinkSpec | undefined {
  const o = c.object(path, value);
  if (!o) return undefined;
  c.keys(path, o, UPLINK_KEYS);
  const name = o.name === undefined ? c.missing(keyPath(path, "name")) : c.name(keyPath(path, "name"), o.name, DEVICE, "uplink");
  const vlans = parseVlans(c, keyPath(path, "vlans"), o.vlans);
  let untagged = false;
  if (o.untagged !== undefined) {
    untagged = c.boolean(keyPath(path, "untagged"), o.untagged) ?? false;
    if (untagged && vlans === "all") c.fail(keyPath(path, "untagged"), o.untagged, 'only with a VLAN list (vlans "all" already carries untagged frames)');
  }
  const [lacpTimePath, lacpTimeRaw] = c.either(path, o, "lacp-time");
  const [upPath, upRaw] = c.either(path, o, "bond-updelay");
  const [downPath, downRaw] = c.either(path, o, "bond-downdelay");
  if (o.members === undefined) {
    // A plain device: bond settings make no sense.
    for (const [p, v] of [[keyPath(path, "bond_mode"), o.bond_mode], [keyPath(path, "lacp"), o.lacp], [lacpTimePath, lacpTimeRaw], [upPath, upRaw], [downPath, downRaw]] as const) {
      if (v !== undefined) c.fail(p, v, "only for a bond (an uplink with members)");
    }
    return name === undefined || vlans === undefined ? undefined : { name, vlans, untagged };
  }
  const membersPath = keyPath(path, "members");
  const rawMembers = c.array(membersPath, o.members);
  const members: string[] = [];
  if (rawMembers) {
    if (rawMembers.length < 2) c.fail(membersPath, o.members, "a bond needs at least two members (use a plain uplink for one device)");
    rawMembers.forEach((m, i) => {
      const member = c.name(`${membersPath}[${i}]`, m, DEVICE, "device");
      if (member === undefined) return;
      if (members.includes(member)) c.fail(`${membersPath}[${i}]`, m, "listed twice");
      else if (member === name) c.fail(`${membersPath}[${i}]`, m, "a member cannot have the bond's name");
      else members.push(member);
    });
  }
  const mode = o.bond_mode === undefined ? "active-backup" : c.oneOf(keyPath(path, "bond_mode"), o.bond_mode, BOND_MODES);
  const lacp = o.lacp === undefined ? "off" : c.oneOf(keyPath(path, "lacp"), o.lacp, LACP_MODES);
  if (mode === "balance-tcp" && lacp === "off") {
    if (o.lacp === undefined) c.fail(keyPath(path, "bond_mode"), mode, 'balance-tcp requires LACP: set lacp to "active" or "passive"');
    else c.fail(keyPath(path, "lacp"), lacp, 'balance-tcp requires LACP: use lacp "active" or "passive", or bond_mode active-backup / balance-slb for a static bond');
  }
  let lacpTime: LacpTime | undefined;
  if (lacpTimeRaw !== undefined) {
    lacpTime = c.oneOf(lacpTimePath, lacpTimeRaw, LACP_TIMES);
    if (lacp === "off") c.fail(lacpTimePath, lacpTimeRaw, 'only with lacp "active" or "passive"');
  }
  const updelay = upRaw === undefined ? 0 : c.integer(upPath, upRaw, 0, 2147483647, "milliseconds");
  const downdelay = downRaw === undefined ? 0 : c.integer(downPath, downRaw, 0, 2147483647, "milliseconds");
  if (name === undefined || vlans === undefined || mode === undefined || lacp === undefined || updelay === undefined || downdelay === undefined) return undefined;
  const bond: BondSpec = { members, mode, lacp, updelay, downdelay };
  if (lacpTime !== undefined) bond.lacpTime = lacpTime;
  return { name, vlans, untagged, bond };
}

function parseUplinks(c: Checker, path: string, value: unknown, switchName: string | undefined): UplinkSpec[] | undefined {
  const list = c.array(path, value);
  if (!list) return undefined;
  const out: UplinkSpec[] = [];
  const devices = new Map<string, string>();
  list.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const u = parseUplink(c, p, item);
    if (!u) return;
    if (u.name === switchName) {
      c.fail(keyPath(p, "name"), u.name, "the bridge's own internal port has this name");
      return;
    }
    const claimed = [u.name, ...(u.bond?.members ?? [])];
    for (const dev of claimed) {
      const prev = devices.get(dev);
      if (prev !== undefined) {
        c.fail(p, dev, `device or port name already used by ${prev}`);
        return;
      }
    }
    for (const dev of claimed) devices.set(dev, p);
    out.push(u);
  });
  return out;
}

const OVERRIDE_KEYS = ["uplinks", "mtu", "fail_mode"];

function parseOverrides(c: Checker, path: string, value: unknown, switchName: string | undefined, what: "node group" | "node"): Record<string, SwitchOverride> {
  const out: Record<string, SwitchOverride> = {};
  if (value === undefined) return out;
  const o = c.object(path, value);
  if (!o) return out;
  for (const [key, raw] of Object.entries(o)) {
    const p = keyPath(path, key);
    if (!(what === "node" ? HOST : NAME).test(key)) c.missing(p, `not a valid ${what} name`);
    const ov = c.object(p, raw);
    if (!ov) continue;
    c.keys(p, ov, OVERRIDE_KEYS);
    const entry: SwitchOverride = {};
    if (ov.uplinks !== undefined) {
      const uplinks = parseUplinks(c, keyPath(p, "uplinks"), ov.uplinks, switchName);
      if (uplinks) entry.uplinks = uplinks;
    }
    if (ov.mtu !== undefined) {
      const mtu = c.integer(keyPath(p, "mtu"), ov.mtu, 68, 65535, "an MTU");
      if (mtu !== undefined) entry.mtu = mtu;
    }
    if (ov.fail_mode !== undefined) {
      const fm = c.oneOf(keyPath(p, "fail_mode"), ov.fail_mode, FAIL_MODES);
      if (fm) entry.failMode = fm;
    }
    out[key] = entry;
  }
  return out;
}

const SWITCH_KEYS = ["name", "mtu", "fail_mode", "datapath_type", "managed", "uplinks", "networks", "overrides"];

function parseSwitch(c: Checker, path: string, value: unknown): SwitchSpec | undefined {
  const o = c.object(path, value);
  if (!o) return undefined;
  c.keys(path, o, SWITCH_KEYS);
  const name = o.name === undefined ? c.missing(keyPath(path, "name")) : c.name(keyPath(path, "name"), o.name, BRIDGE, "bridge");
  const sw: SwitchSpec = { name: name ?? "", managed: false, uplinks: [], networks: [], groupOverrides: {}, nodeOverrides: {} };
  if (o.mtu !== undefined) {
    const mtu = c.integer(keyPath(path, "mtu"), o.mtu, 68, 65535, "an MTU");
    if (mtu !== undefined) sw.mtu = mtu;
  }
  if (o.fail_mode !== undefined) {
    const fm = c.oneOf(keyPath(path, "fail_mode"), o.fail_mode, FAIL_MODES);
    if (fm) sw.failMode = fm;
  }
  if (o.datapath_type !== undefined) {
    const dp = c.oneOf(keyPath(path, "datapath_type"), o.datapath_type, DATAPATH_TYPES);
    if (dp) sw.datapathType = dp;
  }
  if (o.managed !== undefined) sw.managed = c.boolean(keyPath(path, "managed"), o.managed) ?? false;
  if (o.uplinks !== undefined) sw.uplinks = parseUplinks(c, keyPath(path, "uplinks"), o.uplinks, name) ?? [];
  if (o.networks !== undefined) {
    const list = c.array(keyPath(path, "networks"), o.networks) ?? [];
    list.forEach((n, i) => {
      const net = c.name(`${keyPath(path, "networks")}[${i}]`, n, NAME, "network");
      if (net !== undefined) sw.networks.push(net);
    });
  }
  if (o.overrides !== undefined) {
    const op = keyPath(path, "overrides");
    const ov = c.object(op, o.overrides);
    if (ov) {
      c.keys(op, ov, ["groups", "nodes"]);
      sw.groupOverrides = parseOverrides(c, keyPath(op, "groups"), ov.groups, name, "node group");
      sw.nodeOverrides = parseOverrides(c, keyPath(op, "nodes"), ov.nodes, name, "node");
    }
  }
  return name === undefined ? undefined : sw;
}

/** Validates a parsed JSON document; throws SpecError listing every problem. */
export function validateSpec(doc: unknown, file: string): Spec {
  const c = new Checker();
  const spec: Spec = { file, version: SPEC_VERSION, defaults: {}, switches: [], nodeGroups: {} };
  const root = c.object("(top level)", doc);
  if (!root) throw new SpecError(file, c.problems);
  c.keys("", root, ["version", "defaults", "switches", "node_groups"]);
  if (root.version === undefined) c.missing("version", `required (${SPEC_VERSION})`);
  else if (root.version !== SPEC_VERSION) c.fail("version", root.version, `unsupported spec version (this ovs-vif reads version ${SPEC_VERSION})`);
  if (root.defaults !== undefined) {
    const d = c.object("defaults", root.defaults);
    if (d) {
      c.keys("defaults", d, ["datapath_type", "fail_mode", "mtu"]);
      if (d.datapath_type !== undefined) {
        const dp = c.oneOf("defaults.datapath_type", d.datapath_type, DATAPATH_TYPES);
        if (dp) spec.defaults.datapathType = dp;
      }
      if (d.fail_mode !== undefined) {
        const fm = c.oneOf("defaults.fail_mode", d.fail_mode, FAIL_MODES);
        if (fm) spec.defaults.failMode = fm;
      }
      if (d.mtu !== undefined) {
        const mtu = c.integer("defaults.mtu", d.mtu, 68, 65535, "an MTU");
        if (mtu !== undefined) spec.defaults.mtu = mtu;
      }
    }
  }
  const seen = new Map<string, number>();
  const switches = root.switches === undefined ? [] : (c.array("switches", root.switches) ?? []);
  switches.forEach((raw, i) => {
    const sw = parseSwitch(c, `switches[${i}]`, raw);
    if (!sw) return;
    const prev = seen.get(sw.name);
    if (prev !== undefined) {
      c.fail(`switches[${i}].name`, sw.name, `already defined by switches[${prev}]`);
      return;
    }
    seen.set(sw.name, i);
    spec.switches.push(sw);
  });
  const nets = new Map<string, string>();
  for (const sw of spec.switches) {
    for (const n of sw.networks) {
      const other = nets.get(n);
      if (other !== undefined) c.fail(`switches[${seen.get(sw.name)}].networks`, n, `network also listed by switch ${other}`);
      nets.set(n, sw.name);
    }
  }
  if (root.node_groups !== undefined) {
    const g = c.object("node_groups", root.node_groups);
    for (const [group, raw] of Object.entries(g ?? {})) {
      const p = keyPath("node_groups", group);
      if (!NAME.test(group)) c.missing(p, "not a valid node group name");
      const entry = c.object(p, raw);
      if (!entry) continue;
      c.keys(p, entry, ["switches", "nodes"]);
      const out: NodeGroupSpec = { switches: [], nodes: [] };
      const sws = entry.switches === undefined ? c.missing(keyPath(p, "switches")) : c.array(keyPath(p, "switches"), entry.switches);
      (sws ?? []).forEach((s, i) => {
        const name = c.name(`${keyPath(p, "switches")}[${i}]`, s, BRIDGE, "bridge");
        if (name === undefined) return;
        if (out.switches.includes(name)) c.fail(`${keyPath(p, "switches")}[${i}]`, s, "listed twice");
        else out.switches.push(name);
      });
      if (entry.nodes !== undefined) {
        (c.array(keyPath(p, "nodes"), entry.nodes) ?? []).forEach((n, i) => {
          const node = c.name(`${keyPath(p, "nodes")}[${i}]`, n, HOST, "node");
          if (node !== undefined) out.nodes.push(node);
        });
      }
      spec.nodeGroups[group] = out;
    }
    // A node in two groups' lists is ambiguous.
    const owner = new Map<string, string>();
    for (const [group, entry] of Object.entries(spec.nodeGroups)) {
      for (const n of entry.nodes) {
        const prev = owner.get(n.toLowerCase());
        if (prev !== undefined) c.fail(keyPath(keyPath("node_groups", group), "nodes"), n, `node also listed in node group ${prev}`);
        owner.set(n.toLowerCase(), group);
      }
    }
  }
  if (c.problems.length > 0) throw new SpecError(file, c.problems);
  return spec;
}

export function parseSpecText(text: string, file: string): Spec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SpecError(file, [`not valid JSON: ${(err as Error).message}${lineHint(text, err as Error)}`]);
  }
  return validateSpec(doc, file);
}

function lineHint(text: string, err: Error): string {
  const pos = /position (\d+)/.exec(err.message);
  if (!pos) return "";
  const before = text.slice(0, Number(pos[1]));
  const line = before.split("\n").length;
  const col = before.length - before.lastIndexOf("\n");
  return ` (line ${line}, column ${col})`;
}

/** `--spec FILE`, else $OVS_VIF_SWITCHES, else /etc/ovs-vif/switches.json. */
export function specPath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.OVS_VIF_SWITCHES || DEFAULT_SPEC_PATH;
}

/** Reads and validates the spec; `undefined` when the file does not exist
 * and `optional` is set (the network hook works without a spec). */
export function loadSpec(file: string, optional = false): Spec | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && optional) return undefined;
    throw new InputError("--spec", file, code === "ENOENT" ? "no such file (distribute it with gnt-cluster copyfile)" : `cannot read: ${(err as Error).message}`);
  }
  return parseSpecText(text, file);
}

// ---------------------------------------------------------------- resolving

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
