// Hostile input on the Ganeti side: the KVM NIC scripts' environment
// (kvm-vif-bridge, Ganeti 3.2 network/MODE/up), the commands that write to
// Ganeti (qos set, vlan), reconcile --from with a damaged export, and the
// instance hook. Every refusal exits non-zero without a signal, prints one
// line naming the field and the value, leaves OVSDB and the taps as they
// were, and never asks Ganeti to change anything; a refusal that needs no
// Ganeti data makes no Ganeti call at all (a stand-in gnt-instance on PATH
// records every call).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installFakeGaneti, type FakeGaneti, type FakeInstance } from "../harness/fake-ganeti.ts";
import { assertRefused, badNicVariable, badRate, badVlan, generatedSuites, NIC_VARIABLES, numberLike, quoted, type Random } from "../harness/hostile.ts";
import { BINARY, runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let dir: string;
let gnt: FakeGaneti;
let cases = 0;

const UUID0 = "11111111-0000-4000-8000-000000000000";
const INST1: FakeInstance = {
  name: "inst1",
  pnode: "node1.example.com",
  tags: ["ovs-vif:rate:100M"],
  nics: [{ uuid: UUID0, name: "eth0", mac: "aa:00:00:00:01:00", mode: "openvswitch", link: "sw1", vlan: ".3", network: null }],
};

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hgnt-"));
  gnt = installFakeGaneti(dir, { instances: [structuredClone(INST1)], networks: [] });
  await ovs.addBridge("sw1");
  await ovs.addTap("tap0");
  await ovs.addTap("tap9");
  // The running port of inst1's NIC 0, as its NIC script made it.
  const ok = await runBinary(ovs, [], { name: "kvm-vif-bridge", env: nicEnv({ INTERFACE: "tap9" }) });
  assert.is(ok.code, 0, ok.stderr);
  mkdirSync(join(dir, "network/openvswitch"), { recursive: true });
  symlinkSync(BINARY, join(dir, "network/openvswitch/up"));
});

test.after(async () => {
  await ovs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  console.log(`  ${cases} refused calls checked`);
});

function nicEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    INSTANCE: "inst1",
    MAC: "aa:00:00:00:01:00",
    MODE: "openvswitch",
    INTERFACE: "tap0",
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: UUID0,
    TAGS: "ovs-vif:rate:100M",
    LINK: "sw1",
    VLAN: ".3",
    ...extra,
  };
}

async function links(): Promise<string> {
  return (await ovs.inNs("ip", ["-o", "link", "show"])).stdout.replace(/^\d+: /gm, "");
}

interface Call {
  label: string;
  args: string[];
  mentions: string[];
  name?: string;
  env?: Record<string, string>;
  /** true: refused before any Ganeti call (nothing in it needs Ganeti's data). */
  noGanetiCall?: boolean;
  /** Run this path (a link to the binary) instead, as Ganeti 3.2 execs network/MODE/ACTION. */
  exec?: string;
}

async function refused(c: Call): Promise<void> {
  const before = await ovs.dump();
  const devs = await links();
  const calls = gnt.state().calls;
  const env = { ...gnt.env, ...(c.env ?? {}) };
  const r = c.exec
    ? await ovs.inNs(c.exec, c.args, { env: { OVS_VIF_SYSLOG: "0", ...env } })
    : await runBinary(ovs, c.args, { ...(c.name ? { name: c.name } : {}), env });
  assertRefused(r, c.label, c.mentions);
  assert.is(await ovs.dump(), before, `${c.label}: OVSDB unchanged`);
  assert.is(await links(), devs, `${c.label}: taps unchanged`);
  const after = gnt.state().calls.slice(calls.length);
  assert.equal(
    after.filter((x) => ["add-tags", "remove-tags", "modify"].includes(x[1] ?? "")),
    [],
    `${c.label}: Ganeti not asked to change anything`,
  );
  if (c.noGanetiCall) assert.equal(after, [], `${c.label}: no Ganeti call at all`);
  cases++;
}

test("the examples of the audit: numbers in other bases, and a burst the NIC script would refuse", async () => {
  await refused({ label: "vlan add 0x10", args: ["vlan", "add", "inst1", "0", "0x10"], mentions: ["VLAN", quoted("0x10")], noGanetiCall: true });
  await refused({ label: "vlan add 1e3", args: ["vlan", "add", "inst1", "0", "1e3"], mentions: ["VLAN", quoted("1e3")], noGanetiCall: true });
  await refused({
    label: "vlan set .99999999999999999999",
    args: ["vlan", "set", "inst1", "0", ".99999999999999999999"],
    mentions: ["VLAN", quoted(".99999999999999999999")],
    noGanetiCall: true,
  });
  await refused({
    label: "qos set --burst 8k (below one frame)",
    args: ["qos", "set", "inst1", "0", "--rate", "100M", "--burst", "8k"],
    mentions: ["8k", "frame"],
  });
  await refused({ label: "qos set --rate 1e3", args: ["qos", "set", "inst1", "0", "--rate", "1e3"], mentions: ["--rate", quoted("1e3")], noGanetiCall: true });
  await refused({
    label: "qos unset with a rate",
    args: ["qos", "unset", "inst1", "0", "--rate", "1M"],
    mentions: ["--rate", "qos unset"],
    noGanetiCall: true,
  });
  await refused({ label: "qos show --burst", args: ["qos", "show", "--burst", "1M"], mentions: ["--burst"], noGanetiCall: true });
  await refused({
    label: "qos set with a surplus argument",
    args: ["qos", "set", "inst1", "0", "1", "--rate", "1M"],
    mentions: [quoted("1")],
    noGanetiCall: true,
  });
});

test("reconcile --from a damaged export names the file and the JSON path, and asks Ganeti nothing", async () => {
  const good = () => ({
    version: 1,
    instances: [
      {
        name: "inst1",
        primary: "node1.example.com",
        tags: ["ovs-vif:rate:100M"],
        nics: [{ index: 0, uuid: UUID0, name: "eth0", mac: "aa:00:00:00:01:00", mode: "openvswitch", link: "sw1", vlan: ".3" }],
      },
    ],
    networks: {},
  });
  const damaged: [string, (d: ReturnType<typeof good>) => unknown, string][] = [
    ["instances: [null]", (d) => ({ ...d, instances: [null] }), "instances[0]"],
    ['nics: "x"', (d) => (((d.instances[0] as Record<string, unknown>).nics = "x"), d), "instances[0].nics"],
    ['"vlan": 5', (d) => (((d.instances[0]!.nics[0] as Record<string, unknown>).vlan = 5), d), "instances[0].nics[0].vlan"],
    ['"vlan": ".5000"', (d) => (((d.instances[0]!.nics[0] as Record<string, unknown>).vlan = ".5000"), d), "instances[0].nics[0].vlan"],
    ["a tag Ganeti would not accept", (d) => ((d.instances[0]!.tags = ["a b"]), d), "instances[0].tags[0]"],
    ["version 3", (d) => ({ ...d, version: 3 }), "version"],
    ["version 2 with version 1's networks (a list of tags)", (d) => ({ ...d, version: 2, networks: { net1: ["t"] } }), "networks.net1"],
    ["a network's unknown key", (d) => ({ ...d, version: 2, networks: { net1: { tags: [], subnet4: "x" } } }), "networks.net1"],
    ["a NIC's IP that is no address", (d) => (((d.instances[0]!.nics[0] as Record<string, unknown>).ip = "198.51.100.300"), d), "instances[0].nics[0].ip"],
    ["no instances", (d) => ({ version: d.version, networks: {} }), "instances"],
    ["networks as a list", (d) => ({ ...d, networks: [] }), "networks"],
    ["a name with a path", (d) => ((d.instances[0]!.name = "../inst1"), d), "instances[0].name"],
  ];
  let i = 0;
  for (const [label, damage, path] of damaged) {
    const file = join(dir, `export${i++}.json`);
    writeFileSync(file, JSON.stringify(damage(good())));
    await refused({ label: `reconcile --from, ${label}`, args: ["reconcile", "--from", file], mentions: [file, path], noGanetiCall: true });
  }
  const file = join(dir, "truncated.json");
  writeFileSync(file, JSON.stringify(good()).slice(0, 40));
  await refused({ label: "reconcile --from a truncated file", args: ["reconcile", "--from", file], mentions: [file, "not valid JSON"], noGanetiCall: true });
});

type Gen = (r: Random) => Call;

const nicScriptCases: Gen = (r) => {
  const key = r.pick(NIC_VARIABLES);
  const { value, shown } = badNicVariable(r, key);
  const extra: Record<string, string> = key === "IP" ? { MODE: "routed" } : {};
  // (A routed NIC is not for the openvswitch directory's script.)
  const script = key === "IP" ? "kvm-vif-bridge" : r.pick(["kvm-vif-bridge", "network"] as const);
  const env = nicEnv({ ...extra, [key]: value });
  const mentions = [key === "TAGS" ? "tag" : key, quoted(shown)];
  if (script === "kvm-vif-bridge")
    return { label: `kvm-vif-bridge ${key}=${JSON.stringify(value)}`, args: [], name: "kvm-vif-bridge", env, mentions, noGanetiCall: true };
  // Ganeti 3.2 execs the script by its full path.
  return {
    label: `network/openvswitch/up ${key}=${JSON.stringify(value)}`,
    args: [],
    exec: join(dir, "network/openvswitch/up"),
    env: key === "MODE" ? env : { ...env, ACTION: "up" },
    mentions,
    noGanetiCall: true,
  };
};

const ganetiCommandCases: Gen = (r) => {
  const which = r.pick(["vlan", "vlan", "qos-rate", "qos-burst", "qos-instance", "vlan-instance"] as const);
  switch (which) {
    case "vlan": {
      const edit = r.pick(["add", "remove", "set"]);
      const value = edit === "set" ? badVlan(r) : r.pick([numberLike(r), String(r.int(4095, 99999)), "0", `.${r.int(1, 9)}:${r.int(10, 99)}`]);
      return {
        label: `vlan ${edit} ${JSON.stringify(value)}`,
        args: ["vlan", edit, "inst1", "0", "--", value],
        mentions: ["VLAN", quoted(value)],
        noGanetiCall: true,
      };
    }
    case "qos-rate":
    case "qos-burst": {
      const value = badRate(r);
      const opt = which === "qos-rate" ? "--rate" : "--burst";
      return {
        label: `qos set ${opt}=${JSON.stringify(value)}`,
        args: ["qos", "set", "inst1", "0", "--rate=10M", `${opt}=${value}`],
        mentions: [opt, quoted(value)],
        noGanetiCall: true,
      };
    }
    case "qos-instance":
    case "vlan-instance": {
      const value = r.pick(["../x", "a/b", "x;y", "", "-x", "a b", ".."]);
      const args = which === "qos-instance" ? ["qos", "set", "--rate", "1M", "--", value, "0"] : ["vlan", "add", "--", value, "0", "20"];
      return { label: `${args[0]} with INSTANCE ${JSON.stringify(value)}`, args, mentions: ["INSTANCE", quoted(value)], noGanetiCall: true };
    }
  }
};

generatedSuites(
  test,
  [
    ["NIC scripts", nicScriptCases, 100, 21],
    ["commands that write to Ganeti", ganetiCommandCases, 60, 22],
  ],
  refused,
);

test("the instance hook: a VLAN Ganeti accepts but OVS cannot carry fails that NIC, names it, and leaves its port", async () => {
  const env = {
    GANETI_HOOKS_VERSION: "2",
    GANETI_HOOKS_PHASE: "post",
    GANETI_HOOKS_PATH: "instance-modify",
    GANETI_POST_INSTANCE_NAME: "inst1",
    GANETI_POST_INSTANCE_PRIMARY: "node1.example.com",
    GANETI_POST_INSTANCE_TAGS: "ovs-vif:rate:100M",
    GANETI_POST_INSTANCE_NIC_COUNT: "1",
    GANETI_POST_INSTANCE_NIC0_UUID: UUID0,
    GANETI_POST_INSTANCE_NIC0_MAC: "aa:00:00:00:01:00",
    GANETI_POST_INSTANCE_NIC0_MODE: "openvswitch",
    GANETI_POST_INSTANCE_NIC0_LINK: "sw1",
    OVS_VIF_NODE_NAME: "node1.example.com",
  };
  for (const vlan of [".5000", ".3:3", "0x10", ".3:"]) {
    await refused({
      label: `instance-modify with VLAN ${vlan}`,
      args: [],
      env: { ...env, GANETI_POST_INSTANCE_NIC0_VLAN: vlan },
      mentions: ["inst1 nic 0 vlan", quoted(vlan.startsWith(".") || vlan.startsWith(":") ? vlan : vlan)],
    });
  }
  await refused({
    label: "instance-modify with a bad rate tag",
    args: [],
    env: { ...env, GANETI_POST_INSTANCE_NIC0_VLAN: ".3", GANETI_POST_INSTANCE_TAGS: "ovs-vif:rate:10Q" },
    mentions: ["instance tag", quoted("ovs-vif:rate:10Q")],
  });
  await refused({
    label: "the hook with an argument",
    args: ["ganeti-hook", "extra"],
    env: { ...env, GANETI_POST_INSTANCE_NIC0_VLAN: ".3" },
    mentions: [quoted("extra")],
    noGanetiCall: true,
  });
});

test.run();
