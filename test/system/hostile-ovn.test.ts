// Hostile OVN input, on a private OVS and Northbound database (no northd,
// no ovn-controller): an ambiguous logical switch name, a --lsp or NIC UUID
// that names a router, localnet or other port that is not ovs-vif's VM
// port, MACs that are no NIC's (zero, broadcast, group) wherever a MAC is
// taken, switch and port names ovs-vif does not write, and attaches that
// fail after the logical port was written (ovn-installed never comes;
// ovs-vswitchd stopped). Every one exits non-zero without a signal, in one
// line naming the field and the value, and leaves OVSDB, NB and the links
// byte for byte as they were: a logical port the attach created is removed
// again, one that was there is put back, and the line says which.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { escapeControls } from "../../src/errors.ts";
import { generatedSuites, groupMac, quoted, withControl, type Random } from "../harness/hostile.ts";
import { ovnNicEnv } from "../harness/ovn.ts";
import { endSuite, binaryLink, makeRefuser, startNb, type HostileCall, type NbHandle, type Refuser } from "../harness/hostile-run.ts";
import { startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let nb: NbHandle;
let dir: string;
let config: string;
let run: Refuser;
const t0 = performance.now();

const MAC = "02:00:00:00:08:01";
const uuid = (n: number) => `88888888-0000-4000-8000-${String(n).padStart(12, "0")}`;
/** Logical ports that are not ovs-vif's VM ports: [name, type, owned by ovs-vif]. */
const FOREIGN: [string, string, boolean][] = [
  ["rp1", "router", false],
  ["ln1", "localnet", false],
  ["lp1", "localport", false],
  ["vt1", "vtep", false],
  ["ex1", "external", false],
  ["vi1", "virtual", false],
  ["l2g1", "l2gateway", false],
  ["rp-own", "router", true],
  ["vm-foreign", "", false],
  [uuid(90), "router", false],
  [uuid(91), "", false],
];

test.before(async () => {
  ovs = await startOvs();
  nb = await startNb(ovs);
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hovn-"));
  await ovs.addBridge("br-int");
  await ovs.addBridge("sw1");
  for (const t of ["tap0", "tap1", "tapg"]) await ovs.addTap(t);
  await ovs.vsctl("set", "Open_vSwitch", ".", "external_ids:system-id=hc1");
  await nb.nbctl("ls-add", "net1");
  await nb.nbctl("ls-add", "net2");
  // Two switches of one name (ovn-nbctl refuses to add the second; the database takes it).
  await nb.transact([1, 2].map(() => ({ op: "insert", table: "Logical_Switch", row: { name: "dup" } })));
  for (const [name, type, owned] of FOREIGN) {
    await nb.nbctl(
      "lsp-add",
      "net1",
      name,
      "--",
      "lsp-set-type",
      name,
      type,
      ...(owned ? ["--", "set", "Logical_Switch_Port", name, "external_ids:ovs-vif-owner=cli"] : []),
    );
  }
  // ovs-vif's own VM ports, one on each switch: an attach that fails must put them back as they were.
  for (const [name, ls] of [
    ["own1", "net1"],
    ["own2", "net2"],
  ] as const) {
    await nb.nbctl(
      "lsp-add",
      ls,
      name,
      "--",
      "lsp-set-addresses",
      name,
      "02:00:00:00:08:ee 198.51.100.9",
      "--",
      "lsp-set-port-security",
      name,
      "02:00:00:00:08:ee 198.51.100.9",
    );
    await nb.nbctl("set", "Logical_Switch_Port", name, "external_ids:ovs-vif-owner=cli", "options:requested-chassis=elsewhere");
  }
  config = join(dir, "ovn.json");
  writeFileSync(config, JSON.stringify({ version: 1, nb: nb.remote }));
  await binaryLink(ovs, "network/openvswitch/up");
  run = makeRefuser(ovs, nb);
});

test.after(() => endSuite("hostile-ovn", t0, { run, ovs, nb, dir }));

const env = () => ({ OVS_VIF_OVN: config });
const attach = (extra: string[], iface = "tap0") => ["attach", "--bridge", "br-int", "--iface", iface, "--ovn-switch", "net1", "--mac", MAC, ...extra];
const nicEnv = (extra: Record<string, string> = {}) => ovnNicEnv({ instance: "inst1", mac: MAC, uuid: uuid(1), device: "tapg" }, { ...env(), ...extra });
/** How a value shows inside a line, without its quotes (escaped as the line has it). */
const inLine = (v: string) => escapeControls(JSON.stringify(v)).slice(1, -1);

test("the examples of the issue: two switches of one name, a router or localnet port named by --lsp", async () => {
  await run.refused({
    cls: "OVN: ambiguous switch name",
    label: "--ovn-switch dup",
    args: ["attach", "--bridge", "br-int", "--iface", "tap0", "--ovn-switch", "dup", "--mac", MAC],
    env: env(),
    mentions: ["--ovn-switch", quoted("dup"), "2 logical switches"],
  });
  await run.refused({
    cls: "OVN: ambiguous switch name",
    label: "Ganeti network dup",
    args: [],
    name: "kvm-vif-bridge",
    env: nicEnv({ NETWORK_NAME: "dup" }),
    mentions: ["NETWORK_NAME", quoted("dup"), "2 logical switches"],
  });
  await run.refused({
    cls: "OVN: ambiguous switch name",
    label: "network tag naming dup",
    args: [],
    name: "kvm-vif-bridge",
    env: nicEnv({ NETWORK_TAGS: "ovs-vif:ovn-switch:dup" }),
    mentions: ['network tag "ovs-vif:ovn-switch:dup"', quoted("dup")],
  });
  for (const [name, type] of FOREIGN) {
    await run.refused({
      cls: "OVN: a port that is not ovs-vif's VM port",
      label: `--lsp ${name} (type ${type || "none"})`,
      args: attach(["--lsp", name]),
      env: env(),
      mentions: ["--lsp", quoted(name), type ? `type "${type}"` : "did not make"],
    });
  }
  for (const n of [90, 91]) {
    await run.refused({
      cls: "OVN: a port that is not ovs-vif's VM port",
      label: `Ganeti NIC whose UUID names port ${uuid(n)}`,
      args: [],
      name: "kvm-vif-bridge",
      env: nicEnv({ INTERFACE_UUID: uuid(n) }),
      mentions: ["INTERFACE_UUID", quoted(uuid(n))],
    });
  }
});

test("an attach that fails after writing the logical port undoes it and says so: created -> removed, there before -> put back", async () => {
  const failing: [string, string[], Record<string, string>, string | undefined, RegExp][] = [
    [
      "a new port, ovn-installed never comes",
      attach(["--lsp", "new1", "--timeout", "1"]),
      env(),
      undefined,
      /did not install tap0 .*rolled back: port tap0 removed from br-int again; logical port new1 removed from unix:.* again$/,
    ],
    [
      "its own port, changed, then put back",
      attach(["--lsp", "own1", "--timeout", "1"]),
      env(),
      undefined,
      /rolled back: .*; logical port own1 put back as it was in unix:/,
    ],
    [
      "its own port on another switch, moved, then moved back",
      attach(["--lsp", "own2", "--timeout", "1"]),
      env(),
      undefined,
      /logical port own2 put back as it was/,
    ],
    [
      "a Ganeti NIC's new port",
      [],
      { ...nicEnv({ INTERFACE_UUID: uuid(2) }), OVS_VIF_TIMEOUT: "1" },
      "kvm-vif-bridge",
      new RegExp(`logical port ${uuid(2)} removed from unix:.* again`),
    ],
  ];
  // Rolled back, OVSDB has moved on to a later next_cfg, and the device stays up (plug does not set it down again).
  const ignore = (dev: string) => [/^next_cfg\s*:.*$/, new RegExp(`^${dev}: .*$`)];
  for (const [label, args, e, name, line] of failing) {
    const dev = name ? "tapg" : "tap0";
    const r = await run.refused({
      cls: "OVN: attach failing after the logical port was written",
      label,
      args,
      env: e,
      ...(name ? { name } : {}),
      mentions: ["rolled back"],
      ignore: ignore(dev),
    });
    assert.match(r.stderr.trim(), line, label);
  }
  // ovs-vswitchd stopped: the change is never applied.
  const pid = (await ovs.inNs("cat", [join(ovs.dir, "ovs-vswitchd.pid")])).stdout.trim();
  await ovs.inNs("kill", ["-STOP", pid]);
  try {
    const r = await run.refused({
      cls: "OVN: attach failing after the logical port was written",
      label: "ovs-vswitchd stopped",
      args: attach(["--lsp", "new2", "--timeout", "1"]),
      env: env(),
      mentions: ["logical port new2 removed from"],
      ignore: ignore("tap0"),
    });
    assert.match(r.stderr, /rolled back/);
  } finally {
    await ovs.inNs("kill", ["-CONT", pid]);
  }
});

type Gen = (r: Random) => HostileCall;

const macCases: Gen = (r) => {
  const mac = groupMac(r);
  const cls = "MAC: zero, broadcast or group";
  return r.pick([
    (): HostileCall => ({
      cls,
      label: `attach --mac ${mac}`,
      args: ["attach", "--bridge", "br-int", "--iface", "tap0", "--ovn-switch", "net1", "--mac", mac],
      env: env(),
      mentions: ["--mac", quoted(mac)],
    }),
    (): HostileCall => ({
      cls,
      label: `kvm-vif-bridge MAC=${mac}`,
      args: [],
      name: "kvm-vif-bridge",
      env: nicEnv({ MAC: mac }),
      mentions: ["MAC", quoted(mac)],
    }),
    (): HostileCall => ({
      cls,
      label: `kvm-vif-bridge (no OVN) MAC=${mac}`,
      args: [],
      name: "kvm-vif-bridge",
      env: nicEnv({ MAC: mac, LINK: "sw1", NETWORK_NAME: "" }),
      mentions: ["MAC", quoted(mac)],
    }),
    (): HostileCall => ({
      cls,
      label: `network/openvswitch/up MAC=${mac}`,
      args: [],
      exec: join(ovs.dir, "network/openvswitch/up"),
      env: { ...nicEnv({ MAC: mac }), ACTION: "up" },
      mentions: ["MAC", quoted(mac)],
    }),
    (): HostileCall => ({
      cls,
      label: `qemu-ifup OVS_VIF_MAC=${mac}`,
      args: ["tap1"],
      name: "qemu-ifup",
      env: { OVS_VIF_BRIDGE: "sw1.3", OVS_VIF_MAC: mac },
      mentions: ["OVS_VIF_MAC", quoted(mac)],
    }),
  ])();
};

const nameCases: Gen = (r) => {
  const bad = r.pick([
    () => withControl(r, "net1"),
    () => `net ${r.int(1, 9)}`,
    () => `-net${r.int(1, 9)}`,
    () => `net"${r.int(1, 9)}`,
    () => `net;${r.int(1, 9)}`,
    () => "x".repeat(r.int(256, 400)),
    () => `n\u00e9t${r.int(1, 9)}`,
    () => `net$(id)`,
    () => `net'${r.int(1, 9)}`,
  ])();
  const cls = "OVN: switch or port name ovs-vif does not write";
  return r.pick([
    (): HostileCall => ({
      cls,
      label: `--ovn-switch ${JSON.stringify(bad)}`,
      args: ["attach", "--bridge", "br-int", "--iface", "tap0", `--ovn-switch=${bad}`, "--mac", MAC],
      env: env(),
      mentions: ["--ovn-switch", inLine(bad)],
    }),
    (): HostileCall => ({ cls, label: `--lsp ${JSON.stringify(bad)}`, args: attach([`--lsp=${bad}`]), env: env(), mentions: ["--lsp", inLine(bad)] }),
    (): HostileCall => ({
      cls,
      label: `NETWORK_NAME ${JSON.stringify(bad)}`,
      args: [],
      name: "kvm-vif-bridge",
      env: nicEnv({ NETWORK_NAME: bad }),
      mentions: ["NETWORK_NAME", inLine(bad)],
    }),
  ])();
};

const portCases: Gen = (r) => {
  const [name, type] = r.pick(FOREIGN);
  const how = r.pick(["--lsp", "--lsp with an IP", "another --iface"] as const);
  const extra = how === "--lsp with an IP" ? ["--ip", `198.51.100.${r.int(10, 250)}`] : [];
  return {
    cls: "OVN: a port that is not ovs-vif's VM port",
    label: `${how} ${name} (${type || "no type"})`,
    args: attach(["--lsp", name, ...extra], how === "another --iface" ? "tap1" : "tap0"),
    env: env(),
    mentions: ["--lsp", quoted(name)],
  };
};

const switchCases: Gen = (r) => {
  const ls = r.pick(["dup", `nosuch${r.int(1, 999)}`, "DUP", "net1x"]);
  const ambiguous = ls === "dup";
  return r.pick([
    (): HostileCall => ({
      cls: ambiguous ? "OVN: ambiguous switch name" : "OVN: no such switch",
      label: `--ovn-switch ${ls}`,
      args: ["attach", "--bridge", "br-int", "--iface", "tap0", "--ovn-switch", ls, "--mac", MAC],
      env: env(),
      mentions: ["--ovn-switch", quoted(ls)],
    }),
    (): HostileCall => ({
      cls: ambiguous ? "OVN: ambiguous switch name" : "OVN: no such switch",
      label: `NETWORK_NAME ${ls}`,
      args: [],
      name: "kvm-vif-bridge",
      env: nicEnv({ NETWORK_NAME: ls, INTERFACE_UUID: uuid(r.int(3, 80)) }),
      mentions: ["NETWORK_NAME", quoted(ls)],
    }),
  ])();
};

generatedSuites(
  test,
  [
    ["MACs that are no NIC's", macCases, 70, 51],
    ["switch and port names", nameCases, 50, 52],
    ["ports that are not ovs-vif's", portCases, 30, 53],
    ["switches: ambiguous or missing", switchCases, 20, 54],
  ],
  async (c) => {
    await run.refused(c);
  },
);

test("a Northbound remote that holds another database fails in one line, and nothing changes", async () => {
  await run.refused({
    cls: "OVN: remote is another database",
    label: "--ovn-nb the Open_vSwitch database",
    args: attach(["--ovn-nb", `unix:${ovs.dbSock}`]),
    env: {},
    mentions: [`unix:${ovs.dbSock}`, "transact failed: unknown database: transact request specifies unknown database OVN_Northbound"],
  });
});

test.run();
