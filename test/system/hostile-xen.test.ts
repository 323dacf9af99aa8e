// Hostile input to the Xen hooks (vif-openvswitch, and vif-custom with
// Ganeti's NIC file), hand-written and generated from a fixed seed: every
// refusal exits non-zero without a signal, prints one line naming the field
// and the value, writes hotplug-error + hotplug-status=error when the backend
// path is known, and leaves OVSDB and the device exactly as they were.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertRefused, badMac, badMtu, badName, badNicVariable, badRate, badVlan, NIC_VARIABLES, numberLike, quoted, seeded } from "../harness/hostile.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import type { Result } from "../harness/proc.ts";
import { makeXenVif, xenHotplug, type XenVif } from "../harness/xen-domain.ts";
import { startXenstored, type XenstoredHandle } from "../harness/xenstore.ts";

let ovs: OvsHandle;
let xs: XenstoredHandle;
const dirs: string[] = [];
let root: string;
let domid = 100;
let cases = 0;

test.before(async () => {
  ovs = await startOvs();
  const xsDir = mkdtempSync(join(tmpdir(), "ovs-vif-hx-"));
  root = mkdtempSync(join(tmpdir(), "ovs-vif-hx-root-"));
  dirs.push(xsDir, root);
  xs = await startXenstored(xsDir);
  await ovs.addBridge("sw1");
  // A port of another domain: the refused calls must not touch it either.
  const other = await makeXenVif(ovs, xs, 99, { bridge: "sw1.7" });
  assert.is((await xenHotplug(ovs, xs, other, "online")).code, 0);
});

test.after(async () => {
  await xs?.stop();
  await ovs?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  console.log(`  ${cases} refused calls checked`);
});

/** What a refused call must leave alone: the device's name, MAC, flags, MTU, master. */
async function deviceState(name: string): Promise<string> {
  const r = await ovs.inNs("ip", ["-j", "link", "show"]);
  const links = JSON.parse(r.stdout) as { ifname: string; address?: string; flags?: string[]; mtu?: number; master?: string }[];
  return JSON.stringify(
    links.filter((l) => l.ifname.startsWith(name.slice(0, 4)) || l.ifname === name).map((l) => [l.ifname, l.address, l.flags, l.mtu, l.master]),
  );
}

interface Case {
  label: string;
  keys: Record<string, string>;
  /** Environment / arguments for the call, over the vif's defaults. */
  env?: (vif: XenVif) => Record<string, string>;
  args?: string[];
  mentions: (vif: XenVif) => string[];
  /** false: the backend path cannot be known from what Xen passed. */
  reportable?: boolean;
  /** Write a Ganeti NIC file for vif-custom: its variables. */
  nicFile?: Record<string, string>;
}

async function refused(c: Case, script: "vif-openvswitch" | "vif-custom"): Promise<void> {
  const vif = await makeXenVif(ovs, xs, domid++, c.keys);
  if (c.nicFile) {
    const dir = join(root, "var/run/ganeti/xen-hypervisor/nic", vif.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "0"),
      Object.entries(c.nicFile)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
  }
  const before = await ovs.dump();
  const dev = await deviceState(vif.device);
  const env = { ...xs.env, vif: vif.device, XENBUS_PATH: vif.backend, GANETI_ROOTDIR: root, ...(c.env?.(vif) ?? {}) };
  const r: Result = await runBinary(ovs, ["online", ...(c.args ?? [])], { name: script, env });
  const label = `${script} ${c.label}`;
  assertRefused(r, label, c.mentions(vif));
  assert.is(await ovs.dump(), before, `${label}: OVSDB unchanged`);
  assert.is(await deviceState(vif.device), dev, `${label}: device unchanged`);
  if (c.reportable !== false) {
    assert.is(await xs.read(`${vif.backend}/hotplug-status`), "error", `${label}: hotplug-status`);
    assert.ok(((await xs.read(`${vif.backend}/hotplug-error`)) ?? "").length > 0, `${label}: hotplug-error`);
  }
  cases++;
}

const k = (vif: XenVif, key: string) => `${vif.backend}/${key}`;

const HANDWRITTEN: Case[] = [
  {
    label: "a missing bridge with a vifname: nothing renamed",
    keys: { bridge: "nosuchbr.3", vifname: "web9" },
    mentions: (v) => [k(v, "bridge"), quoted("nosuchbr")],
  },
  { label: "VLAN out of range with a vifname", keys: { bridge: "sw1.5000", vifname: "web8" }, mentions: (v) => [k(v, "bridge"), quoted("sw1.5000")] },
  { label: "a vifname already taken", keys: { bridge: "sw1", vifname: "vif99.0" }, mentions: () => ["vifname", quoted("vif99.0")] },
  {
    label: "a malformed $vif with a valid XENBUS_PATH",
    keys: { bridge: "sw1" },
    env: () => ({ vif: "vif;reboot" }),
    mentions: () => ["vif", quoted("vif;reboot")],
  },
  { label: "an empty $vif", keys: { bridge: "sw1" }, env: () => ({ vif: "" }), mentions: () => ["vif", '""'] },
  {
    label: "a XENBUS_PATH that is no backend path",
    keys: { bridge: "sw1" },
    env: () => ({ XENBUS_PATH: "/local/domain/0/../x" }),
    mentions: () => ["XENBUS_PATH", quoted("/local/domain/0/../x")],
    reportable: false,
  },
  { label: "an argument that is no key=value", keys: { bridge: "sw1" }, args: ["rm -rf"], mentions: () => ["argument", quoted("rm -rf")] },
  { label: "type_if neither vif nor tap", keys: { bridge: "sw1" }, args: ["type_if=vbd"], mentions: () => ["type_if", quoted("vbd")] },
  { label: "a zero credit in xl rate=", keys: { bridge: "sw1", rate: "0,1" }, mentions: (v) => [k(v, "rate"), quoted("0,1")] },
  { label: "an unknown option", keys: { bridge: "sw1" }, args: ["--bogus"], mentions: () => ["--bogus"] },
];

for (const c of HANDWRITTEN) test(`vif-openvswitch refuses ${c.label}`, () => refused(c, "vif-openvswitch"));

/** Generated cases: one corrupted backend key each. */
function generated(n: number, seed: number): Case[] {
  const r = seeded(seed);
  const out: Case[] = [];
  const xlBad = () =>
    r.pick([
      "10p",
      "10u",
      "10-12pu",
      "10pu/20pu",
      "0",
      "4095",
      "20-10",
      `10+0x${r.int(2, 9)}`,
      "a",
      "10//20",
      `${r.int(4095, 9999)}`,
      `10pu/${numberLike(r)}`,
      "1-5000",
      "10+1x5000",
    ]);
  for (let i = 0; i < n; i++) {
    const kind = r.pick(["bridge", "bridge", "bridge", "vlan", "mtu", "mac", "rate", "vifname", "bridge-name"] as const);
    let keys: Record<string, string>;
    let key: string = kind;
    let value: string;
    switch (kind) {
      case "bridge":
        value = `sw1${badVlan(r)}`;
        keys = { bridge: value };
        break;
      case "bridge-name":
        key = "bridge";
        value = `${badName(r).replace(/[.:]/g, ";")}.3`;
        keys = { bridge: value };
        break;
      case "vlan":
        value = xlBad();
        keys = { bridge: "sw1", vlan: value };
        break;
      case "mtu":
        value = badMtu(r);
        keys = { bridge: "sw1", mtu: value };
        break;
      case "mac":
        value = badMac(r);
        keys = { bridge: "sw1", mac: value };
        break;
      case "rate":
        // (A plain digit string is a valid BYTES: keep the lax-number forms only.)
        value = r.pick([
          `${r.int(1, 9)}`,
          `${r.int(1, 9)},`,
          `,${r.int(1, 9)}`,
          `${r.int(1, 9)},0`,
          badRate(r),
          `${numberLike(r).replace(/^([0-9]+)$/, "x$1")},20000`,
        ]);
        keys = { bridge: "sw1", rate: value };
        break;
      case "vifname":
        value = badName(r);
        keys = { bridge: "sw1", vifname: value };
        break;
    }
    // xenstore keeps values as bytes; an empty value reads as absent.
    if (value === "" || value.includes("\n")) value = `${value}x;`;
    keys[key] = value;
    out.push({ label: `generated ${i}: ${key}=${JSON.stringify(value)}`, keys, mentions: (v) => [k(v, key), quoted(value)] });
  }
  return out;
}

test("vif-openvswitch refuses 120 generated corrupted backend keys", async () => {
  for (const c of generated(120, 1)) await refused(c, "vif-openvswitch");
});

/** vif-custom: one corrupted variable of Ganeti's NIC file each. */
function nicFileCases(n: number, seed: number): Case[] {
  const r = seeded(seed);
  const good = {
    MAC: "aa:00:00:00:00:01",
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: "9f3c1d2e-5b6a-4c7d-8e9f-0a1b2c3d4e5f",
    MODE: "openvswitch",
    LINK: "sw1",
    VLAN: ".3",
    TAGS: "web",
  };
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    // Not INTERFACE (the vif names the device) nor IP (the NIC is openvswitch).
    const key = r.pick(NIC_VARIABLES.filter((v) => v !== "INTERFACE" && v !== "IP"));
    const { value, shown } = badNicVariable(r, key);
    // The file is shell syntax: single-quote the value (a quote inside is closed and escaped).
    const fileValue = `'${value.replace(/'/g, `'\\''`)}'`;
    out.push({
      label: `NIC file ${key}=${JSON.stringify(value)}`,
      keys: { bridge: "sw1.3" },
      nicFile: { ...good, [key]: fileValue },
      mentions: () => [key === "TAGS" ? "tag" : key, quoted(shown)],
    });
  }
  return out;
}

test("vif-custom refuses 50 generated corrupted NIC files", async () => {
  for (const c of nicFileCases(50, 2)) await refused(c, "vif-custom");
});

test.run();
