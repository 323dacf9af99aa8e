// `ovs-vif switch plan|apply|show|remove` on a real private OVS (compiled
// binary), with ovs-vsctl as the oracle: creation, idempotence, exact plans
// after spec edits, ownership (foreign and VM ports survive), refusals.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { OvsHandle } from "../harness/ovs.ts";
import type { Result } from "../harness/proc.ts";
import { addVeths, ovsPerTest, switchCmd, writeSpec } from "../harness/switch-ovs.ts";
import { OvsdbClient, resolveEndpoint } from "../../src/ovsdb/client.ts";
import { checkResults, GuardConflict } from "../../src/ovsdb/transact.ts";
import { Deadline } from "../../src/deadline.ts";
import { applySwitches } from "../../src/switch/apply.ts";
import { namesToRead, planSwitch } from "../../src/switch/plan.ts";
import { resolveSwitch } from "../../src/switch/spec-resolve.ts";
import { validateSpec } from "../../src/switch/spec-validate.ts";
import { readSwitch } from "../../src/switch/state.ts";

const ovs = ovsPerTest(test);

function ok(r: Result, what: string): string {
  assert.is(r.code, 0, `${what} failed (exit ${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A column of one row, as ovs-vsctl prints it. */
async function get(h: OvsHandle, table: string, record: string, column: string): Promise<string> {
  // ovs-vsctl quotes strings only when they need it: compare unquoted.
  return (await h.vsctl("get", table, record, column)).trim().replace(/^"(.*)"$/, "$1");
}

async function portsOf(h: OvsHandle, bridge: string): Promise<string[]> {
  return (await h.vsctl("list-ports", bridge)).split("\n").filter(Boolean).sort();
}

const SPEC1 = {
  version: 1,
  defaults: { datapath_type: "netdev" },
  switches: [
    {
      name: "sw1",
      mtu: 1600,
      fail_mode: "standalone",
      managed: true,
      uplinks: [
        { name: "bond0", members: ["u0", "u1"], bond_mode: "balance-slb", lacp: "active", "lacp-time": "fast", "bond-updelay": 100 },
        { name: "e3", vlans: [10, "20-22"] },
      ],
    },
  ],
};

test("plan shows the creation, apply makes it, a second apply is a no-op", async () => {
  const h = await ovs();
  await addVeths(h, ["u0", "u1", "e3"], { up: true });
  writeSpec(h, SPEC1);
  const before = await h.dump();
  const plan = ok(await switchCmd(h, "plan"), "plan");
  assert.is(
    plan,
    [
      "sw1: + bridge sw1 (datapath_type netdev, fail_mode standalone, mtu 1600)",
      "sw1: + uplink bond0: bond of u0,u1 (bond_mode balance-slb, lacp active, lacp-time fast, bond-updelay 100, vlans all)",
      "sw1: + uplink e3 (vlans 10,20-22)",
      "",
    ].join("\n"),
  );
  assert.is(await h.dump(), before, "plan changed nothing");

  const applied = ok(await switchCmd(h, "apply"), "apply");
  assert.ok(applied.startsWith(plan), applied);
  assert.match(applied, /^sw1: applied \(3 changes\)$/m);
  // The oracle: ovs-vsctl sees exactly what the spec says.
  assert.equal(await portsOf(h, "sw1"), ["bond0", "e3"]);
  assert.is(await get(h, "Bridge", "sw1", "datapath_type"), "netdev");
  assert.is(await get(h, "Bridge", "sw1", "fail_mode"), "standalone");
  assert.is(await get(h, "Bridge", "sw1", "external_ids:ovs-vif-switch"), "managed");
  assert.is(await get(h, "Interface", "sw1", "mtu_request"), "1600");
  assert.is(await get(h, "Port", "bond0", "bond_mode"), "balance-slb");
  assert.is(await get(h, "Port", "bond0", "lacp"), "active");
  assert.is(await get(h, "Port", "bond0", "other_config:lacp-time"), "fast");
  assert.is(await get(h, "Port", "bond0", "bond_updelay"), "100");
  assert.is(await get(h, "Port", "bond0", "external_ids:ovs-vif-uplink"), "sw1");
  assert.is(await get(h, "Port", "e3", "trunks"), "[10, 20, 21, 22]");
  assert.is(await get(h, "Port", "e3", "vlan_mode"), "trunk");
  for (const d of ["u0", "u1", "e3"]) {
    assert.is(await get(h, "Interface", d, "mtu_request"), "1600");
    assert.is(await get(h, "Interface", d, "error"), "[]", `${d} attached`);
    assert.ok(Number(await get(h, "Interface", d, "ofport")) > 0, `${d} has an OpenFlow port`);
  }
  const bondIfaces = (await h.vsctl("--bare", "--columns=name", "find", "Interface", "external_ids:ovs-vif-uplink=bond0")).split(/\s+/).filter(Boolean).sort();
  assert.equal(bondIfaces, ["u0", "u1"]);

  const snapshot = await h.dump();
  const again = ok(await switchCmd(h, "apply"), "second apply");
  assert.is(again, "sw1: no changes\n");
  assert.is(ok(await switchCmd(h, "plan"), "plan"), "sw1: no changes\n");
  assert.is(await h.dump(), snapshot, "second apply sent no transaction (next_cfg unchanged)");
});

test("plan after a spec edit shows exactly the change; apply makes it; members move between uplinks", async () => {
  const h = await ovs();
  await addVeths(h, ["u0", "u1", "u2", "e3"], { up: true });
  writeSpec(h, SPEC1);
  ok(await switchCmd(h, "apply"), "apply");
  // Edit: bond mode and delay, one member swapped, VLANs of e3 changed.
  const spec2 = structuredClone(SPEC1);
  spec2.switches[0]!.uplinks = [
    { name: "bond0", members: ["u0", "u2"], bond_mode: "balance-tcp", lacp: "active", "lacp-time": "fast", "bond-updelay": 100 },
    { name: "e3", vlans: [10, 30], untagged: true } as never,
  ];
  writeSpec(h, spec2);
  const before = await h.dump();
  const plan = ok(await switchCmd(h, "plan"), "plan");
  assert.is(
    plan,
    ["sw1: ~ uplink bond0: bond_mode balance-slb -> balance-tcp, members +u2 -u1", "sw1: ~ uplink e3: vlans 10,20-22 -> 10,30+untagged", ""].join("\n"),
  );
  assert.is(await h.dump(), before, "plan changed nothing");
  const applied = ok(await switchCmd(h, "apply"), "apply");
  assert.ok(applied.startsWith(plan), applied);
  assert.is(await get(h, "Port", "bond0", "bond_mode"), "balance-tcp");
  assert.is(await get(h, "Port", "e3", "trunks"), "[0, 10, 30]");
  const members = (await h.vsctl("--bare", "--columns=name", "find", "Interface", "external_ids:ovs-vif-uplink=bond0")).split(/\s+/).filter(Boolean).sort();
  assert.equal(members, ["u0", "u2"]);
  assert.is(ok(await switchCmd(h, "apply"), "apply"), "sw1: no changes\n");

  // A plain uplink becomes a bond member: the old port goes, the device is reused, one transaction.
  const spec3 = structuredClone(SPEC1);
  spec3.switches[0]!.uplinks = [{ name: "bond1", members: ["e3", "u1"], bond_mode: "active-backup" } as never, { name: "u0" } as never];
  writeSpec(h, spec3);
  assert.is(
    ok(await switchCmd(h, "plan"), "plan"),
    [
      "sw1: + uplink bond1: bond of e3,u1 (bond_mode active-backup, lacp off, vlans all)",
      "sw1: + uplink u0 (vlans all)",
      "sw1: - uplink bond0 (no longer in the spec)",
      "sw1: - uplink e3 (no longer in the spec)",
      "",
    ].join("\n"),
  );
  ok(await switchCmd(h, "apply"), "apply");
  assert.equal(await portsOf(h, "sw1"), ["bond1", "u0"]);
  for (const d of ["e3", "u1", "u0"]) assert.is(await get(h, "Interface", d, "error"), "[]", `${d} attached`);
  assert.is(ok(await switchCmd(h, "apply"), "apply"), "sw1: no changes\n");
});

test("foreign and VM ports survive apply and the removal of uplinks; remove refuses while they remain", async () => {
  const h = await ovs();
  await addVeths(h, ["u0", "u1", "e3"], { up: true });
  writeSpec(h, SPEC1);
  ok(await switchCmd(h, "apply"), "apply");
  // A foreign port (an admin's internal port) and a VM port (as Xen's stock script makes it).
  await h.vsctl("add-port", "sw1", "foo0", "--", "set", "Interface", "foo0", "type=internal");
  await h.addTap("vm1tap0");
  await h.vsctl(
    "add-port",
    "sw1",
    "vm1tap0",
    "tag=10",
    "--",
    "set",
    "Interface",
    "vm1tap0",
    "external_ids:attached-mac=aa:00:00:00:00:01",
    "external_ids:xen-vm-name=vm1",
  );
  const foo = await h.vsctl("--columns=_uuid,name,tag,interfaces,external_ids", "list", "Port", "foo0");
  const vm = await h.vsctl("--columns=_uuid,name,tag,interfaces,external_ids", "list", "Port", "vm1tap0");

  assert.is(ok(await switchCmd(h, "apply"), "apply"), "sw1: no changes\n", "other ports are not changes");
  // The spec drops every uplink: only ovs-vif's own ports go.
  const spec2 = structuredClone(SPEC1);
  spec2.switches[0]!.uplinks = [];
  writeSpec(h, spec2);
  assert.is(ok(await switchCmd(h, "plan"), "plan"), "sw1: - uplink bond0 (no longer in the spec)\nsw1: - uplink e3 (no longer in the spec)\n");
  ok(await switchCmd(h, "apply"), "apply");
  assert.equal(await portsOf(h, "sw1"), ["foo0", "vm1tap0"]);
  assert.is(await h.vsctl("--columns=_uuid,name,tag,interfaces,external_ids", "list", "Port", "foo0"), foo, "foreign port untouched");
  assert.is(await h.vsctl("--columns=_uuid,name,tag,interfaces,external_ids", "list", "Port", "vm1tap0"), vm, "VM port untouched");

  const show = ok(await switchCmd(h, "show"), "show");
  assert.match(show, /^sw1: datapath_type netdev, fail_mode standalone, mtu 1600, ovs-vif-switch managed, in spec \(managed\)$/m);
  assert.match(show, /other ports: foo0 \(foreign\), vm1tap0 \(VM\)/);

  const refused = await switchCmd(h, "remove", "sw1");
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /switch "sw1": not removed: ports remain on it that ovs-vif does not own: foo0 \(foreign port\), vm1tap0 \(VM port\)/);
  assert.equal(await portsOf(h, "sw1"), ["foo0", "vm1tap0"]);
  await h.vsctl("del-port", "sw1", "foo0");
  await h.vsctl("del-port", "sw1", "vm1tap0");
  assert.is(ok(await switchCmd(h, "remove", "sw1"), "remove"), "sw1: removed\n");
  assert.is((await h.vsctl("list-br")).trim(), "");
});

test("a device held by a foreign port, or a VM port named as an uplink, is refused and nothing changes", async () => {
  const h = await ovs();
  await addVeths(h, ["u0", "u1", "e3"], { up: true });
  await h.addBridge("sw1");
  await h.vsctl("add-port", "sw1", "u1");
  await h.addTap("vm2tap0");
  await h.vsctl("add-port", "sw1", "vm2tap0", "--", "set", "Port", "vm2tap0", "external_ids:ovs-vif-owner=ganeti");
  writeSpec(h, SPEC1);
  const before = await h.dump();
  const r = await switchCmd(h, "apply");
  assert.is(r.code, 1);
  assert.match(r.stderr, /sw1 uplink bond0 device "u1": already attached as port u1 of bridge sw1 \(not an uplink ovs-vif manages there\); remove it first/);
  assert.is(await h.dump(), before);

  const spec2 = structuredClone(SPEC1);
  spec2.switches[0]!.uplinks = [{ name: "vm2tap0" } as never];
  writeSpec(h, spec2);
  const r2 = await switchCmd(h, "apply");
  assert.is(r2.code, 1);
  assert.match(r2.stderr, /sw1 uplink "vm2tap0": is a VM port on this bridge; ovs-vif will not take it over/);
  assert.is(await h.dump(), before);

  // A foreign port with an uplink's name is adopted (changed to the spec and marked), not re-created.
  const spec3 = structuredClone(SPEC1);
  spec3.switches[0]!.uplinks = [{ name: "u1", vlans: [5] } as never];
  writeSpec(h, spec3);
  const uuid = await get(h, "Port", "u1", "_uuid");
  assert.is(
    ok(await switchCmd(h, "plan"), "plan"),
    "sw1: ~ bridge sw1: ovs-vif-switch (unset) -> managed, mtu (unset) -> 1600\nsw1: ~ uplink u1: adopt existing port (mark ovs-vif-uplink=sw1), vlans all -> 5, u1 mtu (unset) -> 1600\n",
  );
  ok(await switchCmd(h, "apply"), "apply");
  assert.is(await get(h, "Port", "u1", "_uuid"), uuid);
  assert.is(await get(h, "Port", "u1", "trunks"), "[5]");
  assert.is(await get(h, "Port", "u1", "external_ids:ovs-vif-uplink"), "sw1");
  assert.is(ok(await switchCmd(h, "apply"), "apply"), "sw1: no changes\n");
});

test("an invalid spec (balance-tcp with lacp off) is refused before OVSDB is touched", async () => {
  const h = await ovs();
  await addVeths(h, ["u0", "u1"], { up: true });
  const spec = structuredClone(SPEC1);
  spec.switches[0]!.uplinks = [{ name: "bond0", members: ["u0", "u1"], bond_mode: "balance-tcp", lacp: "off" } as never];
  const file = writeSpec(h, spec);
  const before = await h.dump();
  for (const action of ["plan", "apply"]) {
    const r = await switchCmd(h, action);
    assert.is(r.code, 1, action);
    assert.ok(r.stderr.includes(`${file}: switches[0].uplinks[0].lacp "off": balance-tcp requires LACP`), r.stderr);
  }
  assert.is(await h.dump(), before);
});

test("per-node overrides pick the node's uplinks; --dry-run prints the transaction and changes nothing", async () => {
  const h = await ovs();
  await addVeths(h, ["u0", "u1", "e3"], { up: true });
  const spec = structuredClone(SPEC1) as typeof SPEC1 & { switches: { overrides?: unknown }[] };
  spec.switches[0]!.overrides = { nodes: { "node2.example.com": { uplinks: [{ name: "e3" }] } }, groups: { rack9: { mtu: 1700 } } };
  writeSpec(h, spec);
  const before = await h.dump();
  const dry = await switchCmd(h, "apply", "--dry-run", "--node", "node2.example.com", "--group", "rack9");
  assert.is(dry.code, 0, dry.stderr);
  const txn = JSON.parse(dry.stdout) as { method: string; params: unknown[] };
  assert.is(txn.method, "transact");
  assert.is(txn.params[0], "Open_vSwitch");
  assert.ok(JSON.stringify(txn.params).includes('"name":"e3"'));
  assert.is(await h.dump(), before, "dry run changed nothing");
  const out = ok(await switchCmd(h, "apply", "--node", "node2.example.com", "--group", "rack9"), "apply");
  assert.match(out, /^sw1: \+ bridge sw1 \(datapath_type netdev, fail_mode standalone, mtu 1700\)$/m);
  assert.equal(await portsOf(h, "sw1"), ["e3"]);
  assert.is(await get(h, "Interface", "e3", "mtu_request"), "1700");
  // Another node, same group: the base uplinks replace the override's.
  assert.is(
    ok(await switchCmd(h, "plan", "--node", "node1.example.com", "--group", "rack9"), "plan"),
    "sw1: + uplink bond0: bond of u0,u1 (bond_mode balance-slb, lacp active, lacp-time fast, bond-updelay 100, vlans all)\nsw1: ~ uplink e3: vlans all -> 10,20-22\n",
  );
});

test("a concurrent change between read and commit fails the guard; a fresh read then applies on top of it", async () => {
  const h = await ovs();
  await addVeths(h, ["u0", "u1", "e3"], { up: true });
  writeSpec(h, SPEC1);
  ok(await switchCmd(h, "apply"), "apply");
  const spec2 = structuredClone(SPEC1);
  spec2.switches[0]!.uplinks = [spec2.switches[0]!.uplinks[0]!];
  const desired = resolveSwitch(validateSpec(spec2, "spec.json"), "sw1", {});
  const client = await OvsdbClient.connect(resolveEndpoint(`unix:${h.dbSock}`), 5000);
  try {
    const deadline = new Deadline(20000);
    const names = namesToRead(desired);
    const plan = planSwitch(desired, await readSwitch(client, "sw1", names.ports, names.devices, deadline));
    assert.equal(plan.changes, ["- uplink e3 (no longer in the spec)"]);
    // Someone attaches a VM between our read and our commit.
    await h.addTap("vm3tap0");
    await h.vsctl("add-port", "sw1", "vm3tap0");
    const before = await h.dump();
    const results = await client.transact(plan.ops, deadline.left());
    assert.throws(
      () => checkResults(plan.ops, results, "apply sw1"),
      (err: unknown) => err instanceof GuardConflict,
    );
    assert.is(await h.dump(), before, "the guarded transaction changed nothing");
    // apply re-reads and commits on top of the concurrent change.
    const [outcome] = await applySwitches(client, [desired], { deadline, wait: true });
    assert.equal(outcome?.plan.changes, ["- uplink e3 (no longer in the spec)"]);
    assert.equal(await portsOf(h, "sw1"), ["bond0", "vm3tap0"]);
  } finally {
    client.close();
  }
});

test.run();
