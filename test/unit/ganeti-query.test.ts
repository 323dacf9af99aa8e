// Instance and network data from Ganeti's CLI output (src/ganeti/query.ts):
// `gnt-instance list` and `gnt-network list` lines, and finding a NIC.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { catchInputError } from "../harness/assert.ts";
import { GanetiOutputError } from "../../src/errors.ts";
import { findNic, parseInstanceList, parseNetworkList } from "../../src/ganeti/query.ts";

const INST1 =
  "inst1|node1.example.com|ovs-vif:rate:100M,web|['u0', 'u1']|[None, 'eth1']|['.3', '']|openvswitch,bridged|sw1,br0|['net1', None]|aa:00:00:00:00:01,aa:00:00:00:00:02|198.51.100.20,None\n";

test("parseInstanceList reads an instance: Python reprs and comma-joined fields (an IP's None left out), one NIC per UUID", () => {
  const [inst] = parseInstanceList(INST1);
  assert.equal(inst, {
    name: "inst1",
    primary: "node1.example.com",
    tags: ["ovs-vif:rate:100M", "web"],
    nics: [
      { index: 0, uuid: "u0", mac: "aa:00:00:00:00:01", mode: "openvswitch", link: "sw1", vlan: ".3", network: "net1", ip: "198.51.100.20" },
      { index: 1, uuid: "u1", name: "eth1", mac: "aa:00:00:00:00:02", mode: "bridged", link: "br0", vlan: "" },
    ],
  });
});

test("parseInstanceList skips blank lines and reads an instance without tags or NICs", () => {
  assert.equal(
    parseInstanceList(`\n${INST1}\ninst2|node2||[]|[]|[]|||[]||\n`).map((i) => [i.name, i.tags, i.nics.length]),
    [
      ["inst1", ["ovs-vif:rate:100M", "web"], 2],
      ["inst2", [], 0],
    ],
  );
});

test("parseInstanceList refuses a line with the wrong number of fields", () => {
  assert.throws(
    () => parseInstanceList("inst1|node1|web\n"),
    (err: unknown) => err instanceof GanetiOutputError && /expected 11 fields/.test(err.reason),
  );
});

test("parseNetworkList reads tags as Ganeti prints them (comma-joined, empty for none) and the IPv6 prefix (None when unset)", () => {
  assert.equal(
    parseNetworkList("net1|bar,ovs-vif:rate:1G|2001:db8:1::/64\nnet2||None\nnet3||\n"),
    new Map([
      ["net1", { tags: ["bar", "ovs-vif:rate:1G"], subnet6: "2001:db8:1::/64" }],
      ["net2", { tags: [] }],
      ["net3", { tags: [] }],
    ]),
  );
});

test("parseNetworkList also reads tags as a Python list repr", () => {
  assert.equal(parseNetworkList("net1|['ovs-vif:rate:1G']|None\n"), new Map([["net1", { tags: ["ovs-vif:rate:1G"] }]]));
});

test("parseNetworkList refuses a line without NAME|TAGS|NETWORK6", () => {
  for (const line of ["net1\n", "net1|tags\n"])
    assert.throws(
      () => parseNetworkList(line),
      (err: unknown) => err instanceof GanetiOutputError && /expected NAME\|TAGS\|NETWORK6/.test(err.reason),
    );
});

test("findNic finds a NIC by index, name or UUID and refuses an unknown one naming the instance", () => {
  const [inst] = parseInstanceList(INST1);
  assert.is(findNic(inst!, "1").uuid, "u1");
  assert.is(findNic(inst!, "eth1").index, 1);
  assert.is(findNic(inst!, "u0").index, 0);
  const err = catchInputError(() => findNic(inst!, "eth9"), "eth9");
  assert.is(err.field, "NIC");
  assert.match(err.reason, /instance inst1 has no such NIC/);
});

test.run();
