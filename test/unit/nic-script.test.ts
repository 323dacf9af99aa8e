// The NIC a Ganeti network script is about (src/sources/ganeti.ts): its
// variables from the environment or a Xen NIC file, validated into a
// ScriptNic, and Ganeti's paths and tags.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { catchInputError } from "../harness/assert.ts";
import {
  envVars,
  fileVars,
  ganetiRunDir,
  isCommunicationTap,
  nicField,
  nicLabel,
  parseScriptNic,
  splitTags,
  xenNicFilePath,
} from "../../src/sources/ganeti.ts";

test("splitTags reads Ganeti's environment (spaces) and NIC file (backslash-space) forms of the tags", () => {
  assert.equal(splitTags("a b  c"), ["a", "b", "c"]);
  assert.equal(splitTags("a\\ b\\ c"), ["a", "b", "c"]);
  assert.equal(splitTags(""), []);
  assert.equal(splitTags(undefined), []);
});

const ENV = {
  INSTANCE: "inst1",
  MAC: "AA:00:00:00:00:01",
  MODE: "openvswitch",
  INTERFACE: "tap0",
  INTERFACE_INDEX: "2",
  INTERFACE_UUID: "6f2c1a4e-0000-4000-8000-000000000001",
  INTERFACE_NAME: "front",
  TAGS: "web ovs-vif:rate:1M",
  LINK: "sw1",
  VLAN: ".3:10",
  NETWORK_NAME: "net1",
  NETWORK_UUID: "n-1",
  NETWORK_SUBNET: "192.0.2.0/24",
  NETWORK_GATEWAY: "192.0.2.1",
  NETWORK_TAGS: "ovs-vif:rate:1G",
};

test("parseScriptNic builds the structured NIC (for modes and QoS) from the script's variables, MAC lower-cased", () => {
  const nic = parseScriptNic(envVars(ENV));
  assert.equal(nic, {
    source: "environment",
    instance: "inst1",
    mode: "openvswitch",
    vlan: ".3:10",
    vlanSpec: { native: 3, trunks: [10] },
    tags: ["web", "ovs-vif:rate:1M"],
    networkTags: ["ovs-vif:rate:1G"],
    device: "tap0",
    index: 2,
    uuid: "6f2c1a4e-0000-4000-8000-000000000001",
    name: "front",
    mac: "aa:00:00:00:00:01",
    network: { name: "net1", tags: ["ovs-vif:rate:1G"], uuid: "n-1", subnet: "192.0.2.0/24", gateway: "192.0.2.1" },
    link: "sw1",
  });
});

test("parseScriptNic: errors name the variable and value", () => {
  const cases: [Record<string, string>, string][] = [
    [{ MODE: "ext" }, 'MODE "ext": unknown NIC mode'],
    [{ LINK: "" }, 'LINK "": not set'],
    [{ VLAN: ".0" }, 'VLAN ".0": VLAN id 0 out of range'],
    [{ MODE: "routed", IP: "" }, 'IP "": not set: a routed NIC needs an IP address'],
    [{ MODE: "routed", IP: "1.2.3.4", LINK: "-t" }, 'LINK "-t": not a routing table name'],
    [{ MODE: "bridged", LINK: "", BRIDGE: "br;x" }, 'BRIDGE "br;x": bridge name contains ";"'],
    [{ INTERFACE: "tap0 x" }, 'INTERFACE "tap0 x": interface name contains whitespace'],
    [{ INSTANCE: "a\nb" }, "INSTANCE"],
  ];
  for (const [change, message] of cases) {
    const err = catchInputError(() => parseScriptNic(envVars({ ...ENV, ...change })), JSON.stringify(change));
    assert.ok(err.message.startsWith(message), `${err.message} should start with ${message}`);
  }
});

test("parseScriptNic: an error about a NIC file variable names the file", () => {
  const err = catchInputError(
    () => parseScriptNic(fileVars("/run/ganeti/xen-hypervisor/nic/i/0", { MODE: "openvswitch", LINK: "sw1", VLAN: "x" }), { device: "vif1.0", instance: "i" }),
    "file",
  );
  assert.match(err.message, /^\/run\/ganeti\/xen-hypervisor\/nic\/i\/0: VLAN "x": /);
});

test("parseScriptNic lenient (down): a bad VLAN or a missing IP does not stop a teardown", () => {
  const nic = parseScriptNic(envVars({ ...ENV, MODE: "routed", IP: "", VLAN: "..." }), { lenient: true });
  assert.is(nic.mode, "routed");
  assert.is(nic.ip, undefined);
});

test("isCommunicationTap: gnt.com and gnt.com.N are Ganeti's instance-communication taps", () => {
  assert.ok(isCommunicationTap("gnt.com.0"));
  assert.ok(isCommunicationTap("gnt.com"));
  assert.not.ok(isCommunicationTap("gnt.comx"));
  assert.not.ok(isCommunicationTap("tap0"));
  assert.not.ok(isCommunicationTap(undefined));
});

test("ganetiRunDir and xenNicFilePath honour an absolute GANETI_ROOTDIR and refuse a relative one", () => {
  assert.is(ganetiRunDir({}), "/var/run/ganeti");
  assert.is(xenNicFilePath("i1", 2, { GANETI_ROOTDIR: "/tmp/r/" }), "/tmp/r/var/run/ganeti/xen-hypervisor/nic/i1/2");
  assert.throws(() => ganetiRunDir({ GANETI_ROOTDIR: "rel" }), /GANETI_ROOTDIR "rel": must be an absolute path/);
});

test("nicLabel describes the NIC for log lines; nicField names a variable by its source", () => {
  const nic = parseScriptNic(envVars(ENV));
  assert.is(nicLabel(nic), "inst1 NIC 2 (front)");
  assert.is(nicLabel({ ...nic, instance: "", index: undefined, name: undefined }), "? NIC ?");
  assert.is(nicField(nic, "VLAN"), "VLAN");
  assert.is(nicField({ source: "/run/ganeti/xen-hypervisor/nic/i/0" }, "VLAN"), "/run/ganeti/xen-hypervisor/nic/i/0: VLAN");
});

test.run();
