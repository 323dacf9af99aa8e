// Hostile command lines and environments for the node commands (attach,
// detach, qemu-ifup, gc, switch), hand-written and generated from a fixed
// seed: every refusal exits non-zero without a signal, prints one line
// naming the option or variable and the value as typed, and leaves OVSDB and
// the tap exactly as they were.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertRefused, badMac, badMtu, badName, badRate, badVlan, generatedSuites, numberLike, quoted, seeded, type Random } from "../harness/hostile.ts";
import { portView } from "../harness/oracle.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let dir: string;
let cases = 0;

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hcli-"));
  await ovs.addBridge("sw1");
  await ovs.addTap("tap0");
  await ovs.addTap("tap1");
  // One port that every refused call must leave as it is.
  assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "tap1", "--vlan", ".7:8", "--rate", "10M"])).code, 0);
});

test.after(async () => {
  await ovs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  console.log(`  ${cases} refused calls checked`);
});

async function links(): Promise<string> {
  return (await ovs.inNs("ip", ["-o", "link", "show"])).stdout.replace(/^\d+: /gm, "");
}

async function refused(label: string, args: string[], mentions: string[], opts: { name?: string; env?: Record<string, string> } = {}): Promise<void> {
  const before = await ovs.dump();
  const devs = await links();
  const r = await runBinary(ovs, args, opts);
  assertRefused(r, label, mentions);
  assert.is(await ovs.dump(), before, `${label}: OVSDB unchanged`);
  assert.is(await links(), devs, `${label}: devices unchanged`);
  cases++;
}

const ATTACH = ["attach", "--bridge", "sw1", "--iface", "tap0"];

test("the examples of the audit are refused, naming what was typed", async () => {
  await refused("vlan .99999999999999999999", [...ATTACH, "--vlan", ".99999999999999999999"], ["--vlan", quoted(".99999999999999999999")]);
  await refused("--vlan without a value (last)", [...ATTACH, "--vlan"], ["--vlan", "missing value"]);
  await refused("--vlan without a value (an option follows)", ["attach", "--vlan", "--bridge", "sw1", "--iface", "tap0"], ["--vlan", "missing value"]);
  await refused("--burst 5 (OVS units, below one frame)", [...ATTACH, "--rate", "10000", "--burst", "5"], ["--burst", quoted("5")]);
  await refused("detach --iface A B", ["detach", "--iface", "tap0", "tap1"], ["tap1"]);
  await refused("detach --iface twice", ["detach", "--iface", "tap0", "--iface", "tap1"], ["--iface", "more than once"]);
  await refused("gc with an instance as an argument", ["gc", "--dry-run", "instA"], [quoted("instA"), "--instance"]);
  await refused("gc --instance with a path", ["gc", "--instance", "../x"], ["--instance", quoted("../x")]);
  await refused("qemu-ifup 1e3 (a tap named 1e3, taken as typed)", ["1e3"], ["argument 1 (tap)", quoted("1e3")], {
    name: "qemu-ifup",
    env: { OVS_VIF_BRIDGE: "sw1.7" },
  });
  await refused("an unknown option", [...ATTACH, "--vlann", ".3"], [quoted("--vlann")]);
  await refused("a flag with a value", [...ATTACH, "--dry-run=yes"], ["--dry-run", quoted("yes")]);
  await refused("an attach argument", [...ATTACH, "extra"], [quoted("extra")]);
  await refused("--timeout 0x10", [...ATTACH, "--timeout", "0x10"], ["--timeout", quoted("0x10")]);
  await refused("OVS_VIF_TIMEOUT 1e3", ATTACH, ["OVS_VIF_TIMEOUT", quoted("1e3")], { env: { OVS_VIF_TIMEOUT: "1e3" } });
  await refused("OVS_VIF_DEFAULTS naming a directory", ATTACH, ["OVS_VIF_DEFAULTS", quoted(dir), "directory"], { env: { OVS_VIF_DEFAULTS: dir } });
});

test("attach --vlan none is the documented untagged NIC", async () => {
  const r = await runBinary(ovs, [...ATTACH, "--vlan", "none"]);
  assert.is(r.code, 0, r.stderr);
  const p = await portView(ovs, "tap0");
  assert.equal([p!.vlan_mode, p!.tag, p!.trunks], ["access", null, []]);
  assert.is((await runBinary(ovs, ["detach", "--iface", "tap0"])).code, 0);
});

type Gen = (r: Random) => { label: string; args: string[]; mentions: string[]; name?: string; env?: Record<string, string> };

const attachCases: Gen = (r) => {
  const option = r.pick(["bridge", "iface", "vlan", "vlan", "rate", "burst", "mtu", "external-id", "owner", "shape"] as const);
  const base: Record<string, string> = { bridge: "sw1", iface: "tap0" };
  let value: string;
  switch (option) {
    case "bridge":
    case "iface":
      value = badName(r) || "x;";
      break;
    case "vlan":
      value = r.pick([badVlan(r), numberLike(r)]);
      break;
    case "rate":
    case "burst":
      value = badRate(r);
      break;
    case "mtu":
      value = badMtu(r) || "0";
      break;
    case "external-id":
      value = r.pick(["noequals", "=v", `k;x=v`, `${"k".repeat(70)}=v`, `k=v\u0001`]);
      break;
    case "owner":
      value = r.pick(["Cli", "x".repeat(33), "a b", "a;b", "ganeti!"]);
      break;
    case "shape": {
      const bad = r.pick([["--nosuch", "1"], ["--iface"], ["--bridge", "sw1"], ["stray"], ["-x"], ["--", "--vlan"]]);
      const args = [...ATTACH, ...bad];
      return {
        label: `attach ${bad.join(" ")}`,
        args,
        mentions: [bad[0] === "--" ? quoted("--vlan") : bad[0] === "--iface" ? "--iface" : bad[0] === "--bridge" ? "--bridge" : quoted(bad[0]!)],
      };
    }
  }
  // Values starting with '-' need the --opt=VALUE form.
  const args = ["attach", ...Object.entries({ ...base, [option]: value }).flatMap(([k, v]) => [`--${k}=${v}`])];
  return { label: `attach --${option}=${JSON.stringify(value)}`, args, mentions: [`--${option}`, quoted(value)] };
};

const qemuCases: Gen = (r) => {
  const key = r.pick(["OVS_VIF_BRIDGE", "OVS_VIF_BRIDGE", "OVS_VIF_RATE", "OVS_VIF_BURST", "OVS_VIF_MAC", "OVS_VIF_IFACE_ID", "tap"] as const);
  const env: Record<string, string> = { OVS_VIF_BRIDGE: "sw1.3" };
  let value: string;
  switch (key) {
    case "OVS_VIF_BRIDGE":
      value = r.pick([`sw1${badVlan(r)}`, `${badName(r).replace(/[.:]/g, ";") || ";"}.3`]);
      break;
    case "OVS_VIF_RATE":
    case "OVS_VIF_BURST":
      value = badRate(r);
      if (key === "OVS_VIF_BURST") env.OVS_VIF_RATE = "10M";
      break;
    case "OVS_VIF_MAC":
      value = badMac(r);
      break;
    case "OVS_VIF_IFACE_ID":
      value = `id\u0007${r.int(0, 9)}`;
      break;
    case "tap":
      value = badName(r) || "x;";
      return { label: `qemu-ifup ${JSON.stringify(value)}`, args: ["--", value], mentions: ["argument 1 (tap)", quoted(value)], name: "qemu-ifup", env };
  }
  env[key] = value;
  return {
    label: `qemu-ifup with ${key}=${JSON.stringify(value)}`,
    args: ["tap0"],
    mentions: [key, quoted(key === "OVS_VIF_IFACE_ID" ? `iface-id=${value}` : value)],
    name: "qemu-ifup",
    env,
  };
};

const detachGcCases: Gen = (r) => {
  const which = r.pick(["detach", "gc", "gc-arg", "qemu-ifdown"] as const);
  const value = which === "gc-arg" ? r.pick(["inst1", "--", "all"]) : badName(r) || "x;";
  if (which === "detach")
    return { label: `detach --iface=${JSON.stringify(value)}`, args: ["detach", `--iface=${value}`], mentions: ["--iface", quoted(value)] };
  if (which === "gc") return { label: `gc --instance=${JSON.stringify(value)}`, args: ["gc", `--instance=${value}`], mentions: ["--instance", quoted(value)] };
  if (which === "qemu-ifdown") return { label: `qemu-ifdown ${JSON.stringify(value)}`, args: ["--", value], mentions: [quoted(value)], name: "qemu-ifdown" };
  const args = value === "--" ? ["gc", "--", "x"] : ["gc", value];
  return { label: `gc ${args.slice(1).join(" ")}`, args, mentions: [quoted(value === "--" ? "x" : value)] };
};

generatedSuites(
  test,
  [
    ["attach", attachCases, 120, 11],
    ["qemu-ifup", qemuCases, 60, 12],
    ["detach, gc, qemu-ifdown", detachGcCases, 40, 13],
  ],
  (c) => refused(c.label, c.args, c.mentions, { ...(c.name ? { name: c.name } : {}), ...(c.env ? { env: c.env } : {}) }),
);

test("switch: 30 generated corrupted spec files are refused with the file and the JSON path", async () => {
  const r = seeded(14);
  const good = () => ({
    version: 1,
    switches: [{ name: "sw2", mtu: 1500, uplinks: [{ name: "upl0", vlans: [10, "20-30"] }] }],
    node_groups: { default: { switches: ["sw2"], nodes: ["node1"] } },
  });
  for (let i = 0; i < 30; i++) {
    const spec = good() as Record<string, unknown> & { switches: Record<string, unknown>[] };
    const [path, value] = r.pick([
      ["switches[0].mtu", r.pick([numberLike(r), 70000, -1, 1.5, null])],
      ["switches[0].name", r.pick([badName(r) || "x;", 7, null])],
      ["switches[0].uplinks[0].vlans[0]", r.pick([0, 4095, "30-20", "0x10", 1e3 * 10, null])],
      ["switches[0].fail_mode", r.pick(["open", 1, true])],
      ["node_groups.default.switches[0]", r.pick([badName(r) || "x;", 3])],
      ["version", r.pick([2, "1", null])],
    ] as [string, unknown][]);
    // Set the value at the path (a tiny path language: a.b[0].c).
    const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
    let obj = spec as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) obj = obj[key] as Record<string, unknown>;
    obj[keys[keys.length - 1]!] = value;
    const file = join(dir, `spec${i}.json`);
    writeFileSync(file, JSON.stringify(spec));
    await refused(`switch apply, ${path}=${JSON.stringify(value)}`, ["switch", "apply", "--spec", file, "--node", "node1"], [file, path]);
  }
});

test.run();
