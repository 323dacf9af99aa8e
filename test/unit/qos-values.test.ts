// QoS values (src/qos.ts): VALUE parsing with SI suffixes, conversion to
// OVS units and exact rounding down. Units: rate kbps = floor(bit/s / 1000),
// burst kb = floor(bits / 1024); the applied value is never above what was
// asked. "0"/"unlimited" = no policing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { expectInputError } from "../harness/assert.ts";
import { OVS_MAX, burstToKb, parseBits, rateToKbps } from "../../src/qos.ts";

/** Exact arithmetic reference: floor(VALUE / div) for a decimal VALUE with an optional k/M/G suffix. */
function exactFloor(raw: string, div: bigint): bigint {
  const m = /^([0-9]+)(?:\.([0-9]+))?([kMG]?)$/.exec(raw);
  if (!m) throw new Error(`bad reference input ${raw}`);
  const frac = m[2] ?? "";
  const si: Record<string, bigint> = { "": 1n, k: 1000n, M: 1000000n, G: 1000000000n };
  return (BigInt(`${m[1]}${frac}`) * si[m[3] ?? ""]!) / (10n ** BigInt(frac.length) * div);
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
        for (const [kind, fn, div] of [
          ["rate", rateToKbps, 1000n],
          ["burst", burstToKb, 1024n],
        ] as const) {
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

test.run();
