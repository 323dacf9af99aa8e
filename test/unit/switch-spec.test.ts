// The switch spec: typed validation whose errors name the JSON path in the
// file, through the compiled binary (`ovs-vif switch check`) and in-process
// (validateSpec / resolveSwitch) for the resolution rules.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY } from "../harness/ovs.ts";
import { sh } from "../harness/proc.ts";
import { DocumentError } from "../../src/checker.ts";
import { resolveSwitch } from "../../src/switch/spec-resolve.ts";
import { validateSpec } from "../../src/switch/spec-validate.ts";

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-switch-spec-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function specFile(doc: unknown): string {
  const file = join(dir, `spec${n++}.json`);
  writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
  return file;
}

/** `ovs-vif switch check --spec FILE` with the compiled binary. */
async function check(doc: unknown): Promise<{ code: number; out: string; file: string }> {
  const file = specFile(doc);
  const r = await sh(BINARY, ["switch", "check", "--spec", file], { env: { ...process.env, OVS_VIF_SYSLOG: "0" } });
  return { code: r.code, out: r.stdout + r.stderr, file };
}

const bond = (extra: Record<string, unknown>) => ({ name: "bond0", members: ["eth0", "eth1"], ...extra });
const oneSwitch = (uplinks: unknown[], extra: Record<string, unknown> = {}) => ({ version: 1, switches: [{ name: "sw1", uplinks, ...extra }] });

function problems(doc: unknown): string[] {
  try {
    validateSpec(doc, "spec.json");
  } catch (err) {
    if (err instanceof DocumentError) return err.problems;
    throw err;
  }
  return [];
}

test("a valid spec passes check and names its switches", async () => {
  const r = await check({
    version: 1,
    defaults: { datapath_type: "netdev" },
    switches: [
      { name: "sw1", mtu: 9000, fail_mode: "standalone", managed: true, uplinks: [bond({ bond_mode: "balance-tcp", lacp: "active", "lacp-time": "fast", "bond-updelay": 100, "bond-downdelay": 50, vlans: [10, "20-30"] })] },
      { name: "sw2", uplinks: [{ name: "eth2" }], networks: ["net-b"] },
    ],
    node_groups: { default: { switches: ["sw1", "sw2"], nodes: ["node1.example.com"] } },
  });
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /: ok \(2 switches: sw1, sw2\)/);
});

test("the shipped example spec is valid", async () => {
  const file = join(import.meta.dirname, "..", "..", "examples", "switches.json");
  const r = await sh(BINARY, ["switch", "check", "--spec", file], { env: { ...process.env, OVS_VIF_SYSLOG: "0" } });
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.endsWith(": ok (2 switches: sw-vm, sw-storage)\n"), r.stdout);
});

test("an unknown bond_mode names its JSON path and the allowed values", async () => {
  const r = await check(oneSwitch([{ name: "eth2" }, bond({ bond_mode: "balance-xyz" })]));
  assert.is(r.code, 1);
  assert.ok(r.out.includes(`${r.file}: switches[0].uplinks[1].bond_mode "balance-xyz": expected active-backup, balance-slb or balance-tcp`), r.out);
});

test("balance-tcp with lacp off is refused with the reason", async () => {
  const r = await check(oneSwitch([bond({ bond_mode: "balance-tcp", lacp: "off" })]));
  assert.is(r.code, 1);
  assert.ok(r.out.includes(`switches[0].uplinks[0].lacp "off": balance-tcp requires LACP`), r.out);
  // lacp left out means off: refused too, on bond_mode.
  const r2 = await check(oneSwitch([bond({ bond_mode: "balance-tcp" })]));
  assert.is(r2.code, 1);
  assert.ok(r2.out.includes(`switches[0].uplinks[0].bond_mode "balance-tcp": balance-tcp requires LACP: set lacp to "active" or "passive"`), r2.out);
});

test("every problem is reported at once, each with its path", async () => {
  const r = await check({
    version: 1,
    switches: [
      {
        name: "sw1",
        mtu: 20,
        fail_mode: "open",
        uplinks: [bond({ members: ["eth0"], lacp: "sometimes", bond_mod: "balance-slb" }), { name: "eth2", vlans: [10, 4095, "30-20"], bond_mode: "active-backup" }],
      },
    ],
  });
  assert.is(r.code, 1);
  for (const expected of [
    `switches[0].mtu 20: out of range 68..65535`,
    `switches[0].fail_mode "open": expected standalone or secure`,
    `switches[0].uplinks[0].bond_mod: unknown key (did you mean bond_mode?)`,
    `switches[0].uplinks[0].members ["eth0"]: a bond needs at least two members`,
    `switches[0].uplinks[0].lacp "sometimes": expected active, passive or off`,
    `switches[0].uplinks[1].vlans[1] 4095: VLAN ids are 1..4094`,
    `switches[0].uplinks[1].vlans[2] "30-20": range start is above its end`,
    `switches[0].uplinks[1].bond_mode "active-backup": only for a bond (an uplink with members)`,
  ]) {
    assert.ok(r.out.includes(expected), `missing ${expected} in: ${r.out}`);
  }
});

test("version, duplicates and override paths", () => {
  assert.equal(problems({ switches: [] }), ["version: required (1)"]);
  assert.equal(problems({ version: 2, switches: [] }), ["version 2: unsupported spec version (this ovs-vif reads version 1)"]);
  assert.equal(problems({ version: 1, switches: [{ name: "sw1" }, { name: "sw1" }] }), [`switches[1].name "sw1": already defined by switches[0]`]);
  assert.equal(problems(oneSwitch([{ name: "eth0" }, bond({})])), [`switches[0].uplinks[1] "eth0": device or port name already used by switches[0].uplinks[0]`]);
  assert.equal(
    problems(oneSwitch([], { overrides: { nodes: { "node1.example.com": { uplinks: [bond({ members: ["eth0", "eth 1"] })] } } } })),
    [`switches[0].overrides.nodes["node1.example.com"].uplinks[0].members[1] "eth 1": interface name contains whitespace (allowed: letters, digits and _ . + @ -)`],
  );
  assert.equal(problems(oneSwitch([bond({ "lacp-time": "fast" })])), [`switches[0].uplinks[0].lacp-time "fast": only with lacp "active" or "passive"`]);
  assert.equal(problems(oneSwitch([bond({ lacp: "active", "lacp-time": "fast", lacp_time: "slow" })])), [`switches[0].uplinks[0].lacp_time: given together with lacp-time; use one`]);
  assert.equal(problems(oneSwitch([{ name: "sw1" }])), [`switches[0].uplinks[0].name "sw1": the bridge's own internal port has this name`]);
  assert.equal(problems({ version: 1, node_groups: { g1: { switches: ["sw1"], nodes: ["n1"] }, g2: { switches: [], nodes: ["n1"] } } }), [`node_groups.g2.nodes "n1": node also listed in node group g1`]);
});

test("invalid JSON is reported with the file", async () => {
  const r = await check('{"version": 1, "switches": [}');
  assert.is(r.code, 1);
  assert.match(r.out, new RegExp(`${r.file.replace(/[.]/g, "\\.")}: not valid JSON`));
});

test("a missing spec file is a clear error", async () => {
  const r = await sh(BINARY, ["switch", "check", "--spec", join(dir, "nope.json")], { env: { ...process.env, OVS_VIF_SYSLOG: "0" } });
  assert.is(r.code, 1);
  assert.match(r.stderr, /--spec ".*nope\.json": no such file/);
});

test("OVS_VIF_SWITCHES names the spec when --spec is not given", async () => {
  const file = specFile(oneSwitch([{ name: "eth9" }]));
  const r = await sh(BINARY, ["switch", "check"], { env: { ...process.env, OVS_VIF_SYSLOG: "0", OVS_VIF_SWITCHES: file } });
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${file}: ok (1 switch: sw1)`), r.stdout);
});

test("resolution: base, then the group's override, then the node's", () => {
  const spec = validateSpec(
    {
      version: 1,
      defaults: { datapath_type: "netdev", mtu: 1500 },
      switches: [
        {
          name: "sw1",
          managed: true,
          uplinks: [{ name: "eth0" }],
          overrides: {
            groups: { rack2: { uplinks: [{ name: "ens1" }], mtu: 9000 } },
            nodes: { node7: { uplinks: [bond({ members: ["ens1", "ens2"] })] }, "node8.example.com": { fail_mode: "secure" } },
          },
        },
      ],
    },
    "spec.json",
  );
  const base = resolveSwitch(spec, "sw1", { node: "node1.example.com", group: "default" });
  assert.equal(base.uplinks?.map((u) => u.name), ["eth0"]);
  assert.is(base.mtu, 1500);
  assert.is(base.datapathType, "netdev");
  assert.is(base.origin, "managed");
  const g = resolveSwitch(spec, "sw1", { node: "node1.example.com", group: "rack2" });
  assert.equal(g.uplinks?.map((u) => u.name), ["ens1"]);
  assert.is(g.mtu, 9000);
  // A short-name key matches the node's FQDN; the node's override wins over the group's.
  const n7 = resolveSwitch(spec, "sw1", { node: "node7.example.com", group: "rack2" });
  assert.equal(n7.uplinks?.map((u) => u.name), ["bond0"]);
  assert.equal(n7.uplinks?.[0]?.bond?.members, ["ens1", "ens2"]);
  assert.is(n7.mtu, 9000);
  assert.is(resolveSwitch(spec, "sw1", { node: "node8.example.com" }).failMode, "secure");
  assert.is(resolveSwitch(spec, "sw1", { node: "node8.other.org" }).failMode, undefined);
  // Not in the spec: a bare bridge with the defaults and no uplink management.
  const bare = resolveSwitch(spec, "br-x", {});
  assert.equal(bare, { name: "br-x", origin: "bare", datapathType: "netdev", mtu: 1500 });
});

test.run();
