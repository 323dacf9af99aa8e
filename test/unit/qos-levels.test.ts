// resolvePolicing and resolveShaping over mixed levels (src/qos.ts): explicit
// values (environment, command line), Xen's credit, node defaults, bursts
// below one frame, and what the VM receives (rx-rate / rx-burst).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InputError } from "../../src/errors.ts";
import { catchInputError, expectInputError } from "../harness/assert.ts";
import { DPATH, MTU_1500_KB, NIC0, XEN_FIELD, envLevel, sw1Defaults, sw9Defaults, xenLevel } from "../harness/qos-levels.ts";
import { DEFAULT_MTU } from "../../src/port.ts";
import {
  OVS_MAX,
  checkLevels,
  explicitLevel,
  frameBits,
  mtuKb,
  resolvePolicing,
  resolveShaping,
  rxBurstBits,
  rxRateBits,
  type Policing,
  type QosLevel,
} from "../../src/qos.ts";
import { ganetiLevels } from "../../src/qos-tags.ts";

// --- Explicit values and resolvePolicing over mixed levels --------------------

const mixed: Array<[string, () => QosLevel[], Policing, string?, string?]> = [
  ["no levels", () => [], { rate: 0, burst: 0 }, "none", "none"],
  ["only empty levels", () => [xenLevel(), envLevel(), envLevel("", ""), { name: "command line" }], { rate: 0, burst: 0 }, "none", "none"],
  [
    "Xen's rate key over node defaults",
    () => [xenLevel("25000,20000"), sw1Defaults()],
    { rate: 10000, burst: 195 },
    `xenstore ${XEN_FIELD}`,
    `xenstore ${XEN_FIELD}`,
  ],
  ["no Xen rate key: node defaults", () => [xenLevel(), sw9Defaults()], { rate: 1000000, burst: 781250 }, `${DPATH} default.rate`, "default: 80% of rate"],
  [
    "no Xen rate key: bridge entry with its burst",
    () => [xenLevel(), sw1Defaults()],
    { rate: 100000, burst: 9765 },
    `${DPATH} bridges.sw1.rate`,
    `${DPATH} bridges.sw1.burst`,
  ],
  ["Xen's huge credit lifts the node default", () => [xenLevel("999999999999999,50000"), sw9Defaults()], { rate: 0, burst: 0 }],
  ["environment over node defaults", () => [envLevel("10M", "2M"), sw1Defaults()], { rate: 10000, burst: 1953 }, "OVS_VIF_RATE=10M", "OVS_VIF_BURST=2M"],
  [
    "environment rate only: default burst, not the node defaults' burst",
    () => [envLevel("10M"), sw1Defaults()],
    { rate: 10000, burst: 7812 },
    "OVS_VIF_RATE=10M",
    "default: 80% of rate",
  ],
  ["environment burst only: applies to the defaults' rate", () => [envLevel(undefined, "2M"), sw9Defaults()], { rate: 1000000, burst: 1953 }],
  ["environment 0 lifts node defaults", () => [envLevel("0"), sw1Defaults()], { rate: 0, burst: 0 }],
  [
    "--rate in kbps over defaults",
    () => [{ name: "command line", ovs: { rate: 5000 } }, sw1Defaults()],
    { rate: 5000, burst: 3906 },
    "command line",
    "default: 80% of rate",
  ],
  [
    "--rate in kbps, --burst in kb",
    () => [{ name: "command line", ovs: { rate: 5000, burst: 400 } }, sw1Defaults()],
    { rate: 5000, burst: 400 },
    "command line",
    "command line",
  ],
  [
    "--rate 100M, --burst in kb",
    () => [{ name: "command line", rate: { raw: "100M", source: "--rate 100M", field: "--rate" }, ovs: { burst: 500 } }],
    { rate: 100000, burst: 500 },
    "--rate 100M",
    "command line",
  ],
  [
    "--rate in kbps, --burst 10M",
    () => [{ name: "command line", ovs: { rate: 100000 }, burst: { raw: "10M", source: "--burst 10M", field: "--burst" } }],
    { rate: 100000, burst: 9765 },
    "command line",
    "--burst 10M",
  ],
  ["--burst in kb alone, rate from defaults", () => [{ name: "command line", ovs: { burst: 500 } }, sw9Defaults()], { rate: 1000000, burst: 500 }],
  ["--rate 0 in kbps lifts defaults", () => [{ name: "command line", ovs: { rate: 0 } }, sw1Defaults()], { rate: 0, burst: 0 }],
  [
    "ovs rate beats a string rate at the same level",
    () => [{ name: "l", rate: { raw: "1M", source: "s", field: "f" }, ovs: { rate: 7 } }],
    { rate: 7, burst: MTU_1500_KB },
  ],
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
  assert.equal(resolvePolicing([explicitLevel("5000", "400")], DEFAULT_MTU), {
    policing: { rate: 5000, burst: 400 },
    rateSource: "command line",
    burstSource: "command line",
  });
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
  const err = catchInputError(
    () => checkLevels([{ name: "instance tag", rate: { raw: "10Q", source: "s", field: "instance tag", shown: "ovs-vif:rate:10Q" } }]),
    "shown",
  );
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
  assert.equal(resolveShaping(levels, DEFAULT_MTU), {
    shaping: { rate: 20000000 },
    rateSource: 'instance tag "ovs-vif:nic:0:rx-rate:20M"',
    burstSource: "default: OVS's (one frame)",
  });
  assert.equal(resolvePolicing(levels, DEFAULT_MTU).policing, { rate: 100000, burst: 78125 });
  expectInputError(() => ganetiLevels(["ovs-vif:rx-rate:20MB"], [], NIC0), "instance tag", "ovs-vif:rx-rate:20MB");
  expectInputError(() => ganetiLevels(["ovs-vif:rx-rate:10M", "ovs-vif:rx-rate:20M"], [], NIC0), "instance tag", "ovs-vif:rx-rate:20M", /conflicts/);
});

test("explicitLevel: --rx-rate and --rx-burst are bit/s and bits, bare or with a suffix", () => {
  const level = explicitLevel(undefined, undefined, { rate: "20000000", burst: "1M" });
  assert.equal(resolveShaping([level], DEFAULT_MTU).shaping, { rate: 20000000, burst: 1000000 });
});

test.run();
