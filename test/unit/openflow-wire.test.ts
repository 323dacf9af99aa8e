// OpenFlow 1.4 messages (src/openflow/wire.ts) and flow text
// (src/openflow/match.ts): byte layouts checked by hand for the small
// messages and by OVS's own decoder (`ovs-ofctl ofp-parse`, no daemon) for
// whole bundles; decoding of matches, instructions, flow-stats replies and
// errors; RFC 5952 text of IPv6 addresses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DROP, field, flowKey, flowText, formatIpv6, matchText, NORMAL, prefixLength, type Flow } from "../../src/openflow/match.ts";
import {
  decodeFlowStatsReply,
  decodeInstructions,
  decodeMatch,
  encodeBundleAdds,
  encodeBundleControl,
  encodeFlowMod,
  encodeFlowStatsRequest,
  encodeHello,
  encodeMatch,
  readHeader,
} from "../../src/openflow/wire.ts";
import { errorName } from "../../src/openflow/errors.ts";
import { ipv6Bytes } from "../../src/port-security/addresses.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const FLOW: Flow = {
  cookie: 0x6f76737600000007n,
  priority: 40100,
  match: [
    field("in_port", 7),
    field("eth_src", Uint8Array.from([0xaa, 0, 0, 0, 0x0a, 0x0a])),
    field("eth_type", 0x0800),
    field("ipv4_src", Uint8Array.from([198, 51, 100, 0]), Uint8Array.from([255, 255, 255, 0])),
  ],
  actions: NORMAL,
};

test("HELLO offers OpenFlow 1.4 alone in a version bitmap", () => {
  assert.is(hex(encodeHello(1)), "05000010" + "00000001" + "00010008" + "00000020");
});

test("bundle control: version 5, type 33, bundle id, type, flags atomic|ordered", () => {
  assert.is(hex(encodeBundleControl(0x0a, 3, 4)), "05210010" + "0000000a" + "00000003" + "0004" + "0003");
});

test("flow_mod add: cookie, table 0, priority, no buffer, any port/group, OXM match padded to 8, apply-actions output NORMAL", () => {
  const b = encodeFlowMod(9, { command: "add", flow: FLOW });
  const h = readHeader(b)!;
  assert.equal(h, { version: 5, type: 14, length: b.length, xid: 9 });
  const v = new DataView(b.buffer);
  assert.is(v.getBigUint64(8), FLOW.cookie);
  assert.is(v.getBigUint64(16), 0n, "no cookie mask on add");
  assert.is(b[24], 0, "table 0");
  assert.is(b[25], 0, "OFPFC_ADD");
  assert.is(v.getUint16(30), 40100);
  assert.is(v.getUint32(32), 0xffffffff);
  // OXM: in_port (8), eth_src (10), eth_type (6), ipv4_src with mask (12) = 36 + 4 header
  assert.is(v.getUint16(48), 1);
  assert.is(v.getUint16(50), 40);
  assert.is(hex(b.subarray(52, 60)), "80000004" + "00000007");
  assert.is(hex(b.subarray(76, 88)), "80001708" + "c6336400" + "ffffff00", "ipv4_src: field 11, has-mask, 8 bytes");
  assert.is(hex(b.subarray(88, 88 + 24)), "00040018" + "00000000" + "00000010" + "fffffffa" + "0000" + "000000000000", "apply-actions output:NORMAL");
  assert.is(b.length, 112);
});

test("flow_mod delete: exact cookie, every table, no match, no instructions", () => {
  const b = encodeFlowMod(2, { command: "delete", cookie: 0x6f76737600000007n, cookieMask: 0xffffffffffffffffn });
  const v = new DataView(b.buffer);
  assert.is(b.length, 56);
  assert.is(v.getBigUint64(16), 0xffffffffffffffffn);
  assert.is(b[24], 0xff, "OFPTT_ALL");
  assert.is(b[25], 3, "OFPFC_DELETE");
  assert.is(hex(b.subarray(48)), "0001000400000000");
});

test("a drop flow has no instruction", () => {
  const b = encodeFlowMod(2, { command: "add", flow: { ...FLOW, actions: DROP } });
  assert.is(b.length, 112 - 24);
});

test("a bundle's filling is open, one add per flow_mod carrying the add's xid, a barrier; OVS's decoder reads back every flow", () => {
  const flows: Flow[] = [FLOW, { ...FLOW, priority: 40000, match: [field("in_port", 7)], actions: DROP }];
  const mods = [
    { command: "delete" as const, cookie: FLOW.cookie, cookieMask: 0xffffffffffffffffn },
    ...flows.map((flow) => ({ command: "add" as const, flow })),
  ];
  const bytes = Buffer.concat([encodeBundleAdds(5, [10, 11, 12, 13, 14], mods), encodeBundleControl(15, 5, 4)]);
  const types: number[] = [];
  const xids: number[] = [];
  for (let o = 0; o < bytes.length; ) {
    const h = readHeader(bytes, o)!;
    types.push(h.type);
    xids.push(h.xid);
    if (h.type === 34) assert.is(readHeader(bytes, o + 16)!.xid, h.xid, "inner xid = add xid");
    o += h.length;
  }
  assert.equal(types, [33, 34, 34, 34, 20, 33]);
  assert.equal(xids, [10, 11, 12, 13, 14, 15]);
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-ofparse-"));
  try {
    writeFileSync(join(dir, "msgs"), bytes);
    const r = spawnSync("ovs-ofctl", ["ofp-parse", join(dir, "msgs")], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /OFPT_BUNDLE_CONTROL \(OF1\.4\).*\n\s*bundle_id=0x5 type=OPEN_REQUEST flags=atomic ordered/);
    assert.match(r.stdout, /OFPT_BARRIER_REQUEST \(OF1\.4\) \(xid=0xe\)/);
    assert.match(r.stdout, /bundle_id=0x5 type=COMMIT_REQUEST flags=atomic ordered/);
    assert.match(r.stdout, /DEL .*cookie:0x6f76737600000007\/0xffffffffffffffff/);
    assert.match(r.stdout, /ADD priority=40100,ip,in_port=7,dl_src=aa:00:00:00:0a:0a,nw_src=198\.51\.100\.0\/24 cookie:0x6f76737600000007 actions=NORMAL/);
    assert.match(r.stdout, /ADD priority=40000,in_port=7 cookie:0x6f76737600000007 actions=drop/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a match decodes back to the same fields, masks only where given", () => {
  const bytes = encodeMatch(FLOW.match);
  const { match, size } = decodeMatch(bytes, 0);
  assert.is(size, bytes.length);
  assert.is(matchText(match), matchText(FLOW.match));
  assert.is(matchText(match), "in_port=7,dl_src=aa:00:00:00:0a:0a,dl_type=0x0800,nw_src=198.51.100.0/24");
});

test("instructions: NORMAL, none (drop), an empty apply-actions (drop), anything else kept as hex", () => {
  const withNormal = encodeFlowMod(1, { command: "add", flow: FLOW });
  assert.equal(decodeInstructions(withNormal.subarray(88)), { kind: "normal" });
  assert.equal(decodeInstructions(new Uint8Array(0)), { kind: "drop" });
  assert.equal(decodeInstructions(Uint8Array.from([0, 4, 0, 8, 0, 0, 0, 0])), { kind: "drop" });
  const other = decodeInstructions(Uint8Array.from([0, 1, 0, 8, 5, 0, 0, 0]));
  assert.is(other.kind, "other");
});

test("a flow-stats reply decodes to its flows and says whether more follow", () => {
  const match = encodeMatch(FLOW.match);
  const instr = encodeFlowMod(1, { command: "add", flow: FLOW }).subarray(88);
  const entryLen = 48 + match.length + instr.length;
  const msg = new Uint8Array(16 + entryLen);
  const v = new DataView(msg.buffer);
  msg.set([5, 19], 0);
  v.setUint16(2, msg.length);
  v.setUint16(8, 1); // OFPMP_FLOW
  v.setUint16(10, 1); // REPLY_MORE
  v.setUint16(16, entryLen);
  v.setUint16(16 + 12, 40100);
  v.setBigUint64(16 + 24, FLOW.cookie);
  v.setBigUint64(16 + 32, 3n);
  msg.set(match, 16 + 48);
  msg.set(instr, 16 + 48 + match.length);
  const r = decodeFlowStatsReply(msg);
  assert.is(r.more, true);
  assert.is(r.flows.length, 1);
  assert.is(flowText(r.flows[0]!), flowText(FLOW));
  assert.is(r.flows[0]!.packets, 3n);
  assert.throws(() => decodeFlowStatsReply(msg.subarray(0, 40)), /truncated|out of bounds/);
});

test("flow-stats request: every table, cookie and mask, empty match", () => {
  const b = encodeFlowStatsRequest(4, 0x6f76737600000000n, 0xffffffff00000000n);
  const v = new DataView(b.buffer);
  assert.is(b[1], 18);
  assert.is(v.getUint16(8), 1);
  assert.is(b[16], 0xff);
  assert.is(v.getBigUint64(32), 0x6f76737600000000n);
  assert.is(v.getBigUint64(40), 0xffffffff00000000n);
  assert.is(b.length, 56);
});

test("error names: type and code as the specification names them", () => {
  assert.is(errorName(4, 9), "BAD_MATCH/BAD_PREREQ");
  assert.is(errorName(17, 13), "BUNDLE_FAILED/MSG_FAILED");
  assert.is(errorName(0, 0), "HELLO_FAILED/INCOMPATIBLE");
  assert.is(errorName(99, 1), "type 99/code 1");
});

test("IPv6 text is RFC 5952: lower case, no leading zeros, the longest zero run (the first of equals) as ::", () => {
  const cases: [string, string][] = [
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::", "::"],
    ["fe80::a800:ff:fe00:a0a", "fe80::a800:ff:fe00:a0a"],
    ["::ffff:198.51.100.1", "::ffff:c633:6401"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
  ];
  for (const [input, want] of cases) assert.is(formatIpv6(ipv6Bytes(input)!), want, input);
});

test("prefix lengths of masks; a non-contiguous mask has none", () => {
  assert.is(prefixLength(Uint8Array.from([255, 255, 255, 0])), 24);
  assert.is(prefixLength(Uint8Array.from([255, 254, 0, 0])), 15);
  assert.is(prefixLength(Uint8Array.from([255, 0, 255, 0])), undefined);
});

test("a flow's key ignores cookie and actions; its text is ovs-ofctl's add-flow syntax", () => {
  assert.is(flowKey(FLOW), flowKey({ priority: FLOW.priority, match: [...FLOW.match] }));
  assert.is(flowText(FLOW), "cookie=0x6f76737600000007,priority=40100,in_port=7,dl_src=aa:00:00:00:0a:0a,dl_type=0x0800,nw_src=198.51.100.0/24,actions=NORMAL");
  assert.is(flowKey({ priority: 0, match: [] }), "priority=0");
});

test.run();
