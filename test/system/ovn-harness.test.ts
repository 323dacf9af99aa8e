// The private OVN of harness/ovn.ts, proven with the stock tools only
// (ovn-nbctl, ovs-vsctl, ovn-sbctl, ovsdb-client as the actors): a logical
// switch with two port-secured ports on two chassis, Geneve between them,
// port security dropping forged frames, a live migration with
// activation-strategy=rarp, the raw NB/SB JSON-RPC replies a native client
// will read, and a teardown that leaves nothing behind. Prints the measured
// times as "ovn-harness: ..." lines.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { longestGap, startOvn, type Chassis, type OvnHandle, type Vm } from "../harness/ovn.ts";

const fileStart = performance.now();
const report = (what: string) => console.log(`  ovn-harness: ${what}`);
const ms = (t: number) => `${t.toFixed(0)} ms`;

const A = { mac: "02:00:00:00:00:0a", ip: "198.51.100.10" };
const B = { mac: "02:00:00:00:00:0b", ip: "198.51.100.11" };
const FORGED_MAC = "02:00:00:00:00:ee";
const FORGED_IP = "198.51.100.99";

let ovn: OvnHandle;
let c1: Chassis;
let c2: Chassis;
let a: Vm;
let b: Vm;
let b2: Vm;

test.before(async () => {
  const t0 = performance.now();
  ovn = await startOvn({ chassis: 2 });
  report(`start-up (central + 2 chassis, registered, tunnels up): ${ms(performance.now() - t0)}`);
  [c1, c2] = ovn.chassis as [Chassis, Chassis];
});

test.after(async () => {
  await ovn?.stop();
  report(`whole file: ${ms(performance.now() - fileStart)}`);
});

test("both chassis registered in SB with their Geneve encap, each br-int tunnelled to the other", async () => {
  assert.is(c1.name, "c1");
  assert.is(c2.name, "c2");
  for (const [self, peer] of [
    [c1, c2],
    [c2, c1],
  ] as const) {
    assert.is(
      (await ovn.sbctl("get", "Encap", (await ovn.sbctl("get", "Chassis", self.name, "encaps")).trim().replace(/[[\]]/g, ""), "ip")).trim(),
      `"${self.ip}"`,
    );
    const [name, options, ...more] = (await self.vsctl("--bare", "--columns=name,options", "find", "Interface", "type=geneve")).split("\n").filter(Boolean);
    assert.is(name, `ovn-${peer.name}-0`, `${self.name}'s one tunnel goes to ${peer.name}`);
    assert.equal(more, [], `${self.name} has one tunnel`);
    // Compared by key: OVN 25.03 adds local_ip to what 23.03 set.
    const opts = Object.fromEntries(options!.split(" ").map((kv) => kv.split("=") as [string, string]));
    assert.equal(
      { csum: opts.csum, key: opts.key, remote_ip: opts.remote_ip },
      { csum: "true", key: "flow", remote_ip: peer.ip },
      `${self.name}'s tunnel options ${options}`,
    );
    if (opts.local_ip !== undefined) assert.is(opts.local_ip, self.ip, `${self.name}'s tunnel local_ip`);
    assert.equal(
      Object.keys(opts).filter((k) => !["csum", "key", "remote_ip", "local_ip"].includes(k)),
      [],
      `no other tunnel options: ${options}`,
    );
  }
});

test('stock ovn-nbctl: a logical switch with two ports, addresses and port security "MAC IP"', async () => {
  await ovn.nbctl(
    "ls-add",
    "ls0",
    "--",
    "lsp-add",
    "ls0",
    "a",
    "--",
    "lsp-set-addresses",
    "a",
    `${A.mac} ${A.ip}`,
    "--",
    "lsp-set-port-security",
    "a",
    `${A.mac} ${A.ip}`,
    "--",
    "lsp-add",
    "ls0",
    "b",
    "--",
    "lsp-set-addresses",
    "b",
    `${B.mac} ${B.ip}`,
    "--",
    "lsp-set-port-security",
    "b",
    `${B.mac} ${B.ip}`,
  );
  assert.is((await ovn.nbctl("lsp-get-port-security", "a")).trim(), `${A.mac} ${A.ip}`);
  assert.is((await ovn.nbctl("lsp-get-addresses", "b")).trim(), `${B.mac} ${B.ip}`);
  // northd has made the Port_Bindings; nobody has claimed them yet.
  await ovn.waitBinding("a", (p) => p !== null);
  assert.equal((await ovn.binding("b"))?.chassis, null);
});

test("VM a plugged on c1 and VM b on c2 with ovs-vsctl: bound by ovn-controller, ovn-installed", async () => {
  a = await ovn.addVm(c1, "a", A);
  b = await ovn.addVm(c2, "b", B);
  // A VM exists unplugged: its host end is in the chassis namespace but on no bridge.
  assert.is((await c1.inNs("ip", ["link", "show", a.hostIf])).code, 0);
  assert.is((await c1.vsctl("port-to-br", a.hostIf).catch(() => "none")).trim(), "none");
  assert.is(await ovn.installed(a), false);
  for (const [vm, lsp, ch] of [
    [a, "a", c1],
    [b, "b", c2],
  ] as const) {
    const t0 = performance.now();
    await ovn.plugWithVsctl(vm, lsp);
    const plugged = performance.now() - t0;
    const bound = await ovn.waitBinding(lsp, (p) => p?.chassis === ch.name && p.up);
    const sinceBound = performance.now() - t0;
    await ovn.waitInstalled(vm);
    const installed = performance.now() - t0;
    report(
      `bind ${lsp} on ${ch.name}: add-port ${ms(plugged)}, SB chassis+up ${ms(sinceBound)} (waited ${ms(bound)}), ovn-installed ${ms(installed)} after the plug began`,
    );
    assert.is(await ovn.installed(vm), true);
    await ovn.nbctl("--timeout=5", "wait-until", "Logical_Switch_Port", lsp, "up=true");
  }
});

test("ping across Geneve both ways, full-size frames (VM MTU 1442 = 1500 - 58) included", async () => {
  const ab = await ovn.ping(a, B.ip, { count: 5, intervalMs: 100 });
  assert.equal(ab, { sent: 5, received: 5, duplicates: 0 }, "a -> b");
  const ba = await ovn.ping(b, A.ip, { count: 5, intervalMs: 100 });
  assert.equal(ba, { sent: 5, received: 5, duplicates: 0 }, "b -> a");
  assert.is(a.mtu, 1442);
  const full = await ovn.ping(a, B.ip, { count: 3, intervalMs: 100, size: a.mtu - 28, dontFragment: true });
  assert.equal(full, { sent: 3, received: 3, duplicates: 0 }, "1442-byte IP packets through the tunnel");
});

test("port security: forged source MAC and forged source IP from a are dropped, genuine frames pass", async () => {
  const N = 10;
  const genuine = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { count: N }), { expect: N });
  const forgedMac = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { count: N, srcMac: FORGED_MAC }), { expect: 1, windowMs: 700 });
  const forgedIp = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { count: N, srcIp: FORGED_IP }), { expect: 1, windowMs: 700 });
  report(`port security: of ${N} echo requests each, b received genuine ${genuine}, forged MAC ${forgedMac}, forged IP ${forgedIp}`);
  assert.is(genuine, N, "the same hand-made frames with a's own addresses all arrive");
  assert.is(forgedMac, 0, "forged source MAC");
  assert.is(forgedIp, 0, "forged source IP");
  // ...and a is still fine afterwards.
  assert.is((await ovn.ping(a, B.ip, { count: 2, intervalMs: 100 })).received, 2);
  // Control: it is port security that drops them. Without it the forged frames arrive.
  await ovn.nbctl("--wait=hv", "lsp-set-port-security", "a");
  const unsecured = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { count: N, srcMac: FORGED_MAC, srcIp: FORGED_IP }), { expect: N });
  await ovn.nbctl("--wait=hv", "lsp-set-port-security", "a", `${A.mac} ${A.ip}`);
  const resecured = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { count: N, srcMac: FORGED_MAC }), { expect: 1, windowMs: 500 });
  report(`port security: without port_security ${unsecured} of ${N} forged frames arrive; with it again ${resecured}`);
  assert.is(unsecured, N, "no port_security: forged MAC and IP pass");
  assert.is(resecured, 0, "port_security restored");
});

test("NB/SB over raw JSON-RPC (ovsdb-client transact): the replies a native client reads", async () => {
  const lsp = (name: string, ls: string | null) => [
    ...(ls ? [{ op: "wait", timeout: 0, table: "Logical_Switch", where: [["name", "==", ls]], columns: ["name"], until: "==", rows: [{ name: ls }] }] : []),
    {
      op: "insert",
      table: "Logical_Switch_Port",
      "uuid-name": "newlsp",
      row: {
        name,
        addresses: ["set", ["02:00:00:00:00:0c 198.51.100.12"]],
        port_security: ["set", ["02:00:00:00:00:0c 198.51.100.12"]],
        options: ["map", [["requested-chassis", "c1"]]],
        external_ids: ["map", [["owner", "ovs-vif-test"]]],
      },
    },
    { op: "mutate", table: "Logical_Switch", where: [["name", "==", ls ?? "nosuch"]], mutations: [["ports", "insert", ["set", [["named-uuid", "newlsp"]]]]] },
  ];
  const show = (what: string, reply: unknown) => report(`JSON-RPC ${what}: ${JSON.stringify(reply)}`);
  type Reply = Array<Record<string, unknown> | null>;

  const ok = (await ovn.transact("nb", lsp("c", "ls0"))) as Reply;
  show("guarded insert", ok);
  assert.equal(ok[0], {});
  assert.is((ok[1]?.uuid as unknown[])[0], "uuid");
  assert.equal(ok[2], { count: 1 });
  assert.is(ok.length, 3);

  const missing = (await ovn.transact("nb", lsp("d", "nosuch"))) as Reply;
  show("guarded insert, no such switch", missing);
  assert.equal(missing, [{ error: "timed out", details: '"where" clause test failed' }, null, null]);

  const unguarded = (await ovn.transact("nb", lsp("e", null))) as Reply;
  show("unguarded insert, no such switch", unguarded);
  assert.equal(unguarded[1], { count: 0 });
  assert.is(
    unguarded.some((r) => r && "error" in r),
    false,
    "no error: the port is silently collected",
  );
  assert.is((await ovn.nbctl("--if-exists", "get", "Logical_Switch_Port", "e", "name")).trim(), "");

  const dup = (await ovn.transact("nb", lsp("c", "ls0"))) as Reply;
  show("duplicate name", dup);
  assert.is(dup.length, 4, "a trailing commit-error entry after the three op results");
  assert.equal(dup[2], { count: 1 });
  assert.is(dup[3]?.error, "constraint violation");
  assert.match(String(dup[3]?.details), /identical values \(c\) for index on column "name"/);

  const opts = (ops: unknown[]) => ovn.transact("nb", [{ op: "mutate", table: "Logical_Switch_Port", where: [["name", "==", "c"]], mutations: ops }]);
  const insertOnly = await opts([["options", "insert", ["map", [["requested-chassis", "c2,c1"]]]]]);
  assert.equal(insertOnly, [{ count: 1 }]);
  assert.is((await ovn.nbctl("get", "Logical_Switch_Port", "c", "options:requested-chassis")).trim(), "c1", "insert does not overwrite a key");
  const replace = await opts([
    ["options", "delete", ["set", ["requested-chassis", "activation-strategy"]]],
    [
      "options",
      "insert",
      [
        "map",
        [
          ["requested-chassis", "c2,c1"],
          ["activation-strategy", "rarp"],
        ],
      ],
    ],
  ]);
  show("options delete+insert mutate", replace);
  assert.equal(replace, [{ count: 1 }]);
  assert.is((await ovn.nbctl("get", "Logical_Switch_Port", "c", "options")).trim(), '{activation-strategy=rarp, requested-chassis="c2,c1"}');
  const noRow = await ovn.transact("nb", [
    { op: "mutate", table: "Logical_Switch_Port", where: [["name", "==", "nosuch"]], mutations: [["options", "delete", ["set", ["x"]]]] },
  ]);
  assert.equal(noRow, [{ count: 0 }], "no row: no error, count 0");

  // SB: Port_Binding holds Chassis uuids; names come from a second select.
  const sb = (await ovn.transact("sb", [
    { op: "select", table: "Port_Binding", where: [["logical_port", "==", "a"]], columns: ["chassis", "additional_chassis", "up"] },
    { op: "select", table: "Chassis", where: [], columns: ["_uuid", "name"] },
  ])) as Array<{ rows: Array<Record<string, unknown>> }>;
  show("SB Port_Binding + Chassis select", sb);
  const pb = sb[0]!.rows[0]!;
  assert.is((pb.chassis as unknown[])[0], "uuid", "a bound chassis is a bare uuid atom");
  assert.equal(pb.additional_chassis, ["set", []], "no additional chassis: an empty set");
  const c1Row = sb[1]!.rows.find((r) => r.name === "c1");
  assert.equal(c1Row?._uuid, pb.chassis);
  await ovn.nbctl("lsp-del", "c");
});

test("migration of b from c2 to c1 (requested-chassis c2,c1 + activation-strategy=rarp), under a continuous ping", async () => {
  await ovn.nbctl("--wait=hv", "set", "Logical_Switch_Port", "b", 'options:requested-chassis="c2,c1"', "options:activation-strategy=rarp");
  assert.equal(
    await ovn.binding("b"),
    { chassis: "c2", additional: [], up: true, options: { "activation-strategy": "rarp", "requested-chassis": "c2,c1" } },
    "nobody on c1 claims b yet",
  );
  // The migrated guest: same MAC and IP, on c1, plugged under the same iface-id.
  b2 = await ovn.addVm(c1, "b2", B);
  let t0 = performance.now();
  await ovn.plugWithVsctl(b2, "b");
  const claimed = await ovn.waitBinding("b", (p) => p?.chassis === "c2" && p.additional.join() === "c1");
  const tClaimed = performance.now() - t0;
  await ovn.waitInstalled(b2);
  report(
    `migration: b2 plugged on c1: SB additional_chassis=[c1] ${ms(tClaimed)} (waited ${ms(claimed)}), ovn-installed ${ms(performance.now() - t0)} after its plug began`,
  );
  const raw = await ovn.transact("sb", [
    { op: "select", table: "Port_Binding", where: [["logical_port", "==", "b"]], columns: ["chassis", "additional_chassis", "options"] },
  ]);
  report(`JSON-RPC SB Port_Binding during migration: ${JSON.stringify(raw)}`);
  const pb = (raw as Array<{ rows: Array<Record<string, unknown>> }>)[0]!.rows[0]!;
  assert.is((pb.additional_chassis as unknown[])[0], "uuid", "one additional chassis: a bare uuid atom, not a set");

  // Blocked until its RARP: b2 neither receives b's traffic nor gets its own frames out.
  const intoB2 = await ovn.echoesReaching(
    b2,
    async () => assert.equal(await ovn.ping(a, B.ip, { count: 5, intervalMs: 50 }), { sent: 5, received: 5, duplicates: 0 }),
    { expect: 1, windowMs: 300 },
  );
  const fromB2 = await ovn.echoesReaching(a, () => ovn.sendIcmp(b2, A, { count: 5 }), { expect: 1, windowMs: 500 });
  const fromB = await ovn.echoesReaching(a, () => ovn.sendIcmp(b, A, { count: 5 }), { expect: 5 });
  report(`migration: before the RARP b2 received ${intoB2} of 5 pings to b and got ${fromB2} of 5 frames out (b: ${fromB} of 5)`);
  assert.is(intoB2, 0, "b2 receives nothing before its RARP");
  assert.is(fromB2, 0, "b2 sends nothing before its RARP");
  assert.is(fromB, 5, "b still sends from c2");
  assert.is((await ovn.binding("b"))?.options["additional-chassis-activated"], undefined);

  const ping = ovn.continuousPing(a, B.ip, 20);
  await sleep(500);
  // Switch-over: the source guest stops, the destination announces itself.
  t0 = performance.now();
  await b.exec("ip", ["link", "set", b.dev, "down"]);
  await ovn.sendRarp(b2);
  const activated = await ovn.waitBinding("b", (p) => p?.options["additional-chassis-activated"] === "c1");
  const tActivated = performance.now() - t0;
  await sleep(300);
  const moveAt = Date.now();
  t0 = performance.now();
  await ovn.nbctl("set", "Logical_Switch_Port", "b", "options:requested-chassis=c1");
  const moved = await ovn.waitBinding("b", (p) => p?.chassis === "c1" && p.additional.length === 0);
  const tMoved = performance.now() - t0;
  await ovn.waitInstalled(b, false);
  const tReleased = performance.now() - t0;
  await sleep(500);
  const summary = await ping.stop();
  const gapSwitch = longestGap(summary.answers, -Infinity, moveAt);
  const gapMove = longestGap(summary.answers, moveAt - 50);
  report(
    `migration: additional-chassis-activated=c1 ${ms(tActivated)} after the source stopped (${ms(activated)} of it waiting for SB); after requested-chassis=c1: SB chassis=c1, additional=[] ${ms(tMoved)} (waited ${ms(moved)}), ovn-installed gone on c2 ${ms(tReleased)}`,
  );
  report(
    `migration: continuous ping every ${summary.intervalMs} ms: ${summary.sent} sent, ${summary.received} answered, ${summary.lost} lost, ${summary.duplicates} duplicates; longest gap ${ms(summary.longestGapMs)} (switch-over to b2 ${ms(gapSwitch)}, binding move ${ms(gapMove)})`,
  );
  assert.is(await ovn.installed(b2), true, "b2 installed on c1");
  assert.ok(summary.received > 40, `the ping ran and was answered (${summary.received})`);
  assert.ok(
    summary.answers.some((x) => x.at > moveAt + 100),
    "answers after the move",
  );
  assert.ok(summary.longestGapMs < 1500, `longest gap ${summary.longestGapMs} ms`);
  // After the move b2 alone answers for b.
  const after = await ovn.echoesReaching(
    b2,
    async () => assert.equal(await ovn.ping(a, B.ip, { count: 5, intervalMs: 50 }), { sent: 5, received: 5, duplicates: 0 }),
    { expect: 5 },
  );
  assert.is(after, 5, "b2 receives b's traffic on c1");
});

test("stop() leaves no daemon, namespace or directory behind", async () => {
  const pidfiles = [
    ...["ovsdb-nb", "ovsdb-sb", "ovn-northd"].map((n) => join(ovn.dir, `${n}.pid`)),
    ...ovn.chassis.flatMap((c) => [join(c.ovnDir, "ovn-controller.pid"), join(c.ovs.dir, "ovsdb-server.pid"), join(c.ovs.dir, "ovs-vswitchd.pid")]),
  ];
  const pids = pidfiles.map((p) => Number(readFileSync(p, "utf8").trim()));
  assert.is(pids.length, 9);
  const running = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  assert.ok(pids.every(running), "all daemons run before stop()");
  const namespaces = [ovn.underlay, ...ovn.chassis.map((c) => c.ovs.ns), a.ns, b.ns, ...(b2 ? [b2.ns] : [])];
  assert.ok(
    namespaces.every((ns) => existsSync(`/run/netns/${ns}`)),
    "all namespaces exist before stop()",
  );
  const dirs = [ovn.dir, ...ovn.chassis.map((c) => c.ovs.dir)];
  await ovn.stop();
  for (let i = 0; i < 50 && pids.some(running); i++) await sleep(20);
  assert.equal(pids.filter(running), [], "daemons still running");
  assert.equal(
    namespaces.filter((ns) => existsSync(`/run/netns/${ns}`)),
    [],
    "namespaces left",
  );
  assert.equal(
    dirs.filter((d) => existsSync(d)),
    [],
    "directories left",
  );
});

test.run();
