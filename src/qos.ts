// QoS of one NIC, in both directions, and where each value comes from:
//   rate, burst        what the VM sends: OVS ingress policing (Interface
//                      ingress_policing_rate in kbps, _burst in kb)
//   rx-rate, rx-burst  what the VM receives: OVS egress shaping (a linux-htb
//                      QoS row on the Port, queue 0, max-rate and burst in bits)
//
// Values are numbers with an optional SI suffix k, M, G (x1000): bits per
// second for a rate, bits for a burst. Conversions are exact and round down,
// so what is applied is never more than what was asked. "0" or "unlimited"
// lifts a limit.
import { InputError } from "./errors.ts";

/** OVS Interface policing: rate in kbps (1000 bit/s), burst in kb (1024 bit); 0 disables. */
export interface Policing {
  rate: number;
  burst: number;
}

export const NO_POLICING: Policing = Object.freeze({ rate: 0, burst: 0 });

/** vswitchd clamps both columns to 32 bits; beyond that a value is not what it seems. */
export const OVS_MAX = 4294967295;
const SI: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** Parses VALUE exactly: bits (or bit/s) as a fraction num/den of BigInts.
 * 0 means unlimited. Floating point would round 16.9G down by one kbps and
 * 9.999999999k up to 10: neither is what was asked. */
function parseExact(field: string, raw: string): { num: bigint; den: bigint } {
  if (raw === "unlimited") return { num: 0n, den: 1n };
  const m = /^([0-9]{1,15})(?:\.([0-9]{1,9}))?([kKMG]?)$/.exec(raw);
  if (!m) throw new InputError(field, raw, "expected a number with an optional k, M or G suffix (e.g. 100M, 1.5G, 800k), 0 or unlimited");
  const frac = m[2] ?? "";
  return { num: BigInt(m[1]! + frac) * BigInt(SI[m[3] ?? ""]!), den: 10n ** BigInt(frac.length) };
}

/** VALUE in bits (or bit/s), as a number (for display; conversions are exact). */
export function parseBits(field: string, raw: string): number {
  const { num, den } = parseExact(field, raw);
  return Number(num) / Number(den);
}

function toOvsUnits(field: string, raw: string, unitBits: bigint, what: string, unit: string): number {
  const { num, den } = parseExact(field, raw);
  if (num === 0n) return 0;
  const units = num / (den * unitBits);
  if (units < 1n)
    throw new InputError(field, raw, `below OVS's smallest ${what}, 1 ${unit}${what === "rate" ? " (use 0 or unlimited for no limit)" : " (1024 bits)"}`);
  if (units > BigInt(OVS_MAX)) throw new InputError(field, raw, `above OVS's largest ${what}, ${OVS_MAX} ${unit}`);
  return Number(units);
}

export function rateToKbps(field: string, raw: string): number {
  return toOvsUnits(field, raw, 1000n, "rate", "kbps");
}

export function burstToKb(field: string, raw: string): number {
  return toOvsUnits(field, raw, 1024n, "burst", "kb");
}

/** Receive limits are in bits as OVS's linux-htb takes them: kernel HTB
 * holds rates and bursts in bytes, 32 bits each. */
export const RX_RATE_MAX = 4294967295n * 8n;
export const RX_RATE_MIN = 1000n;

/** A VM-bound rate (rx-rate) in bit/s, rounded down; 0 lifts the limit. */
export function rxRateBits(field: string, raw: string): number {
  const { num, den } = parseExact(field, raw);
  if (num === 0n) return 0;
  const bits = num / den;
  if (bits < RX_RATE_MIN) throw new InputError(field, raw, "below the smallest receive rate, 1k bit/s (use 0 or unlimited for no limit)");
  if (bits > RX_RATE_MAX) throw new InputError(field, raw, `above the largest receive rate, ${RX_RATE_MAX} bit/s`);
  return Number(bits);
}

/** One MTU-sized frame in bits. */
export function frameBits(mtu: number): number {
  return (mtu + 14) * 8;
}

/** The smallest MTU a port can have (names.ts parseMtu): no frame is smaller. */
const MIN_MTU = 68;

/** A VM-bound burst (rx-burst) in bits, rounded down; 0 (in any spelling:
 * 0, 0.0, 0k, unlimited) means OVS's default. A burst that is not 0 but
 * below the smallest frame of any port is refused here, whatever its
 * spelling (0.5, 0.000000001k), as a sending burst below 1 kb is: it can
 * only be less than one frame (the MTU's frame is checked at resolve). */
export function rxBurstBits(field: string, raw: string): number {
  const { num, den } = parseExact(field, raw);
  if (num === 0n) return 0;
  const bits = num / den;
  if (bits < BigInt(frameBits(MIN_MTU)))
    throw new InputError(
      field,
      raw,
      `below one frame (${frameBits(MIN_MTU)} bits at the smallest MTU, ${MIN_MTU}): every frame would be dropped (0 or unlimited: OVS's default burst)`,
    );
  if (bits > RX_RATE_MAX) throw new InputError(field, raw, `above the largest burst, ${RX_RATE_MAX} bits`);
  return Number(bits);
}

/** The one rule for a burst of either direction, once the port's MTU is
 * known: an explicit burst below one full frame is refused (policing would
 * drop every full-size frame; HTB would quietly raise it). */
function refuseBelowFrame(field: string, shown: string, what: string, burst: number, frame: number, unit: string, mtu: number): void {
  if (burst < frame)
    throw new InputError(field, shown, `${what} ${burst} ${unit} is below one ${mtu}-byte frame (${frame} ${unit}): every full-size frame would be dropped`);
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
export function parseXenRate(field: string, raw: string): { rate: number; burst: number; burstDerived: true } {
  const m = /^([0-9]{1,20}),([0-9]{1,20})$/.exec(raw);
  if (!m) throw new InputError(field, raw, "expected BYTES,USECS");
  const bytes = BigInt(m[1]!);
  const usecs = BigInt(m[2]!);
  if (bytes === 0n || usecs === 0n) throw new InputError(field, raw, "zero credit or interval");
  const kbps = (bytes * 8n * 1_000_000n) / (usecs * 1000n);
  // netback's "unlimited" is a credit of ~0UL: anything past OVS's range means no limit.
  if (kbps > BigInt(OVS_MAX)) return { rate: 0, burst: 0, burstDerived: true };
  if (kbps < 1n) throw new InputError(field, raw, "below OVS's smallest rate, 1 kbps");
  const kb = (bytes * 8n) / 1024n;
  return { rate: Number(kbps), burst: Number(kb > BigInt(OVS_MAX) ? BigInt(OVS_MAX) : kb < 1n ? 1n : kb), burstDerived: true };
}

/** A value and where it came from, e.g. `instance tag "ovs-vif:rate:100M"`. */
export interface Sourced {
  raw: string;
  source: string;
  /** Field and value an error names (e.g. "instance tag" and the whole tag). */
  field: string;
  shown?: string;
}

/** The four values a level can set: the VM's sending limit (rate, burst)
 * and its receiving limit (rx-rate, rx-burst). */
export const QOS_KINDS = ["rate", "burst", "rx-rate", "rx-burst"] as const;
export type QosKind = (typeof QOS_KINDS)[number];

/** One precedence level: what was found at that level. */
export type QosLevel = { name: string } & Partial<Record<QosKind, Sourced>> & {
    /** Already in OVS units (the Xen rate key, --rate KBPS). A derived burst
     * (Xen's credit) is raised to one frame; an explicit one below it is refused. */
    ovs?: { rate?: number; burst?: number; burstDerived?: boolean; burstField?: string };
  };

/** VALUE of one kind in its OVS unit (kbps, kb, bit/s, bits). */
export function convertKind(kind: QosKind, field: string, raw: string): number {
  switch (kind) {
    case "rate":
      return rateToKbps(field, raw);
    case "burst":
      return burstToKb(field, raw);
    case "rx-rate":
      return rxRateBits(field, raw);
    case "rx-burst":
      return rxBurstBits(field, raw);
  }
}

export interface QosResult {
  policing: Policing;
  /** Where the rate and burst came from ("default: 80% of rate", "none"). */
  rateSource: string;
  burstSource: string;
}

function convert(sourced: Sourced, kind: QosKind): number {
  try {
    return convertKind(kind, sourced.field, sourced.raw);
  } catch (err) {
    if (err instanceof InputError && sourced.shown !== undefined) throw new InputError(sourced.field, sourced.shown, err.reason);
    throw err;
  }
}

/** Every value of every level converted once, so a malformed one fails
 * before anything is read or changed (even one a more specific level hides). */
export function checkLevels(levels: QosLevel[]): void {
  for (const l of levels) for (const kind of QOS_KINDS) if (l[kind]) convert(l[kind], kind);
}

/** Picks the rate from the most specific level that has one; the burst from
 * the most specific level at or above the rate's that has one, else the
 * default (80% of the rate, at least one frame). A level may say
 * 0/unlimited to lift a less specific limit; a burst of 0 means the default. */
export function resolvePolicing(levels: QosLevel[], mtu: number): QosResult {
  const frame = mtuKb(mtu);
  const i = levels.findIndex((l) => l.rate !== undefined || l.ovs?.rate !== undefined);
  if (i < 0) return { policing: { ...NO_POLICING }, rateSource: "none", burstSource: "none" };
  const level = levels[i]!;
  const rate = level.ovs?.rate ?? convert(level.rate!, "rate");
  const rateSource = level.rate?.source ?? level.name;
  if (rate === 0) return { policing: { ...NO_POLICING }, rateSource, burstSource: "none (no rate)" };
  const fallback = { policing: { rate, burst: defaultBurstKb(rate, mtu) }, rateSource, burstSource: "default: 80% of rate" };
  for (let j = 0; j <= i; j++) {
    const l = levels[j]!;
    let burst: number;
    let source: string;
    let shown: { field: string; value: string };
    if (l.ovs?.burst !== undefined) {
      burst = l.ovs.burst;
      source = l.name;
      shown = { field: l.ovs.burstField ?? l.name, value: String(burst) };
      if (burst !== 0 && burst < frame && l.ovs.burstDerived) burst = frame;
    } else if (l.burst) {
      burst = convert(l.burst, "burst");
      source = l.burst.source;
      shown = { field: l.burst.field, value: l.burst.shown ?? l.burst.raw };
    } else {
      continue;
    }
    if (burst === 0) return fallback;
    refuseBelowFrame(shown.field, shown.value, "burst", burst, frame, "kb", mtu);
    return { policing: { rate, burst }, rateSource, burstSource: source };
  }
  return fallback;
}

/** OVS egress shaping of a port (what the VM receives): bit/s and bits;
 * no burst means OVS's own (one frame). */
export interface Shaping {
  rate: number;
  burst?: number;
}

export interface ShapingResult {
  shaping?: Shaping;
  rateSource: string;
  burstSource: string;
}

/** The receive limit, with the same precedence as the sending one: the
 * rx-rate from the most specific level that has one (0 lifts it), the
 * rx-burst from that level or a more specific one. An explicit burst below
 * one frame is refused (HTB would quietly raise it). */
export function resolveShaping(levels: QosLevel[], mtu: number): ShapingResult {
  const i = levels.findIndex((l) => l["rx-rate"] !== undefined);
  if (i < 0) return { rateSource: "none", burstSource: "none" };
  const rateSourced = levels[i]!["rx-rate"]!;
  const rate = convert(rateSourced, "rx-rate");
  if (rate === 0) return { rateSource: rateSourced.source, burstSource: "none (no rx-rate)" };
  for (let j = 0; j <= i; j++) {
    const b = levels[j]!["rx-burst"];
    if (!b) continue;
    const burst = convert(b, "rx-burst");
    if (burst === 0) break;
    refuseBelowFrame(b.field, b.shown ?? b.raw, "rx-burst", burst, frameBits(mtu), "bits", mtu);
    return { shaping: { rate, burst }, rateSource: rateSourced.source, burstSource: b.source };
  }
  return { shaping: { rate }, rateSource: rateSourced.source, burstSource: "default: OVS's (one frame)" };
}

/** A level from VALUE strings (OVS_VIF_RATE / OVS_VIF_BURST), or with
 * `values` for any kind keyed by kind: [value, field]. */
export function valueLevel(
  name: string,
  rate: string | undefined,
  burst: string | undefined,
  rateField: string,
  burstField: string,
  more: Partial<Record<QosKind, [string | undefined, string]>> = {},
): QosLevel {
  const level: QosLevel = { name };
  const all: Partial<Record<QosKind, [string | undefined, string]>> = { rate: [rate, rateField], burst: [burst, burstField], ...more };
  for (const kind of QOS_KINDS) {
    const [raw, field] = all[kind] ?? [undefined, ""];
    if (raw !== undefined && raw !== "") level[kind] = { raw, source: `${field}=${raw}`, field };
  }
  return level;
}

/** --rate / --burst of `ovs-vif attach`: a bare whole number is already in
 * OVS units (kbps / kb), a suffixed one is converted. */
export function explicitLevel(
  rate: string | undefined,
  burst: string | undefined,
  rx: { rate?: string | undefined; burst?: string | undefined } = {},
): QosLevel {
  const level: QosLevel = { name: "command line" };
  // Receive limits are in bits already: a bare number is bit/s or bits.
  if (rx.rate !== undefined) level["rx-rate"] = { raw: rx.rate, source: `--rx-rate ${rx.rate}`, field: "--rx-rate" };
  if (rx.burst !== undefined) level["rx-burst"] = { raw: rx.burst, source: `--rx-burst ${rx.burst}`, field: "--rx-burst" };
  const ovs: NonNullable<QosLevel["ovs"]> = {};
  for (const [kind, raw] of [
    ["rate", rate],
    ["burst", burst],
  ] as const) {
    if (raw === undefined) continue;
    const field = `--${kind}`;
    if (/^[0-9]+$/.test(raw)) {
      if (raw.length > 10 || Number(raw) > OVS_MAX) throw new InputError(field, raw, `larger than OVS accepts (${OVS_MAX})`);
      ovs[kind] = Number(raw);
      if (kind === "burst") ovs.burstField = field;
    } else {
      level[kind] = { raw, source: `${field} ${raw}`, field };
    }
  }
  if (Object.keys(ovs).length) level.ovs = ovs;
  return level;
}
