// Unit tests: the NIC file reader (differential against bash itself on the
// same files), and the Ganeti NIC variables -> GanetiNic validation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { InputError } from "../../src/errors.ts";
import { parseShellAssignments, readNicFile } from "../../src/sources/nicfile.ts";
import { planBridgedUp, type BridgeSys } from "../../src/modes/bridged.ts";
import { planRoutedDown, planRoutedUp, type RouteSys } from "../../src/modes/routed.ts";
import { parseInstanceName } from "../../src/names.ts";
import { envVars, fileVars, ganetiRunDir, isCommunicationTap, parseScriptNic, splitTags, xenNicFilePath } from "../../src/sources/ganeti.ts";

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-gparse-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

/** What bash makes of a file (sourced, never executed beyond assignments: these samples are trusted). */
function bashVars(text: string, names: string[]): Record<string, string> {
  const file = join(dir, "sample");
  writeFileSync(file, text);
  const script = 'source "$1"; shift; for n in "$@"; do if [ -n "${!n+x}" ]; then printf "%s\\0%s\\0" "$n" "${!n}"; fi; done';
  const r = spawnSync("bash", ["-c", script, "_", file, ...names], { encoding: "utf8", env: { PATH: process.env.PATH } });
  if (r.status !== 0) throw new Error(`bash failed: ${r.stderr}`);
  const parts = r.stdout.split("\0");
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

const SAMPLES: string[] = [
  // Ganeti 3.0's own output (hv_xen._WriteNICInfoFile), tags joined with "\ ".
  'TAGS="web\\ ovs-vif:rate:100M\\ a.b"\nNETWORK_NAME="net1"\nNETWORK_TAGS="x y"\nMAC=aa:00:00:00:00:01\nIP=192.0.2.1\nINTERFACE_INDEX=0\nINTERFACE_NAME=eth0\nINTERFACE_UUID=6f2c1a4e-0000-4000-8000-000000000001\nMODE=openvswitch\nLINK=sw1\nVLAN=.3:10:20\n',
  'TAGS=""\nMAC=aa:00:00:00:00:01\nINTERFACE_INDEX=1\nINTERFACE_UUID=u\nMODE=bridged\nLINK=xenbr0\nVLAN=\n',
  "A='single $HOME `x` \\n'\nB=\"dq \\$ \\` \\\" \\\\ \\n \\a\"\nC=un\\ quoted\\$x\nD=con'cat'\"en\"ated\n",
  "# comment\n  export E=1 F=2   # trailing comment\nG=a#b\nH=\nI=$\nJ=a$\nK='multi\nline'\nL=\"multi\nline\"\nM=con\\\ntinued\nN=last",
  "O=\"a\\\nb\"\nP=x=y=z\nQ='~/x'\nQ2=a~b\nR=*\nS='\\'\n",
];

test("NIC files read exactly as bash reads them (differential)", () => {
  for (const text of SAMPLES) {
    const ours = parseShellAssignments(text, "sample");
    const theirs = bashVars(text, Object.keys(ours).concat(["TAGS", "MODE", "VLAN", "nosuch"]));
    assert.equal(ours, theirs, `sample ${JSON.stringify(text)}`);
  }
});

const REFUSED: [string, RegExp][] = [
  ["VLAN=$(reboot)", /line 1 "VLAN=\$\(reboot\)": parameter expansion and command substitution are not supported/],
  ["VLAN=${X}", /not supported/],
  ['VLAN="$HOME"', /not supported/],
  ["VLAN=`id`", /command substitution is not supported/],
  ["MODE=x; reboot", /unsupported shell syntax ";"/],
  ["MODE=x && reboot", /unsupported shell syntax "&"/],
  ["MODE=x | cat", /unsupported shell syntax "\|"/],
  ["MODE=x >/etc/passwd", /unsupported shell syntax ">"/],
  ["A=1\nreboot now", /line 2 "reboot now": "reboot" is not a NAME=value assignment/],
  ["A='open", /line 1 "A='open": unterminated single quote/],
  ['A="open', /unterminated double quote/],
  ["1A=2", /"1A=2" is not a NAME=value assignment/],
  ["A=~/x", /tilde expansion is not supported/],
  ["A=.3:~x", /tilde expansion is not supported/],
];

test("shell constructs a NIC file must not contain are refused with file, line and text", () => {
  for (const [text, pattern] of REFUSED) {
    try {
      parseShellAssignments(text, "/run/nic/x/0");
      assert.unreachable(`${text} accepted`);
    } catch (err) {
      assert.instance(err, InputError, text);
      assert.match((err as Error).message, /^\/run\/nic\/x\/0 line \d+ /);
      assert.match((err as Error).message, pattern, text);
    }
  }
});

test("CRLF files: the carriage return ends a word (not part of the value)", () => {
  assert.equal(parseShellAssignments("MODE=openvswitch\r\nLINK=sw1\r\n", "f"), { MODE: "openvswitch", LINK: "sw1" });
});

test("readNicFile: missing file is undefined (the issue-944 case), not an error", () => {
  assert.is(readNicFile(join(dir, "nope", "0")), undefined);
  writeFileSync(join(dir, "nic0"), "MODE=routed\nIP=192.0.2.1\n");
  assert.equal(readNicFile(join(dir, "nic0")), { MODE: "routed", IP: "192.0.2.1" });
});

test("splitTags handles Ganeti's environment (spaces) and NIC file (backslash-space) forms", () => {
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

test("parseScriptNic: the structured NIC (for modes and QoS)", () => {
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

test("parseScriptNic: errors name the variable (and file) and value", () => {
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
    try {
      parseScriptNic(envVars({ ...ENV, ...change }));
      assert.unreachable(JSON.stringify(change));
    } catch (err) {
      assert.instance(err, InputError);
      assert.ok((err as Error).message.startsWith(message), `${(err as Error).message} should start with ${message}`);
    }
  }
  try {
    parseScriptNic(fileVars("/run/ganeti/xen-hypervisor/nic/i/0", { MODE: "openvswitch", LINK: "sw1", VLAN: "x" }), { device: "vif1.0", instance: "i" });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /^\/run\/ganeti\/xen-hypervisor\/nic\/i\/0: VLAN "x": /);
  }
});

test("parseScriptNic lenient (down): a bad VLAN or missing IP does not stop a teardown", () => {
  const nic = parseScriptNic(envVars({ ...ENV, MODE: "routed", IP: "", VLAN: "..." }), { lenient: true });
  assert.is(nic.mode, "routed");
  assert.is(nic.ip, undefined);
});

test("gnt.com taps, instance names as path components, GANETI_ROOTDIR", () => {
  assert.ok(isCommunicationTap("gnt.com.0"));
  assert.ok(isCommunicationTap("gnt.com"));
  assert.not.ok(isCommunicationTap("gnt.comx"));
  assert.not.ok(isCommunicationTap("tap0"));
  assert.is(parseInstanceName("n", "inst1.example.com"), "inst1.example.com");
  for (const bad of ["../etc", "a/b", "", "x..y"]) assert.throws(() => parseInstanceName("n", bad), (e: unknown) => e instanceof InputError);
  assert.is(ganetiRunDir({}), "/var/run/ganeti");
  assert.is(xenNicFilePath("i1", 2, { GANETI_ROOTDIR: "/tmp/r/" }), "/tmp/r/var/run/ganeti/xen-hypervisor/nic/i1/2");
  assert.throws(() => ganetiRunDir({ GANETI_ROOTDIR: "rel" }), /GANETI_ROOTDIR "rel": must be an absolute path/);
});

function fakeBridgeSys(over: Partial<BridgeSys> = {}): BridgeSys {
  return {
    exists: (d) => ["vif9.0", "br0", "tap0"].includes(d),
    isBridge: (d) => d === "br0",
    address: () => "00:16:3e:00:00:09",
    mtu: () => "9000",
    vlanFiltering: () => "1",
    ports: () => ["eth0", "bond0", "tap5", "vif3.0", "vif9.0", "gnt.com.1"],
    vlanConfig: () => undefined,
    isVeth: async () => false,
    master: () => undefined,
    ...over,
  };
}

const bridgedNic = { device: "vif9.0", link: "br0", vlan: { native: 3, trunks: [10] }, vlanRaw: ".3:10", fields: { device: "vif", link: "LINK", vlan: "VLAN" }, instance: "i" };

test("bridged plan: stock order (MAC fe, up, MTU, master; pvid untagged first), uplinks exclude VM ports and the NIC", async () => {
  const steps = await planBridgedUp(bridgedNic, fakeBridgeSys());
  assert.equal(steps, [
    { kind: "ip", lines: ["link set dev vif9.0 address fe:16:3e:00:00:09"], tolerate: true },
    { kind: "ip", lines: ["link set dev vif9.0 up", "link set dev vif9.0 mtu 9000", "link set dev vif9.0 master br0"] },
    {
      kind: "bridge",
      lines: [
        "vlan add dev vif9.0 vid 3 pvid untagged master",
        "vlan add dev eth0 vid 3 master",
        "vlan add dev bond0 vid 3 master",
        "vlan add dev vif9.0 vid 10 master",
        "vlan add dev eth0 vid 10 master",
        "vlan add dev bond0 vid 10 master",
      ],
    },
  ]);
});

test("bridged plan refuses before any step: filtering off, no filtering support, VID used by a VLAN device", async () => {
  const cases: [Partial<BridgeSys>, RegExp][] = [
    [{ vlanFiltering: () => "0" }, /VLAN "\.3:10": bridge br0 has VLAN filtering disabled/],
    [{ vlanFiltering: () => undefined }, /no VLAN filtering support/],
    [{ vlanConfig: () => "VLAN Dev name | VLAN ID\nName-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD\neth0.10        | 10  | eth0\n" }, /VLAN 10 is in use by VLAN interface eth0\.10 on eth0/],
    [{ isBridge: () => false }, /LINK "br0": not a Linux bridge/],
  ];
  for (const [over, pattern] of cases) {
    let message = "";
    await planBridgedUp(bridgedNic, fakeBridgeSys(over)).then(
      () => undefined,
      (e: Error) => (message = e.message),
    );
    assert.match(message, pattern);
  }
  // A veth lower device is allowed (bridge stacking), as in stock.
  const ok = await planBridgedUp(bridgedNic, fakeBridgeSys({ vlanConfig: () => "h\nh\nveth0.10 | 10 | veth0\n", isVeth: async () => true }));
  assert.is(ok.length, 3);
});

test("routed plan: every old rule deleted, rule + route in the table; down removes route and rules even without the device", async () => {
  const sys: RouteSys = { exists: () => true, ruleCount: async (_d, f) => (f === 4 ? 2 : 0), hasConf: (f) => f === 4 };
  const up = await planRoutedUp({ device: "tap0", ip: "192.0.2.1", table: "100", fields: { device: "INTERFACE", ip: "IP" } }, sys);
  assert.equal(up, [
    { kind: "ip", lines: ["link set dev tap0 up", "rule del dev tap0", "rule del dev tap0", "rule add dev tap0 table 100", "route replace 192.0.2.1 table 100 proto static dev tap0"] },
    { kind: "sysctl", path: "/proc/sys/net/ipv4/conf/tap0/proxy_arp", value: "1" },
    { kind: "sysctl", path: "/proc/sys/net/ipv4/conf/tap0/forwarding", value: "1" },
  ]);
  const gone: RouteSys = { exists: () => false, ruleCount: async (_d, f) => (f === 4 ? 1 : 1), hasConf: () => false };
  const down = await planRoutedDown({ device: "tap0", ip: "192.0.2.1", table: "100", fields: { device: "INTERFACE", ip: "IP" } }, gone);
  assert.equal(down, [
    { kind: "ip", options: ["-4"], lines: ["rule del dev tap0"] },
    { kind: "ip", options: ["-6"], lines: ["rule del dev tap0"] },
  ]);
});

test.run();
