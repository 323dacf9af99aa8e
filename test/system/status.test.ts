// `ovs-vif status` and `doctor` on a private OVS with every kind of port a
// node can have: exact, VLAN drift, QoS drift, stale (tap deleted), foreign,
// a Xen domain's (compared with xenstore), and an orphaned QoS row.
import { test } from "uvu";
import { execFileSync } from "node:child_process";
import * as assert from "uvu/assert";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, ROOT, runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { makeXenVif, xenHotplug } from "../harness/xen-domain.ts";
import { startXenstored, type XenstoredHandle } from "../harness/xenstore.ts";
import { KVM_SCRIPT_TEXT } from "../harness/kvm-script.ts";

let ovs: OvsHandle;
let xs: XenstoredHandle;
let dir: string;
let snapshot: string;

const uuid = (n: number) => `44444444-0000-4000-8000-00000000000${n}`;
const nic = (n: number, vlan: string) => ({ index: 0, uuid: uuid(n), mac: `aa:00:00:00:44:0${n}`, mode: "openvswitch", link: "sw1", vlan });
const inst = (n: number, vlan: string, tags: string[] = []) => ({ name: `inst${n}`, primary: "node1.example.com", tags, nics: [nic(n, vlan)] });

/** As the NIC script plugs it, from what Ganeti said at the time. */
async function plug(n: number, tap: string, vlan: string, tags = ""): Promise<void> {
  await ovs.addTap(tap);
  const env = {
    INSTANCE: `inst${n}`,
    MAC: `aa:00:00:00:44:0${n}`,
    MODE: "openvswitch",
    INTERFACE: tap,
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: uuid(n),
    LINK: "sw1",
    VLAN: vlan,
    TAGS: tags,
  };
  const r = await runBinary(ovs, [], { name: "kvm-vif-bridge", env });
  assert.is(r.code, 0, r.stderr);
}

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-status-"));
  const xsDir = join(dir, "xs");
  mkdirSync(xsDir);
  xs = await startXenstored(xsDir);
  await ovs.addBridge("sw1");
  await plug(1, "tap1", ".3"); // exact
  await plug(2, "tap2", ".3"); // Ganeti now says .9 (modify without a reboot)
  await plug(3, "tap3", ""); // Ganeti now has an rx-rate tag
  await plug(4, "tap4", ".5"); // its tap goes away
  await ovs.inNs("ip", ["link", "del", "tap4"]);
  await ovs.addTap("foreign0");
  await ovs.vsctl("add-port", "sw1", "foreign0");
  const vif = await makeXenVif(ovs, xs, 7, { bridge: "sw1.7" });
  assert.is((await xenHotplug(ovs, xs, vif, "online")).code, 0);
  await xs.write(`${vif.backend}/bridge`, "sw1.8"); // the domain's config changed: drift
  await ovs.vsctl(
    "--",
    "--id=@q",
    "create",
    "queue",
    "other_config:max-rate=1000000",
    "external_ids:ovs-vif-port=gone9",
    "--",
    "create",
    "qos",
    "type=linux-htb",
    "queues:0=@q",
    "external_ids:ovs-vif-port=gone9",
  );
  snapshot = join(dir, "ganeti.json");
  writeFileSync(
    snapshot,
    JSON.stringify({
      version: 1,
      taken: "2026-12-01T10:00:00.000Z",
      instances: [inst(1, ".3"), inst(2, ".9"), inst(3, "", ["ovs-vif:rx-rate:20M"]), inst(4, ".5")],
      networks: {},
    }),
  );
});

test.after(async () => {
  await xs?.stop();
  await ovs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const status = (args: string[] = []) =>
  runBinary(ovs, ["status", "--from", snapshot, "--node", "node1.example.com", ...args], { env: { ...xs.env, OVS_VIF_SWITCHES: join(dir, "none.json") } });

interface Json {
  version: number;
  ports: {
    port: string;
    state: string;
    drift: string[];
    owner?: string;
    note?: string;
    tag?: number;
    rx_rate?: number;
    bridge: string;
    link: string;
    ofport?: number;
    instance?: string;
    domain?: string;
  }[];
  orphaned_qos: { table: string; uuid: string; port: string }[];
  summary: { ports: number; by_state: Record<string, number>; switch_changes: number; orphaned_qos: number; exit: number };
  ganeti_view: { source: string; file?: string; taken?: string };
}

test("status classifies every port: ok, drift (naming the fields), stale, foreign; orphaned QoS rows; exit 1", async () => {
  const r = await status();
  assert.is(r.code, 1, r.stderr);
  console.log(r.stdout.replace(/^/gm, "  "));
  const j = JSON.parse((await status(["--json"])).stdout) as Json;
  const state = (p: string) => j.ports.find((x) => x.port === p);
  assert.is(state("tap1")?.state, "ok");
  assert.is(state("tap2")?.state, "drift");
  assert.ok(
    state("tap2")!.drift.some((d) => d.startsWith("tag: 3 -> 9")),
    JSON.stringify(state("tap2")),
  );
  assert.is(state("tap3")?.state, "drift");
  assert.ok(
    state("tap3")!.drift.some((d) => d.startsWith("rx-rate/rx-burst: none -> 20000000")),
    JSON.stringify(state("tap3")),
  );
  assert.is(state("tap4")?.state, "stale");
  assert.is(state("tap4")?.note, "device gone");
  assert.is(state("foreign0")?.state, "foreign");
  assert.is(state("foreign0")?.owner, undefined);
  assert.is(state("vif7.0")?.state, "drift", "the Xen domain, compared with xenstore");
  assert.ok(state("vif7.0")!.drift.some((d) => d.startsWith("tag: 7 -> 8")));
  assert.equal(j.orphaned_qos.map((o) => [o.table, o.port]).sort(), [
    ["QoS", "gone9"],
    ["Queue", "gone9"],
  ]);
  assert.equal(j.summary.by_state, { ok: 1, drift: 3, stale: 1, foreign: 1, unknown: 0 });
  assert.is(j.summary.exit, 1);
  assert.match(r.stdout, /node1\.example\.com: 6 ports: 1 ok, 3 drift, 1 stale, 1 foreign; 0 switch changes; 2 orphaned QoS rows: NOT ok\n$/);
});

test("status --json is one documented object (a schema check)", async () => {
  const r = await status(["--json"]);
  assert.is(r.stdout.trim().split("\n").length, 1, "one line");
  const j = JSON.parse(r.stdout) as Json & Record<string, unknown>;
  assert.equal(Object.keys(j).sort(), ["ganeti_view", "node", "orphaned_qos", "ports", "summary", "switch_note", "switches", "time", "version"]);
  assert.is(j.version, 1);
  assert.equal(j.ganeti_view, { source: "file", file: snapshot, taken: "2026-12-01T10:00:00.000Z" });
  const allowed = new Set([
    "bridge",
    "port",
    "owner",
    "instance",
    "domain",
    "nic_index",
    "nic_name",
    "vlan_mode",
    "tag",
    "trunks",
    "rate_kbps",
    "burst_kb",
    "rx_rate",
    "rx_burst",
    "mtu",
    "ofport",
    "link",
    "state",
    "drift",
    "note",
    "ovn",
    "port_security",
    "filter",
    "flows",
  ]);
  for (const p of j.ports) {
    for (const k of Object.keys(p)) assert.ok(allowed.has(k), `port field ${k} is documented`);
    for (const k of ["bridge", "port", "vlan_mode", "trunks", "rate_kbps", "burst_kb", "link", "state", "drift"])
      assert.ok(k in p, `${p.port}: ${k} always there`);
    assert.ok(["ok", "drift", "stale", "foreign", "unknown"].includes(p.state));
    assert.ok(["up", "down", "absent"].includes(p.link));
  }
  assert.equal(Object.keys(j.summary).sort(), ["by_state", "exit", "orphaned_qos", "ports", "switch_changes"]);
});

test("status --prometheus writes textfile metrics that a strict parser accepts, atomically", async () => {
  const file = join(dir, "ovs-vif.prom");
  const r = await status(["--prometheus", file]);
  assert.is(r.code, 1);
  const text = readFileSync(file, "utf8");
  const seen = new Map<string, string>();
  for (const line of text.trimEnd().split("\n")) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/.exec(line);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? (-?[0-9]+(\.[0-9]+)?)$/.exec(
      line,
    );
    assert.ok(help || type || sample, `a valid exposition line: ${JSON.stringify(line)}`);
    if (type) seen.set(type[1]!, type[2]!);
    if (sample) assert.ok(seen.has(sample[1]!), `${sample[1]} has its TYPE first`);
  }
  assert.match(text, /^ovs_vif_ports\{state="drift"\} 3$/m);
  assert.match(text, /^ovs_vif_ports\{state="stale"\} 1$/m);
  assert.match(text, /^ovs_vif_orphaned_qos_rows 2$/m);
  assert.match(text, /^ovs_vif_status_ok 0$/m);
  assert.match(text, /^ovs_vif_ganeti_view_timestamp_seconds 1796119200$/m);
  assert.equal(readFileSync(file, "utf8").length > 0, true);
});

test("after reconcile and gc everything is ok: exit 0", async () => {
  const rec = await runBinary(ovs, ["reconcile", "--from", snapshot]);
  assert.is(rec.code, 0, rec.stderr + rec.stdout);
  assert.is((await runBinary(ovs, ["gc"])).code, 0);
  assert.is(
    (await xenHotplug(ovs, xs, { domid: 7, devid: 0, device: "vif7.0", backend: "/local/domain/0/backend/vif/7/0", name: "dom7", uuid: "", mac: "" }, "online"))
      .code,
    0,
  );
  await ovs.vsctl("del-port", "sw1", "foreign0");
  const r = await status();
  assert.is(r.code, 0, r.stdout + r.stderr);
  // tap4 (stale) went with gc, foreign0 by hand.
  assert.match(r.stdout, /4 ports: 4 ok, 0 drift, 0 stale, 0 foreign; 0 switch changes; 0 orphaned QoS rows: ok/);
  const file = join(dir, "after.prom");
  await status(["--prometheus", file]);
  assert.match(readFileSync(file, "utf8"), /^ovs_vif_last_reconcile_timestamp_seconds [0-9]+$/m, "reconcile's time recorded");
});

test("status: a usage error exits 2 with one line", async () => {
  const r = await runBinary(ovs, ["status", "--jsn"]);
  assert.is(r.code, 2);
  assert.is(r.stderr.trim().split("\n").length, 1);
  assert.is((await runBinary(ovs, ["status", "extra"])).code, 2);
});

test("doctor: every check a line; a missing Ganeti hook link fails and is named", async () => {
  const root = join(dir, "root");
  for (const d of ["/usr/lib/ganeti", "/etc/ganeti/hooks", "/etc/ovs-vif", "/var/lib/ovs-vif", "/usr/lib/ovs-vif"])
    mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "/usr/lib/ganeti/kvm-ifup"), "");
  symlinkSync(BINARY, join(root, "/usr/lib/ovs-vif/ovs-vif"));
  // As ovs-vif-setup --ganeti leaves kvm-vif-bridge: a script Ganeti can copy to every node.
  symlinkSync("ovs-vif", join(root, "/usr/lib/ovs-vif/kvm-vif-bridge"));
  writeFileSync(join(root, "/etc/ganeti/kvm-vif-bridge"), KVM_SCRIPT_TEXT, { mode: 0o755 });
  // Every Ganeti hook link ovs-vif-setup --ganeti makes, as install.sh lists them.
  const links = execFileSync(join(ROOT, "install.sh"), ["--list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => /^ganeti \/etc\/ganeti\/hooks\//.test(l))
    .map((l) => l.slice("ganeti ".length));
  assert.ok(links.length > 10, links.join(" "));
  for (const l of links) {
    mkdirSync(join(root, l, ".."), { recursive: true });
    symlinkSync("/usr/lib/ovs-vif/ovs-vif", join(root, l));
  }
  const doctor = () => runBinary(ovs, ["doctor", "--root", root, "--from", snapshot, "--node", "node1.example.com"]);
  const r = await doctor();
  console.log(r.stdout.replace(/^/gm, "  "));
  assert.match(r.stdout, /^node1\.example\.com: ok   ovsdb: /m);
  assert.match(r.stdout, /^node1\.example\.com: ok   ovs-vswitchd: applies changes/m);
  assert.match(r.stdout, /^node1\.example\.com: ok   ganeti hook instance-migrate: \/etc\/ganeti\/hooks\/instance-migrate-post\.d\/ovs-vif -> ovs-vif$/m);
  assert.match(
    r.stdout,
    /^node1\.example\.com: ok   ganeti kvm-vif-bridge: \/etc\/ganeti\/kvm-vif-bridge runs \/usr\/lib\/ovs-vif\/kvm-vif-bridge -> ovs-vif$/m,
  );
  assert.is(r.code, 0, r.stdout);
  rmSync(join(root, "/etc/ganeti/hooks/instance-migrate-post.d/ovs-vif"));
  const bad = await doctor();
  assert.is(bad.code, 1);
  assert.match(
    bad.stdout,
    /^node1\.example\.com: fail ganeti hook instance-migrate: \/etc\/ganeti\/hooks\/instance-migrate-post\.d\/ovs-vif is missing \(ovs-vif-setup --ganeti/m,
  );
  writeFileSync(join(root, "/etc/ganeti/hooks/instance-migrate-post.d/ovs-vif"), "#!/bin/sh\n");
  assert.match((await doctor()).stdout, /fail ganeti hook instance-migrate: .* is not ovs-vif/);
});

test("doctor: kvm-vif-bridge as a link warns (Ganeti copies what it points at to every node); a copy of the binary, as the other nodes then have it, fails", async () => {
  const root = join(dir, "root-kvm");
  for (const d of ["/usr/lib/ganeti", "/etc/ganeti", "/usr/lib/ovs-vif"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "/usr/lib/ganeti/kvm-ifup"), "");
  symlinkSync(BINARY, join(root, "/usr/lib/ovs-vif/ovs-vif"));
  const bridge = join(root, "/etc/ganeti/kvm-vif-bridge");
  const line = async () =>
    (await runBinary(ovs, ["doctor", "--root", root, "--from", snapshot, "--node", "node1.example.com"])).stdout
      .split("\n")
      .find((l) => l.includes("ganeti kvm-vif-bridge"));
  symlinkSync("/usr/lib/ovs-vif/ovs-vif", bridge);
  assert.match(
    (await line()) ?? "",
    /: warn ganeti kvm-vif-bridge: \/etc\/ganeti\/kvm-vif-bridge -> ovs-vif, a link: Ganeti copies the binary behind it to every other node \(ovs-vif-setup --ganeti makes it the small script/,
  );
  rmSync(bridge);
  copyFileSync(BINARY, bridge);
  assert.match((await line()) ?? "", /: fail ganeti kvm-vif-bridge: \/etc\/ganeti\/kvm-vif-bridge is a copy of the ovs-vif binary .*no upgrade reaches it/);
});

test("doctor on Ganeti 3.2's layout (kvm-nic-setup): kvm-vif-bridge is not run there; each /etc/ganeti/network/MODE/ACTION is checked, a missing one fails", async () => {
  const root = join(dir, "root-32");
  for (const d of ["/usr/lib/ganeti", "/etc/ganeti", "/usr/lib/ovs-vif"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "/usr/lib/ganeti/kvm-nic-setup"), "");
  symlinkSync(BINARY, join(root, "/usr/lib/ovs-vif/ovs-vif"));
  const links = execFileSync(join(ROOT, "install.sh"), ["--list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => /^ganeti \/etc\/ganeti\/(hooks|network)\//.test(l))
    .map((l) => l.slice("ganeti ".length));
  for (const l of links) {
    mkdirSync(join(root, l, ".."), { recursive: true });
    symlinkSync("/usr/lib/ovs-vif/ovs-vif", join(root, l));
  }
  const doctor = () => runBinary(ovs, ["doctor", "--root", root, "--from", snapshot, "--node", "node1.example.com"]);
  const r = await doctor();
  assert.match(
    r.stdout,
    /: ok   ganeti kvm-vif-bridge: not run by this Ganeti \(3\.2: \/usr\/lib\/ganeti\/kvm-nic-setup runs \/etc\/ganeti\/network\/MODE\/ACTION\)/,
    r.stdout,
  );
  for (const m of ["openvswitch", "bridged", "routed"])
    for (const a of ["up", "down"]) assert.match(r.stdout, new RegExp(`: ok   ganeti network/${m}/${a}: /etc/ganeti/network/${m}/${a} -> ovs-vif`), r.stdout);
  assert.not.match(r.stdout, /: fail +ganeti/, r.stdout);
  rmSync(join(root, "/etc/ganeti/network/openvswitch/down"));
  const bad = await doctor();
  assert.is(bad.code, 1);
  assert.match(bad.stdout, /: fail ganeti network\/openvswitch\/down: \/etc\/ganeti\/network\/openvswitch\/down is missing/);
});

test.run();
