// The Xen hotplug contract (src/sources/xen.ts): the script's arguments and
// environment (parseXenInvocation), the device name (targetDeviceName) and
// the desired port from the backend's xenstore keys (xenDesiredPort).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { catchInputError, expectInputError } from "../harness/assert.ts";
import { asOps, insertOp, opAt, rowOf, waitGuard } from "../harness/ovsdb-ops.ts";
import { attachOps } from "../../src/ovsdb/port-ops.ts";
import { effectivePolicing, portSecurityOf } from "../../src/port.ts";
import { parseXenInvocation, targetDeviceName, xenDesiredPort, type XenInvocation, type XenVifKeys } from "../../src/sources/xen.ts";

const BACKEND = "/local/domain/0/backend/vif/5/0";
const VIF_ENV = { vif: "vif5.0", XENBUS_PATH: BACKEND };

test("parseXenInvocation reads online/offline of a PV vif from vif and XENBUS_PATH; type_if defaults to vif", () => {
  for (const command of ["online", "offline"] as const) {
    const inv = parseXenInvocation([command, "bridge=sw1.3", "type_if=vif"], VIF_ENV);
    assert.equal(inv, { command, typeIf: "vif", device: "vif5.0", xenbusPath: BACKEND, vars: { bridge: "sw1.3", type_if: "vif" } });
    // type_if defaults to vif.
    assert.equal(parseXenInvocation([command], VIF_ENV), { command, typeIf: "vif", device: "vif5.0", xenbusPath: BACKEND, vars: {} });
  }
});

test("parseXenInvocation keeps '=' inside the values of key=value arguments", () => {
  const inv = parseXenInvocation(["online", "script=/etc/xen/scripts/x", "extra=a=b"], VIF_ENV);
  assert.equal(inv?.vars, { script: "/etc/xen/scripts/x", extra: "a=b" });
});

test("parseXenInvocation returns undefined for the no-op pairs (online/offline of a tap, add/remove of a vif)", () => {
  assert.is(parseXenInvocation(["online", "type_if=tap"], { INTERFACE: "vif5.0-emu" }), undefined);
  assert.is(parseXenInvocation(["offline", "type_if=tap"], {}), undefined);
  assert.is(parseXenInvocation(["add"], VIF_ENV), undefined);
  assert.is(parseXenInvocation(["remove"], {}), undefined);
  assert.is(parseXenInvocation(["add", "type_if=vif"], {}), undefined);
});

test("parseXenInvocation derives the tap twin's XENBUS_PATH from INTERFACE vifD.N-emu", () => {
  for (const command of ["add", "remove"] as const) {
    const inv = parseXenInvocation([command, "type_if=tap"], { INTERFACE: "vif5.0-emu" });
    assert.equal(inv, { command, typeIf: "tap", device: "vif5.0-emu", xenbusPath: BACKEND, vars: { type_if: "tap" } });
  }
  const inv = parseXenInvocation(["add", "type_if=tap"], { INTERFACE: "vif12.3-emu", XENBUS_PATH: "/elsewhere" });
  assert.is(inv?.xenbusPath, "/local/domain/0/backend/vif/12/3");
});

test("parseXenInvocation falls back to XENBUS_PATH for a tap with another name", () => {
  const inv = parseXenInvocation(["add", "type_if=tap"], { INTERFACE: "web0-emu", XENBUS_PATH: BACKEND });
  assert.is(inv?.xenbusPath, BACKEND);
  assert.is(inv?.device, "web0-emu");
});

test("parseXenInvocation refuses bad input with an InputError naming the field", () => {
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
  expectInputError(
    () => parseXenInvocation(["online"], { vif: "vif5.0", XENBUS_PATH: "local/domain/0/backend/vif/5/0" }),
    "XENBUS_PATH",
    "local/domain/0/backend/vif/5/0",
  );
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

test("targetDeviceName keeps the device's name without a vifname", () => {
  assert.is(targetDeviceName(invocation("vif"), {}), "vif5.0");
  assert.is(targetDeviceName(invocation("tap"), {}), "vif5.0-emu");
  assert.is(targetDeviceName(invocation("vif"), { vifname: "" }), "vif5.0");
});

test("targetDeviceName renames the vif to vifname and its tap twin to vifname-emu", () => {
  assert.is(targetDeviceName(invocation("vif"), { vifname: "web0" }), "web0");
  assert.is(targetDeviceName(invocation("tap"), { vifname: "web0" }), "web0-emu");
});

test("targetDeviceName refuses a bad or too long vifname with an InputError on the xenstore key", () => {
  expectInputError(() => targetDeviceName(invocation("vif"), { vifname: "web;0" }), `${BACKEND}/vifname`, "web;0");
  expectInputError(() => targetDeviceName(invocation("vif"), { vifname: "abcdefghijklmnop" }), `${BACKEND}/vifname`, "abcdefghijklmnop");
  // 12 characters is fine for the vif but its twin would be 16.
  assert.is(targetDeviceName(invocation("vif"), { vifname: "abcdefghijkl" }), "abcdefghijkl");
  expectInputError(() => targetDeviceName(invocation("tap"), { vifname: "abcdefghijkl" }), `${BACKEND}/vifname`, "abcdefghijkl-emu");
});

// --- xenDesiredPort ------------------------------------------------------------

test("xenDesiredPort takes the bridge and VLAN from the xenstore bridge key, with no policing and no port security by default", () => {
  const { desired, vlanSource } = xenDesiredPort(invocation("vif"), { bridge: "sw1.3:10:20" }, "vif5.0");
  assert.is(vlanSource, "bridge");
  const { portSecurity, ...rest } = desired;
  assert.equal(rest, {
    bridge: "sw1",
    bridgeField: "/local/domain/0/backend/vif/5/0/bridge",
    name: "vif5.0",
    vlan: { native: 3, trunks: [10, 20] },
    interfaceIds: {},
    owner: "xen",
    qos: [{ name: "xenstore /local/domain/0/backend/vif/5/0/rate" }],
  });
  assert.equal(effectivePolicing(desired).policing, { rate: 0, burst: 0 }, "no rate key, no defaults: no policing");
  assert.equal(portSecurityOf(desired), { source: "none: off by default" }, "no ip key, no default: port security off");
  assert.equal(portSecurity!.ipv4, []);
});

test("xenDesiredPort: an ip key (xl ip=) turns port security on for the vif's MAC and IPv4 addresses; a prefix or IPv6 address is an allowance", () => {
  const keys = { bridge: "sw1.3", mac: "00:16:3e:00:00:05", ip: "198.51.100.5 198.51.100.6 2001:db8::5" };
  const { policy, source } = portSecurityOf(xenDesiredPort(invocation("vif"), keys, "vif5.0").desired);
  assert.is(source, "/local/domain/0/backend/vif/5/0/ip present");
  assert.is(policy!.mac, "00:16:3e:00:00:05");
  assert.equal(policy!.ipv4.length, 2);
  assert.ok(policy!.ipv6.length >= 2, "the link-local address of the MAC and the allowed 2001:db8::5");
  const noMac = catchInputError(() => portSecurityOf(xenDesiredPort(invocation("vif"), { bridge: "sw1", ip: "198.51.100.5" }, "vif5.0").desired), "");
  assert.is(noMac.field, "/local/domain/0/backend/vif/5/0/mac");
  const bad = catchInputError(
    () => xenDesiredPort(invocation("vif"), { bridge: "sw1", mac: "00:16:3e:00:00:05", ip: "198.51.100.300" }, "vif5.0"),
    "198.51.100.300",
  );
  assert.is(bad.field, "/local/domain/0/backend/vif/5/0/ip");
});

test("xenDesiredPort prefers the xenstore bridge key to the bridge= argument", () => {
  const { desired } = xenDesiredPort(invocation("vif", { bridge: "other.9" }), { bridge: "sw1.3" }, "vif5.0");
  assert.is(desired.bridge, "sw1");
  assert.equal(desired.vlan, { native: 3, trunks: [] });
});

test("xenDesiredPort falls back to the bridge= argument without a bridge key", () => {
  const { desired } = xenDesiredPort(invocation("vif", { bridge: "other:9" }), {}, "vif5.0");
  assert.is(desired.bridge, "other");
  assert.equal(desired.vlan, { trunks: [9] });
});

test("xenDesiredPort prefers the backend vlan key to the bridge suffix", () => {
  const r = xenDesiredPort(invocation("vif"), { bridge: "sw1.3:10", vlan: "7pu/8-9" }, "vif5.0");
  assert.is(r.vlanSource, "vlan");
  assert.is(r.desired.bridge, "sw1");
  assert.equal(r.desired.vlan, { native: 7, trunks: [8, 9] });
  const r2 = xenDesiredPort(invocation("vif"), { bridge: "sw1", vlan: "42" }, "vif5.0");
  assert.equal(r2.desired.vlan, { native: 42, trunks: [] });
});

test("xenDesiredPort sets the VM name, UUID and lower-case MAC as external ids, and the MTU, only when given", () => {
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

test("xenDesiredPort refuses bad keys with an InputError on the xenstore key", () => {
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

test("xenDesiredPort feeds attachOps: a Xen bridge string becomes the Port's VLAN columns", () => {
  const { desired } = xenDesiredPort(invocation("vif"), { bridge: "sw1.3:10:20", mac: "00:16:3e:00:00:01" }, "vif5.0");
  const ops = asOps(attachOps(desired, { bridgeUuid: "b", sameNamePorts: [], bridgeMtu: 1500, own: { qos: [], queues: [] } }, "c"));
  const port = insertOp(ops, "Port");
  const iface = insertOp(ops, "Interface");
  assert.is(rowOf(port).vlan_mode, "native-untagged");
  assert.is(rowOf(port).tag, 3);
  assert.equal(rowOf(port).trunks, ["set", [10, 20]]);
  assert.equal(rowOf(iface).external_ids, ["map", [["attached-mac", "00:16:3e:00:00:01"]]]);
  assert.is(rowOf(iface).mtu_request, 1500);
  assert.equal(opAt(ops, 0), waitGuard("Bridge", "sw1", ["b"]));
});

test.run();
