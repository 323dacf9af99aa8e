// Pure pieces of the OVSDB client and the Xen hook, without a server:
// JsonSplitter (src/ovsdb/json-stream.ts), the attach/detach transaction
// builders (src/ovsdb/port-ops.ts, src/port.ts), and the Xen hotplug contract
// (src/sources/xen.ts: parseXenInvocation, targetDeviceName, xenDesiredPort).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InputError } from "../../src/errors.ts";
import type { Json } from "../../src/ovsdb/client.ts";
import { JsonSplitter } from "../../src/ovsdb/json-stream.ts";
import { attachOps, detachOps, type AttachState } from "../../src/ovsdb/port-ops.ts";
import { effectivePolicing, OWNER_KEY, portColumns, type DesiredPort } from "../../src/port.ts";
import { NO_POLICING } from "../../src/qos.ts";
import { parseXenInvocation, targetDeviceName, xenDesiredPort, type XenInvocation, type XenVifKeys } from "../../src/sources/xen.ts";
import type { VlanSpec } from "../../src/vlan.ts";

function expectInputError(fn: () => unknown, field: string, value?: string, reasonPattern?: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof InputError)) {
    assert.unreachable(`expected an InputError about ${field}, got ${caught === undefined ? "no error" : String(caught)}`);
    throw new Error("unreachable");
  }
  assert.is(caught.field, field, "field");
  if (value !== undefined) {
    assert.is(caught.value, value, "value");
    assert.ok(caught.message.includes(JSON.stringify(value)), `message ${JSON.stringify(caught.message)} names the value`);
  }
  assert.ok(caught.message.includes(field), `message ${JSON.stringify(caught.message)} names the field`);
  if (reasonPattern) assert.match(caught.reason, reasonPattern);
  return caught;
}

// --- JsonSplitter --------------------------------------------------------------

function pushAll(s: JsonSplitter, chunks: Array<string | Buffer>): Json[] {
  const out: Json[] = [];
  for (const c of chunks) out.push(...s.push(typeof c === "string" ? Buffer.from(c, "utf8") : c));
  return out;
}

function bytewise(text: string): Buffer[] {
  const b = Buffer.from(text, "utf8");
  return Array.from(b, (byte) => Buffer.from([byte]));
}

const tricky: Json[] = [
  { id: 1, method: "echo", params: [] },
  { id: 2, result: [{ rows: [{ name: "a{b}c[d]e" }] }], error: null },
  { s: 'quote " inside', t: "backslash \\ inside", u: "both \\\" and \\\\", v: "\\" },
  { s: "}}}]]]", t: "{{{[[[", u: '"{"', w: "\"}\"" },
  [1, [2, [3, [4, []]]], { a: [{ b: [] }] }],
  { unicode: "br\u00fc\u{1F600}{", nl: "line\nbreak", tab: "\t" },
  { id: null, method: "update", params: [null, { Interface: { x: { new: { name: "vif5.0" } } } }] },
];

test("JsonSplitter: two messages in one chunk", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ['{"id":1,"result":[]}{"id":2,"result":[{}]}']), [
    { id: 1, result: [] },
    { id: 2, result: [{}] },
  ]);
});

test("JsonSplitter: every tricky message in one chunk", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, [tricky.map((m) => JSON.stringify(m)).join("")]), tricky);
});

test("JsonSplitter: every message split into 1-byte chunks", () => {
  const s = new JsonSplitter();
  const out: Json[] = [];
  const text = tricky.map((m) => JSON.stringify(m)).join("");
  const chunks = bytewise(text);
  for (let i = 0; i < chunks.length; i++) {
    const got = s.push(chunks[i]!);
    out.push(...got);
  }
  assert.equal(out, tricky);
});

test("JsonSplitter: a message is emitted exactly when its last byte arrives", () => {
  const s = new JsonSplitter();
  const text = '{"a":"}","b":["]"]}';
  const chunks = bytewise(text);
  for (let i = 0; i < chunks.length - 1; i++) assert.equal(s.push(chunks[i]!), [], `byte ${i}`);
  assert.equal(s.push(chunks[chunks.length - 1]!), [{ a: "}", b: ["]"] }]);
});

test("JsonSplitter: splits at every position of a two-message stream", () => {
  const text = '{"x":"a\\"b{"} \n[1,{"y":"\\\\"}]';
  const want: Json[] = [{ x: 'a"b{' }, [1, { y: "\\" }]];
  const b = Buffer.from(text);
  for (let cut = 0; cut <= b.length; cut++) {
    const s = new JsonSplitter();
    assert.equal(pushAll(s, [b.subarray(0, cut), b.subarray(cut)]), want, `cut at ${cut}`);
  }
});

test("JsonSplitter: a multibyte UTF-8 character split across chunks", () => {
  const text = JSON.stringify({ name: "\u00e9\u{1F600}" });
  const s = new JsonSplitter();
  assert.equal(pushAll(s, bytewise(text)), [{ name: "\u00e9\u{1F600}" }]);
});

test("JsonSplitter: escaped quote then brace inside a string split exactly at the backslash", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ['{"a":"x\\', '"}', '"}']), [{ a: 'x"}' }]);
  const s2 = new JsonSplitter();
  // An escaped backslash ends the escape: the next quote closes the string.
  assert.equal(pushAll(s2, ['{"a":"x\\', '\\', '"}']), [{ a: "x\\" }]);
});

test("JsonSplitter: whitespace and newlines between (and around) messages", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ["  \n", '{"a":1}\r\n\t ', " ", '\n{"b":\n[ 2 ,\n3 ]}\n', "  "]), [{ a: 1 }, { b: [2, 3] }]);
  assert.equal(pushAll(s, ['{"c":3}']), [{ c: 3 }]);
});

test("JsonSplitter: state carries over many pushes (partial, complete + partial, complete)", () => {
  const s = new JsonSplitter();
  assert.equal(s.push(Buffer.from('{"a":')), []);
  assert.equal(s.push(Buffer.from('1}{"b":[')), [{ a: 1 }]);
  assert.equal(s.push(Buffer.from("2]")), []);
  assert.equal(s.push(Buffer.from('}  {"c"')), [{ b: [2] }]);
  assert.equal(s.push(Buffer.from(':"}"}')), [{ c: "}" }]);
  assert.equal(s.push(Buffer.alloc(0)), []);
});

test("JsonSplitter: nested arrays as top-level messages", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ["[[[]]][[1],[2,[3]]]", "[]"]), [[[[]]], [[1], [2, [3]]], []]);
});

test("JsonSplitter: an unbalanced closing bracket throws", () => {
  assert.throws(() => new JsonSplitter().push(Buffer.from("}")), /unbalanced/);
  assert.throws(() => new JsonSplitter().push(Buffer.from("]")), /unbalanced/);
  assert.throws(() => new JsonSplitter().push(Buffer.from('{"a":1}}')), /unbalanced/);
  const s = new JsonSplitter();
  assert.equal(s.push(Buffer.from('{"a":[1]}')), [{ a: [1] }]);
  assert.throws(() => s.push(Buffer.from("]")), /unbalanced/);
});

test("JsonSplitter: a closing bracket inside a string is not unbalanced", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ['{"a":"]}]}"}']), [{ a: "]}]}" }]);
});

// --- attachOps / detachOps -----------------------------------------------------

const IFACE_UUID = ["named-uuid", "iface"];
const PORT_UUID = ["named-uuid", "port"];
const EMPTY_SET = ["set", []];

function desiredPort(vlan: VlanSpec, extra: Partial<DesiredPort> = {}): DesiredPort {
  return {
    bridge: "sw1",
    name: "vif5.0",
    vlan,
    interfaceIds: { "xen-vm-name": "web", "attached-mac": "00:16:3e:aa:bb:cc" },
    owner: "xen",
    policing: { rate: 10000, burst: 8000 },
    ...extra,
  };
}

type Op = { [key: string]: Json };

function asOps(ops: Json[]): Op[] {
  return ops.map((op) => {
    if (op === null || typeof op !== "object" || Array.isArray(op)) throw new Error(`not an operation: ${JSON.stringify(op)}`);
    return op;
  });
}

function opAt(ops: Op[], i: number): Op {
  const op = ops[i];
  if (op === undefined) throw new Error(`no operation ${i} in ${JSON.stringify(ops)}`);
  return op;
}

function rowOf(op: Op): { [key: string]: Json } {
  const row = op.row;
  if (row === null || row === undefined || typeof row !== "object" || Array.isArray(row)) throw new Error(`no row in ${JSON.stringify(op)}`);
  return row;
}

function waitGuard(table: string, name: string, uuids: string[]): Json {
  return { op: "wait", table, where: [["name", "==", name]], columns: ["_uuid"], until: "==", rows: uuids.map((u) => ({ _uuid: ["uuid", u] })), timeout: 0 };
}

const BUMP: Json[] = [
  { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
  { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] },
];

const vlanForms: Array<[string, VlanSpec, string, Json, Json]> = [
  // name, spec, vlan_mode, tag, trunks
  ["untagged", { trunks: [] }, "access", EMPTY_SET, EMPTY_SET],
  ["access 3", { native: 3, trunks: [] }, "access", 3, EMPTY_SET],
  ["trunk 10,20", { trunks: [10, 20] }, "trunk", EMPTY_SET, ["set", [10, 20]]],
  ["hybrid 3+10,20", { native: 3, trunks: [10, 20] }, "native-untagged", 3, ["set", [10, 20]]],
  ["trunk 4094", { trunks: [4094] }, "trunk", EMPTY_SET, ["set", [4094]]],
];

for (const [label, vlan, mode, tag, trunks] of vlanForms) {
  test(`attachOps ${label}: Port row has vlan_mode=${mode}, tag, trunks`, () => {
    const ops = asOps(attachOps(desiredPort(vlan), { bridgeUuid: "b-uuid", sameNamePorts: [] }, "ovs-vif: attach"));
    const port = ops.find((op) => op.op === "insert" && op.table === "Port");
    if (!port) throw new Error("no Port insert");
    const row = rowOf(port);
    assert.is(row.vlan_mode, mode);
    assert.equal(row.tag, tag);
    assert.equal(row.trunks, trunks);
    assert.is(row.name, "vif5.0");
    assert.equal(row.interfaces, IFACE_UUID);
    assert.equal(row.external_ids, ["map", [[OWNER_KEY, "xen"]]]);
    assert.is(port["uuid-name"], "port");
  });
}

test("attachOps without same-name ports: guards, inserts, bridge mutate, next_cfg, comment", () => {
  const desired = desiredPort({ native: 3, trunks: [10, 20] });
  const state: AttachState = { bridgeUuid: "b-uuid", sameNamePorts: [] };
  const ops = asOps(attachOps(desired, state, "ovs-vif: attach vif5.0"));
  assert.equal(ops.map((o) => `${String(o.op)} ${String(o.table ?? "")}`.trim()), [
    "wait Bridge",
    "wait Port",
    "insert Interface",
    "insert Port",
    "mutate Bridge",
    "mutate Open_vSwitch",
    "select Open_vSwitch",
    "comment",
  ]);
  assert.equal(opAt(ops, 0), waitGuard("Bridge", "sw1", ["b-uuid"]));
  // No same-name port: the guard waits for "no rows" (rows: []).
  assert.equal(opAt(ops, 1), waitGuard("Port", "vif5.0", []));
  // No ports delete when there is nothing to delete.
  assert.not.ok(ops.some((o) => o.op === "mutate" && o.table === "Bridge" && JSON.stringify(o.mutations).includes('"delete"')));
  assert.equal(opAt(ops, 2), {
    op: "insert",
    table: "Interface",
    row: {
      name: "vif5.0",
      external_ids: ["map", [["attached-mac", "00:16:3e:aa:bb:cc"], ["xen-vm-name", "web"]]],
      ingress_policing_rate: 10000,
      ingress_policing_burst: 8000,
      mtu_request: EMPTY_SET,
    },
    "uuid-name": "iface",
  });
  assert.equal(opAt(ops, 3), {
    op: "insert",
    table: "Port",
    row: {
      name: "vif5.0",
      vlan_mode: "native-untagged",
      tag: 3,
      trunks: ["set", [10, 20]],
      external_ids: ["map", [[OWNER_KEY, "xen"]]],
      interfaces: IFACE_UUID,
    },
    "uuid-name": "port",
  });
  assert.equal(opAt(ops, 4), {
    op: "mutate",
    table: "Bridge",
    where: [["_uuid", "==", ["uuid", "b-uuid"]]],
    mutations: [["ports", "insert", ["set", [PORT_UUID]]]],
  });
  assert.equal(ops.slice(5, 7), BUMP);
  assert.equal(opAt(ops, 7), { op: "comment", comment: "ovs-vif: attach vif5.0" });
});

test("attachOps with same-name ports: guard lists them and they are deleted from every bridge first", () => {
  const ops = asOps(attachOps(desiredPort({ trunks: [] }), { bridgeUuid: "b-uuid", sameNamePorts: ["p-1", "p-2"] }, "c"));
  assert.equal(opAt(ops, 0), waitGuard("Bridge", "sw1", ["b-uuid"]));
  assert.equal(opAt(ops, 1), waitGuard("Port", "vif5.0", ["p-1", "p-2"]));
  assert.equal(opAt(ops, 2), {
    op: "mutate",
    table: "Bridge",
    where: [],
    mutations: [["ports", "delete", ["set", [["uuid", "p-1"], ["uuid", "p-2"]]]]],
  });
  // The delete comes before the inserts of the replacement rows.
  const deleteAt = 2;
  const ifaceAt = ops.findIndex((o) => o.op === "insert" && o.table === "Interface");
  const portAt = ops.findIndex((o) => o.op === "insert" && o.table === "Port");
  const addAt = ops.findIndex((o) => o.op === "mutate" && o.table === "Bridge" && JSON.stringify(o.mutations).includes('"insert"'));
  assert.ok(deleteAt < ifaceAt && ifaceAt < portAt && portAt < addAt, JSON.stringify({ deleteAt, ifaceAt, portAt, addAt }));
  assert.equal(ops.slice(addAt + 1, addAt + 3), BUMP);
  assert.is(ops.length, 9);
});

test("attachOps: mtu_request is the explicit MTU, else the bridge MTU, else the empty set", () => {
  const iface = (desired: DesiredPort, state: AttachState): { [key: string]: Json } => {
    const op = asOps(attachOps(desired, state, "c")).find((o) => o.op === "insert" && o.table === "Interface");
    if (!op) throw new Error("no Interface insert");
    return rowOf(op);
  };
  const state: AttachState = { bridgeUuid: "b", sameNamePorts: [] };
  assert.is(iface(desiredPort({ trunks: [] }, { mtu: 9000 }), { ...state, bridgeMtu: 1500 }).mtu_request, 9000);
  assert.is(iface(desiredPort({ trunks: [] }, { mtu: 9000 }), state).mtu_request, 9000);
  assert.is(iface(desiredPort({ trunks: [] }), { ...state, bridgeMtu: 1450 }).mtu_request, 1450);
  assert.equal(iface(desiredPort({ trunks: [] }), state).mtu_request, EMPTY_SET);
});

test("attachOps: policing columns are always set (0/0 when disabled) and external_ids is an OVSDB map", () => {
  const ops = asOps(attachOps(desiredPort({ trunks: [] }, { policing: { ...NO_POLICING }, interfaceIds: {} }), { bridgeUuid: "b", sameNamePorts: [] }, "c"));
  const op = ops.find((o) => o.op === "insert" && o.table === "Interface");
  if (!op) throw new Error("no Interface insert");
  const row = rowOf(op);
  assert.is(row.ingress_policing_rate, 0);
  assert.is(row.ingress_policing_burst, 0);
  assert.equal(row.external_ids, ["map", []]);
  const ops2 = asOps(attachOps(desiredPort({ trunks: [] }, { interfaceIds: { z: "1", a: "2", m: "3" } }), { bridgeUuid: "b", sameNamePorts: [] }, "c"));
  const op2 = ops2.find((o) => o.op === "insert" && o.table === "Interface");
  if (!op2) throw new Error("no Interface insert");
  assert.equal(rowOf(op2).external_ids, ["map", [["a", "2"], ["m", "3"], ["z", "1"]]]);
});

test("attachOps is JSON-clean (round-trips through JSON.stringify unchanged)", () => {
  const ops = attachOps(desiredPort({ native: 3, trunks: [10] }, { mtu: 1500 }), { bridgeUuid: "b", sameNamePorts: ["p"], bridgeMtu: 9000 }, "c");
  assert.equal(JSON.parse(JSON.stringify(ops)), ops);
});

test("detachOps: guard, delete from every bridge, next_cfg, comment", () => {
  const ops = asOps(detachOps("vif5.0", ["p-1", "p-2"], "ovs-vif: detach vif5.0"));
  assert.equal(ops, [
    waitGuard("Port", "vif5.0", ["p-1", "p-2"]),
    { op: "mutate", table: "Bridge", where: [], mutations: [["ports", "delete", ["set", [["uuid", "p-1"], ["uuid", "p-2"]]]]] },
    ...BUMP,
    { op: "comment", comment: "ovs-vif: detach vif5.0" },
  ] as Json[]);
});

test("portColumns: VLAN columns, owner key, interface ids copied", () => {
  const ids = { "iface-id": "x" };
  const cols = portColumns(desiredPort({ native: 7, trunks: [8] }, { interfaceIds: ids, owner: "ganeti" }), 9000);
  assert.equal(cols.port, { vlan_mode: "native-untagged", tag: 7, trunks: [8], external_ids: { [OWNER_KEY]: "ganeti" } });
  assert.equal(cols.iface, { external_ids: { "iface-id": "x" }, ingress_policing_rate: 10000, ingress_policing_burst: 8000, mtu_request: 9000 });
  cols.iface.external_ids.extra = "y";
  assert.equal(ids, { "iface-id": "x" });
  const plain = portColumns(desiredPort({ trunks: [] }));
  assert.not.ok("tag" in plain.port);
  assert.not.ok("mtu_request" in plain.iface);
});

// --- parseXenInvocation --------------------------------------------------------

const BACKEND = "/local/domain/0/backend/vif/5/0";
const VIF_ENV = { vif: "vif5.0", XENBUS_PATH: BACKEND };

test("parseXenInvocation: online/offline of a PV vif", () => {
  for (const command of ["online", "offline"] as const) {
    const inv = parseXenInvocation([command, "bridge=sw1.3", "type_if=vif"], VIF_ENV);
    assert.equal(inv, { command, typeIf: "vif", device: "vif5.0", xenbusPath: BACKEND, vars: { bridge: "sw1.3", type_if: "vif" } });
    // type_if defaults to vif.
    assert.equal(parseXenInvocation([command], VIF_ENV), { command, typeIf: "vif", device: "vif5.0", xenbusPath: BACKEND, vars: {} });
  }
});

test("parseXenInvocation: key=value arguments keep '=' in values", () => {
  const inv = parseXenInvocation(["online", "script=/etc/xen/scripts/x", "extra=a=b"], VIF_ENV);
  assert.equal(inv?.vars, { script: "/etc/xen/scripts/x", extra: "a=b" });
});

test("parseXenInvocation: the no-op pairs return undefined", () => {
  assert.is(parseXenInvocation(["online", "type_if=tap"], { INTERFACE: "vif5.0-emu" }), undefined);
  assert.is(parseXenInvocation(["offline", "type_if=tap"], {}), undefined);
  assert.is(parseXenInvocation(["add"], VIF_ENV), undefined);
  assert.is(parseXenInvocation(["remove"], {}), undefined);
  assert.is(parseXenInvocation(["add", "type_if=vif"], {}), undefined);
});

test("parseXenInvocation: tap twin derives XENBUS_PATH from INTERFACE vifD.N-emu", () => {
  for (const command of ["add", "remove"] as const) {
    const inv = parseXenInvocation([command, "type_if=tap"], { INTERFACE: "vif5.0-emu" });
    assert.equal(inv, { command, typeIf: "tap", device: "vif5.0-emu", xenbusPath: BACKEND, vars: { type_if: "tap" } });
  }
  const inv = parseXenInvocation(["add", "type_if=tap"], { INTERFACE: "vif12.3-emu", XENBUS_PATH: "/elsewhere" });
  assert.is(inv?.xenbusPath, "/local/domain/0/backend/vif/12/3");
});

test("parseXenInvocation: tap with another name falls back to XENBUS_PATH", () => {
  const inv = parseXenInvocation(["add", "type_if=tap"], { INTERFACE: "web0-emu", XENBUS_PATH: BACKEND });
  assert.is(inv?.xenbusPath, BACKEND);
  assert.is(inv?.device, "web0-emu");
});

test("parseXenInvocation: bad input throws InputError naming the field", () => {
  expectInputError(() => parseXenInvocation([], VIF_ENV), "command", "");
  expectInputError(() => parseXenInvocation(["start"], VIF_ENV), "command", "start");
  expectInputError(() => parseXenInvocation(["ONLINE"], VIF_ENV), "command", "ONLINE");
  expectInputError(() => parseXenInvocation(["online", "type_if=qemu"], VIF_ENV), "type_if", "qemu");
  expectInputError(() => parseXenInvocation(["online", "type_if="], VIF_ENV), "type_if", "");
  expectInputError(() => parseXenInvocation(["online", "bridge"], VIF_ENV), "argument", "bridge");
  expectInputError(() => parseXenInvocation(["online", "=sw1"], VIF_ENV), "argument", "=sw1");
  expectInputError(() => parseXenInvocation(["online"], { XENBUS_PATH: BACKEND }), "vif", "");
  expectInputError(() => parseXenInvocation(["online"], { vif: "vif5.0;reboot", XENBUS_PATH: BACKEND }), "vif", "vif5.0;reboot");
  expectInputError(() => parseXenInvocation(["online"], { vif: "vif5.0" }), "XENBUS_PATH", "");
  expectInputError(() => parseXenInvocation(["online"], { vif: "vif5.0", XENBUS_PATH: "local/domain/0/backend/vif/5/0" }), "XENBUS_PATH", "local/domain/0/backend/vif/5/0");
  expectInputError(() => parseXenInvocation(["add", "type_if=tap"], {}), "INTERFACE", "");
  expectInputError(() => parseXenInvocation(["add", "type_if=tap"], { INTERFACE: "tap0" }), "INTERFACE", "tap0");
  expectInputError(() => parseXenInvocation(["add", "type_if=tap"], { INTERFACE: "a/b" }), "INTERFACE", "a/b");
});

// --- targetDeviceName ----------------------------------------------------------

function invocation(typeIf: "vif" | "tap", vars: Record<string, string> = {}): XenInvocation {
  const inv =
    typeIf === "vif"
      ? parseXenInvocation(["online", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], VIF_ENV)
      : parseXenInvocation(["add", "type_if=tap", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], { INTERFACE: "vif5.0-emu" });
  if (!inv) throw new Error("expected an invocation");
  return inv;
}

test("targetDeviceName: without vifname the device keeps its name", () => {
  assert.is(targetDeviceName(invocation("vif"), {}), "vif5.0");
  assert.is(targetDeviceName(invocation("tap"), {}), "vif5.0-emu");
  assert.is(targetDeviceName(invocation("vif"), { vifname: "" }), "vif5.0");
});

test("targetDeviceName: vifname renames the vif; the tap twin gets -emu", () => {
  assert.is(targetDeviceName(invocation("vif"), { vifname: "web0" }), "web0");
  assert.is(targetDeviceName(invocation("tap"), { vifname: "web0" }), "web0-emu");
});

test("targetDeviceName: a bad vifname is an InputError on the xenstore key", () => {
  expectInputError(() => targetDeviceName(invocation("vif"), { vifname: "web;0" }), `${BACKEND}/vifname`, "web;0");
  expectInputError(() => targetDeviceName(invocation("vif"), { vifname: "abcdefghijklmnop" }), `${BACKEND}/vifname`, "abcdefghijklmnop");
  // 12 characters is fine for the vif but its twin would be 16.
  assert.is(targetDeviceName(invocation("vif"), { vifname: "abcdefghijkl" }), "abcdefghijkl");
  expectInputError(() => targetDeviceName(invocation("tap"), { vifname: "abcdefghijkl" }), `${BACKEND}/vifname`, "abcdefghijkl-emu");
});

// --- xenDesiredPort ------------------------------------------------------------

test("xenDesiredPort: bridge and VLAN from the xenstore bridge key", () => {
  const { desired, vlanSource } = xenDesiredPort(invocation("vif"), { bridge: "sw1.3:10:20" }, "vif5.0");
  assert.is(vlanSource, "bridge");
  assert.equal(desired, { bridge: "sw1", bridgeField: "/local/domain/0/backend/vif/5/0/bridge", name: "vif5.0", vlan: { native: 3, trunks: [10, 20] }, interfaceIds: {}, owner: "xen", qos: [{ name: "xenstore /local/domain/0/backend/vif/5/0/rate" }] });
  assert.equal(effectivePolicing(desired).policing, { rate: 0, burst: 0 }, "no rate key, no defaults: no policing");
});

test("xenDesiredPort: the xenstore bridge key wins over the bridge= argument", () => {
  const { desired } = xenDesiredPort(invocation("vif", { bridge: "other.9" }), { bridge: "sw1.3" }, "vif5.0");
  assert.is(desired.bridge, "sw1");
  assert.equal(desired.vlan, { native: 3, trunks: [] });
});

test("xenDesiredPort: falls back to the bridge= argument", () => {
  const { desired } = xenDesiredPort(invocation("vif", { bridge: "other:9" }), {}, "vif5.0");
  assert.is(desired.bridge, "other");
  assert.equal(desired.vlan, { trunks: [9] });
});

test("xenDesiredPort: the backend vlan key wins over the bridge suffix", () => {
  const r = xenDesiredPort(invocation("vif"), { bridge: "sw1.3:10", vlan: "7pu/8-9" }, "vif5.0");
  assert.is(r.vlanSource, "vlan");
  assert.is(r.desired.bridge, "sw1");
  assert.equal(r.desired.vlan, { native: 7, trunks: [8, 9] });
  const r2 = xenDesiredPort(invocation("vif"), { bridge: "sw1", vlan: "42" }, "vif5.0");
  assert.equal(r2.desired.vlan, { native: 42, trunks: [] });
});

test("xenDesiredPort: external ids and MTU", () => {
  const keys: XenVifKeys = { bridge: "sw1", vmName: "web", vmUuid: "7d6c9e4e-0b3c-4b5f-9a1e-2f1b3c4d5e6f", mac: "00:16:3E:AA:BB:CC", mtu: "9000" };
  const { desired } = xenDesiredPort(invocation("vif"), keys, "web0");
  assert.is(desired.name, "web0");
  assert.equal(desired.interfaceIds, {
    "xen-vm-name": "web",
    "xen-vm-uuid": "7d6c9e4e-0b3c-4b5f-9a1e-2f1b3c4d5e6f",
    "attached-mac": "00:16:3e:aa:bb:cc",
  });
  assert.is(desired.mtu, 9000);
  assert.is(desired.owner, "xen");
  assert.equal(effectivePolicing(desired).policing, { rate: 0, burst: 0 });
  const bare = xenDesiredPort(invocation("vif"), { bridge: "sw1" }, "vif5.0").desired;
  assert.not.ok("mtu" in bare);
  assert.equal(bare.interfaceIds, {});
});

test("xenDesiredPort: bad keys throw InputError on the xenstore key", () => {
  const inv = invocation("vif");
  expectInputError(() => xenDesiredPort(inv, {}, "vif5.0"), "bridge", "", /bridge/);
  expectInputError(() => xenDesiredPort(invocation("vif", { bridge: "" }), {}, "vif5.0"), "bridge", "");
  expectInputError(() => xenDesiredPort(invocation("vif", { bridge: "sw1.0" }), {}, "vif5.0"), "bridge", "sw1.0");
  expectInputError(() => xenDesiredPort(inv, { bridge: "sw1;reboot" }, "vif5.0"), `${BACKEND}/bridge`, "sw1;reboot");
  expectInputError(() => xenDesiredPort(inv, { bridge: "sw1", vlan: "10p" }, "vif5.0"), `${BACKEND}/vlan`, "10p");
  expectInputError(() => xenDesiredPort(inv, { bridge: "sw1", mac: "zz" }, "vif5.0"), `${BACKEND}/mac`, "zz");
  expectInputError(() => xenDesiredPort(inv, { bridge: "sw1", mtu: "9000x" }, "vif5.0"), `${BACKEND}/mtu`, "9000x");
  expectInputError(() => xenDesiredPort(inv, { bridge: "sw1", mtu: "10" }, "vif5.0"), `${BACKEND}/mtu`, "10");
});

test("xenDesiredPort feeds attachOps: Xen bridge string to Port columns end to end", () => {
  const { desired } = xenDesiredPort(invocation("vif"), { bridge: "sw1.3:10:20", mac: "00:16:3e:00:00:01" }, "vif5.0");
  const ops = asOps(attachOps(desired, { bridgeUuid: "b", sameNamePorts: [], bridgeMtu: 1500 }, "c"));
  const port = ops.find((o) => o.op === "insert" && o.table === "Port");
  const iface = ops.find((o) => o.op === "insert" && o.table === "Interface");
  if (!port || !iface) throw new Error("missing inserts");
  assert.is(rowOf(port).vlan_mode, "native-untagged");
  assert.is(rowOf(port).tag, 3);
  assert.equal(rowOf(port).trunks, ["set", [10, 20]]);
  assert.equal(rowOf(iface).external_ids, ["map", [["attached-mac", "00:16:3e:00:00:01"]]]);
  assert.is(rowOf(iface).mtu_request, 1500);
  assert.equal(opAt(ops, 0), waitGuard("Bridge", "sw1", ["b"]));
});

test.run();
