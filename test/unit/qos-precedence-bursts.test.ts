// Which burst a Ganeti NIC's rate gets (src/qos.ts): from the rate's level
// or a more specific one, never a less specific one; the default; bursts
// below one frame refused where they are used; conflicting tags.
import { test } from "uvu";
import { MTU_1500_KB, MTU_9000_KB, NIC0, NIC1, UUID1 } from "../harness/qos-levels.ts";
import { testPrecedence, type PrecedenceCase } from "../harness/qos-precedence.ts";

const cases: PrecedenceCase[] = [
  {
    name: "the burst comes from the rate's level",
    inst: ["ovs-vif:rate:100M", "ovs-vif:burst:10M"],
    want: { rate: 100000, burst: 9765 },
    burstSource: 'instance tag "ovs-vif:burst:10M"',
  },
  {
    name: "the burst may come from a more specific level (per-NIC burst, instance rate)",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:burst:20M"],
    want: { rate: 100000, burst: 19531 },
    burstSource: 'instance tag "ovs-vif:nic:0:burst:20M"',
  },
  {
    name: "the burst may come from a more specific level (instance burst, network rate)",
    inst: ["ovs-vif:burst:20M"],
    net: ["ovs-vif:rate:1G"],
    want: { rate: 1000000, burst: 19531 },
  },
  { name: "a network rate and burst both apply", inst: [], net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"], nic: NIC0, want: { rate: 1000000, burst: 48828 } },
  {
    name: "the burst never comes from a less specific level (network burst, instance rate)",
    inst: ["ovs-vif:rate:100M"],
    net: ["ovs-vif:burst:50M"],
    want: { rate: 100000, burst: 78125 },
    burstSource: "default: 80% of rate",
  },
  {
    name: "the burst never comes from a less specific level (instance burst, per-NIC rate)",
    inst: ["ovs-vif:burst:50M", "ovs-vif:nic:0:rate:10M"],
    want: { rate: 10000, burst: 7812 },
  },
  {
    name: "the most specific burst wins: per-NIC over the rate's level",
    inst: ["ovs-vif:rate:100M", "ovs-vif:burst:10M", "ovs-vif:nic:0:burst:20M"],
    want: { rate: 100000, burst: 19531 },
    burstSource: 'instance tag "ovs-vif:nic:0:burst:20M"',
  },
  {
    name: "the most specific burst wins: instance over the network rate's level",
    inst: ["ovs-vif:burst:10M"],
    net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"],
    want: { rate: 1000000, burst: 9765 },
  },
  {
    name: "a burst without any rate does not police",
    inst: ["ovs-vif:burst:10M", "ovs-vif:nic:0:burst:20M"],
    net: ["ovs-vif:burst:50M"],
    want: { rate: 0, burst: 0 },
  },
  {
    name: "burst 0 at the rate's level means the default burst",
    inst: ["ovs-vif:rate:100M", "ovs-vif:burst:0"],
    want: { rate: 100000, burst: 78125 },
    burstSource: "default: 80% of rate",
  },
  {
    name: "burst unlimited at a more specific level means the default burst",
    inst: ["ovs-vif:nic:0:burst:unlimited"],
    net: ["ovs-vif:rate:1G", "ovs-vif:burst:50M"],
    want: { rate: 1000000, burst: 781250 },
  },
  // Default burst and one MTU frame.
  { name: "the default burst is raised to one frame", inst: ["ovs-vif:rate:10k"], net: [], nic: NIC0, want: { rate: 10, burst: MTU_1500_KB } },
  { name: "the default burst is raised to one jumbo frame", inst: ["ovs-vif:rate:10k"], net: [], nic: NIC0, mtu: 9000, want: { rate: 10, burst: MTU_9000_KB } },
  {
    name: "an explicit burst of exactly one frame is accepted",
    inst: ["ovs-vif:rate:10M", "ovs-vif:burst:12288"],
    want: { rate: 10000, burst: MTU_1500_KB },
  },
  {
    name: "an explicit burst of one frame on a jumbo port is accepted",
    inst: ["ovs-vif:rate:10M", "ovs-vif:burst:72704"],
    mtu: 9000,
    want: { rate: 10000, burst: MTU_9000_KB },
  },
  {
    name: "an explicit burst of 70k fits a 1500-byte frame",
    inst: ["ovs-vif:rate:10M", "ovs-vif:burst:70k"],
    want: { rate: 10000, burst: 68 },
  },
  {
    name: "an explicit burst below one frame is refused",
    inst: ["ovs-vif:rate:10M", "ovs-vif:burst:10k"],
    want: { error: { field: "instance tag", value: "ovs-vif:burst:10k", mentions: ["1500", "frame"] } },
  },
  {
    name: "an explicit burst one bit below one frame is refused",
    inst: ["ovs-vif:rate:10M", "ovs-vif:burst:12287"],
    want: { error: { field: "instance tag", value: "ovs-vif:burst:12287", mentions: ["frame"] } },
  },
  {
    name: "an explicit burst of 70k is refused on a jumbo port (below one frame)",
    inst: ["ovs-vif:rate:10M", "ovs-vif:burst:70k"],
    mtu: 9000,
    want: { error: { field: "instance tag", value: "ovs-vif:burst:70k", mentions: ["9000", "frame"] } },
  },
  {
    name: "a per-NIC burst below one frame is refused",
    inst: ["ovs-vif:rate:10M", "ovs-vif:nic:eth0:burst:5k"],
    want: { error: { field: "instance tag", value: "ovs-vif:nic:eth0:burst:5k", mentions: ["frame"] } },
  },
  {
    name: "a network burst below one frame is refused when it is used",
    inst: [],
    net: ["ovs-vif:rate:10M", "ovs-vif:burst:5k"],
    want: { error: { field: "network tag", value: "ovs-vif:burst:5k", mentions: ["frame"] } },
  },
  {
    name: "a small burst at a less specific level is not used, so not refused",
    inst: ["ovs-vif:rate:100M"],
    net: ["ovs-vif:burst:5k"],
    want: { rate: 100000, burst: 78125 },
  },
  {
    name: "a small burst for another NIC is not refused",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:1:burst:5k"],
    want: { rate: 100000, burst: 78125 },
  },
  // Conflicts: two different values at one level.
  {
    name: "two different instance rates conflict",
    inst: ["ovs-vif:rate:100M", "ovs-vif:rate:10M"],
    want: { error: { field: "instance tag", value: "ovs-vif:rate:10M", mentions: ["ovs-vif:rate:100M"] } },
  },
  {
    name: "two different instance bursts conflict",
    inst: ["ovs-vif:burst:10M", "ovs-vif:rate:100M", "ovs-vif:burst:20M"],
    want: { error: { field: "instance tag", value: "ovs-vif:burst:20M", mentions: ["ovs-vif:burst:10M"] } },
  },
  {
    name: "two different per-NIC rates, by index and by name, conflict",
    inst: ["ovs-vif:nic:0:rate:10M", "ovs-vif:nic:eth0:rate:20M"],
    want: { error: { field: "instance tag", value: "ovs-vif:nic:eth0:rate:20M", mentions: ["ovs-vif:nic:0:rate:10M"] } },
  },
  {
    name: "two different per-NIC bursts, by UUID and by index, conflict",
    inst: [`ovs-vif:nic:${UUID1}:burst:10M`, "ovs-vif:nic:1:burst:20M"],
    nic: NIC1,
    want: { error: { field: "instance tag", value: "ovs-vif:nic:1:burst:20M", mentions: [`ovs-vif:nic:${UUID1}:burst:10M`] } },
  },
  {
    name: "two different network rates conflict",
    inst: [],
    net: ["ovs-vif:rate:1G", "ovs-vif:rate:10G"],
    want: { error: { field: "network tag", value: "ovs-vif:rate:10G", mentions: ["ovs-vif:rate:1G"] } },
  },
  {
    name: "conflict at a level is an error even when a more specific level decides",
    inst: ["ovs-vif:nic:0:rate:10M"],
    net: ["ovs-vif:rate:1G", "ovs-vif:rate:10G"],
    want: { error: { field: "network tag", value: "ovs-vif:rate:10G", mentions: ["ovs-vif:rate:1G"] } },
  },
  {
    name: "rate and burst at one level are no conflict",
    inst: ["ovs-vif:rate:100M", "ovs-vif:burst:100M"],
    want: { rate: 100000, burst: 97656 },
  },
  {
    name: "instance and per-NIC values differ: no conflict (different levels)",
    inst: ["ovs-vif:rate:100M", "ovs-vif:nic:0:rate:10M"],
    want: { rate: 10000, burst: 7812 },
  },
  // Tags without the prefix.
  {
    name: "tags without the ovs-vif: prefix are ignored",
    inst: ["rate:100M", "ovs-vif", "ovs-vifs:rate:1M", "xovs-vif:rate:1M", "ovs_vif:rate:1M", "ganeti:foo", "", "nic:0:rate:1M"],
    net: ["rate:1G", "ovs-vif-rate:1G"],
    want: { rate: 0, burst: 0 },
  },
  {
    name: "other tags mixed with ovs-vif ones are ignored",
    inst: ["webserver", "ovs-vif:rate:100M", "prod"],
    net: ["dc1", "ovs-vif:rate:1G"],
    want: { rate: 100000, burst: 78125 },
  },
];

testPrecedence(test, cases);

test.run();
