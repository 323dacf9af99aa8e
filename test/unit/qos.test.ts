// Ingress policing (src/qos.ts): VALUE parsing with SI suffixes and
// conversion to OVS units, one MTU frame and the default burst, Xen's `rate`
// key, Ganeti tags and their precedence, and resolvePolicing over mixed
// levels (environment, command line, Xen, node defaults).
//
// Units: rate kbps = floor(bit/s / 1000), burst kb = floor(bits / 1024); the
// applied value is never above what was asked. "0"/"unlimited" = no policing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InputError } from "../../src/errors.ts";
import { catchInputError, expectInputError } from "../harness/assert.ts";
import { DPATH, MTU_1500_KB, MTU_9000_KB, XEN_FIELD, envLevel, sw1Defaults, sw9Defaults, xenLevel } from "../harness/qos-levels.ts";
import { DEFAULT_MTU } from "../../src/port.ts";
import {
  OVS_MAX,
  burstToKb,
  checkLevels,
  defaultBurstKb,
  explicitLevel,
  frameBits,
  ganetiLevels,
  levelFromTags,
  mtuKb,
  parseBits,
  parseQosTag,
  parseXenRate,
  qosTags,
  rateToKbps,
  resolvePolicing,
  resolveShaping,
  rxBurstBits,
  rxRateBits,
  tagNamesNic,
  NO_POLICING,
  type Policing,
  type QosLevel,
} from "../../src/qos.ts";
import type { NicIdentity } from "../../src/nic.ts";

/** Exact arithmetic reference: floor(VALUE / div) for a decimal VALUE with an optional k/M/G suffix. */
function exactFloor(raw: string, div: bigint): bigint {
  const m = /^([0-9]+)(?:\.([0-9]+))?([kMG]?)$/.exec(raw);
  if (!m) throw new Error(`bad reference input ${raw}`);
  const frac = m[2] ?? "";
  const si: Record<string, bigint> = { "": 1n, k: 1000n, M: 1000000n, G: 1000000000n };
  return (BigInt(`${m[1]}${frac}`) * si[m[3] ?? ""]!) / (10n ** BigInt(frac.length) * div);
}

/** The spec's default burst, in integers: floor(rate * 1000 * 0.8 / 1024), at least one frame. */
function specDefaultBurst(rateKbps: number, mtu = DEFAULT_MTU): number {
  return Math.max(Number((BigInt(rateKbps) * 800n) / 1024n), mtuKb(mtu));
}

// --- VALUE parsing and conversion to OVS units -------------------------------

const rateGood: Array<[string, number]> = [
  ["100M", 100000],
  ["1.5G", 1500000],
  ["800k", 800],
  ["10M", 10000],
  ["1G", 1000000],
  ["1k", 1],
  ["1000", 1],
  ["1999", 1], // rounded down, never up
  ["2000", 2],
  ["2.5k", 2],
  ["1.999k", 1],
  ["0.001M", 1],
  ["100000000", 100000],
  ["1.5M", 1500],
  ["4.35M", 4350],
  ["0.29M", 290],
  ["2.5G", 2500000],
  ["4294967295000", OVS_MAX], // OVS's largest rate, exactly
  ["4294967.295M", OVS_MAX],
  ["4294.967295G", OVS_MAX],
  ["0", 0],
  ["unlimited", 0],
  ["0k", 0],
  ["0.0", 0],
  ["0.000M", 0],
  ["0G", 0],
];

for (const [raw, kbps] of rateGood) {
  test(`rateToKbps ${JSON.stringify(raw)} -> ${kbps} kbps`, () => {
    assert.is(rateToKbps("rate", raw), kbps);
    if (raw !== "unlimited") assert.is(BigInt(kbps), exactFloor(raw, 1000n), "agrees with exact decimal arithmetic");
  });
}

const burstGood: Array<[string, number]> = [
  ["1024", 1],
  ["2047", 1], // rounded down, never up
  ["2048", 2],
  ["10M", 9765],
  ["1M", 976],
  ["800k", 781],
  ["50M", 48828],
  ["20M", 19531],
  ["1.5G", 1464843],
  ["12288", 12],
  ["4398046510080", OVS_MAX], // OVS's largest burst, exactly
  ["4398.04651008G", OVS_MAX],
  ["0", 0],
  ["unlimited", 0],
  ["0.0k", 0],
];

for (const [raw, kb] of burstGood) {
  test(`burstToKb ${JSON.stringify(raw)} -> ${kb} kb`, () => {
    assert.is(burstToKb("burst", raw), kb);
    if (raw !== "unlimited") assert.is(BigInt(kb), exactFloor(raw, 1024n), "agrees with exact decimal arithmetic");
  });
}

test("parseBits reads bit values with SI multipliers (x1000, not x1024)", () => {
  assert.is(parseBits("f", "1.5G"), 1.5e9);
  assert.is(parseBits("f", "800k"), 800000);
  assert.is(parseBits("f", "100M"), 1e8);
  assert.is(parseBits("f", "42"), 42);
  assert.is(parseBits("f", "0"), 0);
  assert.is(parseBits("f", "unlimited"), 0);
});

/** Not VALUEs at all: refused by both conversions, with the whole value in the error. */
const hostile: string[] = [
  "",
  "-1",
  "-1M",
  "-0",
  "+1M",
  "1e309",
  "1e3",
  "1E6",
  "10Q",
  "1T",
  "1m", // milli? not a thing here
  "1Mb",
  "1MM",
  "1kM",
  "M",
  "k",
  ".",
  " 1M",
  "1M ",
  "1 M",
  "\t1M",
  "1M\n",
  "0x10",
  "0b1",
  "0o7",
  "NaN",
  "Infinity",
  "-Infinity",
  "1..5M",
  ".5M",
  "1.",
  "1.M",
  "1,5M",
  "1_000",
  "1'000",
  "１M", // fullwidth digit
  "١M", // Arabic-Indic digit
  "none",
  "unlimited ",
  " unlimited",
  "1M;reboot",
  "$(reboot)",
  "99999999999999999999", // 20 digits
  "1".repeat(400),
  "1." + "5".repeat(20),
];

for (const raw of hostile) {
  test(`rateToKbps/burstToKb refuse ${JSON.stringify(raw)}`, () => {
    expectInputError(() => rateToKbps("OVS_VIF_RATE", raw), "OVS_VIF_RATE", raw);
    expectInputError(() => burstToKb("OVS_VIF_BURST", raw), "OVS_VIF_BURST", raw);
    expectInputError(() => parseBits("x", raw), "x", raw);
  });
}

/** Well-formed, but outside what OVS can hold (32-bit columns, at least 1 kbps / 1 kb). */
const rateOutOfRange: Array<[string, RegExp]> = [
  ["5000G", /largest rate/],
  ["4294.967296G", /largest rate/],
  ["4294967296000", /largest rate/],
  ["999999999999999G", /largest rate/],
  ["999", /smallest rate/],
  ["1", /smallest rate/],
  ["0.999k", /smallest rate/],
  ["0.5k", /smallest rate/],
  ["0.0001", /smallest rate/],
  ["0.000000001", /smallest rate/],
];

for (const [raw, reason] of rateOutOfRange) {
  test(`rateToKbps refuses out-of-range ${JSON.stringify(raw)}`, () => {
    expectInputError(() => rateToKbps("--rate", raw), "--rate", raw, reason);
  });
}

const burstOutOfRange: Array<[string, RegExp]> = [
  ["5000G", /largest burst/],
  ["4398046511104", /largest burst/], // (OVS_MAX + 1) kb
  ["1023", /smallest burst/],
  ["1000", /smallest burst/],
  ["1k", /smallest burst/],
  ["0.5k", /smallest burst/],
  ["1", /smallest burst/],
];

for (const [raw, reason] of burstOutOfRange) {
  test(`burstToKb refuses out-of-range ${JSON.stringify(raw)}`, () => {
    expectInputError(() => burstToKb("--burst", raw), "--burst", raw, reason);
  });
}

// Rounding: exact decimal arithmetic, then floor. Binary floating point gets
// these wrong in both directions (16.9e9 is 16899999999.999998 as a double,
// and 9999.9999999 is easily rounded up to 10 kbps).
const exactRounding: Array<["rate" | "burst", string, number | "refused"]> = [
  ["rate", "16.9G", 16900000],
  ["rate", "32.3G", 32300000],
  ["rate", "64.1G", 64100000],
  ["burst", "32.8G", 32031250],
  ["burst", "131.2G", 128125000],
  ["rate", "9999.9999999", 9], // 9999.9999999 bit/s is below 10 kbps
  ["rate", "9.999999999k", 9],
  ["rate", "999.9999999", "refused"], // below 1 kbps
  ["burst", "2047.9999999", 1],
  ["burst", "1023.999999999", "refused"], // below 1 kb
];

for (const [kind, raw, want] of exactRounding) {
  test(`${kind} ${JSON.stringify(raw)} rounds down exactly -> ${want}`, () => {
    const fn = kind === "rate" ? rateToKbps : burstToKb;
    if (want === "refused") {
      expectInputError(() => fn(kind, raw), kind, raw, /smallest/);
      return;
    }
    assert.is(fn(kind, raw), want);
  });
}

test("rate/burst conversion agrees with exact arithmetic on a grid of decimal values", () => {
  const wrong: string[] = [];
  for (const suffix of ["k", "M", "G"]) {
    for (let i = 1; i < 20000; i++) {
      for (const decimals of [1, 2]) {
        const raw = `${Math.floor(i / 10 ** decimals)}.${String(i % 10 ** decimals).padStart(decimals, "0")}${suffix}`;
        for (const [kind, fn, div] of [["rate", rateToKbps, 1000n], ["burst", burstToKb, 1024n]] as const) {
          const want = exactFloor(raw, div);
          if (want < 1n || want > BigInt(OVS_MAX)) continue;
          const got = fn(kind, raw);
          if (BigInt(got) !== want) wrong.push(`${kind} ${raw}: ${got}, want ${want}`);
        }
      }
    }
  }
  assert.is(wrong.length, 0, `${wrong.length} values rounded wrong, e.g. ${wrong.slice(0, 5).join("; ")}`);
});

// --- MTU frame and default burst ---------------------------------------------

const mtuCases: Array<[number, number]> = [
  [1500, MTU_1500_KB],
  [9000, MTU_9000_KB],
  [68, 1],
  [1522, 12], // (1522 + 14) * 8 = 12288 bits: exactly 12 kb
  [1523, 13],
  [65535, 513],
];

for (const [mtu, kb] of mtuCases) {
  test(`mtuKb(${mtu}) = ${kb} (one full Ethernet frame, rounded up)`, () => {
    assert.is(mtuKb(mtu), kb);
    assert.ok(kb * 1024 >= (mtu + 14) * 8, "holds the frame");
    assert.ok((kb - 1) * 1024 < (mtu + 14) * 8, "is the least that holds it");
  });
}

const defaultBurstCases: Array<[number, number, number]> = [
  [100000, 1500, 78125],
  [10000, 1500, 7812],
  [1000000, 1500, 781250],
  [1500000, 1500, 1171875],
  [16, 1500, 12], // 12.5 -> 12, exactly one frame
  [17, 1500, 13],
  [15, 1500, MTU_1500_KB], // 11 -> raised to one frame
  [1, 1500, MTU_1500_KB],
  [10, 9000, MTU_9000_KB],
  [100, 9000, 78],
  [50, 9000, MTU_9000_KB],
  [OVS_MAX, 1500, 3355443199],
];

for (const [rate, mtu, kb] of defaultBurstCases) {
  test(`defaultBurstKb(${rate} kbps, MTU ${mtu}) = ${kb} kb`, () => {
    assert.is(defaultBurstKb(rate, mtu), kb);
    assert.is(kb, specDefaultBurst(rate, mtu));
  });
}

test("defaultBurstKb = max(floor(rate*1000*0.8/1024), one frame) for every rate up to 2^21 and a sample beyond", () => {
  const wrong: string[] = [];
  const check = (rate: number) => {
    if (defaultBurstKb(rate, 1500) !== specDefaultBurst(rate, 1500)) wrong.push(String(rate));
  };
  for (let r = 1; r <= 2 ** 21; r++) check(r);
  for (let r = 2 ** 21; r <= OVS_MAX; r += 9973 * 1031) check(r);
  for (const r of [OVS_MAX, OVS_MAX - 1, OVS_MAX - 31, 2 ** 31, 2 ** 31 + 32]) check(r);
  assert.is(wrong.length, 0, `wrong for rates ${wrong.slice(0, 5).join(", ")}`);
});

// --- Xen's backend `rate` key ------------------------------------------------

const xenGood: Array<[string, string, Policing]> = [
  ["xl rate=10Mb/s@20ms", "25000,20000", { rate: 10000, burst: 195 }],
  ["xl rate=1Gb/s (default 50ms)", "6250000,50000", { rate: 1000000, burst: 48828 }],
  ["xl rate=1Mb/s", "6250,50000", { rate: 1000, burst: 48 }],
  ["xl rate=100MB/s@1s", "100000000,1000000", { rate: 800000, burst: 781250 }],
  ["1 kbps exactly", "125,1000000", { rate: 1, burst: 1 }],
  ["OVS's largest rate", "536870911875,1000000", { rate: OVS_MAX, burst: 4194303999 }],
  ["credit past OVS's largest burst is clamped", "1000000000000,2000000", { rate: 4000000000, burst: OVS_MAX }],
];

for (const [label, raw, want] of xenGood) {
  test(`parseXenRate ${label}: ${JSON.stringify(raw)} -> ${want.rate} kbps / ${want.burst} kb`, () => {
    assert.equal(parseXenRate(XEN_FIELD, raw), { ...want, burstDerived: true });
  });
}

test("parseXenRate agrees with exact arithmetic for what xl writes (rate=NMb/s@Tms)", () => {
  const wrong: string[] = [];
  for (const mbit of [1, 2, 3, 5, 7, 10, 33, 100, 123, 999, 1000, 2500, 4000, 10000, 40000]) {
    for (const ms of [1, 3, 7, 10, 20, 33, 50, 100, 250, 1000, 4000]) {
      // xl: bytes/s = N*10^6/8; credit = bytes/s * usecs / 10^6 (integer division, as in libxlu_vif.c)
      const bytesPerSec = (BigInt(mbit) * 1000000n) / 8n;
      const usecs = BigInt(ms) * 1000n;
      const bytes = (bytesPerSec * usecs) / 1000000n;
      const raw = `${bytes},${usecs}`;
      const rate = (bytes * 8n * 1000000n) / usecs / 1000n;
      const burst = (bytes * 8n) / 1024n;
      const got = parseXenRate(XEN_FIELD, raw);
      if (BigInt(got.rate) !== rate || BigInt(got.burst) !== (burst < 1n ? 1n : burst)) wrong.push(`${mbit}Mb/s@${ms}ms ${raw}: ${JSON.stringify(got)}, want ${rate}/${burst}`);
    }
  }
  assert.is(wrong.length, 0, wrong.slice(0, 5).join("; "));
});

const xenUnlimited: Array<[string, string]> = [
  ["one past OVS's largest rate", "536870912000,1000000"],
  ["15-digit credit", "999999999999999,50000"],
  ["15-digit credit, 1us", "999999999999999,1"],
  // netback's own "unlimited" credit is ~0UL; a toolstack writing it means no limit
  ["~0UL credit (20 digits)", "18446744073709551615,50000"],
  ["2^63 credit", "9223372036854775808,1000000"],
];

for (const [label, raw] of xenUnlimited) {
  test(`parseXenRate ${label}: ${JSON.stringify(raw)} -> unlimited (0/0)`, () => {
    assert.equal(parseXenRate(XEN_FIELD, raw), { rate: 0, burst: 0, burstDerived: true });
  });
}

const xenBad: Array<[string, RegExp?]> = [
  [""],
  ["25000"],
  ["25000,"],
  [",20000"],
  [","],
  ["25000,20000,1"],
  ["25000;20000"],
  ["25000 20000"],
  ["25000, 20000"],
  [" 25000,20000"],
  ["25000,20000 "],
  ["25000,20000\n"],
  ["-1,20000"],
  ["25000,-1"],
  ["+25000,20000"],
  ["25000.5,20000"],
  ["25000,20000.5"],
  ["1e3,20000"],
  ["0x10,20000"],
  ["25k,20000"],
  ["10Mb/s@20ms"],
  ["NaN,20000"],
  ["Infinity,1"],
  ["25000,99999999999999999999"],
  ["0,20000", /zero/],
  ["25000,0", /zero/],
  ["0,0", /zero/],
  ["124,1000000", /smallest rate/], // 992 bit/s
  ["1,4294967295", /smallest rate/],
];

for (const [raw, reason] of xenBad) {
  test(`parseXenRate refuses ${JSON.stringify(raw)}`, () => {
    expectInputError(() => parseXenRate(XEN_FIELD, raw), XEN_FIELD, raw, reason);
  });
}

// --- Ganeti tags --------------------------------------------------------------

const UUID0 = "9f3c1d2e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
const UUID1 = "1b2c3d4e-5f60-4718-892a-3b4c5d6e7f80";
const NIC0: NicIdentity = { index: 0, name: "eth0", uuid: UUID0 };
const NIC1: NicIdentity = { index: 1, name: "eth1", uuid: UUID1 };

type Want = Policing | { error: { field: string; value: string; mentions?: string[] } };

interface PrecedenceCase {
  name: string;
  inst: string[];
  net: string[];
  nic: NicIdentity;
  mtu?: number;
  want: Want;
  rateSource?: string;
  burstSource?: string;
}

const doneWhenInst = ["ovs-vif:rate:100M", "ovs-vif:nic:1:rate:10M"];
const doneWhenNet = ["ovs-vif:rate:1G"];

const precedence: PrecedenceCase[] = [
  // The example: an instance rate, a per-NIC rate for NIC 1, a network rate.
  { name: "example: NIC 0 takes the instance rate", inst: doneWhenInst, net: doneWhenNet, nic: NIC0, want: { rate: 100000, burst: 78125 }, rateSource: 'instance tag "ovs-vif:rate:100M"', burstSource: "default: 80% of rate" },
  { name: "example: NIC 1 takes its per-NIC rate", inst: doneWhenInst, net: doneWhenNet, nic: NIC1, want: { rate: 10000, burst: 7812 }, rateSource: 'instance tag "ovs-vif:nic:1:rate:10M"' },
  { name: "example: another instance's NIC on that network takes the network rate", inst: [], net: doneWhenNet, nic: NIC0, want: { rate: 1000000, burst: 781250 }, rateSource: 'network tag "ovs-vif:rate:1G"' },
  { name: "example: no tags means no policing", inst: [], net: [], nic: NIC0, want: { rate: 0, burst: 0 }, rateSource: "none", burstSource: "none" },
  // Matching a per-NIC tag.
  { name: "a per-NIC tag by index beats the instance rate", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:10M"], net: [], nic: NIC0, want: { rate: 10000, burst: 7812 } },
  { name: "a per-NIC tag by name beats the instance rate", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:eth1:rate:10M"], net: [], nic: NIC1, want: { rate: 10000, burst: 7812 } },
  { name: "a per-NIC tag by name leaves the other NIC at the instance rate", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:eth1:rate:10M"], net: [], nic: NIC0, want: { rate: 100000, burst: 78125 } },
  { name: "a per-NIC tag by UUID beats the instance rate", inst: ["ovs-vif:rate:100M", `ovs-vif:nic:${UUID0}:rate:10M`], net: [], nic: NIC0, want: { rate: 10000, burst: 7812 } },
  { name: "a per-NIC tag by UUID leaves the other NIC at the instance rate", inst: ["ovs-vif:rate:100M", `ovs-vif:nic:${UUID0}:rate:10M`], net: [], nic: NIC1, want: { rate: 100000, burst: 78125 } },
  { name: "per-NIC tags for other NICs are ignored", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:2:rate:1M", "ovs-vif:nic:eth9:rate:2M", `ovs-vif:nic:${UUID1}:rate:3M`, "ovs-vif:nic:1:burst:20M"], net: [], nic: NIC0, want: { rate: 100000, burst: 78125 } },
  { name: "per-NIC tag by name does not match a NIC without a name", inst: ["ovs-vif:nic:eth0:rate:10M"], net: [], nic: { index: 0 }, want: { rate: 0, burst: 0 } },
  { name: "a per-NIC tag for another NIC leaves this NIC at the network rate", inst: ["ovs-vif:nic:1:rate:10M"], net: doneWhenNet, nic: NIC0, want: { rate: 1000000, burst: 781250 } },
  { name: "per-NIC tag beats the network", inst: ["ovs-vif:nic:eth0:rate:10M"], net: doneWhenNet, nic: NIC0, want: { rate: 10000, burst: 7812 } },
  { name: "same per-NIC value by index and by name is no conflict", inst: ["ovs-vif:nic:0:rate:10M", "ovs-vif:nic:eth0:rate:10M"], net: [], nic: NIC0, want: { rate: 10000, burst: 7812 } },
  { name: "same tag twice is no conflict", inst: ["ovs-vif:rate:100M", "ovs-vif:rate:100M"], net: [], nic: NIC0, want: { rate: 100000, burst: 78125 } },
  // 0 / unlimited lifts a less specific limit.
  { name: "instance rate 0 lifts the network rate", inst: ["ovs-vif:rate:0"], net: doneWhenNet, nic: NIC0, want: { rate: 0, burst: 0 }, burstSource: "none (no rate)" },
  { name: "instance rate unlimited lifts the network rate", inst: ["ovs-vif:rate:unlimited"], net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"], nic: NIC0, want: { rate: 0, burst: 0 } },
  { name: "per-NIC unlimited lifts the instance rate", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:unlimited"], net: doneWhenNet, nic: NIC0, want: { rate: 0, burst: 0 } },
  { name: "per-NIC unlimited leaves the other NIC limited", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:unlimited"], net: doneWhenNet, nic: NIC1, want: { rate: 100000, burst: 78125 } },
  { name: "rate 0 with a burst at the same level is still no policing", inst: ["ovs-vif:rate:0", "ovs-vif:burst:10M"], net: doneWhenNet, nic: NIC0, want: { rate: 0, burst: 0 } },
  // Where the burst comes from.
  { name: "the burst comes from the rate's level", inst: ["ovs-vif:rate:100M", "ovs-vif:burst:10M"], net: [], nic: NIC0, want: { rate: 100000, burst: 9765 }, burstSource: 'instance tag "ovs-vif:burst:10M"' },
  { name: "the burst may come from a more specific level (per-NIC burst, instance rate)", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:burst:20M"], net: [], nic: NIC0, want: { rate: 100000, burst: 19531 }, burstSource: 'instance tag "ovs-vif:nic:0:burst:20M"' },
  { name: "the burst may come from a more specific level (instance burst, network rate)", inst: ["ovs-vif:burst:20M"], net: ["ovs-vif:rate:1G"], nic: NIC0, want: { rate: 1000000, burst: 19531 } },
  { name: "a network rate and burst both apply", inst: [], net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"], nic: NIC0, want: { rate: 1000000, burst: 48828 } },
  { name: "the burst never comes from a less specific level (network burst, instance rate)", inst: ["ovs-vif:rate:100M"], net: ["ovs-vif:burst:50M"], nic: NIC0, want: { rate: 100000, burst: 78125 }, burstSource: "default: 80% of rate" },
  { name: "the burst never comes from a less specific level (instance burst, per-NIC rate)", inst: ["ovs-vif:burst:50M", "ovs-vif:nic:0:rate:10M"], net: [], nic: NIC0, want: { rate: 10000, burst: 7812 } },
  { name: "the most specific burst wins: per-NIC over the rate's level", inst: ["ovs-vif:rate:100M", "ovs-vif:burst:10M", "ovs-vif:nic:0:burst:20M"], net: [], nic: NIC0, want: { rate: 100000, burst: 19531 }, burstSource: 'instance tag "ovs-vif:nic:0:burst:20M"' },
  { name: "the most specific burst wins: instance over the network rate's level", inst: ["ovs-vif:burst:10M"], net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"], nic: NIC0, want: { rate: 1000000, burst: 9765 } },
  { name: "a burst without any rate does not police", inst: ["ovs-vif:burst:10M", "ovs-vif:nic:0:burst:20M"], net: ["ovs-vif:burst:50M"], nic: NIC0, want: { rate: 0, burst: 0 } },
  { name: "burst 0 at the rate's level means the default burst", inst: ["ovs-vif:rate:100M", "ovs-vif:burst:0"], net: [], nic: NIC0, want: { rate: 100000, burst: 78125 }, burstSource: "default: 80% of rate" },
  { name: "burst unlimited at a more specific level means the default burst", inst: ["ovs-vif:nic:0:burst:unlimited"], net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"], nic: NIC0, want: { rate: 1000000, burst: 781250 } },
  // Default burst and one MTU frame.
  { name: "the default burst is raised to one frame", inst: ["ovs-vif:rate:10k"], net: [], nic: NIC0, want: { rate: 10, burst: MTU_1500_KB } },
  { name: "the default burst is raised to one jumbo frame", inst: ["ovs-vif:rate:10k"], net: [], nic: NIC0, mtu: 9000, want: { rate: 10, burst: MTU_9000_KB } },
  { name: "an explicit burst of exactly one frame is accepted", inst: ["ovs-vif:rate:10M", "ovs-vif:burst:12288"], net: [], nic: NIC0, want: { rate: 10000, burst: MTU_1500_KB } },
  { name: "an explicit burst of one frame on a jumbo port is accepted", inst: ["ovs-vif:rate:10M", "ovs-vif:burst:72704"], net: [], nic: NIC0, mtu: 9000, want: { rate: 10000, burst: MTU_9000_KB } },
  { name: "an explicit burst of 70k fits a 1500-byte frame", inst: ["ovs-vif:rate:10M", "ovs-vif:burst:70k"], net: [], nic: NIC0, want: { rate: 10000, burst: 68 } },
  { name: "an explicit burst below one frame is refused", inst: ["ovs-vif:rate:10M", "ovs-vif:burst:10k"], net: [], nic: NIC0, want: { error: { field: "instance tag", value: "ovs-vif:burst:10k", mentions: ["1500", "frame"] } } },
  { name: "an explicit burst one bit below one frame is refused", inst: ["ovs-vif:rate:10M", "ovs-vif:burst:12287"], net: [], nic: NIC0, want: { error: { field: "instance tag", value: "ovs-vif:burst:12287", mentions: ["frame"] } } },
  { name: "an explicit burst of 70k is refused on a jumbo port (below one frame)", inst: ["ovs-vif:rate:10M", "ovs-vif:burst:70k"], net: [], nic: NIC0, mtu: 9000, want: { error: { field: "instance tag", value: "ovs-vif:burst:70k", mentions: ["9000", "frame"] } } },
  { name: "a per-NIC burst below one frame is refused", inst: ["ovs-vif:rate:10M", "ovs-vif:nic:eth0:burst:5k"], net: [], nic: NIC0, want: { error: { field: "instance tag", value: "ovs-vif:nic:eth0:burst:5k", mentions: ["frame"] } } },
  { name: "a network burst below one frame is refused when it is used", inst: [], net: ["ovs-vif:rate:10M", "ovs-vif:burst:5k"], nic: NIC0, want: { error: { field: "network tag", value: "ovs-vif:burst:5k", mentions: ["frame"] } } },
  { name: "a small burst at a less specific level is not used, so not refused", inst: ["ovs-vif:rate:100M"], net: ["ovs-vif:burst:5k"], nic: NIC0, want: { rate: 100000, burst: 78125 } },
  { name: "a small burst for another NIC is not refused", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:1:burst:5k"], net: [], nic: NIC0, want: { rate: 100000, burst: 78125 } },
  // Conflicts: two different values at one level.
  { name: "two different instance rates conflict", inst: ["ovs-vif:rate:100M", "ovs-vif:rate:10M"], net: [], nic: NIC0, want: { error: { field: "instance tag", value: "ovs-vif:rate:10M", mentions: ["ovs-vif:rate:100M"] } } },
  { name: "two different instance bursts conflict", inst: ["ovs-vif:burst:10M", "ovs-vif:rate:100M", "ovs-vif:burst:20M"], net: [], nic: NIC0, want: { error: { field: "instance tag", value: "ovs-vif:burst:20M", mentions: ["ovs-vif:burst:10M"] } } },
  { name: "two different per-NIC rates, by index and by name, conflict", inst: ["ovs-vif:nic:0:rate:10M", "ovs-vif:nic:eth0:rate:20M"], net: [], nic: NIC0, want: { error: { field: "instance tag", value: "ovs-vif:nic:eth0:rate:20M", mentions: ["ovs-vif:nic:0:rate:10M"] } } },
  { name: "two different per-NIC bursts, by UUID and by index, conflict", inst: [`ovs-vif:nic:${UUID1}:burst:10M`, "ovs-vif:nic:1:burst:20M"], net: [], nic: NIC1, want: { error: { field: "instance tag", value: "ovs-vif:nic:1:burst:20M", mentions: [`ovs-vif:nic:${UUID1}:burst:10M`] } } },
  { name: "two different network rates conflict", inst: [], net: ["ovs-vif:rate:1G", "ovs-vif:rate:10G"], nic: NIC0, want: { error: { field: "network tag", value: "ovs-vif:rate:10G", mentions: ["ovs-vif:rate:1G"] } } },
  { name: "conflict at a level is an error even when a more specific level decides", inst: ["ovs-vif:nic:0:rate:10M"], net: ["ovs-vif:rate:1G", "ovs-vif:rate:10G"], nic: NIC0, want: { error: { field: "network tag", value: "ovs-vif:rate:10G", mentions: ["ovs-vif:rate:1G"] } } },
  { name: "rate and burst at one level are no conflict", inst: ["ovs-vif:rate:100M", "ovs-vif:burst:100M"], net: [], nic: NIC0, want: { rate: 100000, burst: 97656 } },
  { name: "instance and per-NIC values differ: no conflict (different levels)", inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:10M"], net: [], nic: NIC0, want: { rate: 10000, burst: 7812 } },
  // Tags without the prefix.
  { name: "tags without the ovs-vif: prefix are ignored", inst: ["rate:100M", "ovs-vif", "ovs-vifs:rate:1M", "xovs-vif:rate:1M", "ovs_vif:rate:1M", "ganeti:foo", "", "nic:0:rate:1M"], net: ["rate:1G", "ovs-vif-rate:1G"], nic: NIC0, want: { rate: 0, burst: 0 } },
  { name: "other tags mixed with ovs-vif ones are ignored", inst: ["webserver", "ovs-vif:rate:100M", "prod"], net: ["dc1", "ovs-vif:rate:1G"], nic: NIC0, want: { rate: 100000, burst: 78125 } },
];

for (const c of precedence) {
  test(`precedence: ${c.name}`, () => {
    const mtu = c.mtu ?? DEFAULT_MTU;
    const run = () => resolvePolicing(ganetiLevels(c.inst, c.net, c.nic), mtu);
    if ("error" in c.want) {
      const { field, value, mentions } = c.want.error;
      const err = expectInputError(run, field, value);
      for (const m of mentions ?? []) assert.ok(err.message.includes(m), `message ${JSON.stringify(err.message)} mentions ${m}`);
      return;
    }
    const got = run();
    assert.equal(got.policing, c.want);
    if (c.rateSource !== undefined) assert.is(got.rateSource, c.rateSource);
    if (c.burstSource !== undefined) assert.is(got.burstSource, c.burstSource);
    // The policing is a fresh object, never the shared frozen NO_POLICING.
    assert.is.not(got.policing, NO_POLICING);
  });
}

test("the example's default bursts are floor(rate*1000*0.8/1024)", () => {
  for (const [nic, inst, rate] of [[NIC0, doneWhenInst, 100000], [NIC1, doneWhenInst, 10000], [NIC0, [], 1000000]] as const) {
    const got = resolvePolicing(ganetiLevels([...inst], doneWhenNet, nic), DEFAULT_MTU).policing;
    assert.is(got.rate, rate);
    assert.is(got.burst, Math.floor((rate * 1000 * 0.8) / 1024));
  }
});

test("ganetiLevels lists the per-NIC, instance and network levels, most specific first", () => {
  const levels = ganetiLevels(["ovs-vif:nic:0:rate:10M", "ovs-vif:rate:100M", "ovs-vif:burst:20M"], ["ovs-vif:rate:1G"], NIC0);
  assert.is(levels.length, 3);
  assert.equal(levels[0], { name: "instance tag (NIC)", rate: { raw: "10M", source: 'instance tag "ovs-vif:nic:0:rate:10M"', field: "instance tag", shown: "ovs-vif:nic:0:rate:10M" } });
  assert.equal(levels[1], {
    name: "instance tag",
    rate: { raw: "100M", source: 'instance tag "ovs-vif:rate:100M"', field: "instance tag", shown: "ovs-vif:rate:100M" },
    burst: { raw: "20M", source: 'instance tag "ovs-vif:burst:20M"', field: "instance tag", shown: "ovs-vif:burst:20M" },
  });
  assert.equal(levels[2], { name: "network tag", rate: { raw: "1G", source: 'network tag "ovs-vif:rate:1G"', field: "network tag", shown: "ovs-vif:rate:1G" } });
});

test("qosTags: splits this NIC's per-NIC tags from instance-wide ones", () => {
  const tags = ["web", "ovs-vif:rate:100M", "ovs-vif:nic:0:burst:20M", "ovs-vif:nic:1:rate:10M", "ovs-vif:nic:eth0:rate:5M"];
  assert.equal(qosTags("instance", tags, NIC0), {
    nic: [
      { tag: "ovs-vif:nic:0:burst:20M", kind: "burst", value: "20M" },
      { tag: "ovs-vif:nic:eth0:rate:5M", kind: "rate", value: "5M" },
    ],
    all: [{ tag: "ovs-vif:rate:100M", kind: "rate", value: "100M" }],
  });
  assert.equal(qosTags("instance", tags, NIC1), {
    nic: [{ tag: "ovs-vif:nic:1:rate:10M", kind: "rate", value: "10M" }],
    all: [{ tag: "ovs-vif:rate:100M", kind: "rate", value: "100M" }],
  });
  assert.equal(qosTags("instance", [], NIC0), { nic: [], all: [] });
});

test("levelFromTags: the conflict error names both tags", () => {
  const err = expectInputError(
    () =>
      levelFromTags("instance tag", "instance tag", [
        { tag: "ovs-vif:rate:100M", kind: "rate", value: "100M" },
        { tag: "ovs-vif:rate:10M", kind: "rate", value: "10M" },
      ]),
    "instance tag",
    "ovs-vif:rate:10M",
    /conflict/,
  );
  assert.ok(err.message.includes('"ovs-vif:rate:100M"'), err.message);
  assert.ok(err.message.includes('"ovs-vif:rate:10M"'), err.message);
});

test("parseQosTag ignores tags without the ovs-vif: prefix", () => {
  for (const tag of ["web", "rate:100M", "ovs-vifs:rate:1M", "ovs_vif:rate:1M", ""]) assert.is(parseQosTag("instance tag", tag), undefined, tag);
});

test("parseQosTag reads an instance-wide tag and a per-NIC tag with its NIC id", () => {
  assert.equal(parseQosTag("instance tag", "ovs-vif:rate:100M"), { tag: "ovs-vif:rate:100M", kind: "rate", value: "100M" });
  assert.equal(parseQosTag("instance tag", "ovs-vif:burst:unlimited"), { tag: "ovs-vif:burst:unlimited", kind: "burst", value: "unlimited" });
  assert.equal(parseQosTag("instance tag", `ovs-vif:nic:${UUID0}:burst:20M`), { tag: `ovs-vif:nic:${UUID0}:burst:20M`, nic: UUID0, kind: "burst", value: "20M" });
});

test("parseQosTag refuses a malformed tag or a bad value with the whole tag as the value", () => {
  expectInputError(() => parseQosTag("network tag", "ovs-vif:speed:1M"), "network tag", "ovs-vif:speed:1M", /not an ovs-vif tag/);
  expectInputError(() => parseQosTag("instance tag", "ovs-vif:rate:999"), "instance tag", "ovs-vif:rate:999", /smallest rate/);
});

test("tagNamesNic matches a NIC by index, name or UUID, and nothing else", () => {
  assert.ok(tagNamesNic("0", NIC0));
  assert.ok(tagNamesNic("eth0", NIC0));
  assert.ok(tagNamesNic(UUID0, NIC0));
  assert.not.ok(tagNamesNic("1", NIC0));
  assert.not.ok(tagNamesNic("eth1", NIC0));
  assert.not.ok(tagNamesNic(UUID1, NIC0));
  // An empty NIC name never matches (Ganeti sends NAME= for an unnamed NIC).
  assert.not.ok(tagNamesNic("", { index: 0, name: "" }));
  assert.not.ok(tagNamesNic("eth0", {}));
});

/** `ovs-vif:` tags that do not parse: errors on the instance and on the network. */
const badTags: string[] = [
  "ovs-vif:",
  "ovs-vif:rate",
  "ovs-vif:rate:",
  "ovs-vif:burst:",
  "ovs-vif:rate:10Q",
  "ovs-vif:rate:-1M",
  "ovs-vif:rate: 1M",
  "ovs-vif:rate:1M ",
  "ovs-vif:rate:1e309",
  "ovs-vif:rate:0x10",
  "ovs-vif:rate:NaN",
  "ovs-vif:rate:1,5M",
  "ovs-vif:rate:.5M",
  "ovs-vif:rate:1M:2",
  "ovs-vif:rate:999", // below 1 kbps
  "ovs-vif:rate:5000G", // past OVS's range
  "ovs-vif:burst:1023",
  "ovs-vif:burst:5000G",
  "ovs-vif:Rate:1M",
  "ovs-vif:foo:1",
  "ovs-vif:ratelimit:1M",
  "ovs-vif:nic:0",
  "ovs-vif:nic:0:rate",
  "ovs-vif:nic:0:rate:",
  "ovs-vif:nic:0:speed:1M",
  "ovs-vif:nic::rate:1M",
  "ovs-vif:nic:0:rate:10Q",
  "ovs-vif:nic:eth0:burst:1023",
];

for (const tag of badTags) {
  test(`instance tag ${JSON.stringify(tag)} is an error`, () => {
    expectInputError(() => ganetiLevels(["web", tag], [], NIC0), "instance tag", tag);
  });
  if (!tag.startsWith("ovs-vif:nic:")) {
    test(`network tag ${JSON.stringify(tag)} is an error`, () => {
      expectInputError(() => ganetiLevels([], ["dc1", tag], NIC0), "network tag", tag);
    });
  }
}

test("a bad per-NIC tag for another NIC is still an error", () => {
  expectInputError(() => ganetiLevels(["ovs-vif:nic:7:rate:10Q"], [], NIC0), "instance tag", "ovs-vif:nic:7:rate:10Q");
  expectInputError(() => ganetiLevels(["ovs-vif:nic:eth7:burst:1"], [], NIC0), "instance tag", "ovs-vif:nic:eth7:burst:1");
});

const perNicOnNetwork = ["ovs-vif:nic:0:rate:10M", "ovs-vif:nic:eth0:burst:10M", `ovs-vif:nic:${UUID0}:rate:1G`, "ovs-vif:nic:5:rate:10M"];
for (const tag of perNicOnNetwork) {
  test(`per-NIC tag on a network is refused: ${JSON.stringify(tag)}`, () => {
    expectInputError(() => ganetiLevels([], [tag], NIC0), "network tag", tag, /instance/);
  });
}

// --- Explicit values and resolvePolicing over mixed levels --------------------

const mixed: Array<[string, () => QosLevel[], Policing, string?, string?]> = [
  ["no levels", () => [], { rate: 0, burst: 0 }, "none", "none"],
  ["only empty levels", () => [xenLevel(), envLevel(), envLevel("", ""), { name: "command line" }], { rate: 0, burst: 0 }, "none", "none"],
  ["Xen's rate key over node defaults", () => [xenLevel("25000,20000"), sw1Defaults()], { rate: 10000, burst: 195 }, `xenstore ${XEN_FIELD}`, `xenstore ${XEN_FIELD}`],
  ["no Xen rate key: node defaults", () => [xenLevel(), sw9Defaults()], { rate: 1000000, burst: 781250 }, `${DPATH} default.rate`, "default: 80% of rate"],
  ["no Xen rate key: bridge entry with its burst", () => [xenLevel(), sw1Defaults()], { rate: 100000, burst: 9765 }, `${DPATH} bridges.sw1.rate`, `${DPATH} bridges.sw1.burst`],
  ["Xen's huge credit lifts the node default", () => [xenLevel("999999999999999,50000"), sw9Defaults()], { rate: 0, burst: 0 }],
  ["environment over node defaults", () => [envLevel("10M", "2M"), sw1Defaults()], { rate: 10000, burst: 1953 }, "OVS_VIF_RATE=10M", "OVS_VIF_BURST=2M"],
  ["environment rate only: default burst, not the node defaults' burst", () => [envLevel("10M"), sw1Defaults()], { rate: 10000, burst: 7812 }, "OVS_VIF_RATE=10M", "default: 80% of rate"],
  ["environment burst only: applies to the defaults' rate", () => [envLevel(undefined, "2M"), sw9Defaults()], { rate: 1000000, burst: 1953 }],
  ["environment 0 lifts node defaults", () => [envLevel("0"), sw1Defaults()], { rate: 0, burst: 0 }],
  ["--rate in kbps over defaults", () => [{ name: "command line", ovs: { rate: 5000 } }, sw1Defaults()], { rate: 5000, burst: 3906 }, "command line", "default: 80% of rate"],
  ["--rate in kbps, --burst in kb", () => [{ name: "command line", ovs: { rate: 5000, burst: 400 } }, sw1Defaults()], { rate: 5000, burst: 400 }, "command line", "command line"],
  ["--rate 100M, --burst in kb", () => [{ name: "command line", rate: { raw: "100M", source: "--rate 100M", field: "--rate" }, ovs: { burst: 500 } }], { rate: 100000, burst: 500 }, "--rate 100M", "command line"],
  ["--rate in kbps, --burst 10M", () => [{ name: "command line", ovs: { rate: 100000 }, burst: { raw: "10M", source: "--burst 10M", field: "--burst" } }], { rate: 100000, burst: 9765 }, "command line", "--burst 10M"],
  ["--burst in kb alone, rate from defaults", () => [{ name: "command line", ovs: { burst: 500 } }, sw9Defaults()], { rate: 1000000, burst: 500 }],
  ["--rate 0 in kbps lifts defaults", () => [{ name: "command line", ovs: { rate: 0 } }, sw1Defaults()], { rate: 0, burst: 0 }],
  ["ovs rate beats a string rate at the same level", () => [{ name: "l", rate: { raw: "1M", source: "s", field: "f" }, ovs: { rate: 7 } }], { rate: 7, burst: MTU_1500_KB }],
];

for (const [label, levels, policing, rateSource, burstSource] of mixed) {
  test(`resolvePolicing: ${label}`, () => {
    const got = resolvePolicing(levels(), DEFAULT_MTU);
    assert.equal(got.policing, policing);
    if (rateSource !== undefined) assert.is(got.rateSource, rateSource);
    if (burstSource !== undefined) assert.is(got.burstSource, burstSource);
  });
}

test("valueLevel leaves empty or missing values unset", () => {
  assert.equal(envLevel(), { name: "environment" });
  assert.equal(envLevel("", ""), { name: "environment" });
  assert.equal(envLevel("100M", ""), { name: "environment", rate: { raw: "100M", source: "OVS_VIF_RATE=100M", field: "OVS_VIF_RATE" } });
  assert.equal(envLevel(undefined, "1M"), { name: "environment", burst: { raw: "1M", source: "OVS_VIF_BURST=1M", field: "OVS_VIF_BURST" } });
});

test("resolvePolicing refuses an explicit (environment) burst below one frame", () => {
  expectInputError(() => resolvePolicing([envLevel("10M", "8k")], DEFAULT_MTU), "OVS_VIF_BURST", "8k", /frame/);
  expectInputError(() => resolvePolicing([envLevel("10M", "50k")], 9000), "OVS_VIF_BURST", "50k", /frame/);
  assert.equal(resolvePolicing([envLevel("10M", "50k")], DEFAULT_MTU).policing, { rate: 10000, burst: 48 });
});

// An InputError's field is the field (the variable, option or key), not "NAME=VALUE".
const badExplicit: Array<[string, QosLevel, string, string]> = [
  ["OVS_VIF_RATE=10Q", envLevel("10Q"), "OVS_VIF_RATE", "10Q"],
  ["OVS_VIF_RATE=999", envLevel("999"), "OVS_VIF_RATE", "999"],
  ["OVS_VIF_BURST=10Q", envLevel("10M", "10Q"), "OVS_VIF_BURST", "10Q"],
  ["--rate 5000G", { name: "command line", rate: { raw: "5000G", source: "--rate 5000G", field: "--rate" } }, "--rate", "5000G"],
];
for (const [label, level, field, value] of badExplicit) {
  test(`resolvePolicing: bad explicit value ${label} -> InputError on ${field}`, () => {
    expectInputError(() => resolvePolicing([level], DEFAULT_MTU), field, value);
  });
}

test("resolvePolicing does not look at unused bad values at less specific levels", () => {
  assert.equal(resolvePolicing([envLevel("10M"), envLevel("10Q", "10Q")], DEFAULT_MTU).policing, { rate: 10000, burst: 7812 });
});

// A burst in OVS units (Xen's credit, --burst KB) below one full frame makes
// OVS drop every full-size frame: it must be refused or raised to one frame.
const tinyOvsBurst: Array<[string, () => QosLevel[], number]> = [
  ["xl rate=100Kb/s@20ms (250-byte credit)", () => [xenLevel("250,20000")], DEFAULT_MTU],
  ["xl rate=1Mb/s@10ms (1250-byte credit)", () => [xenLevel("1250,10000")], DEFAULT_MTU],
  ["xl rate=10Mb/s@20ms on a jumbo port (195 kb credit is enough)", () => [xenLevel("25000,20000")], 9000],
  ["xl rate=1Mb/s@50ms on a jumbo port (48 kb credit)", () => [xenLevel("6250,50000")], 9000],
  ["--rate 10000 --burst 1", () => [{ name: "command line", ovs: { rate: 10000, burst: 1 } }], DEFAULT_MTU],
  ["--rate 10M --burst 11", () => [{ name: "command line", rate: { raw: "10M", source: "--rate 10M", field: "--rate" }, ovs: { burst: 11 } }], DEFAULT_MTU],
];
for (const [label, levels, mtu] of tinyOvsBurst) {
  test(`resolvePolicing: never applies a burst below one frame: ${label}, MTU ${mtu}`, () => {
    let got: Policing;
    try {
      got = resolvePolicing(levels(), mtu).policing;
    } catch (err) {
      assert.instance(err, InputError, `${label}: refusal must be an InputError`);
      return;
    }
    assert.ok(got.rate > 0, "still policed");
    assert.ok(got.burst >= mtuKb(mtu), `${label}: burst ${got.burst} kb is below one ${mtu}-byte frame (${mtuKb(mtu)} kb)`);
  });
}

test("resolvePolicing: --burst 0 (OVS units) with a rate means the default burst, as burst 0 does in VALUEs", () => {
  // OVS itself reads burst 0 as its own fixed default (8000 kb), not 80% of the rate.
  const viaValue = resolvePolicing([{ name: "command line", ovs: { rate: 10000 }, burst: { raw: "0", source: "--burst 0", field: "--burst" } }], DEFAULT_MTU);
  assert.equal(viaValue.policing, { rate: 10000, burst: 7812 });
  const viaOvs = resolvePolicing([{ name: "command line", ovs: { rate: 10000, burst: 0 } }], DEFAULT_MTU);
  assert.equal(viaOvs.policing, { rate: 10000, burst: 7812 });
});

test("explicitLevel: a bare whole number is already in OVS units (kbps, kb)", () => {
  assert.equal(explicitLevel("5000", "400"), { name: "command line", ovs: { rate: 5000, burst: 400, burstField: "--burst" } });
  assert.equal(resolvePolicing([explicitLevel("5000", "400")], DEFAULT_MTU), { policing: { rate: 5000, burst: 400 }, rateSource: "command line", burstSource: "command line" });
});

test("explicitLevel: a suffixed value is a VALUE, converted like the environment's", () => {
  assert.equal(explicitLevel("100M", "10M"), {
    name: "command line",
    rate: { raw: "100M", source: "--rate 100M", field: "--rate" },
    burst: { raw: "10M", source: "--burst 10M", field: "--burst" },
  });
  assert.equal(resolvePolicing([explicitLevel("100M", undefined)], DEFAULT_MTU).policing, { rate: 100000, burst: 78125 });
});

test("explicitLevel without --rate or --burst says nothing", () => {
  assert.equal(explicitLevel(undefined, undefined), { name: "command line" });
  assert.equal(resolvePolicing([explicitLevel(undefined, undefined), sw9Defaults()], DEFAULT_MTU).policing, { rate: 1000000, burst: 781250 });
});

test("explicitLevel refuses a bare number larger than OVS accepts", () => {
  expectInputError(() => explicitLevel(String(OVS_MAX + 1), undefined), "--rate", String(OVS_MAX + 1), /larger than OVS accepts/);
  expectInputError(() => explicitLevel(undefined, "00000000001"), "--burst", "00000000001", /larger than OVS accepts/);
  assert.equal(explicitLevel(String(OVS_MAX), undefined).ovs, { rate: OVS_MAX });
});

test("explicitLevel: a bare --burst below one frame is refused on --burst", () => {
  expectInputError(() => resolvePolicing([explicitLevel("10000", "11")], DEFAULT_MTU), "--burst", "11", /frame/);
});

test("checkLevels refuses a bad value even at a level a more specific one hides", () => {
  checkLevels([envLevel("10M", "2M"), sw1Defaults(), xenLevel("25000,20000")]);
  expectInputError(() => checkLevels([envLevel("10M"), envLevel("10Q")]), "OVS_VIF_RATE", "10Q");
  expectInputError(() => checkLevels([envLevel("10M"), envLevel(undefined, "1023")]), "OVS_VIF_BURST", "1023", /smallest/);
  // A tag's error names the whole tag, as resolvePolicing's does.
  const err = catchInputError(() => checkLevels([{ name: "instance tag", rate: { raw: "10Q", source: "s", field: "instance tag", shown: "ovs-vif:rate:10Q" } }]), "shown");
  assert.is(err.value, "ovs-vif:rate:10Q");
});

// --- What the VM receives: rx-rate / rx-burst ---------------------------------

const rxRates: Array<[string, number]> = [
  ["20M", 20000000],
  ["1.5G", 1500000000],
  ["1k", 1000],
  ["999999.9", 999999],
  ["0", 0],
  ["unlimited", 0],
  ["34359738360", 34359738360],
];
for (const [raw, bits] of rxRates) {
  test(`rxRateBits ${JSON.stringify(raw)} is ${bits} bit/s, exact and rounded down`, () => {
    assert.is(rxRateBits("--rx-rate", raw), bits);
  });
}

test("rxRateBits refuses what HTB cannot hold and what is not a value", () => {
  expectInputError(() => rxRateBits("--rx-rate", "999"), "--rx-rate", "999", /smallest receive rate/);
  expectInputError(() => rxRateBits("--rx-rate", "34359738361"), "--rx-rate", "34359738361", /largest/);
  for (const bad of ["20MB", "0x10", "1e3", "-5M", "fast"]) expectInputError(() => rxRateBits("--rx-rate", bad), "--rx-rate", bad);
});

test("rxBurstBits: bits, 0 means OVS's default", () => {
  assert.is(rxBurstBits("--rx-burst", "1M"), 1000000);
  assert.is(rxBurstBits("--rx-burst", "0"), 0);
  expectInputError(() => rxBurstBits("--rx-burst", "35G"), "--rx-burst", "35G", /largest/);
});

const rxLevel = (name: string, rate?: string, burst?: string): QosLevel => ({
  name,
  ...(rate !== undefined ? { "rx-rate": { raw: rate, source: `${name} rx-rate ${rate}`, field: name } } : {}),
  ...(burst !== undefined ? { "rx-burst": { raw: burst, source: `${name} rx-burst ${burst}`, field: name } } : {}),
});

test("resolveShaping: the most specific rx-rate wins; its burst from that level or a more specific one", () => {
  assert.equal(resolveShaping([], DEFAULT_MTU), { rateSource: "none", burstSource: "none" });
  assert.equal(resolveShaping([rxLevel("nic"), rxLevel("inst", "20M"), rxLevel("net", "1G", "2M")], DEFAULT_MTU), {
    shaping: { rate: 20000000 },
    rateSource: "inst rx-rate 20M",
    burstSource: "default: OVS's (one frame)",
  });
  assert.equal(resolveShaping([rxLevel("nic", undefined, "1M"), rxLevel("inst", "20M")], DEFAULT_MTU).shaping, { rate: 20000000, burst: 1000000 });
  // A less specific level's burst does not apply to a more specific rate.
  assert.equal(resolveShaping([rxLevel("nic", "20M"), rxLevel("inst", undefined, "1M")], DEFAULT_MTU).shaping, { rate: 20000000 });
});

test("resolveShaping: 0 lifts a less specific limit; a burst of 0 is OVS's default", () => {
  assert.equal(resolveShaping([rxLevel("nic", "0"), rxLevel("inst", "20M")], DEFAULT_MTU).shaping, undefined);
  assert.equal(resolveShaping([rxLevel("nic", "20M", "0")], DEFAULT_MTU).shaping, { rate: 20000000 });
});

test("resolveShaping refuses an explicit burst below one frame of the port's MTU", () => {
  assert.is(frameBits(1500), 12112);
  expectInputError(() => resolveShaping([rxLevel("nic", "20M", "12k")], 1500), "nic", "12k", /below one 1500-byte frame/);
  assert.equal(resolveShaping([rxLevel("nic", "20M", "12112")], 1500).shaping, { rate: 20000000, burst: 12112 });
  expectInputError(() => resolveShaping([rxLevel("nic", "20M", "20k")], 9000), "nic", "20k", /9000-byte frame/);
});

test("rx tags: per-NIC, instance and network levels, each direction on its own", () => {
  const levels = ganetiLevels(["ovs-vif:rate:100M", "ovs-vif:nic:0:rx-rate:20M", "ovs-vif:rx-burst:2M"], ["ovs-vif:rx-rate:1G"], NIC0);
  assert.equal(resolveShaping(levels, DEFAULT_MTU), { shaping: { rate: 20000000 }, rateSource: 'instance tag "ovs-vif:nic:0:rx-rate:20M"', burstSource: "default: OVS's (one frame)" });
  assert.equal(resolvePolicing(levels, DEFAULT_MTU).policing, { rate: 100000, burst: 78125 });
  expectInputError(() => ganetiLevels(["ovs-vif:rx-rate:20MB"], [], NIC0), "instance tag", "ovs-vif:rx-rate:20MB");
  expectInputError(() => ganetiLevels(["ovs-vif:rx-rate:10M", "ovs-vif:rx-rate:20M"], [], NIC0), "instance tag", "ovs-vif:rx-rate:20M", /conflicts/);
});

test("explicitLevel: --rx-rate and --rx-burst are bit/s and bits, bare or with a suffix", () => {
  const level = explicitLevel(undefined, undefined, { rate: "20000000", burst: "1M" });
  assert.equal(resolveShaping([level], DEFAULT_MTU).shaping, { rate: 20000000, burst: 1000000 });
});

test.run();
