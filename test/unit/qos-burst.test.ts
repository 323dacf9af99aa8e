// One rule for the burst of both directions (src/qos.ts): an explicit burst
// below one frame is refused whatever its spelling, in every source (the
// command line, tags, the environment, the defaults file); 0 and unlimited
// keep their meaning (the default burst: 80% of the rate for policing,
// OVS's own for shaping).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { expectInputError } from "../harness/assert.ts";
import { burstToKb, explicitLevel, frameBits, resolvePolicing, resolveShaping, rxBurstBits, valueLevel } from "../../src/qos.ts";
import { ganetiLevels, parseQosTag } from "../../src/qos-tags.ts";
import { defaultsLevel, parseNodeDefaults } from "../../src/sources/defaults.ts";

const NIC0 = { index: 0, uuid: "u0" };

/** Spellings of zero: the default burst, never "below one frame". */
const ZEROS = ["0", "0.0", "0k", "0.000G", "00", "unlimited"];
/** Not zero, but below any frame (656 bits: a 68-byte MTU's frame). */
const TINY = ["0.5", "0.9", "1", "0.000000001k", "0.000001M", "655", "0.655k", "0.000000655G", "655.999999999"];

for (const raw of ZEROS) {
  test(`rx-burst ${JSON.stringify(raw)} is 0: OVS's default burst`, () => {
    assert.is(rxBurstBits("--rx-burst", raw), 0);
    assert.equal(resolveShaping([explicitLevel(undefined, undefined, { rate: "20M", burst: raw })], 1500).shaping, { rate: 20000000 });
  });
}

for (const raw of TINY) {
  test(`rx-burst ${JSON.stringify(raw)} is refused in every source, naming it`, () => {
    expectInputError(() => rxBurstBits("--rx-burst", raw), "--rx-burst", raw, /below one frame/);
    const tag = `ovs-vif:rx-burst:${raw}`;
    expectInputError(() => parseQosTag("instance tag", tag), "instance tag", tag, /below one frame/);
    expectInputError(() => ganetiLevels([], [`ovs-vif:rx-rate:10M`, tag], NIC0), "network tag", tag, /below one frame/);
    const env = valueLevel("environment", undefined, undefined, "OVS_VIF_RATE", "OVS_VIF_BURST", {
      "rx-rate": ["10M", "OVS_VIF_RX_RATE"],
      "rx-burst": [raw, "OVS_VIF_RX_BURST"],
    });
    expectInputError(() => resolveShaping([env], 1500), "OVS_VIF_RX_BURST", raw, /below one frame/);
    const file = "/etc/ovs-vif/defaults.json";
    expectInputError(
      () => parseNodeDefaults(file, JSON.stringify({ version: 1, bridges: { sw1: { "rx-burst": raw } } })),
      `${file}: bridges.sw1.rx-burst`,
      raw,
      /below one frame/,
    );
  });
}

test("the send side follows the same rule: not zero but below 1 kb is refused, zero is the default", () => {
  for (const raw of ["0.5", "1", "1023", "0.000000001k", "0.9"]) expectInputError(() => burstToKb("--burst", raw), "--burst", raw, /smallest burst/);
  for (const raw of ["0", "0.0", "0k", "unlimited"]) assert.is(burstToKb("--burst", raw), 0);
  assert.equal(resolvePolicing([explicitLevel("10M", "0")], 1500).policing, { rate: 10000, burst: 7812 });
});

test("at the port's MTU, both directions refuse a burst below one frame with the same words", () => {
  const frame = frameBits(1500);
  assert.is(frame, 12112);
  const rx = expectInputError(
    () => resolveShaping([explicitLevel(undefined, undefined, { rate: "20M", burst: String(frame - 1) })], 1500),
    "--rx-burst",
    String(frame - 1),
  );
  const tx = expectInputError(() => resolvePolicing([explicitLevel("10M", "11k")], 1500), "--burst", "11k");
  for (const e of [rx, tx]) assert.match(e.reason, /is below one 1500-byte frame \(\d+ (bits|kb)\): every full-size frame would be dropped$/);
  assert.equal(resolveShaping([explicitLevel(undefined, undefined, { rate: "20M", burst: String(frame) })], 1500).shaping, { rate: 20000000, burst: frame });
});

test("656 bits (one 68-byte frame) passes the conversion; a 1500-byte port still refuses it", () => {
  assert.is(rxBurstBits("--rx-burst", "656"), 656);
  expectInputError(() => resolveShaping([explicitLevel(undefined, undefined, { rate: "20M", burst: "656" })], 1500), "--rx-burst", "656", /1500-byte frame/);
  assert.equal(resolveShaping([explicitLevel(undefined, undefined, { rate: "20M", burst: "656" })], 68).shaping, { rate: 20000000, burst: 656 });
});

test("a defaults file's rx-burst below one frame names the file and the key at resolve time", () => {
  const file = "/srv/defaults.json";
  const level = defaultsLevel(file, parseNodeDefaults(file, '{"version":1,"default":{"rx-rate":"10M","rx-burst":"1000"}}'), "sw1");
  expectInputError(() => resolveShaping([level], 1500), `${file}: default.rx-burst`, "1000", /1500-byte frame/);
});

test.run();
