// Bridged and routed NICs end up exactly as Ganeti's own scripts leave them.
// Ganeti's stock net-common (from the ganeti-3.0 package, fetched at test
// time) runs in one network namespace and our kvm-vif-bridge in an identical
// twin; `ip -d link`, `bridge vlan`, `ip rule`, the routing tables and the
// tap's sysctls are compared. Where stock half-applies a failing NIC, ours
// refuses before the first change (shown too).
//
// A kernel without CONFIG_BRIDGE_VLAN_FILTERING (like this test machine's)
// cannot hold `bridge vlan` entries: there both scripts run with the bridges'
// sysfs vlan_filtering faked (a bind mount in a private mount namespace) and
// a recording `bridge` first in PATH, and the recorded `bridge` commands are
// compared in place of the kernel's VLAN table. The output says which.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BINARY } from "../harness/ovs.ts";
import { must, sh, type Result } from "../harness/proc.ts";
import { stockGaneti, type StockGaneti } from "../harness/ganeti-stock.ts";

let stock: StockGaneti;
let dir: string;
let bin: string;
let counter = 0;
const live = new Set<string>();
/** Does the kernel do VLAN filtering on Linux bridges? */
let vlanFiltering = false;
let shimDir: string;

function delNs(ns: string): void {
  spawnSync("ip", ["netns", "del", ns]);
  live.delete(ns);
}
process.on("exit", () => {
  for (const ns of live) delNs(ns);
});

async function newNs(tag: string): Promise<string> {
  const ns = `ovsvifgs${process.pid}${tag}${counter++}`;
  await must("ip", ["netns", "add", ns]);
  live.add(ns);
  return ns;
}

test.before(async () => {
  stock = await stockGaneti();
  console.log(`  stock scripts: ${stock.source}`);
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-gstock-"));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "no-ovs"));
  bin = join(dir, "bin", "kvm-vif-bridge");
  symlinkSync(BINARY, bin);
  const probe = await newNs("p");
  vlanFiltering = (await sh("ip", ["-n", probe, "link", "add", "br0", "type", "bridge", "vlan_filtering", "1"])).code === 0;
  delNs(probe);
  shimDir = join(dir, "shim");
  mkdirSync(shimDir);
  // Records `bridge` commands (one per line, batch or not).
  writeFileSync(
    join(shimDir, "bridge"),
    '#!/bin/bash\nif [ "$1" = -batch ]; then while IFS= read -r l; do echo "bridge $l" >>"$SHIM_LOG"; done; else echo "bridge $*" >>"$SHIM_LOG"; fi\n',
  );
  chmodSync(join(shimDir, "bridge"), 0o755);
  // Stock's log_info calls logger(1): kept out of the host's syslog.
  mkdirSync(join(dir, "quiet"));
  writeFileSync(join(dir, "quiet", "logger"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(dir, "quiet", "logger"), 0o755);
  for (const [br, value] of [
    ["br0", "1"],
    ["brp", "0"],
  ] as const) {
    mkdirSync(join(dir, "fake", br), { recursive: true });
    writeFileSync(join(dir, "fake", br, "vlan_filtering"), value + "\n");
  }
  console.log(
    vlanFiltering
      ? "  kernel has bridge VLAN filtering: comparing the kernel's VLAN tables"
      : "  kernel lacks bridge VLAN filtering: comparing the recorded `bridge vlan` commands (vlan_filtering faked in sysfs)",
  );
});

test.after(() => {
  for (const ns of [...live]) delNs(ns);
  if (dir) rmSync(dir, { recursive: true, force: true });
  stock?.cleanup();
});

const ip = (ns: string, ...args: string[]) => must("ip", ["-n", ns, ...args]);

/** Two identical namespaces: a VLAN-filtering bridge br0 with an uplink, a
 * plain bridge brp, tap0 (fixed MACs everywhere, so the states compare). */
async function twin(): Promise<[string, string]> {
  const pair: string[] = [];
  for (const side of ["s", "o"]) {
    const ns = await newNs(side);
    await ip(ns, "link", "set", "lo", "up");
    await ip(ns, "link", "add", "br0", "address", "02:00:00:00:00:b0", "type", "bridge", ...(vlanFiltering ? ["vlan_filtering", "1"] : []));
    await ip(ns, "link", "add", "brp", "address", "02:00:00:00:00:b1", "type", "bridge");
    await ip(
      ns,
      "link",
      "add",
      "up0",
      "address",
      "02:00:00:00:00:01",
      "mtu",
      "1450",
      "type",
      "veth",
      "peer",
      "name",
      "up0p",
      "address",
      "02:00:00:00:00:02",
      "mtu",
      "1450",
    );
    await ip(ns, "link", "set", "up0", "master", "br0");
    for (const d of ["br0", "brp", "up0", "up0p"]) await ip(ns, "link", "set", d, "up");
    await ip(ns, "tuntap", "add", "dev", "tap0", "mode", "tap");
    await ip(ns, "link", "set", "tap0", "address", "52:54:00:12:34:56");
    // Rules a previous run left for tap0: stock deletes them all first.
    await ip(ns, "rule", "add", "dev", "tap0", "table", "200");
    await ip(ns, "rule", "add", "dev", "tap0", "table", "201");
    pair.push(ns);
  }
  return pair as [string, string];
}

const BASE_ENV = {
  INSTANCE: "inst1.example.com",
  MAC: "aa:00:00:12:34:56",
  INTERFACE: "tap0",
  INTERFACE_INDEX: "0",
  INTERFACE_UUID: "6f2c1a4e-0000-4000-8000-000000000001",
  TAGS: "",
};

/** Runs FILE with exactly ENV (plus PATH) in the namespace; without kernel
 * VLAN filtering, under the sysfs fake and the recording `bridge`. */
function inTwin(ns: string, env: Record<string, string>, file: string, args: string[] = []): Promise<Result> {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const path = `${join(dir, "quiet")}:/usr/sbin:/usr/bin:/sbin:/bin`;
  if (vlanFiltering) return sh("ip", ["netns", "exec", ns, "env", "-i", `PATH=${path}`, ...vars, file, ...args], { timeoutMs: 30000 });
  const binds = ["br0", "brp"].flatMap((br) => [join(dir, "fake", br), `/sys/class/net/${br}/bridge`]);
  const wrapper = 'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 99; shift 2; done; shift; exec "$@"';
  return sh(
    "ip",
    [
      "netns",
      "exec",
      ns,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      wrapper,
      "_",
      ...binds,
      "--",
      "env",
      "-i",
      `PATH=${shimDir}:${path}`,
      `SHIM_LOG=${join(dir, `${ns}.bridge.log`)}`,
      ...vars,
      file,
      ...args,
    ],
    { timeoutMs: 30000 },
  );
}

const runStock = (ns: string, env: Record<string, string>) => inTwin(ns, env, stock.driver);
const OURS_ENV = () => ({ OVS_VIF_SYSLOG: "0", OVS_RUNDIR: join(dir, "no-ovs") });
const runOurs = (ns: string, env: Record<string, string>) => inTwin(ns, { ...OURS_ENV(), ...env }, bin);
/** Ganeti 3.2's down action for the NIC (`ovs-vif ganeti-nic down`). */
const runDown = (ns: string, env: Record<string, string>) => inTwin(ns, { ...OURS_ENV(), ...env }, BINARY, ["ganeti-nic", "down"]);

/** The NIC-relevant state of a namespace, normalised (ifindexes, running
 * timers, and the count of addresses the bridge learned, which iproute2 6.15
 * of Debian 13 shows and traffic changes). */
async function state(ns: string): Promise<string> {
  const parts: string[] = [];
  const q = async (label: string, file: string, args: string[]) => {
    const r = await sh("ip", ["netns", "exec", ns, file, ...args]);
    parts.push(
      `## ${label}\n${(r.stdout + r.stderr)
        .replace(/^\d+: /gm, "")
        .replace(/@if\d+/g, "")
        .replace(/ (\w+_timer) +[\d.]+/g, " $1 T")
        .replace(/ fdb_n_learned \d+/g, " fdb_n_learned N")
        .replace(/ +$/gm, "")
        .trim()}`,
    );
  };
  for (const dev of ["tap0", "br0", "brp", "up0"]) await q(`ip -d link show ${dev}`, "ip", ["-d", "link", "show", dev]);
  await q("bridge -d vlan show", "bridge", ["-d", "vlan", "show"]);
  await q("ip rule", "ip", ["rule", "show"]);
  await q("ip -6 rule", "ip", ["-6", "rule", "show"]);
  for (const t of ["main", "100"]) {
    await q(`ip route table ${t}`, "ip", ["route", "show", "table", t]);
    await q(`ip -6 route table ${t}`, "ip", ["-6", "route", "show", "table", t]);
  }
  for (const f of ["ipv4/conf/tap0/proxy_arp", "ipv4/conf/tap0/forwarding", "ipv6/conf/tap0/proxy_ndp", "ipv6/conf/tap0/forwarding"]) {
    await q(f, "cat", [`/proc/sys/net/${f}`]);
  }
  if (!vlanFiltering) {
    const log = join(dir, `${ns}.bridge.log`);
    parts.push(`## recorded bridge commands\n${existsSync(log) ? readFileSync(log, "utf8").trim() : ""}`);
  }
  return parts.join("\n");
}

function diff(a: string, b: string): string {
  const al = a.split("\n");
  const bl = b.split("\n");
  const out: string[] = [];
  for (let i = 0; i < Math.max(al.length, bl.length); i++) if (al[i] !== bl[i]) out.push(`- ${al[i] ?? ""}\n+ ${bl[i] ?? ""}`);
  return out.join("\n");
}

const SAME: [string, Record<string, string>][] = [
  ["bridged, no VLAN, VLAN-filtering bridge", { MODE: "bridged", LINK: "br0", BRIDGE: "br0", VLAN: "" }],
  ["bridged, access .3", { MODE: "bridged", LINK: "br0", BRIDGE: "br0", VLAN: ".3" }],
  ["bridged, trunk :10:20", { MODE: "bridged", LINK: "br0", BRIDGE: "br0", VLAN: ":10:20" }],
  ["bridged, hybrid .3:10:20", { MODE: "bridged", LINK: "br0", BRIDGE: "br0", VLAN: ".3:10:20" }],
  ["bridged, bare 7 (= .7)", { MODE: "bridged", LINK: "br0", BRIDGE: "br0", VLAN: "7" }],
  ["bridged, plain bridge", { MODE: "bridged", LINK: "brp", BRIDGE: "brp", VLAN: "" }],
  ["routed, table 100, IPv4", { MODE: "routed", LINK: "100", IP: "192.0.2.10", VLAN: "" }],
  ["routed, main table, IPv4", { MODE: "routed", IP: "192.0.2.11", VLAN: "" }],
  ["routed, table 100, IPv6", { MODE: "routed", LINK: "100", IP: "2001:db8::5", VLAN: "" }],
  ["routed, main table, IPv6", { MODE: "routed", IP: "2001:db8::6", VLAN: "" }],
];

test("same end state as Ganeti's net-common: bridged (VLAN forms, plain bridge) and routed (table / main, IPv4 / IPv6)", async () => {
  for (const [what, nic] of SAME) {
    const [a, b] = await twin();
    const env = { ...BASE_ENV, ...nic };
    const rs = await runStock(a, env);
    const ro = await runOurs(b, env);
    assert.is(rs.code, 0, `${what}: stock failed: ${rs.stdout}${rs.stderr}`);
    assert.is(ro.code, 0, `${what}: ours failed: ${ro.stderr}`);
    const sa = await state(a);
    const sb = await state(b);
    assert.ok(sa === sb, `${what}: states differ (stock -, ours +):\n${diff(sa, sb)}`);
    // The comparison saw the change.
    if (nic.MODE === "bridged") assert.match(sb, new RegExp(`tap0: [^\\n]*master ${nic.LINK} [^\\n]*\\n\\s+link/ether fe:54:00:12:34:56`));
    else assert.match(sb, new RegExp(`${nic.IP!.replace(/\./g, "\\.")} dev tap0 proto static`));
    if (nic.VLAN) assert.match(sb, vlanFiltering ? /tap0\s+\d+/ : /bridge vlan add dev tap0 vid \d+/, `${what}: VLAN entries made`);
    console.log(`  same as stock: ${what}`);
    delNs(a);
    delNs(b);
  }
});

test("down while the tap exists (Ganeti 3.2 asked the guest to power off) leaves routes, rules and the bridge port to go with the device; once it is gone, down removes the detached rules; harmless twice", async () => {
  const [a, b] = await twin();
  delNs(a);
  const routed = { ...BASE_ENV, MODE: "routed", LINK: "100", IP: "192.0.2.20", VLAN: "" };
  assert.is((await runOurs(b, routed)).code, 0);
  const up = await state(b);
  let r = await runDown(b, routed);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /kept="the device still exists/);
  assert.is(await state(b), up, "routed: nothing changed while the tap exists");
  // QEMU exits: the route goes with the tap, the rules stay "[detached]" and
  // would catch the next tap0; down removes them.
  await ip(b, "link", "del", "tap0");
  assert.match(await ip(b, "rule", "show"), /iif tap0 \[detached\] lookup 100/);
  for (let i = 0; i < 2; i++) {
    r = await runDown(b, routed);
    assert.is(r.code, 0, r.stderr);
  }
  assert.not.match(await ip(b, "rule", "show"), /tap0/, "detached rules removed");
  assert.is((await ip(b, "route", "show", "table", "100")).trim(), "");
  // Bridged: the port stays on the bridge while the tap exists; the kernel
  // takes a deleted device off its bridge (its VLAN entries with it).
  await ip(b, "tuntap", "add", "dev", "tap0", "mode", "tap");
  const bridged = { ...BASE_ENV, MODE: "bridged", LINK: "br0", VLAN: ".3" };
  assert.is((await runOurs(b, bridged)).code, 0);
  r = await runDown(b, bridged);
  assert.is(r.code, 0, r.stderr);
  assert.match(await ip(b, "-d", "link", "show", "tap0"), /master br0/, "bridged: still on br0 while the tap exists");
  await ip(b, "link", "del", "tap0");
  r = await runDown(b, bridged);
  assert.is(r.code, 0, r.stderr);
  assert.match(await ip(b, "-d", "link", "show", "up0"), /master br0/, "uplink stays");
  delNs(b);
});

test("failures: stock half-applies (tap up / on the bridge) before refusing; ours refuses first and changes nothing", async () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "VLAN on a bridge without vlan_filtering",
      { MODE: "bridged", LINK: "brp", BRIDGE: "brp", VLAN: ".3" },
      /^kvm-vif-bridge: error: VLAN "\.3": bridge brp has VLAN filtering disabled/,
    ],
    ["routed without IP", { MODE: "routed", LINK: "100", VLAN: "" }, /^kvm-vif-bridge: error: IP "": not set: a routed NIC needs an IP address/],
  ];
  for (const [what, nic, message] of cases) {
    const [a, b] = await twin();
    const pristine = await state(b);
    const env = { ...BASE_ENV, ...nic };
    const rs = await runStock(a, env);
    const ro = await runOurs(b, env);
    assert.is(rs.code, 1, `${what}: stock fails too (${rs.stdout}${rs.stderr})`);
    assert.is(ro.code, 1, `${what}: ours fails`);
    assert.match(ro.stderr.trim(), message);
    assert.is(ro.stderr.trim().split("\n").length, 1);
    assert.is(await state(b), pristine, `${what}: ours changed nothing`);
    assert.ok((await state(a)) !== pristine, `${what}: stock left a change behind`);
    console.log(`  refused before any change: ${what} (stock said "${(rs.stdout + rs.stderr).trim().split("\n").pop()}" and left the tap changed)`);
    delNs(a);
    delNs(b);
  }
});

test.run();
