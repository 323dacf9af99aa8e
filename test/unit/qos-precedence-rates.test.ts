// Which QoS source's rate a Ganeti NIC gets (src/qos.ts): per-NIC tags by
// index, name or UUID over instance tags over network tags; 0 and
// unlimited lift a less specific limit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NIC0, NIC1, UUID0, UUID1 } from "../harness/qos-levels.ts";
import { doneWhenInst, doneWhenNet, testPrecedence, type PrecedenceCase } from "../harness/qos-precedence.ts";
import { DEFAULT_MTU } from "../../src/port.ts";
import { resolvePolicing } from "../../src/qos.ts";
import { ganetiLevels } from "../../src/qos-tags.ts";

const cases: PrecedenceCase[] = [
  // The example: an instance rate, a per-NIC rate for NIC 1, a network rate.
  {
    name: "example: NIC 0 takes the instance rate",
    inst: doneWhenInst,
    net: doneWhenNet,
    want: { rate: 100000, burst: 78125 },
    rateSource: 'instance tag "ovs-vif:rate:100M"',
    burstSource: "default: 80% of rate",
  },
  {
    name: "example: NIC 1 takes its per-NIC rate",
    inst: doneWhenInst,
    net: doneWhenNet,
    nic: NIC1,
    want: { rate: 10000, burst: 7812 },
    rateSource: 'instance tag "ovs-vif:nic:1:rate:10M"',
  },
  {
    name: "example: another instance's NIC on that network takes the network rate",
    inst: [],
    net: doneWhenNet,
    want: { rate: 1000000, burst: 781250 },
    rateSource: 'network tag "ovs-vif:rate:1G"',
  },
  { name: "example: no tags means no policing", inst: [], net: [], nic: NIC0, want: { rate: 0, burst: 0 }, rateSource: "none", burstSource: "none" },
  // Matching a per-NIC tag.
  {
    name: "a per-NIC tag by index beats the instance rate",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:10M"],
    want: { rate: 10000, burst: 7812 },
  },
  {
    name: "a per-NIC tag by name beats the instance rate",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:eth1:rate:10M"],
    nic: NIC1,
    want: { rate: 10000, burst: 7812 },
  },
  {
    name: "a per-NIC tag by name leaves the other NIC at the instance rate",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:eth1:rate:10M"],
    want: { rate: 100000, burst: 78125 },
  },
  {
    name: "a per-NIC tag by UUID beats the instance rate",
    inst: ["ovs-vif:rate:100M", `ovs-vif:nic:${UUID0}:rate:10M`],
    want: { rate: 10000, burst: 7812 },
  },
  {
    name: "a per-NIC tag by UUID leaves the other NIC at the instance rate",
    inst: ["ovs-vif:rate:100M", `ovs-vif:nic:${UUID0}:rate:10M`],
    nic: NIC1,
    want: { rate: 100000, burst: 78125 },
  },
  {
    name: "per-NIC tags for other NICs are ignored",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:2:rate:1M", "ovs-vif:nic:eth9:rate:2M", `ovs-vif:nic:${UUID1}:rate:3M`, "ovs-vif:nic:1:burst:20M"],
    want: { rate: 100000, burst: 78125 },
  },
  {
    name: "per-NIC tag by name does not match a NIC without a name",
    inst: ["ovs-vif:nic:eth0:rate:10M"],
    nic: { index: 0 },
    want: { rate: 0, burst: 0 },
  },
  {
    name: "a per-NIC tag for another NIC leaves this NIC at the network rate",
    inst: ["ovs-vif:nic:1:rate:10M"],
    net: doneWhenNet,
    want: { rate: 1000000, burst: 781250 },
  },
  { name: "per-NIC tag beats the network", inst: ["ovs-vif:nic:eth0:rate:10M"], net: doneWhenNet, nic: NIC0, want: { rate: 10000, burst: 7812 } },
  {
    name: "same per-NIC value by index and by name is no conflict",
    inst: ["ovs-vif:nic:0:rate:10M", "ovs-vif:nic:eth0:rate:10M"],
    want: { rate: 10000, burst: 7812 },
  },
  { name: "same tag twice is no conflict", inst: ["ovs-vif:rate:100M", "ovs-vif:rate:100M"], net: [], nic: NIC0, want: { rate: 100000, burst: 78125 } },
  // 0 / unlimited lifts a less specific limit.
  {
    name: "instance rate 0 lifts the network rate",
    inst: ["ovs-vif:rate:0"],
    net: doneWhenNet,
    want: { rate: 0, burst: 0 },
    burstSource: "none (no rate)",
  },
  {
    name: "instance rate unlimited lifts the network rate",
    inst: ["ovs-vif:rate:unlimited"],
    net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"],
    want: { rate: 0, burst: 0 },
  },
  {
    name: "per-NIC unlimited lifts the instance rate",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:unlimited"],
    net: doneWhenNet,
    want: { rate: 0, burst: 0 },
  },
  {
    name: "per-NIC unlimited leaves the other NIC limited",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:unlimited"],
    net: doneWhenNet,
    nic: NIC1,
    want: { rate: 100000, burst: 78125 },
  },
  {
    name: "rate 0 with a burst at the same level is still no policing",
    inst: ["ovs-vif:rate:0", "ovs-vif:burst:10M"],
    net: doneWhenNet,
    want: { rate: 0, burst: 0 },
  },
  // Where the burst comes from.
];

testPrecedence(test, cases);

test("the example's default bursts are floor(rate*1000*0.8/1024)", () => {
  for (const [nic, inst, rate] of [
    [NIC0, doneWhenInst, 100000],
    [NIC1, doneWhenInst, 10000],
    [NIC0, [], 1000000],
  ] as const) {
    const got = resolvePolicing(ganetiLevels([...inst], doneWhenNet, nic), DEFAULT_MTU).policing;
    assert.is(got.rate, rate);
    assert.is(got.burst, Math.floor((rate * 1000 * 0.8) / 1024));
  }
});

test.run();
