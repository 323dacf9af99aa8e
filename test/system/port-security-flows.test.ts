// Port-security flows on a real ovs-vswitchd (userspace datapath), through
// the native OpenFlow client on the bridge's management socket; ovs-ofctl
// is the oracle. Replacement is one atomic bundle, only the port's cookie
// is touched, flows outlive their port in OVS (so removal is ours), drift
// and the stale sweep see what the table holds, and errors are typed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { OpenFlowClient } from "../../src/openflow/client.ts";
import { OpenFlowError } from "../../src/openflow/errors.ts";
import { field, flowText } from "../../src/openflow/match.ts";
import {
  applyPortSecurity,
  desiredFlows,
  portDrift,
  removePortFlows,
  replaceMods,
  replacePortFlows,
  sweepStaleFlows,
  type PortRef,
} from "../../src/port-flows.ts";
import { driftCount, driftLines } from "../../src/port-security/drift.ts";
import { ALL_PORTS_MASK, COOKIE_PREFIX, portCookie } from "../../src/port-security/flows.ts";
import { buildPolicy } from "../../src/port-security/policy.ts";
import { must } from "../harness/proc.ts";
import { startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let client: OpenFlowClient;
const T = 10000;
const mgmt = () => join(ovs.dir, "sw1.mgmt");
const policyOf = (mac: string, ip: string) =>
  buildPolicy({ mac: { field: "MAC", value: mac }, ipv4: [{ field: "IP", value: ip }], ipv6Prefixes: [{ field: "SUBNET6", value: "2001:db8:1::/64" }] });
const A = policyOf("aa:00:00:00:0a:0a", "198.51.100.11");

/** ovs-ofctl's view of the table, without counters: one sorted line per flow. */
async function table(): Promise<string[]> {
  const out = await must("ovs-ofctl", ["-O", "OpenFlow14", "--no-stats", "dump-flows", `unix:${mgmt()}`]);
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("OFPST_FLOW"))
    .sort();
}

/** ovs-ofctl with "sw1" standing for the bridge's management socket. */
const ofctl = (...args: string[]) => must("ovs-ofctl", ["-O", "OpenFlow14", ...args.map((a) => (a === "sw1" ? `unix:${mgmt()}` : a))]);

async function tapPort(name: string): Promise<PortRef> {
  await ovs.addTap(name);
  await ovs.vsctl("add-port", "sw1", name);
  return { bridge: "sw1", name, ofport: Number((await ovs.vsctl("get", "interface", name, "ofport")).trim()) };
}

test.before(async () => {
  ovs = await startOvs();
  await ovs.addBridge("sw1");
  client = await OpenFlowClient.connect("sw1", { path: mgmt(), timeoutMs: T });
});

test.after(async () => {
  client?.close();
  await ovs?.stop();
});

test("install: the policy's flows under the port's cookie, as ovs-ofctl reads them, no drift; another cookie's flows and the NORMAL flow stay through replace and remove", async () => {
  const p1 = await tapPort("tap1");
  const p2 = await tapPort("tap2");
  await ofctl("add-flow", "sw1", `cookie=0x1234,priority=100,in_port=${p1.ofport},actions=NORMAL`);
  await ofctl("add-flow", "sw1", `cookie=0x1234,priority=50,in_port=${p2.ofport},actions=drop`);
  const before = await table();
  assert.ok(before.includes("priority=0 actions=NORMAL"), `the bridge's own NORMAL flow: ${before.join(" | ")}`);
  assert.is(before.length, 3);

  const flows = await replacePortFlows(client, p1, A, T);
  assert.is(flows.length, 29);
  const mine = await must("ovs-ofctl", ["-O", "OpenFlow14", "--no-stats", "dump-flows", `unix:${mgmt()}`, `cookie=${portCookie(p1.ofport)}/-1`]);
  assert.is(
    mine
      .trim()
      .split("\n")
      .filter((l) => l.includes("cookie=")).length,
    29,
    "ovs-ofctl sees 29 flows under the cookie",
  );
  assert.is(driftCount(await portDrift(client, p1, A, T)), 0, "dumped = desired");

  // Replaced by another policy: the old flows go, in the same bundle.
  const B = policyOf("aa:00:00:00:0a:0b", "198.51.100.12");
  await replacePortFlows(client, p1, B, T);
  assert.is(driftCount(await portDrift(client, p1, B, T)), 0);
  assert.ok(
    (await table()).every((l) => !l.includes("aa:00:00:00:0a:0a")),
    "no flow of the old MAC left",
  );

  await removePortFlows(client, p1, T);
  assert.equal(await table(), before, "after removal: exactly the flows that were there before");
});

test("flows in_port=N outlive their port in OVS 3.1 (whoever installs them must remove them); removal by ofport takes them", async () => {
  const p = await tapPort("tap3");
  await replacePortFlows(client, p, A, T);
  await ovs.vsctl("del-port", "sw1", "tap3");
  const left = await client.dumpFlows(portCookie(p.ofport), 0xffffffffffffffffn, T);
  assert.is(left.length, 29, "still in the table after del-port");
  assert.ok(left.every((f) => flowText(f).includes(`in_port=${p.ofport}`)));
  await removePortFlows(client, p, T);
  assert.is((await client.dumpFlows(portCookie(p.ofport), 0xffffffffffffffffn, T)).length, 0);
});

test("a bundle with one flow the switch refuses changes nothing, and the error names the bridge and the flow", async () => {
  const p = await tapPort("tap4");
  await replacePortFlows(client, p, A, T);
  const B = policyOf("aa:00:00:00:0a:0b", "198.51.100.12");
  const mods = replaceMods(p, desiredFlows(B, p));
  // in_port twice: the switch refuses the match (a duplicate field).
  mods.splice(10, 0, {
    command: "add",
    flow: { cookie: portCookie(p.ofport), priority: 40100, match: [field("in_port", p.ofport), field("in_port", p.ofport + 1)], actions: { kind: "normal" } },
  });
  let err: unknown;
  await client.commitBundle(mods, "replace for the test", T).catch((e: unknown) => (err = e));
  assert.instance(err, OpenFlowError);
  const e = err as OpenFlowError;
  assert.is(e.kind, "rejected");
  assert.is(e.bridge, "sw1");
  assert.match(
    e.message,
    /^OpenFlow bridge "sw1": replace for the test: flow 11 of 31 \(cookie=0x6f767376[0-9a-f]+,priority=40100,in_port=\d+,in_port=\d+,actions=NORMAL\): BAD_MATCH\/DUP_FIELD; the bundle was discarded, nothing was changed$/,
  );
  assert.is(driftCount(await portDrift(client, p, A, T)), 0, "the old flows, all of them, untouched");
  // The connection is still usable.
  await removePortFlows(client, p, T);
});

test("drift: a flow deleted, one added under the cookie, one with other actions; a replace puts it right", async () => {
  const p = await tapPort("tap5");
  const flows = await replacePortFlows(client, p, A, T);
  const key = (i: number) =>
    flowText(flows[i]!)
      .replace(/^cookie=[^,]+,/, "")
      .replace(/,actions=.*$/, "");
  await ofctl("--strict", "del-flows", "sw1", key(0));
  await ofctl("add-flow", "sw1", `cookie=${portCookie(p.ofport)},priority=40100,in_port=${p.ofport},dl_type=0x0800,nw_src=198.51.100.99,actions=NORMAL`);
  await ofctl("--strict", "mod-flows", "sw1", `${key(28)},actions=NORMAL`);
  const d = await portDrift(client, p, A, T);
  assert.equal([d.missing.length, d.extra.length, d.different.length], [1, 1, 1], driftLines(d).join("\n"));
  assert.match(driftLines(d).join("\n"), /missing: .*udp_src=67,udp_dst=68,actions=drop/);
  assert.match(driftLines(d).join("\n"), /extra: .*nw_src=198\.51\.100\.99,actions=NORMAL/);
  assert.match(driftLines(d).join("\n"), /different: priority=40000,in_port=\d+: 0x6f767376[0-9a-f]+ NORMAL -> 0x6f767376[0-9a-f]+ drop/);
  const off = await portDrift(client, p, undefined, T);
  assert.is(off.extra.length, 29, "with port security off every flow of the ofport is extra");
  await replacePortFlows(client, p, A, T);
  assert.is(driftCount(await portDrift(client, p, A, T)), 0);
  await removePortFlows(client, p, T);
});

test("two NICs of one VM on one network: each its own cookie; removing one leaves the other's", async () => {
  const n0 = await tapPort("tap6");
  const n1 = await tapPort("tap7");
  await replacePortFlows(client, n0, A, T);
  await replacePortFlows(client, n1, policyOf("aa:00:00:00:0a:0c", "198.51.100.13"), T);
  await removePortFlows(client, n0, T);
  assert.is((await client.dumpFlows(portCookie(n0.ofport), 0xffffffffffffffffn, T)).length, 0);
  assert.is((await client.dumpFlows(portCookie(n1.ofport), 0xffffffffffffffffn, T)).length, 29);
  await removePortFlows(client, n1, T);
});

test("sweep: ovs-vif's flows whose ofport is no ovs-vif port go; live ports' and other owners' stay", async () => {
  const live = await tapPort("tap8");
  const gone = await tapPort("tap9");
  await replacePortFlows(client, live, A, T);
  await replacePortFlows(client, gone, A, T);
  await ovs.vsctl("del-port", "sw1", "tap9");
  const ports = [{ name: "tap8", ofport: live.ofport }];
  const dry = await sweepStaleFlows(client, ports, { dryRun: true, timeoutMs: T });
  assert.equal(
    dry.map((s) => [s.ofport, s.flows]),
    [[gone.ofport, 29]],
  );
  assert.is((await client.dumpFlows(COOKIE_PREFIX, ALL_PORTS_MASK, T)).length, 58, "a dry run removes nothing");
  const before = (await table()).filter((l) => !l.includes("cookie=0x6f767376"));
  await sweepStaleFlows(client, ports, { timeoutMs: T });
  assert.is((await client.dumpFlows(COOKIE_PREFIX, ALL_PORTS_MASK, T)).length, 29);
  assert.is(driftCount(await portDrift(client, live, A, T)), 0);
  assert.equal(
    (await table()).filter((l) => !l.includes("cookie=0x6f767376")),
    before,
    "other owners' flows untouched",
  );
  await removePortFlows(client, live, T);
});

test("bad policy input fails before the bridge is contacted and leaves the flow table as it was", async () => {
  const p = await tapPort("tap10");
  const before = await table();
  const bad = [
    { mac: { field: "MAC", value: "aa:00:00:00:0a" } },
    { mac: { field: "MAC", value: "aa:00:00:00:0a:0a" }, ipv4: [{ field: "IP", value: "2001:db8::1" }] },
    { mac: { field: "MAC", value: "aa:00:00:00:0a:0a" }, allowAddresses: [{ field: "--allow-address", value: "198.51.100.1/24" }] },
  ];
  for (const input of bad) {
    let err: unknown;
    await applyPortSecurity(p, input, { timeoutMs: T, mgmtPath: join(ovs.dir, "no-such.mgmt") }).catch((e: unknown) => (err = e));
    assert.instance(err, InputError, "an input error, not a connect error: nothing was contacted");
    assert.not.match((err as Error).message, /\n/);
  }
  assert.equal(await table(), before);
});

test("errors name the bridge and what failed: no such bridge; a bridge without OpenFlow 1.4", async () => {
  let err: unknown;
  await OpenFlowClient.connect("sw9", { path: join(ovs.dir, "sw9.mgmt"), timeoutMs: T }).catch((e: unknown) => (err = e));
  assert.instance(err, OpenFlowError);
  assert.is((err as OpenFlowError).kind, "connect");
  assert.is((err as Error).message, `OpenFlow bridge "sw9": connect to ${join(ovs.dir, "sw9.mgmt")}: ENOENT (no such bridge, or ovs-vswitchd is not running)`);

  await ovs.addBridge("sw2");
  await ovs.vsctl("set", "bridge", "sw2", "protocols=OpenFlow13");
  const c = await OpenFlowClient.connect("sw2", { path: join(ovs.dir, "sw2.mgmt"), timeoutMs: T });
  err = undefined;
  await c.dumpFlows(COOKIE_PREFIX, ALL_PORTS_MASK, T).catch((e: unknown) => (err = e));
  c.close();
  assert.instance(err, OpenFlowError);
  assert.is((err as OpenFlowError).kind, "version");
  assert.match((err as Error).message, /^OpenFlow bridge "sw2": .*the switch does not allow OpenFlow 1\.4 on this bridge \(Bridge protocols\)$/);
});

test.run();
