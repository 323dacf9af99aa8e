// Ganeti's ovs-vif: QoS tags (src/qos.ts): the levels they make, reading a
// tag, the NIC a tag names, and every malformed tag an error naming the tag.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { expectInputError } from "../harness/assert.ts";
import { NIC0, NIC1, UUID0, UUID1 } from "../harness/qos-levels.ts";
import { ganetiLevels, levelFromTags, parseQosTag, qosTags, tagNamesNic } from "../../src/qos-tags.ts";

test("ganetiLevels lists the per-NIC, instance and network levels, most specific first", () => {
  const levels = ganetiLevels(["ovs-vif:nic:0:rate:10M", "ovs-vif:rate:100M", "ovs-vif:burst:20M"], ["ovs-vif:rate:1G"], NIC0);
  assert.is(levels.length, 3);
  assert.equal(levels[0], {
    name: "instance tag (NIC)",
    rate: { raw: "10M", source: 'instance tag "ovs-vif:nic:0:rate:10M"', field: "instance tag", shown: "ovs-vif:nic:0:rate:10M" },
  });
  assert.equal(levels[1], {
    name: "instance tag",
    rate: { raw: "100M", source: 'instance tag "ovs-vif:rate:100M"', field: "instance tag", shown: "ovs-vif:rate:100M" },
    burst: { raw: "20M", source: 'instance tag "ovs-vif:burst:20M"', field: "instance tag", shown: "ovs-vif:burst:20M" },
  });
  assert.equal(levels[2], {
    name: "network tag",
    rate: { raw: "1G", source: 'network tag "ovs-vif:rate:1G"', field: "network tag", shown: "ovs-vif:rate:1G" },
  });
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
  assert.equal(parseQosTag("instance tag", `ovs-vif:nic:${UUID0}:burst:20M`), {
    tag: `ovs-vif:nic:${UUID0}:burst:20M`,
    nic: UUID0,
    kind: "burst",
    value: "20M",
  });
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

test.run();
