// Hostile remotes: --db (every command takes it), OVS_RUNDIR, --ovn-nb,
// OVN_NB_DB and ovn.json's "nb", and an ssl: remote's key files, hand-written
// and generated from fixed seeds. Every refusal exits non-zero without a
// signal, prints one line naming the option or the file and showing the
// value (control characters escaped, no runtime message), and leaves OVSDB,
// the Northbound database and the links exactly as they were; watch with a
// garbage remote exits at once instead of waiting.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { badRemote, generatedSuites, quoted, withControl, type Random } from "../harness/hostile.ts";
import { ovnNicEnv } from "../harness/ovn.ts";
import { endSuite, makeRefuser, startNb, type HostileCall, type NbHandle, type Refuser } from "../harness/hostile-run.ts";
import { makeTestPki } from "../harness/pki.ts";
import { must } from "../harness/proc.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let nb: NbHandle;
let dir: string;
let ovnJson: string;
let run: Refuser;
const t0 = performance.now();

const MAC = "02:00:00:00:07:01";
const UUID = "77777777-0000-4000-8000-000000000001";

test.before(async () => {
  ovs = await startOvs();
  nb = await startNb(ovs);
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hrem-"));
  await ovs.addBridge("sw1");
  await ovs.addBridge("br-int");
  await ovs.addTap("tap0");
  await ovs.vsctl("set", "Open_vSwitch", ".", "external_ids:system-id=hc1");
  await nb.nbctl("ls-add", "net1");
  ovnJson = join(dir, "ovn.json");
  writeFileSync(ovnJson, JSON.stringify({ version: 1, nb: nb.remote }));
  // A port that every refused call must leave as it is.
  assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "tap0", "--vlan", ".7"])).code, 0);
  run = makeRefuser(ovs, nb);
});

test.after(() => endSuite("hostile-remotes", t0, { run, ovs, nb, dir }));

const ATTACH = ["attach", "--bridge", "sw1", "--iface", "tap0", "--vlan", ".8"];
const OVN_ATTACH = ["attach", "--bridge", "br-int", "--iface", "tap0", "--ovn-switch", "net1", "--mac", MAC];
const nicEnv = (extra: Record<string, string> = {}) => ovnNicEnv({ instance: "inst1", mac: MAC, uuid: UUID, device: "tap0" }, extra);

/** A file holding the OVN settings `doc`. */
let files = 0;
function ovnFile(doc: unknown, raw?: string): string {
  const file = join(dir, `ovn${files++}.json`);
  writeFileSync(file, raw ?? JSON.stringify(doc));
  return file;
}

test("the examples of the issue are refused, naming what was typed", async () => {
  await run.refused({
    cls: "remote: port out of range",
    label: "--db tcp:127.0.0.1:65536",
    args: [...ATTACH, "--db", "tcp:127.0.0.1:65536"],
    mentions: ["--db", quoted("tcp:127.0.0.1:65536"), "1..65535"],
  });
  await run.refused({
    cls: "remote: control character",
    label: "--db with a \\r",
    args: [...ATTACH, "--db=tcp:127.0.0.1:6640\rOK"],
    mentions: ["--db", '"tcp:127.0.0.1:6640\\rOK"'],
  });
  const nul = ovnFile(undefined, `{"version":1,"nb":"${nb.remote}\\u0000junk"}`);
  await run.refused({
    cls: "remote: control character",
    label: "ovn.json nb with a NUL",
    args: OVN_ATTACH,
    env: { OVS_VIF_OVN: nul },
    mentions: [nul, "nb", "control character 0x00"],
  });
  await run.refused({
    cls: "remote: unix path",
    label: "OVN_NB_DB relative",
    args: OVN_ATTACH,
    env: { OVN_NB_DB: "unix:nb.sock" },
    mentions: ["OVN_NB_DB", quoted("unix:nb.sock"), "relative"],
  });
  await run.refused({
    cls: "remote: passive form",
    label: "--ovn-nb punix:",
    args: [...OVN_ATTACH, "--ovn-nb", `p${nb.remote}`],
    mentions: ["--ovn-nb", quoted(`p${nb.remote}`), "passive"],
  });
  await run.refused({ cls: "remote: ssl without key files", label: "--db ssl:", args: ["gc", "--db", "ssl:127.0.0.1:6640"], mentions: ["--db", "key files"] });
  await run.refused({
    cls: "remote: ssl without key files",
    label: "OVN_NB_DB ssl: without them",
    args: OVN_ATTACH,
    env: { OVN_NB_DB: "ssl:127.0.0.1:6641", OVS_VIF_OVN: join(dir, "absent.json") },
    mentions: ["OVN_NB_DB", "private_key"],
  });
  const noNb = ovnFile({ version: 1, bridge: "br-int" });
  await run.refused({
    cls: "ovn.json: no nb",
    label: "ovn.json without nb",
    args: OVN_ATTACH,
    env: { OVS_VIF_OVN: noNb },
    mentions: [`${noNb}: nb`, "not set"],
  });
});

test("watch with a garbage remote exits at once, in one line, instead of warning every sweep", async () => {
  for (const [args, env, mention] of [
    [["watch", "--db", "garbage"], {}, "--db"],
    [["watch", "--db=tcp:127.0.0.1:65536", "--sweep", "1"], {}, "--db"],
    [["watch"], { OVS_RUNDIR: "relative/run" }, "OVS_RUNDIR"],
    [["watch"], { OVS_RUNDIR: "/run/\u001b[2Jovs" }, "OVS_RUNDIR"],
  ] as const) {
    const t = performance.now();
    await run.refused({
      cls: "watch: remote",
      label: `watch ${args.join(" ")} ${JSON.stringify(env)}`,
      args: [...args],
      env: { ...env },
      mentions: [mention],
      timeoutMs: 10000,
    });
    assert.ok(performance.now() - t < 5000, `${args.join(" ")}: exits at once (${(performance.now() - t).toFixed(0)} ms)`);
  }
});

/** Where a remote goes in, and what the line names. */
const SURFACES = [
  "--db attach",
  "--db gc",
  "--db detach",
  "--db status",
  "--db watch",
  "--db reconcile",
  "--ovn-nb",
  "OVN_NB_DB attach",
  "OVN_NB_DB kvm-vif-bridge",
  "ovn.json nb",
] as const;

function remoteCall(surface: (typeof SURFACES)[number], cls: string, value: string): HostileCall {
  const label = `${surface} ${JSON.stringify(value)}`;
  const shown = quoted(value);
  switch (surface) {
    case "--db attach":
      return { cls, label, args: [...ATTACH, `--db=${value}`], mentions: ["--db", shown] };
    case "--db gc":
    case "--db detach":
    case "--db status":
    case "--db reconcile":
    case "--db watch": {
      const cmd = surface.slice(5);
      const args = cmd === "detach" ? ["detach", "--iface", "tap0"] : cmd === "reconcile" ? ["reconcile", "--from", join(dir, "none.json")] : [cmd];
      return { cls, label, args: [...args, `--db=${value}`], mentions: ["--db", shown], timeoutMs: 10000 };
    }
    case "--ovn-nb":
      return { cls, label, args: [...OVN_ATTACH, `--ovn-nb=${value}`], mentions: ["--ovn-nb", shown] };
    case "OVN_NB_DB attach":
      return { cls, label, args: OVN_ATTACH, env: { OVN_NB_DB: value, OVS_VIF_OVN: ovnJson }, mentions: ["OVN_NB_DB", shown] };
    case "OVN_NB_DB kvm-vif-bridge":
      return { cls, label, args: [], name: "kvm-vif-bridge", env: { ...nicEnv(), OVN_NB_DB: value, OVS_VIF_OVN: ovnJson }, mentions: ["OVN_NB_DB", shown] };
    case "ovn.json nb": {
      const file = ovnFile({ version: 1, nb: value });
      return { cls, label, args: OVN_ATTACH, env: { OVS_VIF_OVN: file }, mentions: [file, ": nb"] };
    }
  }
}

const remoteCases = (r: Random): HostileCall => {
  const { cls, value } = badRemote(r, ovs.dir);
  return remoteCall(r.pick(SURFACES), cls, value);
};

const rundirCases = (r: Random): HostileCall => {
  const value = r.pick([
    () => r.pick(["run", "run/openvswitch", "./run", "~/run"]),
    () => withControl(r, "/run/openvswitch"),
    () => `/${"d".repeat(r.int(100, 200))}`,
    () => `/run/ovs ${r.int(1, 9)}`,
  ])();
  const cmd = r.pick([ATTACH, ["gc"], ["detach", "--iface", "tap0"], ["watch"]]);
  return {
    cls: "OVS_RUNDIR: not an absolute socket directory",
    label: `OVS_RUNDIR=${JSON.stringify(value)} ${cmd[0]}`,
    args: [...cmd],
    env: { OVS_RUNDIR: value },
    mentions: ["OVS_RUNDIR"],
    timeoutMs: 10000,
  };
};

generatedSuites(
  test,
  [
    ["remotes", remoteCases, 200, 41],
    ["OVS_RUNDIR", rundirCases, 20, 42],
  ],
  async (c) => {
    await run.refused(c);
  },
);

// --- ssl: the key, the certificate and the CA ---------------------------------

const pki = () => join(dir, "pki");
const p = (n: string) => join(pki(), n);
async function makePki(): Promise<void> {
  await makeTestPki(pki());
  const ssl = (args: string[]) => must("openssl", args);
  await ssl(["pkey", "-in", p("client.key"), "-aes128", "-passout", "pass:x", "-out", p("enc.key")]);
  await ssl(["x509", "-in", p("client.pem"), "-outform", "DER", "-out", p("client.der")]);
  writeFileSync(p("junk"), "junk\n");
  writeFileSync(p("empty"), "");
  writeFileSync(p("cut.pem"), "-----BEGIN CERTIFICATE-----\nMIIBIjAN\n-----END CERTIFICATE-----\n");
  writeFileSync(p("cut.key"), "-----BEGIN PRIVATE KEY-----\nMIIBIjAN\n-----END PRIVATE KEY-----\n");
  writeFileSync(p("big.pem"), `-----BEGIN CERTIFICATE-----\n${"A".repeat(1 << 21)}\n`);
  await must("mkfifo", [p("fifo")]);
  await must("ln", ["-s", p("loop"), p("loop")]);
  chmodSync(p("client.key"), 0o600);
}

/** Bad stand-ins for one key file: [what, path, what the line says]. */
const BAD_FILES = (role: "private_key" | "certificate" | "ca_cert"): [string, string, RegExp][] => [
  ["not PEM", p("junk"), /not a PEM/],
  ["empty", p("empty"), /not a PEM/],
  ["a directory", pki(), /is a directory/],
  ["missing", p("none.pem"), /no such file/],
  ["a relative path", "pki/client.pem", /not an absolute path/],
  ["DER, not PEM", p("client.der"), /not a PEM/],
  ["a damaged PEM", p(role === "private_key" ? "cut.key" : "cut.pem"), /damaged/],
  ["over 1 MiB", p("big.pem"), /larger than 1048576 bytes/],
  ["/dev/zero", "/dev/zero", /larger than 1048576 bytes/],
  ["a FIFO", p("fifo"), /not a PEM/],
  ["a symlink loop", p("loop"), /loop of symbolic links/],
  ["a path with a control character", `${p("client.pem")}\n`, /control character/],
  ...(role === "private_key"
    ? ([
        ["the certificate as the key", p("client.pem"), /not a PEM private key/],
        ["an encrypted key", p("enc.key"), /encrypted/],
        ["another certificate's key", p("server.key"), /not the key of the certificate/],
      ] as [string, string, RegExp][])
    : ([["a key as a certificate", p("client.key"), /not a PEM certificate/]] as [string, string, RegExp][])),
];

test("ssl: every bad key, certificate or CA file is refused before any connection, naming ovn.json's key and the path", async () => {
  await makePki();
  const good = { private_key: p("client.key"), certificate: p("client.pem"), ca_cert: p("ca.pem") };
  for (const role of ["private_key", "certificate", "ca_cert"] as const) {
    for (const [what, path, reason] of BAD_FILES(role)) {
      const file = ovnFile({ version: 1, nb: "ssl:127.0.0.1:6641", ...good, [role]: path });
      const r = await run.refused({
        cls: `ssl: ${role} file`,
        label: `ssl ${role}: ${what}`,
        args: OVN_ATTACH,
        env: { OVS_VIF_OVN: file },
        mentions: [`${file}: ${role}`, quoted(path)],
      });
      assert.match(r.stderr, reason, `${role} ${what}: ${r.stderr}`);
    }
  }
});

test("ssl: a server whose certificate another CA signed, or that speaks no TLS, fails in one line naming the remote", async () => {
  const port = 20000 + (process.pid % 20000);
  await must("cp", [join(ovs.dir, "nb", "nb.db"), p("tls.db")]);
  const started = await ovs.inNs("ovsdb-server", [
    p("tls.db"),
    `--remote=pssl:${port}:127.0.0.1`,
    `--remote=ptcp:${port + 1}:127.0.0.1`,
    `--private-key=${p("server.key")}`,
    `--certificate=${p("server.pem")}`,
    `--ca-cert=${p("ca.pem")}`,
    `--pidfile=${p("tls.pid")}`,
    `--unixctl=${p("tls.ctl")}`,
    "--detach",
    "--no-chdir",
    `--log-file=${p("tls.log")}`,
  ]);
  assert.is(started.code, 0, started.stderr);
  try {
    const conf = (nbRemote: string, ca: string) =>
      ovnFile({ version: 1, nb: nbRemote, private_key: p("client.key"), certificate: p("client.pem"), ca_cert: p(ca) });
    const good = await runBinary(ovs, [...OVN_ATTACH, "--dry-run"], { env: { OVS_VIF_OVN: conf(`ssl:127.0.0.1:${port}`, "ca.pem") } });
    assert.is(good.code, 0, `the right CA works: ${good.stderr}`);
    for (const [what, remote, ca] of [
      ["another CA", `ssl:127.0.0.1:${port}`, "other.pem"],
      ["a plain tcp server", `ssl:127.0.0.1:${port + 1}`, "ca.pem"],
      ["nothing listening", `ssl:127.0.0.1:${port + 2}`, "ca.pem"],
    ] as const) {
      await run.refused({
        cls: "ssl: handshake",
        label: `ssl handshake: ${what}`,
        args: [...OVN_ATTACH, "--timeout", "5"],
        env: { OVS_VIF_OVN: conf(remote, ca) },
        mentions: [`OVSDB ${remote}`],
      });
    }
  } finally {
    await must("sh", ["-c", `kill $(cat ${p("tls.pid")})`]).catch(() => undefined);
  }
});

test.run();
