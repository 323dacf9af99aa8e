// Hostile node files: defaults.json, ovn.json and switches.json, damaged,
// nested, oversized, with keys given twice, names the command line would
// refuse, and paths that are no file (a directory, a FIFO, a device, a loop
// of links), hand-written and generated from fixed seeds. Every refusal
// exits non-zero without a signal, in one line naming the file (or the
// variable and the path), with no runtime message, and leaves OVSDB and
// the links exactly as they were; doctor says the same of each file, one
// check line naming it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertCleanStderr, badName, controlChar, generatedSuites, quoted, type Random } from "../harness/hostile.ts";
import { endSuite, makeRefuser, type HostileCall, type Refuser } from "../harness/hostile-run.ts";
import { must } from "../harness/proc.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let dir: string;
let run: Refuser;
const t0 = performance.now();

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hfiles-"));
  await ovs.addBridge("sw1");
  await ovs.addBridge("br-int");
  await ovs.addTap("tap0");
  await ovs.addTap("tap1");
  assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "tap1", "--vlan", ".5", "--rate", "10M"])).code, 0);
  await must("mkfifo", [join(dir, "fifo")]);
  symlinkSync(join(dir, "loop"), join(dir, "loop"));
  run = makeRefuser(ovs);
});

test.after(() => endSuite("hostile-files", t0, { run, ovs, dir }));

type Kind = "defaults" | "ovn" | "spec";
const GOOD: Record<Kind, () => Record<string, unknown>> = {
  defaults: () => ({ version: 1, default: { rate: "1G", "rx-rate": "1G" }, bridges: { sw1: { rate: "100M", burst: "10M" } } }),
  ovn: () => ({ version: 1, nb: "unix:/run/ovn/ovnnb_db.sock", bridge: "br-int" }),
  spec: () => ({
    version: 1,
    switches: [{ name: "sw2", mtu: 1500, uplinks: [{ name: "upl0", vlans: [10] }] }],
    node_groups: { default: { switches: ["sw2"], nodes: ["node1"] } },
  }),
};

let n = 0;
function write(text: string): string {
  const file = join(dir, `f${n++}.json`);
  writeFileSync(file, text);
  return file;
}

/** The call that reads a file of this kind, at `path`. */
function reading(kind: Kind, path: string, r?: Random): Pick<HostileCall, "args" | "env" | "name"> {
  switch (kind) {
    case "defaults":
      return r?.pick([true, false])
        ? { args: ["tap0"], name: "qemu-ifup", env: { OVS_VIF_BRIDGE: "sw1.3", OVS_VIF_DEFAULTS: path } }
        : { args: ["attach", "--bridge", "sw1", "--iface", "tap0", "--vlan", ".4"], env: { OVS_VIF_DEFAULTS: path } };
    case "ovn":
      return { args: ["attach", "--bridge", "br-int", "--iface", "tap0", "--ovn-switch", "net1", "--mac", "02:00:00:00:09:01"], env: { OVS_VIF_OVN: path } };
    case "spec":
      return r?.pick([true, false]) ? { args: ["switch", "check", "--spec", path] } : { args: ["switch", "apply", "--spec", path, "--node", "node1"] };
  }
}

test("the examples of the issue: bridge names in defaults.json, a deeply nested file, a directory as the defaults", async () => {
  for (const name of ["sw 1", "", "../x", "sw\u00001"]) {
    const file = write(JSON.stringify({ version: 1, bridges: { [name]: { rate: "1M" } } }));
    await run.refused({
      cls: "names: a bridge name --bridge refuses",
      label: `defaults bridge ${JSON.stringify(name)}`,
      ...reading("defaults", file),
      mentions: [`${file}: bridges`, quoted(name)],
    });
  }
  for (const kind of ["defaults", "ovn", "spec"] as const) {
    const file = write(`{"version":1,"x":${"[".repeat(100000)}${"]".repeat(100000)}}`);
    await run.refused({
      cls: "JSON: nested too deep",
      label: `${kind}: 100000 levels`,
      ...reading(kind, file),
      mentions: [file, "nested deeper than 64 levels"],
    });
  }
  await run.refused({
    cls: "path: not a regular file",
    label: "defaults: a directory",
    ...reading("defaults", dir),
    mentions: ["OVS_VIF_DEFAULTS", quoted(dir), "is a directory"],
  });
});

/** A damaged text of a good document. */
function damagedText(r: Random, good: string): { cls: string; text: string; says: RegExp } {
  return r.pick([
    () => ({ cls: "JSON: syntax", text: good.slice(0, r.int(1, good.length - 1)), says: /not valid JSON: .*(line|empty)/ }),
    () => ({ cls: "JSON: syntax", text: good.replace(/"/g, "'"), says: /not valid JSON/ }),
    () => ({ cls: "JSON: syntax", text: good.replace(/}$/, ",}"), says: /not valid JSON/ }),
    () => ({ cls: "JSON: syntax", text: `// comment\n${good}`, says: /not valid JSON: expected a value: .* at line 1, column 1/ }),
    () => ({ cls: "JSON: syntax", text: good.replace(/1/, r.pick(["NaN", "Infinity", "0x1", "+1", "01", "1."])), says: /not valid JSON/ }),
    () => ({ cls: "JSON: syntax", text: good.replace(/"version"/, "version"), says: /expected a key in double quotes/ }),
    // A C0 control is no JSON; DEL, C1 and bidi are (and make the key another one).
    () => ({ cls: "JSON: syntax", text: good.replace(/"(\w)/, `"${controlChar(r, true)}$1`), says: /control character inside a string|version/ }),
    () => ({ cls: "JSON: syntax", text: good.replace(/"(\w)/, '"\\x$1'), says: /bad escape/ }),
    () => ({ cls: "JSON: syntax", text: `${good}${r.pick(["x", "{}", ",", "\u0000"])}`, says: /more after the value/ }),
    () => ({ cls: "JSON: syntax", text: r.pick(["", " \n", "\u0000", "null x"]), says: /not valid JSON/ }),
    () => ({
      cls: "JSON: nested too deep",
      text: good.replace(/^\{/, `{"deep":${"[".repeat(r.int(64, 5000))}${"]".repeat(0)}`),
      says: /nested deeper than 64 levels/,
    }),
    () => ({
      cls: "JSON: a key given twice",
      text: good.replace(/^\{"version":1/, `{"version":1,"version":${r.pick(["1", "2"])}`),
      says: /key "version" given twice in one object/,
    }),
    () => {
      const doc = JSON.parse(good) as Record<string, unknown>;
      const key = r.pick(Object.keys(doc).filter((k) => k !== "version"));
      const inner = JSON.stringify(doc[key]);
      return { cls: "JSON: a key given twice", text: good.replace(`"${key}":`, `"${key}":${inner},"${key}":`), says: new RegExp(`key "${key}" given twice`) };
    },
  ])();
}

const BAD_NAME = (r: Random): string =>
  r.pick([() => badName(r) || "..", () => `sw${controlChar(r, true)}1`, () => "-sw", () => "x".repeat(r.int(16, 40)), () => "sw\u00e91", () => " sw1"])();

/** A document with a name the command line would refuse, by kind (a
 * leading '-' only where a bridge is named: --iface takes it). */
function badNameDoc(r: Random, kind: Kind): { text: string; path: string } {
  const raw = BAD_NAME(r);
  const name = raw === "-sw" && kind === "spec" ? "sw/1" : raw;
  if (kind === "defaults") return { text: JSON.stringify({ version: 1, bridges: { [name]: { rate: "1M" } } }), path: ": bridges" };
  if (kind === "ovn") return { text: JSON.stringify({ version: 1, nb: "unix:/run/ovn/nb.sock", bridge: name }), path: ": bridge" };
  const doc = GOOD.spec() as { switches: Record<string, unknown>[]; node_groups: Record<string, unknown> };
  const where = r.pick(["switch", "uplink", "group", "node", "member"] as const);
  if (where === "switch") doc.switches[0]!.name = raw;
  if (where === "uplink") (doc.switches[0]!.uplinks as Record<string, unknown>[])[0]!.name = name;
  if (where === "member") (doc.switches[0]!.uplinks as Record<string, unknown>[])[0] = { name: "bond0", members: ["eth1", name] };
  if (where === "group") doc.node_groups = { [`g${controlChar(r, true)}${name}`]: { switches: ["sw2"] } };
  if (where === "node") (doc.node_groups.default as Record<string, unknown>).nodes = [name === "" ? ".." : `${name}/x`];
  return { text: JSON.stringify(doc), path: "" };
}

const fileCases = (r: Random): HostileCall => {
  const kind = r.pick(["defaults", "ovn", "spec"] as const);
  const which = r.pick(["damaged", "damaged", "name", "path"] as const);
  if (which === "damaged") {
    const { cls, text, says } = damagedText(r, JSON.stringify(GOOD[kind]()));
    const file = write(text);
    return { cls, label: `${kind} ${cls}: ${JSON.stringify(text.slice(0, 50))}`, ...reading(kind, file, r), mentions: [file], says };
  }
  if (which === "name") {
    const { text, path } = badNameDoc(r, kind);
    const file = write(text);
    return {
      cls: "names: a name the command line refuses",
      label: `${kind} bad name: ${text.slice(0, 80)}`,
      ...reading(kind, file, r),
      mentions: [`${file}${path}`],
    };
  }
  const [what, path, says] = r.pick([
    ["a directory", dir, "is a directory"],
    ["a FIFO", join(dir, "fifo"), "not valid JSON: empty"],
    ["/dev/zero", "/dev/zero", "larger than 16777216 bytes"],
    ["a loop of links", join(dir, "loop"), "a loop of symbolic links"],
    ["/dev/null", "/dev/null", "not valid JSON: empty"],
  ] as const);
  return { cls: "path: not a regular file", label: `${kind} at ${what}`, ...reading(kind, path, r), mentions: [path, says] };
};

generatedSuites(test, [["node files", fileCases, 180, 61]], async (c) => {
  await run.refused(c);
});

test("a file over the bound is refused naming it, for each kind", async () => {
  const big = write(`{"version":1,"pad":"${"x".repeat(16 << 20)}"}`);
  for (const kind of ["defaults", "ovn", "spec"] as const) {
    await run.refused({ cls: "size: over the bound", label: `${kind}: 16 MiB`, ...reading(kind, big), mentions: [big, "larger than 16777216 bytes"] });
  }
});

test("a group MAC read back from Ganeti's export does not stop a reconcile: that NIC's port fails, named, and is left; the others are reconciled", async () => {
  const U = (n: number) => `aaaaaaaa-0000-4000-8000-00000000000${n}`;
  await ovs.addTap("tapa");
  await ovs.addTap("tapb");
  // Ports made before MACs were checked: the NIC of instb has a group MAC in Ganeti.
  for (const [tap, inst, n, mac] of [
    ["tapa", "insta", 1, "02:00:00:00:0a:01"],
    ["tapb", "instb", 2, "01:00:5e:00:00:0b"],
  ] as const) {
    const ids = [`ganeti-instance=${inst}`, `ganeti-nic-uuid=${U(n)}`, "ganeti-nic-index=0", `attached-mac=${mac}`, `iface-id=${U(n)}`].flatMap((e) => [
      "--external-id",
      e,
    ]);
    const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", tap, "--vlan", ".5", "--owner", "ganeti", ...ids]);
    assert.is(r.code, 0, r.stderr);
  }
  const nic = (n: number, mac: string) => ({ index: 0, uuid: U(n), mac, mode: "openvswitch", link: "sw1", vlan: ".6" });
  const file = write(
    JSON.stringify({
      version: 1,
      networks: {},
      instances: [
        { name: "insta", primary: "node1", tags: [], nics: [nic(1, "02:00:00:00:0a:01")] },
        { name: "instb", primary: "node1", tags: [], nics: [nic(2, "01:00:5e:00:00:0b")] },
      ],
    }),
  );
  const r = await runBinary(ovs, ["reconcile", "--from", file]);
  assert.is(r.code, 1, `one port failed: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^insta tapa: (changed|updated).*$/m, r.stdout);
  assert.match(r.stdout, /^instb tapb: failed: MAC "01:00:5e:00:00:0b": a group \(multicast\) MAC/m, r.stdout);
  assertCleanStderr(r.stdout + r.stderr, "reconcile");
  assert.is((await ovs.vsctl("get", "Port", "tapa", "tag")).trim(), "6", "insta's port reconciled");
  assert.is((await ovs.vsctl("get", "Port", "tapb", "tag")).trim(), "5", "instb's port left as it was");
  for (const tap of ["tapa", "tapb"]) assert.is((await runBinary(ovs, ["detach", "--iface", tap])).code, 0);
  await run.settle();
});

test("doctor names each broken node file in its check line, with no runtime message and no control character", async () => {
  const cases: [string, string, RegExp][] = [
    ["a directory", dir, new RegExp(`QoS defaults parse: defaults file "${dir}": is a directory, not a file`)],
    ["a key given twice", write('{"version":1,"version":1}'), /QoS defaults parse: .*key "version" given twice/],
    ["100000 levels", write(`{"version":1,"default":${"[".repeat(100000)}}`), /QoS defaults parse: .*nested deeper than 64 levels/],
    ["a bridge called ../x", write('{"version":1,"bridges":{"../x":{}}}'), /QoS defaults parse: .*bridges "\.\.\/x": bridge name/],
  ];
  for (const [label, path, line] of cases) {
    const r = await runBinary(ovs, ["doctor", "--node", "node1"], { env: { OVS_VIF_DEFAULTS: path } });
    assert.is(r.code, 1, `${label}: doctor fails`);
    assert.match(r.stdout, line, `${label}: ${r.stdout}`);
    assertCleanStderr(r.stdout + r.stderr, `doctor, defaults ${label}`);
    assert.not.match(r.stdout, /\bEISDIR\b|Maximum call stack/, label);
  }
  const ovnDir = await runBinary(ovs, ["doctor", "--node", "node1"], { env: { OVS_VIF_OVN: dir } });
  assert.match(ovnDir.stdout, new RegExp(`fail +ovn settings: OVS_VIF_OVN "${dir}": is a directory, not a file`), ovnDir.stdout);
  assertCleanStderr(ovnDir.stdout + ovnDir.stderr, "doctor, ovn.json a directory");
});

test.run();
