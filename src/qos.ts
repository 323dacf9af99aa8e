// Ingress policing (what the VM sends, seen from the switch) for one NIC:
// where the rate and burst come from, and their conversion to OVS units.
//
// Values are numbers with an optional SI suffix k, M, G (x1000): bits per
// second for a rate, bits for a burst. OVS wants the rate in kbps (1000 bit/s)
// and the burst in kb (1024 bit); both are rounded down, so what is applied
// is never more than what was asked. "0" or "unlimited" removes policing.
import { InputError } from "./errors.ts";
import { NO_POLICING, type Policing } from "./port.ts";

/** vswitchd clamps both columns to 32 bits; beyond that a value is not what it seems. */
export const OVS_MAX = 4294967295;
const SI: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** Parses VALUE into bits (or bit/s). 0 means unlimited. */
export function parseBits(field: string, raw: string): number {
  if (raw === "unlimited") return 0;
  const m = /^([0-9]{1,15})(\.[0-9]{1,9})?([kKMG]?)$/.exec(raw);
  if (!m) throw new InputError(field, raw, "expected a number with an optional k, M or G suffix (e.g. 100M, 1.5G, 800k), 0 or unlimited");
  const bits = Number(`${m[1]}${m[2] ?? ""}`) * SI[m[3] ?? ""]!;
  if (!Number.isFinite(bits)) throw new InputError(field, raw, "not a finite number");
  return bits;
}

export function rateToKbps(field: string, raw: string): number {
  const bps = parseBits(field, raw);
  if (bps === 0) return 0;
  const kbps = Math.floor(bps / 1000 + 1e-9);
  if (kbps < 1) throw new InputError(field, raw, "below OVS's smallest rate, 1 kbps (use 0 or unlimited for no limit)");
  if (kbps > OVS_MAX) throw new InputError(field, raw, `above OVS's largest rate, ${OVS_MAX} kbps`);
  return kbps;
}

export function burstToKb(field: string, raw: string): number {
  const bits = parseBits(field, raw);
  if (bits === 0) return 0;
  const kb = Math.floor(bits / 1024 + 1e-9);
  if (kb < 1) throw new InputError(field, raw, "below OVS's smallest burst, 1 kb (1024 bits)");
  if (kb > OVS_MAX) throw new InputError(field, raw, `above OVS's largest burst, ${OVS_MAX} kb`);
  return kb;
}

/** One MTU-sized frame in kb, rounded up: the least burst that passes a full frame. */
export function mtuKb(mtu: number): number {
  return Math.ceil(((mtu + 14) * 8) / 1024);
}

/** OVS's advice for TCP (and Neutron's default): a burst of 80% of the rate
 * per second, never less than one full frame. */
export function defaultBurstKb(rateKbps: number, mtu: number): number {
  return Math.max(Math.floor((rateKbps * 1000 * 0.8) / 1024), mtuKb(mtu));
}

/** Xen's backend `rate` key, `BYTES,USECS` (xl rate=): BYTES of credit every
 * USECS microseconds. The credit is the burst. */
export function parseXenRate(field: string, raw: string): { rate: number; burst: number } {
  const m = /^([0-9]{1,15}),([0-9]{1,15})$/.exec(raw);
  if (!m) throw new InputError(field, raw, "expected BYTES,USECS");
  const bytes = Number(m[1]);
  const usecs = Number(m[2]);
  if (bytes === 0 || usecs === 0) throw new InputError(field, raw, "zero credit or interval");
  // xl writes a huge credit for "unlimited"; treat anything past OVS's range as that.
  const kbps = Math.floor((bytes * 8 * 1e6) / usecs / 1000);
  if (kbps > OVS_MAX) return { rate: 0, burst: 0 };
  if (kbps < 1) throw new InputError(field, raw, "below OVS's smallest rate, 1 kbps");
  return { rate: kbps, burst: Math.min(OVS_MAX, Math.max(1, Math.floor((bytes * 8) / 1024))) };
}

/** A value and where it came from, e.g. `instance tag "ovs-vif:rate:100M"`. */
export interface Sourced {
  raw: string;
  source: string;
  field: string;
}

/** One precedence level: rate and/or burst, as found at that level. */
export interface QosLevel {
  name: string;
  rate?: Sourced;
  burst?: Sourced;
  /** Already in OVS units (the Xen rate key, --rate KBPS). */
  ovs?: { rate?: number; burst?: number };
}

export interface NicIdentity {
  index?: number;
  name?: string;
  uuid?: string;
}

const PREFIX = "ovs-vif:";

interface TagHit {
  tag: string;
  kind: "rate" | "burst";
  value: string;
}

/** The `ovs-vif:` tags of a tag list that set rate or burst: instance-wide
 * ones, and those for this NIC (by index, name or UUID). Tags with the prefix
 * that do not parse are errors. */
export function qosTags(kind: "instance" | "network", tags: string[], nic: NicIdentity): { nic: TagHit[]; all: TagHit[] } {
  const field = `${kind} tag`;
  const out = { nic: [] as TagHit[], all: [] as TagHit[] };
  for (const tag of tags) {
    if (!tag.startsWith(PREFIX)) continue;
    const perNic = /^ovs-vif:nic:(.+):(rate|burst):([^:]+)$/.exec(tag);
    if (perNic) {
      if (kind === "network") throw new InputError(field, tag, "per-NIC tags belong on the instance, not the network");
      const id = perNic[1]!;
      const matches = (nic.index !== undefined && id === String(nic.index)) || (nic.name !== undefined && nic.name !== "" && id === nic.name) || (nic.uuid !== undefined && id === nic.uuid);
      if (matches) out.nic.push({ tag, kind: perNic[2] as TagHit["kind"], value: perNic[3]! });
      validateValue(field, tag, perNic[2]!, perNic[3]!);
      continue;
    }
    const whole = /^ovs-vif:(rate|burst):([^:]+)$/.exec(tag);
    if (whole) {
      validateValue(field, tag, whole[1]!, whole[2]!);
      out.all.push({ tag, kind: whole[1] as TagHit["kind"], value: whole[2]! });
      continue;
    }
    throw new InputError(field, tag, "not an ovs-vif tag (expected ovs-vif:rate:VALUE, ovs-vif:burst:VALUE or ovs-vif:nic:ID:rate|burst:VALUE)");
  }
  return out;
}

function validateValue(field: string, tag: string, kind: string, value: string): void {
  try {
    if (kind === "rate") rateToKbps(field, value);
    else burstToKb(field, value);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(field, tag, err.reason);
    throw err;
  }
}

/** A level from tag hits; two different values for the same thing conflict. */
export function levelFromTags(name: string, field: string, hits: TagHit[]): QosLevel {
  const level: QosLevel = { name };
  for (const hit of hits) {
    const prev = level[hit.kind];
    if (prev && prev.raw !== hit.value) throw new InputError(field, hit.tag, `conflicts with ${prev.source.replace(/^[a-z ]+ /, "")}: two different ${hit.kind}s for the same NIC`);
    if (!prev) level[hit.kind] = { raw: hit.value, source: `${field} ${JSON.stringify(hit.tag)}`, field };
  }
  return level;
}

export interface QosResult {
  policing: Policing;
  /** Where the rate and burst came from ("default: 80% of rate", "none"). */
  rateSource: string;
  burstSource: string;
}

/** Picks the rate from the most specific level that has one; the burst from
 * that level or a more specific one, else the default (80% of the rate, at
 * least one frame). A level may say 0/unlimited to lift a less specific limit. */
export function resolvePolicing(levels: QosLevel[], mtu: number): QosResult {
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    const hasRate = level.rate !== undefined || level.ovs?.rate !== undefined;
    if (!hasRate) continue;
    const rate = level.ovs?.rate ?? rateToKbps(level.rate!.source, level.rate!.raw);
    const rateSource = level.rate?.source ?? level.name;
    if (rate === 0) return { policing: { ...NO_POLICING }, rateSource, burstSource: "none (no rate)" };
    for (let j = i; j >= 0; j--) {
      const l = levels[j]!;
      if (l.ovs?.burst !== undefined) return { policing: { rate, burst: l.ovs.burst }, rateSource, burstSource: l.name };
      if (l.burst) {
        const burst = burstToKb(l.burst.source, l.burst.raw);
        if (burst !== 0 && burst < mtuKb(mtu)) throw new InputError(l.burst.field, l.burst.raw, `burst below one ${mtu}-byte frame (${mtuKb(mtu)} kb): every full-size frame would be dropped`);
        return { policing: { rate, burst: burst === 0 ? defaultBurstKb(rate, mtu) : burst }, rateSource, burstSource: burst === 0 ? "default: 80% of rate" : l.burst.source };
      }
    }
    return { policing: { rate, burst: defaultBurstKb(rate, mtu) }, rateSource, burstSource: "default: 80% of rate" };
  }
  return { policing: { ...NO_POLICING }, rateSource: "none", burstSource: "none" };
}

/** The node defaults file (/etc/ovs-vif/defaults.json):
 * `{"version": 1, "default": {"rate": "1G"}, "bridges": {"sw1": {"rate": "100M", "burst": "10M"}}}`. */
export interface NodeDefaults {
  version: 1;
  default?: { rate?: string; burst?: string };
  bridges?: Record<string, { rate?: string; burst?: string }>;
}

export function parseNodeDefaults(path: string, text: string): NodeDefaults {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(path, text.slice(0, 40), `not JSON: ${(err as Error).message}`);
  }
  const obj = data as Record<string, unknown>;
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new InputError(path, String(data), "expected an object");
  if (obj.version !== 1) throw new InputError(`${path}: version`, String(obj.version), "expected 1");
  for (const key of Object.keys(obj)) if (!["version", "default", "bridges"].includes(key)) throw new InputError(`${path}: ${key}`, key, "unknown key (expected version, default, bridges)");
  const checkEntry = (where: string, e: unknown) => {
    if (typeof e !== "object" || e === null || Array.isArray(e)) throw new InputError(`${path}: ${where}`, JSON.stringify(e), "expected an object with rate and/or burst");
    for (const [k, v] of Object.entries(e)) {
      if (k !== "rate" && k !== "burst") throw new InputError(`${path}: ${where}.${k}`, k, "unknown key (expected rate, burst)");
      if (typeof v !== "string") throw new InputError(`${path}: ${where}.${k}`, JSON.stringify(v), "expected a string like \"100M\"");
      if (k === "rate") rateToKbps(`${path}: ${where}.rate`, v);
      else burstToKb(`${path}: ${where}.burst`, v);
    }
  };
  if (obj.default !== undefined) checkEntry("default", obj.default);
  if (obj.bridges !== undefined) {
    if (typeof obj.bridges !== "object" || obj.bridges === null || Array.isArray(obj.bridges)) throw new InputError(`${path}: bridges`, JSON.stringify(obj.bridges), "expected an object keyed by bridge name");
    for (const [name, e] of Object.entries(obj.bridges)) checkEntry(`bridges.${name}`, e);
  }
  return obj as unknown as NodeDefaults;
}

/** The defaults level for a bridge: the bridge's entry, else the node-wide default. */
export function defaultsLevel(path: string, defaults: NodeDefaults | undefined, bridge: string): QosLevel {
  const level: QosLevel = { name: `node defaults ${path}` };
  if (!defaults) return level;
  const entry = defaults.bridges?.[bridge] ?? defaults.default;
  const where = defaults.bridges?.[bridge] ? `bridges.${bridge}` : "default";
  if (entry?.rate !== undefined) level.rate = { raw: entry.rate, source: `${path} ${where}.rate`, field: `${path}: ${where}.rate` };
  if (entry?.burst !== undefined) level.burst = { raw: entry.burst, source: `${path} ${where}.burst`, field: `${path}: ${where}.burst` };
  return level;
}

/** Levels for a Ganeti NIC: per-NIC instance tags, instance tags, network tags. */
export function ganetiLevels(instanceTags: string[], networkTags: string[], nic: NicIdentity): QosLevel[] {
  const inst = qosTags("instance", instanceTags, nic);
  const net = qosTags("network", networkTags, nic);
  return [levelFromTags("instance tag (NIC)", "instance tag", inst.nic), levelFromTags("instance tag", "instance tag", inst.all), levelFromTags("network tag", "network tag", net.all)];
}

/** A level from VALUE strings (OVS_VIF_RATE / OVS_VIF_BURST). */
export function valueLevel(name: string, rate: string | undefined, burst: string | undefined, rateField: string, burstField: string): QosLevel {
  const level: QosLevel = { name };
  if (rate !== undefined && rate !== "") level.rate = { raw: rate, source: `${rateField}=${rate}`, field: rateField };
  if (burst !== undefined && burst !== "") level.burst = { raw: burst, source: `${burstField}=${burst}`, field: burstField };
  return level;
}
