// Drift of a port's flows and the sweep of stale ones
// (src/port-security/drift.ts): missing, extra and different flows as a
// dump of the table would show them, and which of ovs-vif's cookies belong
// to no ovs-vif port.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeMatch, encodeMatch } from "../../src/openflow/wire.ts";
import type { Flow } from "../../src/openflow/match.ts";
import { driftCount, driftLines, flowDrift, staleCookies } from "../../src/port-security/drift.ts";
import { portCookie, portFlows } from "../../src/port-security/flows.ts";
import { buildPolicy } from "../../src/port-security/policy.ts";

const policy = buildPolicy({ mac: { field: "MAC", value: "aa:00:00:00:0a:0a" }, ipv4: [{ field: "IP", value: "198.51.100.11" }] });
const desired = portFlows(policy, 7, portCookie(7));

/** A flow as a dump returns it: the match through the wire and back (a fresh object, fields in any order). */
function dumped(f: Flow): Flow {
  return { ...f, match: decodeMatch(encodeMatch([...f.match].reverse()), 0).match };
}

test("the table holding exactly the desired flows (in any order) is no drift", () => {
  const d = flowDrift(desired, [...desired].reverse().map(dumped));
  assert.is(driftCount(d), 0);
  assert.equal(driftLines(d), []);
});

test("a flow gone from the table is missing; one more under the port's cookie is extra", () => {
  const have = desired.slice(1).map(dumped);
  const stray: Flow = { ...desired[desired.length - 1]!, priority: 40001 };
  have.push(stray);
  const d = flowDrift(desired, have);
  assert.is(d.missing.length, 1);
  assert.is(d.missing[0], desired[0]);
  assert.is(d.extra.length, 1);
  assert.is(d.extra[0]!.priority, 40001);
  assert.equal(driftLines(d), [
    `missing: cookie=0x6f76737600000007,priority=40400,in_port=7,dl_type=0x0800,nw_proto=17,udp_src=67,udp_dst=68,actions=drop`,
    `extra: cookie=0x6f76737600000007,priority=40001,in_port=7,actions=drop`,
  ]);
});

test("the same flow with other actions or another cookie is different", () => {
  const have = desired.map(dumped);
  have[3] = { ...have[3]!, actions: { kind: "normal" } };
  have[5] = { ...have[5]!, cookie: portCookie(9) };
  const d = flowDrift(desired, have);
  assert.is(d.different.length, 2);
  assert.is(driftCount(d), 2);
  assert.match(driftLines(d)[0]!, /^different: priority=\d+,in_port=7,.*: 0x6f76737600000007 NORMAL -> 0x6f76737600000007 drop$/);
  assert.match(driftLines(d)[1]!, /0x6f76737600000009 .* -> 0x6f76737600000007/);
});

test("port security off: every flow of the ofport is extra", () => {
  const d = flowDrift([], desired.map(dumped));
  assert.is(d.extra.length, desired.length);
});

test("sweep: ovs-vif's cookies whose ofport is no ovs-vif port's are stale; another owner's never", () => {
  const at = (ofport: number) => portFlows(policy, ofport, portCookie(ofport));
  const foreign: Flow = { cookie: 0x1234n, priority: 100, match: [], actions: { kind: "normal" } };
  const table = [...at(3), ...at(7), ...at(12), foreign, { ...foreign, cookie: 0n, priority: 0 }];
  const stale = staleCookies(table, [
    { name: "tap7", ofport: 7 },
    { name: "tap3", ofport: 3 },
    { name: "other", ofport: 5 },
  ]);
  assert.equal(stale, [{ cookie: portCookie(12), ofport: 12, flows: at(12).length }]);
  assert.equal(
    staleCookies(table, []).map((s) => s.ofport),
    [3, 7, 12],
  );
  assert.equal(staleCookies([foreign], []), []);
});

test.run();
