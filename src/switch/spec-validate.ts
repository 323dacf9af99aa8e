// Validation of the switch spec: every problem in the file, each with its
// JSON path, e.g.
//   switches[0].uplinks[1].bond_mode "balance-xyz": expected active-backup, balance-slb or balance-tcp
import { Checker, keyPath, parseJson, readTextFile } from "../checker.ts";
import { parseBridgeName, parseGanetiObjectName, parseInterfaceName, parseNodeName } from "../names.ts";
import {
  BOND_MODES,
  DATAPATH_TYPES,
  FAIL_MODES,
  LACP_MODES,
  LACP_TIMES,
  SPEC_VERSION,
  type BondSpec,
  type FailMode,
  type LacpTime,
  type NodeGroupSpec,
  type Spec,
  type SwitchOverride,
  type SwitchSpec,
  type UplinkSpec,
} from "./spec-types.ts";

/** A key that may be spelled with '-' or '_' (lacp-time / lacp_time). */
function either(c: Checker, path: string, obj: Record<string, unknown>, dashed: string): [string, unknown] {
  const underscored = dashed.replace(/-/g, "_");
  if (dashed !== underscored && obj[dashed] !== undefined && obj[underscored] !== undefined) {
    c.missing(keyPath(path, underscored), `given together with ${dashed}; use one`);
  }
  if (obj[dashed] !== undefined) return [keyPath(path, dashed), obj[dashed]];
  return [keyPath(path, underscored), obj[underscored]];
}

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

const UPLINK_KEYS = [
  "name",
  "members",
  "bond_mode",
  "lacp",
  "lacp-time",
  "lacp_time",
  "bond-updelay",
  "bond_updelay",
  "bond-downdelay",
  "bond_downdelay",
  "vlans",
  "untagged",
];

function parseUplink(c: Checker, path: string, value: unknown): UplinkSpec | undefined {
  const o = c.object(path, value);
  if (!o) return undefined;
  c.keys(path, o, UPLINK_KEYS);
  const name = o.name === undefined ? c.missing(keyPath(path, "name")) : c.valid(keyPath(path, "name"), o.name, parseInterfaceName, "an uplink name (string)");
  const vlans = parseVlans(c, keyPath(path, "vlans"), o.vlans);
  let untagged = false;
  if (o.untagged !== undefined) {
    untagged = c.boolean(keyPath(path, "untagged"), o.untagged) ?? false;
    if (untagged && vlans === "all") c.fail(keyPath(path, "untagged"), o.untagged, 'only with a VLAN list (vlans "all" already carries untagged frames)');
  }
  const [lacpTimePath, lacpTimeRaw] = either(c, path, o, "lacp-time");
  const [upPath, upRaw] = either(c, path, o, "bond-updelay");
  const [downPath, downRaw] = either(c, path, o, "bond-downdelay");
  if (o.members === undefined) {
    // A plain device: bond settings make no sense.
    for (const [p, v] of [
      [keyPath(path, "bond_mode"), o.bond_mode],
      [keyPath(path, "lacp"), o.lacp],
      [lacpTimePath, lacpTimeRaw],
      [upPath, upRaw],
      [downPath, downRaw],
    ] as const) {
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
      const member = c.valid(`${membersPath}[${i}]`, m, parseInterfaceName, "a device name (string)");
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
    else
      c.fail(
        keyPath(path, "lacp"),
        lacp,
        'balance-tcp requires LACP: use lacp "active" or "passive", or bond_mode active-backup / balance-slb for a static bond',
      );
  }
  let lacpTime: LacpTime | undefined;
  if (lacpTimeRaw !== undefined) {
    lacpTime = c.oneOf(lacpTimePath, lacpTimeRaw, LACP_TIMES);
    if (lacp === "off") c.fail(lacpTimePath, lacpTimeRaw, 'only with lacp "active" or "passive"');
  }
  const updelay = upRaw === undefined ? 0 : c.integer(upPath, upRaw, 0, 2147483647, "milliseconds");
  const downdelay = downRaw === undefined ? 0 : c.integer(downPath, downRaw, 0, 2147483647, "milliseconds");
  if (name === undefined || vlans === undefined || mode === undefined || lacp === undefined || updelay === undefined || downdelay === undefined)
    return undefined;
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

/** A record keyed by names from the file: without a prototype, so that a
 * group or node called "__proto__" or "constructor" is a key like any other. */
function byName<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function parseOverrides(c: Checker, path: string, value: unknown, switchName: string | undefined, what: "node group" | "node"): Record<string, SwitchOverride> {
  const out = byName<SwitchOverride>();
  if (value === undefined) return out;
  const o = c.object(path, value);
  if (!o) return out;
  for (const [key, raw] of Object.entries(o)) {
    const p = keyPath(path, key);
    c.valid(p, key, what === "node" ? parseNodeName : parseGanetiObjectName);
    const ov = c.object(p, raw);
    if (!ov) continue;
    c.keys(p, ov, OVERRIDE_KEYS);
    const entry: SwitchOverride = {};
    if (ov.uplinks !== undefined) {
      const uplinks = parseUplinks(c, keyPath(p, "uplinks"), ov.uplinks, switchName);
      if (uplinks) entry.uplinks = uplinks;
    }
    parseMtuAndFailMode(c, p, ov, entry);
    out[key] = entry;
  }
  return out;
}

/** `mtu` and `fail_mode`, which a switch and each of its overrides take alike. */
function parseMtuAndFailMode(c: Checker, path: string, o: Record<string, unknown>, into: { mtu?: number; failMode?: FailMode }): void {
  if (o.mtu !== undefined) {
    const mtu = c.integer(keyPath(path, "mtu"), o.mtu, 68, 65535, "an MTU");
    if (mtu !== undefined) into.mtu = mtu;
  }
  if (o.fail_mode !== undefined) {
    const fm = c.oneOf(keyPath(path, "fail_mode"), o.fail_mode, FAIL_MODES);
    if (fm) into.failMode = fm;
  }
}

const SWITCH_KEYS = ["name", "mtu", "fail_mode", "datapath_type", "managed", "uplinks", "networks", "overrides"];

function parseSwitch(c: Checker, path: string, value: unknown): SwitchSpec | undefined {
  const o = c.object(path, value);
  if (!o) return undefined;
  c.keys(path, o, SWITCH_KEYS);
  const name = o.name === undefined ? c.missing(keyPath(path, "name")) : c.valid(keyPath(path, "name"), o.name, parseBridgeName, "a bridge name (string)");
  const sw: SwitchSpec = { name: name ?? "", managed: false, uplinks: [], networks: [], groupOverrides: byName(), nodeOverrides: byName() };
  parseMtuAndFailMode(c, path, o, sw);
  if (o.datapath_type !== undefined) {
    const dp = c.oneOf(keyPath(path, "datapath_type"), o.datapath_type, DATAPATH_TYPES);
    if (dp) sw.datapathType = dp;
  }
  if (o.managed !== undefined) sw.managed = c.boolean(keyPath(path, "managed"), o.managed) ?? false;
  if (o.uplinks !== undefined) sw.uplinks = parseUplinks(c, keyPath(path, "uplinks"), o.uplinks, name) ?? [];
  if (o.networks !== undefined) {
    const list = c.array(keyPath(path, "networks"), o.networks) ?? [];
    list.forEach((n, i) => {
      const net = c.valid(`${keyPath(path, "networks")}[${i}]`, n, parseGanetiObjectName, "a network name (string)");
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
  const spec: Spec = { file, version: SPEC_VERSION, defaults: {}, switches: [], nodeGroups: byName() };
  const root = c.object("(top level)", doc);
  if (!root) {
    c.done(file);
    return spec;
  }
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
      c.valid(p, group, parseGanetiObjectName);
      const entry = c.object(p, raw);
      if (!entry) continue;
      c.keys(p, entry, ["switches", "nodes"]);
      const out: NodeGroupSpec = { switches: [], nodes: [] };
      const sws = entry.switches === undefined ? c.missing(keyPath(p, "switches")) : c.array(keyPath(p, "switches"), entry.switches);
      (sws ?? []).forEach((s, i) => {
        const name = c.valid(`${keyPath(p, "switches")}[${i}]`, s, parseBridgeName, "a bridge name (string)");
        if (name === undefined) return;
        if (out.switches.includes(name)) c.fail(`${keyPath(p, "switches")}[${i}]`, s, "listed twice");
        else out.switches.push(name);
      });
      if (entry.nodes !== undefined) {
        (c.array(keyPath(p, "nodes"), entry.nodes) ?? []).forEach((n, i) => {
          const node = c.valid(`${keyPath(p, "nodes")}[${i}]`, n, parseNodeName, "a node name (string)");
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
  c.done(file);
  return spec;
}

export function parseSpecText(text: string, file: string): Spec {
  return validateSpec(parseJson(text, file), file);
}

/** Reads and validates the spec; `undefined` when the file does not exist
 * and `optional` is set (the network hook works without a spec). */
export function loadSpec(file: string, optional = false): Spec | undefined {
  const text = readTextFile("--spec", file, optional, " (distribute it with gnt-cluster copyfile)");
  return text === undefined ? undefined : parseSpecText(text, file);
}
