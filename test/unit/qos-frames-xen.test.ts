// One MTU frame and the default burst, and Xen's backend `rate` key
// (src/qos.ts): what a burst must hold, and xl's rate=NMb/s@Tms in OVS units.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { expectInputError } from "../harness/assert.ts";
import { MTU_1500_KB, MTU_9000_KB, XEN_FIELD } from "../harness/qos-levels.ts";
import { DEFAULT_MTU } from "../../src/port.ts";
import { OVS_MAX, defaultBurstKb, mtuKb, parseXenRate, type Policing } from "../../src/qos.ts";

/** The spec's default burst, in integers: floor(rate * 1000 * 0.8 / 1024), at least one frame. */
function specDefaultBurst(rateKbps: number, mtu = DEFAULT_MTU): number {
  return Math.max(Number((BigInt(rateKbps) * 800n) / 1024n), mtuKb(mtu));
}

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
      if (BigInt(got.rate) !== rate || BigInt(got.burst) !== (burst < 1n ? 1n : burst))
        wrong.push(`${mbit}Mb/s@${ms}ms ${raw}: ${JSON.stringify(got)}, want ${rate}/${burst}`);
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

test.run();
