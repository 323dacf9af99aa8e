// ovs-vif's OVN mode on a private OVN with two chassis (test/harness/ovn.ts):
// Ganeti's KVM NIC script plugs VMs whose NIC is on br-int in a Ganeti
// network; the logical port is made in NB, bound, and pings cross Geneve;
// port security drops forged frames; unplug and re-plug; a missing switch,
// a dead NB and ambiguous NICs fail with one line and change nothing; and a
// live migration between the chassis with requested-chassis "src,dst" and a
// RARP, promoted by the post hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { longestGap, startOvn, type Chassis, type OvnHandle, type Vm } from "../harness/ovn.ts";
import { must } from "../harness/proc.ts";
import { runBinary } from "../harness/ovs.ts";
import { installFakeGaneti } from "../harness/fake-ganeti.ts";

const report = (what: string) => console.log(`  ovn: ${what}`);
const t0 = performance.now();

let ovn: OvnHandle;
let c1: Chassis;
let c2: Chassis;
let a: Vm;
let b: Vm;
let config: string;

const UUID = (n: string) => `55555555-0000-4000-8000-0000000000${n}`;
const A = { mac: "02:00:00:00:01:0a", ip: "198.51.100.110", uuid: UUID("0a") };
const B = { mac: "02:00:00:00:01:0b", ip: "198.51.100.111", uuid: UUID("0b") };

test.before(async () => {
  ovn = await startOvn({ chassis: 2 });
  [c1, c2] = ovn.chassis as [Chassis, Chassis];
  await ovn.nbctl("ls-add", "net1");
  config = join(ovn.dir, "ovs-vif-ovn.json");
  writeFileSync(config, JSON.stringify({ version: 1, nb: ovn.nb }));
  a = await ovn.addVm(c1, "a", A);
  b = await ovn.addVm(c2, "b", B);
});

test.after(async () => {
  await ovn?.stop();
  report(`whole file: ${(performance.now() - t0).toFixed(0)} ms`);
});

/** The environment Ganeti gives kvm-vif-bridge for a NIC in network net1 on br-int. */
function nicEnv(vm: Vm, nic: { mac: string; ip: string; uuid: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OVS_VIF_OVN: config,
    INSTANCE: `inst-${vm.name}`,
    MAC: nic.mac,
    IP: nic.ip,
    MODE: "openvswitch",
    INTERFACE: vm.hostIf,
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: nic.uuid,
    TAGS: "",
    LINK: "br-int",
    VLAN: "",
    NETWORK_NAME: "net1",
    NETWORK_TAGS: "",
    ...extra,
  };
}

const kvm = (ch: Chassis, env: Record<string, string>) => runBinary(ch.ovs, [], { name: "kvm-vif-bridge", env });
const down = (ch: Chassis, env: Record<string, string>) => runBinary(ch.ovs, ["ganeti-nic", "down"], { env });

async function nbDump(): Promise<string> {
  return (
    (await must("ovsdb-client", ["dump", ovn.nb, "OVN_Northbound", "Logical_Switch"])) +
    (await must("ovsdb-client", ["dump", ovn.nb, "OVN_Northbound", "Logical_Switch_Port"]))
  );
}

test("the KVM NIC script plugs a VM into OVN: logical port in NB, tap on br-int, bound and installed when it returns", async () => {
  const t = performance.now();
  const r = await kvm(c1, nicEnv(a, A));
  const took = performance.now() - t;
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`up ok .* lsp=${A.uuid} ls=net1 chassis=c1`));
  assert.ok(await ovn.installed(a), "ovn-installed when the script returns");
  assert.is((await ovn.nbctl("lsp-get-addresses", A.uuid)).trim(), `${A.mac} ${A.ip}`);
  assert.is((await ovn.nbctl("lsp-get-port-security", A.uuid)).trim(), `${A.mac} ${A.ip}`);
  assert.is((await ovn.nbctl("get", "Logical_Switch_Port", A.uuid, "options:requested-chassis")).trim(), "c1");
  assert.match(await ovn.nbctl("get", "Logical_Switch_Port", A.uuid, "external_ids"), /ganeti-instance=inst-a/);
  assert.is((await c1.vsctl("get", "Interface", a.hostIf, "external_ids:iface-id")).trim(), `"${A.uuid}"`);
  const bound = await ovn.binding(A.uuid);
  assert.is(bound?.chassis, "c1");
  const r2 = await kvm(c2, nicEnv(b, B));
  assert.is(r2.code, 0, r2.stderr);
  report(`plug on c1, NB to ovn-installed: ${took.toFixed(0)} ms (the whole NIC script)`);
});

test("the two VMs ping across Geneve", async () => {
  // The first packet to a new tunnel endpoint may be lost (neighbour cache).
  const p = await ovn.ping(a, B.ip, { count: 5 });
  assert.ok(p.received >= 4, `${p.received}/5`);
  const q = await ovn.ping(b, A.ip, { count: 3 });
  assert.is(q.received, 3);
});

test("port security drops a forged source MAC and a forged source IP; real frames pass", async () => {
  const real = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { count: 10 }), { expect: 10 });
  const mac = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { srcMac: "02:00:00:00:01:ee", count: 10 }), { expect: 10, windowMs: 800 });
  const ip = await ovn.echoesReaching(b, () => ovn.sendIcmp(a, B, { srcIp: "198.51.100.199", count: 10 }), { expect: 10, windowMs: 800 });
  assert.is(real, 10);
  assert.is(mac, 0, "forged MAC dropped");
  assert.is(ip, 0, "forged IP dropped");
  report(`port security: real 10/10, forged MAC ${mac}/10, forged IP ${ip}/10 reached the peer`);
});

test("down while the device exists (a guest asked to power off) keeps the port and the binding; once it is gone, down removes the OVS port and releases the chassis (the logical port stays); re-plug binds again", async () => {
  const nb = await nbDump();
  const ovs = await c1.ovs.dump();
  let r = await down(c1, nicEnv(a, A));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /kept="the device still exists/);
  assert.equal([await nbDump(), await c1.ovs.dump()], [nb, ovs], "NB and OVS unchanged");
  assert.is((await ovn.ping(a, B.ip, { count: 3 })).received, 3, "the guest still has its network");
  // QEMU exits: the device goes; the next down (Ganeti's retry, a forced stop) cleans up.
  await must("ip", ["netns", "exec", c1.ovs.ns, "ip", "link", "del", a.hostIf]);
  r = await down(c1, nicEnv(a, A));
  assert.is(r.code, 0, r.stderr);
  assert.is((await c1.vsctl("--if-exists", "get", "Interface", a.hostIf, "name")).trim(), "", "OVS port gone");
  assert.match(await ovn.nbctl("lsp-list", "net1"), new RegExp(A.uuid), "the logical port stays");
  assert.is((await ovn.nbctl("--if-exists", "get", "Logical_Switch_Port", A.uuid, "options:requested-chassis")).trim(), "", "c1 released");
  // The guest starts again (a new device, the same NIC).
  a = await ovn.addVm(c1, "a", A);
  const again = await kvm(c1, nicEnv(a, A));
  assert.is(again.code, 0, again.stderr);
  assert.is((await ovn.ping(a, B.ip, { count: 3 })).received, 3);
});

test("a missing logical switch, a dead NB and ambiguous NICs: one line each, OVS and NB unchanged", async () => {
  const vm = await ovn.addVm(c1, "c", { mac: "02:00:00:00:01:0c", ip: "198.51.100.112" });
  const env = nicEnv(vm, { mac: "02:00:00:00:01:0c", ip: "198.51.100.112", uuid: UUID("0c") });
  const nb = await nbDump();
  const ovs = await c1.ovs.dump();
  const dead = join(ovn.dir, "dead.json");
  writeFileSync(dead, JSON.stringify({ version: 1, nb: `unix:${join(ovn.dir, "no-nb.sock")}` }));
  for (const [label, extra, pattern] of [
    ["missing switch", { NETWORK_NAME: "nosuch" }, /^kvm-vif-bridge: error: NETWORK_NAME "nosuch": no such logical switch in OVN's Northbound database/],
    ["dead NB", { OVS_VIF_OVN: dead }, /^kvm-vif-bridge: error: OVSDB unix:.*no-nb\.sock: ENOENT/],
    ["no network", { NETWORK_NAME: "" }, /^kvm-vif-bridge: error: NETWORK_NAME "": not set: a NIC on the OVN integration bridge br-int needs a Ganeti network/],
    ["a VLAN", { VLAN: ".3" }, /^kvm-vif-bridge: error: VLAN "\.3": a NIC on the OVN integration bridge br-int carries no VLAN/],
    [
      "the switch tag off OVN",
      { LINK: "br-phy", NETWORK_TAGS: "ovs-vif:ovn-switch:net1" },
      /^kvm-vif-bridge: error: network tag "ovs-vif:ovn-switch:net1": names an OVN logical switch, but LINK "br-phy" is not the OVN integration bridge br-int/,
    ],
  ] as const) {
    const r = await kvm(c1, { ...env, ...extra });
    assert.is(r.code, 1, `${label}: ${r.stderr}`);
    assert.is(r.stderr.trim().split("\n").length, 1, `${label}: one line: ${r.stderr}`);
    assert.match(r.stderr.trim(), pattern, label);
    assert.is(await nbDump(), nb, `${label}: NB unchanged`);
    assert.is(await c1.ovs.dump(), ovs, `${label}: OVS unchanged`);
  }
});

test("live migration c2 -> c1: both chassis while it moves, the RARP activates the target, the post hook moves the binding", async () => {
  // The migrated guest: the same MAC and IP, on c1.
  const b2 = await ovn.addVm(c1, "b2", B);
  const ping = ovn.continuousPing(a, B.ip, 20);
  await new Promise((r) => setTimeout(r, 300));
  // Ganeti 3.0 runs the NIC script on the target before QEMU starts there.
  const t1 = performance.now();
  const pre = await kvm(c1, nicEnv(b2, B, { INSTANCE: "inst-b" }));
  assert.is(pre.code, 0, pre.stderr);
  assert.match(pre.stderr, /chassis=c2,c1 activation=rarp/);
  await ovn.waitBinding(B.uuid, (x) => x?.chassis === "c2" && x.additional.includes("c1"));
  report(
    `migration target plugged: requested-chassis c2,c1 + rarp, SB additional_chassis=[c1] ${(performance.now() - t1).toFixed(0)} ms after the script started`,
  );
  // The source stops (its last frames), the target announces itself.
  await must("ip", ["-n", b.ns, "link", "set", b.dev, "down"]);
  const switchAt = Date.now();
  await ovn.sendRarp(b2);
  const activated = await ovn.waitBinding(B.uuid, (x) => x?.options["additional-chassis-activated"] === "c1");
  // The instance-migrate post hook on the new primary: c1 alone.
  const hook = {
    OVS_VIF_OVN: config,
    GANETI_HOOKS_VERSION: "2",
    GANETI_HOOKS_PHASE: "post",
    GANETI_HOOKS_PATH: "instance-migrate",
    GANETI_OBJECT_TYPE: "INSTANCE",
    GANETI_POST_INSTANCE_NAME: "inst-b",
    GANETI_POST_INSTANCE_PRIMARY: "n2",
    GANETI_POST_INSTANCE_NIC_COUNT: "1",
    GANETI_POST_INSTANCE_NIC0_UUID: B.uuid,
    GANETI_POST_INSTANCE_NIC0_MAC: B.mac,
    GANETI_POST_INSTANCE_NIC0_MODE: "openvswitch",
    GANETI_POST_INSTANCE_NIC0_LINK: "br-int",
    GANETI_POST_INSTANCE_NIC0_VLAN: "",
    GANETI_POST_INSTANCE_NIC0_IP: B.ip,
    GANETI_POST_INSTANCE_NIC0_NETWORK_NAME: "net1",
    GANETI_OLD_PRIMARY: "n2",
    GANETI_NEW_PRIMARY: "n1",
    OVS_VIF_NODE_NAME: "n1",
  };
  const t2 = performance.now();
  const post = await runBinary(c1.ovs, [], { env: hook });
  assert.is(post.code, 0, post.stderr + post.stdout);
  assert.match(post.stdout, new RegExp(`${B.uuid}: requested-chassis c2,c1 -> c1`));
  const moved = await ovn.waitBinding(B.uuid, (x) => x?.chassis === "c1" && x.additional.length === 0);
  report(
    `RARP to additional-chassis-activated: ${activated.toFixed(0)} ms; post hook to SB chassis=c1 alone: ${(performance.now() - t2).toFixed(0)} ms (binding moved ${moved.toFixed(0)} ms after the hook returned)`,
  );
  await new Promise((r) => setTimeout(r, 300));
  const summary = await ping.stop();
  const gap = longestGap(summary.answers, switchAt - 2000);
  report(`ping every 20 ms across the migration: ${summary.sent} sent, ${summary.lost} lost, longest gap ${gap.toFixed(0)} ms`);
  assert.ok(summary.lost <= 10, `lost ${summary.lost}`);
  assert.ok(gap < 1000, `longest gap ${gap} ms`);
  // The old primary's hook: its port goes (the device is gone there), c2 is not requested any more.
  await must("ip", ["netns", "exec", c2.ovs.ns, "ip", "link", "del", b.hostIf]);
  const old = await runBinary(c2.ovs, [], { env: { ...hook, OVS_VIF_NODE_NAME: "n2" } });
  assert.is(old.code, 0, old.stderr + old.stdout);
  assert.match(old.stdout, new RegExp(`removed ${b.hostIf}`));
  assert.is((await ovn.nbctl("get", "Logical_Switch_Port", B.uuid, "options:requested-chassis")).trim(), "c1");
  assert.is((await ovn.ping(a, B.ip, { count: 3 })).received, 3, "b answers from c1");
});

test("status shows an OVN port's logical port, binding and port security; doctor checks NB, the chassis and the Geneve MTU", async () => {
  const r = await runBinary(c1.ovs, ["status", "--json", "--node", "n1"], { env: { OVS_VIF_OVN: config } });
  const s = JSON.parse(r.stdout) as {
    ports: {
      port: string;
      state: string;
      ovn?: { lsp: string; bound_to?: string; ovn_installed: boolean; port_security?: string[]; requested_chassis?: string[] };
    }[];
  };
  const p = s.ports.find((x) => x.ovn?.lsp === B.uuid);
  assert.ok(p, r.stdout);
  assert.equal(p!.ovn, { lsp: B.uuid, ovn_installed: true, port_security: [`${B.mac} ${B.ip}`], requested_chassis: ["c1"], bound_to: "c1" });
  const human = await runBinary(c1.ovs, ["status", "--node", "n1"], { env: { OVS_VIF_OVN: config } });
  assert.match(human.stdout, new RegExp(`lsp ${B.uuid} bound to c1 \\(requested c1\\), ovn-installed, port security ${B.mac} ${B.ip.replace(/\./g, "\\.")}`));
  const d = await runBinary(c1.ovs, ["doctor", "--node", "n1"], { env: { OVS_VIF_OVN: config } });
  assert.match(d.stdout, /ok   ovn nb: unix:.*nb\.sock answers/);
  assert.match(d.stdout, /ok   ovn chassis: chassis c1, SB unix:.*, encap geneve 198\.51\.100\.201/);
  // br-int keeps OVS's 1500; the underlay is 1500 too: a full-size VM frame does not fit Geneve.
  assert.match(d.stdout, /warn ovn mtu: VM ports get br-int's MTU 1500; with Geneve \(58 bytes\) that needs 1558 on br-phy, which has 1500/);
  console.log(
    d.stdout
      .split("\n")
      .filter((l) => l.includes(" ovn "))
      .map((l) => `  ${l}`)
      .join("\n"),
  );
});

test("NB over ssl: with the node's key, certificate and CA (as ovn-nbctl takes them); another CA is refused in one line", async () => {
  const pki = join(ovn.dir, "pki");
  await must("mkdir", ["-p", pki]);
  const ssl = (args: string[]) => must("openssl", args);
  await ssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    join(pki, "ca.key"),
    "-out",
    join(pki, "ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=ovs-vif test CA",
  ]);
  await ssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    join(pki, "other.key"),
    "-out",
    join(pki, "other.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=another CA",
  ]);
  for (const n of ["server", "client"]) {
    await ssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", join(pki, `${n}.key`), "-out", join(pki, `${n}.csr`), "-subj", `/CN=${n}`]);
    await ssl([
      "x509",
      "-req",
      "-in",
      join(pki, `${n}.csr`),
      "-CA",
      join(pki, "ca.pem"),
      "-CAkey",
      join(pki, "ca.key"),
      "-CAcreateserial",
      "-out",
      join(pki, `${n}.pem`),
      "-days",
      "2",
    ]);
  }
  // A second NB server with TLS only (loopback of this test's namespace), holding switch net1.
  await must("ovsdb-tool", ["create", join(pki, "nb.db"), "/usr/share/ovn/ovn-nb.ovsschema"]);
  const port = 30000 + (process.pid % 20000);
  await must("ovsdb-server", [
    join(pki, "nb.db"),
    `--remote=pssl:${port}:127.0.0.1`,
    `--remote=punix:${join(pki, "nb.sock")}`,
    `--private-key=${join(pki, "server.key")}`,
    `--certificate=${join(pki, "server.pem")}`,
    `--ca-cert=${join(pki, "ca.pem")}`,
    `--pidfile=${join(pki, "nb.pid")}`,
    `--unixctl=${join(pki, "nb.ctl")}`,
    "--detach",
    "--no-chdir",
    `--log-file=${join(pki, "nb.log")}`,
  ]);
  try {
    await must("ovn-nbctl", [`--db=unix:${join(pki, "nb.sock")}`, "init"]);
    await must("ovn-nbctl", [`--db=unix:${join(pki, "nb.sock")}`, "ls-add", "net1"]);
    const conf = (ca: string) => {
      const file = join(pki, `ovn-${ca}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          version: 1,
          nb: `ssl:127.0.0.1:${port}`,
          private_key: join(pki, "client.key"),
          certificate: join(pki, "client.pem"),
          ca_cert: join(pki, `${ca}.pem`),
        }),
      );
      return file;
    };
    const attach = (file: string) =>
      must("env", [
        `OVS_VIF_OVN=${file}`,
        "OVS_VIF_SYSLOG=0",
        process.env.OVS_VIF_BINARY ?? join(import.meta.dirname, "..", "..", "dist", "ovs-vif"),
        "attach",
        "--dry-run",
        `--db=unix:${c1.ovs.dbSock}`,
        "--bridge",
        "br-int",
        "--iface",
        "tlsvm0",
        "--ovn-switch",
        "net1",
        "--mac",
        "02:00:00:00:01:0d",
      ]).then(
        (out) => ({ code: 0, out }),
        (err: Error) => ({ code: 1, out: err.message }),
      );
    const ok = await attach(conf("ca"));
    assert.is(ok.code, 0, ok.out);
    assert.match(ok.out, /"OVN_Northbound",\{"op":"wait","table":"Logical_Switch"/, "the NB transaction, read over TLS");
    const bad = await attach(conf("other"));
    assert.is(bad.code, 1);
    assert.match(bad.out, /OVSDB ssl:127\.0\.0\.1:[0-9]+: TLS: /, bad.out);
    report(
      `NB over ssl: read and planned with the CA's certificates; another CA: ${bad.out
        .split("\n")
        .find((l) => l.includes("TLS"))
        ?.replace(/^.*error: /, "")}`,
    );
  } finally {
    await must("sh", ["-c", `kill $(cat ${join(pki, "nb.pid")})`]).catch(() => undefined);
  }
});

test("network-rename (Ganeti 3.1) on the master: the pre hook refuses a name another logical switch has; the post hook renames the network's switch, and NICs plug by the new name; a tagged network's switch and every OVS port stay; other nodes do nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-ovn-rename-"));
  const gnt = installFakeGaneti(dir, {
    instances: [],
    networks: [
      { name: "net1", tags: [] },
      { name: "net9", tags: [] },
    ],
  });
  const hook = (phase: string, oldName: string, newName: string, node = "n1") =>
    runBinary(c1.ovs, [], {
      env: {
        ...gnt.env,
        OVS_VIF_OVN: config,
        OVS_VIF_NODE_NAME: node,
        GANETI_HOOKS_VERSION: "2",
        GANETI_HOOKS_PHASE: phase,
        GANETI_HOOKS_PATH: "network-rename",
        GANETI_OBJECT_TYPE: "NETWORK",
        GANETI_MASTER: "n1",
        GANETI_OLD_NAME: oldName,
        GANETI_NEW_NAME: newName,
      },
    });
  try {
    const ovsBefore = await c1.ovs.dump();
    // Another switch has the new name: the rename would move net1's NICs onto it.
    await ovn.nbctl("ls-add", "net8");
    let nb = await nbDump();
    let r = await hook("pre", "net1", "net8");
    assert.is(r.code, 1, r.stderr);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr.trim(),
      /^ovs-vif: error: network-rename: GANETI_NEW_NAME "net8": a logical switch of that name exists already in unix:.*: the network's OVN NICs \(on logical switch net1\) would move onto it/,
    );
    assert.is(await nbDump(), nb, "NB unchanged");
    await ovn.nbctl("ls-del", "net8");
    nb = await nbDump();
    // Not the master: nothing; the pre phase only checks.
    for (const [phase, node] of [
      ["post", "n2"],
      ["pre", "n1"],
    ] as const) {
      r = await hook(phase, "net1", "net9", node);
      assert.is(r.code, 0, r.stderr);
      assert.is(await nbDump(), nb, `${phase} on ${node}: NB unchanged`);
    }
    r = await hook("post", "net1", "net9");
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /network-rename post: renamed logical switch net1 to net9/);
    assert.match(await ovn.nbctl("lsp-list", "net9"), new RegExp(A.uuid), "the network's logical ports moved with the name");
    assert.is(await c1.ovs.dump(), ovsBefore, "no OVS port changed by the hooks");
    const replug = await kvm(c1, nicEnv(a, A, { NETWORK_NAME: "net9" }));
    assert.is(replug.code, 0, replug.stderr);
    assert.match(replug.stderr, new RegExp(`lsp=${A.uuid} ls=net9`));
    assert.is((await ovn.ping(a, B.ip, { count: 3 })).received, 3, "a answers after the rename");
    const ovsReplugged = await c1.ovs.dump();
    // A network whose tag names its switch: the switch keeps its name.
    gnt.setState({ ...gnt.state(), networks: [{ name: "net1", tags: ["ovs-vif:ovn-switch:net9"] }] });
    nb = await nbDump();
    r = await hook("post", "net9", "net1");
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /its logical switch is net9 \(tag ovs-vif:ovn-switch:net9\): nothing to rename/);
    assert.is(await nbDump(), nb, "tagged: NB unchanged");
    // Back to net1 for the tests after this one.
    gnt.setState({ ...gnt.state(), networks: [{ name: "net1", tags: [] }] });
    assert.is((await hook("post", "net9", "net1")).code, 0);
    assert.match(await ovn.nbctl("lsp-list", "net1"), new RegExp(A.uuid));
    assert.is(await c1.ovs.dump(), ovsReplugged, "no OVS port changed by the hooks");
    report(
      "network-rename: refused onto an existing switch (NB unchanged), renamed net1 -> net9 on the master, re-plugged by the new name, tagged network left alone",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("instance-remove: its logical port goes with it", async () => {
  const hook = {
    OVS_VIF_OVN: config,
    GANETI_HOOKS_VERSION: "2",
    GANETI_HOOKS_PHASE: "post",
    GANETI_HOOKS_PATH: "instance-remove",
    GANETI_OBJECT_TYPE: "INSTANCE",
    GANETI_INSTANCE_NAME: "inst-a",
    GANETI_INSTANCE_PRIMARY: "n1",
    GANETI_INSTANCE_NIC_COUNT: "1",
    GANETI_INSTANCE_NIC0_UUID: A.uuid,
    GANETI_INSTANCE_NIC0_MODE: "openvswitch",
    GANETI_INSTANCE_NIC0_LINK: "br-int",
    OVS_VIF_NODE_NAME: "n1",
  };
  await must("ip", ["netns", "exec", c1.ovs.ns, "ip", "link", "del", a.hostIf]);
  const r = await runBinary(c1.ovs, [], { env: hook });
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`removed logical port ${A.uuid} of inst-a`), r.stdout + r.stderr);
  assert.not.match(await ovn.nbctl("lsp-list", "net1"), new RegExp(A.uuid));
});

test.run();
