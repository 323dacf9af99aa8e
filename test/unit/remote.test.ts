// The one remote parser (src/remote.ts): what --db, OVS_RUNDIR, --ovn-nb,
// OVN_NB_DB and ovn.json's "nb" take, what each refuses (naming the field
// and the value as typed), and the ssl: key files checked before any use.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catchInputError, expectInputError } from "../harness/assert.ts";
import { checkSslFiles, parseRemote, resolveEndpoint, type Endpoint } from "../../src/remote.ts";
import { loadOvnConfig } from "../../src/ovn/config.ts";
import { tlsProblem } from "../../src/stream.ts";

const good: Array<[string, Partial<Endpoint>]> = [
  ["unix:/var/run/openvswitch/db.sock", { kind: "unix", path: "/var/run/openvswitch/db.sock" }],
  ["tcp:127.0.0.1:6640", { kind: "tcp", host: "127.0.0.1", port: 6640 }],
  ["tcp:192.0.2.255:1", { kind: "tcp", host: "192.0.2.255", port: 1 }],
  ["tcp:[::1]:6641", { kind: "tcp", host: "::1", port: 6641 }],
  ["tcp:[2001:db8::10]:65535", { kind: "tcp", host: "2001:db8::10", port: 65535 }],
  ["tcp:[::ffff:192.0.2.1]:6641", { kind: "tcp", host: "::ffff:192.0.2.1", port: 6641 }],
  ["tcp:nb.example.com:6641", { kind: "tcp", host: "nb.example.com", port: 6641 }],
  ["tcp:nb-1.example.com.:6641", { kind: "tcp", host: "nb-1.example.com.", port: 6641 }],
  ["tcp:localhost:6641", { kind: "tcp", host: "localhost", port: 6641 }],
  [`unix:/${"x".repeat(106)}`, { kind: "unix" }],
];

for (const [raw, want] of good) {
  test(`parseRemote takes ${raw.slice(0, 40)}`, () => {
    const ep = parseRemote("--db", raw);
    for (const [k, v] of Object.entries(want)) assert.equal((ep as unknown as Record<string, unknown>)[k], v, k);
    assert.is(ep.text, raw);
  });
}

/** Refused: the value and what the reason says. */
const bad: Array<[string, RegExp]> = [
  ["", /^empty/],
  ["tcp:127.0.0.1:65536", /port "65536": expected a number 1\.\.65535/],
  ["tcp:127.0.0.1:0", /port "0"/],
  ["tcp:127.0.0.1:99999999999", /port/],
  ["tcp:127.0.0.1:06640", /port "06640"/],
  ["tcp:127.0.0.1:+6640", /port "\+6640"/],
  ["tcp:127.0.0.1:0x1900", /port "0x1900"/],
  ["tcp:127.0.0.1:6640.0", /port "6640\.0"/],
  ["tcp:127.0.0.1:-1", /port "-1"/],
  ["tcp:127.0.0.1", /no port/],
  ["tcp:127.0.0.1:", /no port/],
  ["tcp::6640", /no host/],
  ["tcp:0x7f000001:6640", /numbers is no DNS name/],
  ["tcp:127.1:6640", /numbers is no DNS name/],
  ["tcp:010.0.0.1:6640", /numbers is no DNS name/],
  ["tcp:2130706433:6640", /numbers is no DNS name/],
  ["tcp:256.1.1.1:6640", /no DNS name/],
  ["tcp:::1:6640", /IPv6 address goes in brackets/],
  ["tcp:[::1:6640", /brackets hold an IPv6 address/],
  ["tcp:[127.0.0.1]:6640", /brackets hold an IPv6 address/],
  ["tcp:[fe80::1%eth0]:6640", /brackets hold an IPv6 address/],
  ["tcp:[::1]x:6640", /after the host/],
  ["tcp:-bad.example:6640", /not an IPv4 address, \[IPv6 address\] or DNS name/],
  ["tcp:under_score.example:6640", /DNS name/],
  [`tcp:${"a".repeat(64)}.example:6640`, /DNS name/],
  ["tcp:host name:6640", /whitespace/],
  ["tcp:127.0.0.1:6640\n", /control character 0x0a/],
  ["tcp:127.0.0.1:6640\r", /control character 0x0d/],
  ["unix:/run/db.sock\u0000junk", /control character 0x00/],
  ["unix:/run/db\u001b[2J.sock", /control character 0x1b/],
  ["unix:/run/db\u202e.sock", /control character 0x202e/],
  ["unix:/run/db\u0085.sock", /control character 0x85/],
  ["unix:", /without a path/],
  ["unix:db.sock", /relative path/],
  ["unix:./db.sock", /relative path/],
  [`unix:/${"x".repeat(107)}`, /107 bytes/],
  [`unix:/${"é".repeat(60)}`, /107 bytes/],
  ["punix:/run/db.sock", /passive remote/],
  ["ptcp:6640", /passive remote/],
  ["pssl:6640:127.0.0.1", /passive remote/],
  ["TCP:127.0.0.1:6640", /unknown kind of remote "TCP:"/],
  ["udp:127.0.0.1:6640", /unknown kind of remote "udp:"/],
  ["/run/db.sock", /^expected unix:PATH/],
  ["db.sock", /^expected unix:PATH/],
  ["tcp:10.0.0.1:6641,tcp:10.0.0.2:6641", /a list of remotes/],
  ["ssl:127.0.0.1:6641", /ssl: needs key files, which --db cannot give/],
];

for (const [raw, reason] of bad) {
  test(`resolveEndpoint (--db) refuses ${JSON.stringify(raw).slice(0, 50)}`, () => {
    // --db "" never gets here (the argument parser refuses an empty value): the parser itself.
    expectInputError(() => (raw === "" ? parseRemote("--db", raw) : resolveEndpoint(raw, {})), "--db", raw, reason);
  });
}

test("OVS_RUNDIR: the default socket in it, validated like --db", () => {
  assert.is(resolveEndpoint(undefined, {}).text, "unix:/var/run/openvswitch/db.sock");
  assert.is(resolveEndpoint(undefined, { OVS_RUNDIR: "/tmp/ovs//" }).path, "/tmp/ovs/db.sock");
  assert.is(resolveEndpoint("", { OVS_RUNDIR: "/tmp/o" }).path, "/tmp/o/db.sock");
  expectInputError(() => resolveEndpoint(undefined, { OVS_RUNDIR: "run" }), "OVS_RUNDIR", "run", /absolute/);
  expectInputError(() => resolveEndpoint(undefined, { OVS_RUNDIR: "/tmp/a\nb" }), "OVS_RUNDIR", "/tmp/a\nb", /control character 0x0a/);
  expectInputError(() => resolveEndpoint(undefined, { OVS_RUNDIR: `/${"d".repeat(110)}` }), "OVS_RUNDIR", `unix:/${"d".repeat(110)}/db.sock`, /107 bytes/);
});

// --- ssl: key files -----------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-remote-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const f = (n: string) => join(dir, n);
const ssl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("a.key"), "-out", f("a.pem"), "-days", "2", "-subj", "/CN=a"]);
ssl([
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-nodes",
  "-keyout",
  f("b.key"),
  "-out",
  f("b.pem"),
  "-days",
  "2",
  "-subj",
  "/CN=b",
]);
ssl(["pkey", "-in", f("a.key"), "-aes256", "-passout", "pass:x", "-out", f("enc.key")]);
writeFileSync(f("junk.pem"), "not a pem\n");
writeFileSync(f("cut.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
writeFileSync(f("cut.key"), "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
writeFileSync(f("secret.key"), "x");
chmodSync(f("secret.key"), 0);

const FIELDS = { privateKey: "ovn.json: private_key", certificate: "ovn.json: certificate", caCert: "ovn.json: ca_cert" };
const sslEp = (key: string, cert: string, ca: string) => parseRemote("nb", "ssl:127.0.0.1:6641", { privateKey: key, certificate: cert, caCert: ca });

test("checkSslFiles: a key, its certificate and a CA certificate pass, and their texts are kept for the connection", () => {
  for (const [k, c] of [
    ["a.key", "a.pem"],
    ["b.key", "b.pem"],
  ]) {
    const ep = sslEp(f(k!), f(c!), f("b.pem"));
    checkSslFiles(ep, FIELDS);
    assert.match(ep.ssl!.pem!.key, /PRIVATE KEY/);
  }
});

const sslBad: Array<[string, string, string, string, string, RegExp]> = [
  ["key of another certificate", f("b.key"), f("a.pem"), f("a.pem"), "ovn.json: private_key", /not the key of the certificate/],
  ["key not PEM", f("junk.pem"), f("a.pem"), f("a.pem"), "ovn.json: private_key", /not a PEM private key/],
  ["certificate not PEM", f("a.key"), f("junk.pem"), f("a.pem"), "ovn.json: certificate", /not a PEM certificate/],
  ["CA not PEM", f("a.key"), f("a.pem"), f("a.key"), "ovn.json: ca_cert", /not a PEM certificate/],
  ["a damaged certificate", f("a.key"), f("cut.pem"), f("a.pem"), "ovn.json: certificate", /damaged PEM/],
  ["a damaged key", f("cut.key"), f("a.pem"), f("a.pem"), "ovn.json: private_key", /damaged or unsupported PEM/],
  ["an encrypted key", f("enc.key"), f("a.pem"), f("a.pem"), "ovn.json: private_key", /encrypted/],
  ["a missing key", f("none.key"), f("a.pem"), f("a.pem"), "ovn.json: private_key", /no such file/],
  ["a directory as CA", f("a.key"), f("a.pem"), dir, "ovn.json: ca_cert", /is a directory/],
  ["a relative path", "a.key", f("a.pem"), f("a.pem"), "ovn.json: private_key", /absolute/],
  ["an empty path", "", f("a.pem"), f("a.pem"), "ovn.json: private_key", /empty/],
  ["a newline in the path", `${f("a.key")}\n`, f("a.pem"), f("a.pem"), "ovn.json: private_key", /control character/],
];

for (const [label, key, cert, ca, field, reason] of sslBad) {
  test(`checkSslFiles refuses ${label}, naming the file's key and path`, () => {
    const value = field.endsWith("private_key") ? key : field.endsWith("certificate") ? cert : ca;
    const err = expectInputError(() => checkSslFiles(sslEp(key, cert, ca), FIELDS), field, value, reason);
    assert.not.match(err.message, /error:[0-9A-F]{8}|ERR_|routines/);
  });
}

test("loadOvnConfig: nb and the key files checked at load, naming ovn.json and the key", () => {
  const file = f("ovn.json");
  const env = { OVS_VIF_OVN: file };
  const write = (doc: unknown) => writeFileSync(file, JSON.stringify(doc));
  write({ version: 1, nb: "tcp:127.0.0.1:65536" });
  assert.match(
    catchInputError(() => loadOvnConfig(undefined, env), "port").message,
    new RegExp(`^${file}: nb "tcp:127\\.0\\.0\\.1:65536": port "65536": expected a number 1\\.\\.65535`),
  );
  write({ version: 1, nb: "ssl:127.0.0.1:6641" });
  expectInputError(() => loadOvnConfig(undefined, env), `${file}: nb`, "ssl:127.0.0.1:6641", /needs private_key, certificate and ca_cert/);
  write({ version: 1, nb: "ssl:127.0.0.1:6641", private_key: f("a.key") });
  assert.match(
    catchInputError(() => loadOvnConfig(undefined, env), "partial").message,
    new RegExp(`^${file}: certificate: required with private_key .*; ca_cert: required with private_key`),
  );
  write({ version: 1, nb: "ssl:127.0.0.1:6641", private_key: f("b.key"), certificate: f("a.pem"), ca_cert: f("a.pem") });
  expectInputError(() => loadOvnConfig(undefined, env), `${file}: private_key`, f("b.key"), /not the key of the certificate/);
  write({ version: 1, bridge: "br-int" });
  expectInputError(() => loadOvnConfig(undefined, env), `${file}: nb`, "", /not set, and neither is OVN_NB_DB/);
  assert.is(loadOvnConfig(undefined, { ...env, OVN_NB_DB: "tcp:[::1]:6641" })!.nb.host, "::1");
  expectInputError(() => loadOvnConfig(undefined, { ...env, OVN_NB_DB: "tcp:[::1]:0" }), "OVN_NB_DB", "tcp:[::1]:0", /port "0"/);
  expectInputError(() => loadOvnConfig("unix:rel.sock", env), "--ovn-nb", "unix:rel.sock", /relative path/);
  assert.is(loadOvnConfig(undefined, { OVS_VIF_OVN: f("absent.json") }), undefined, "no file, no variable: no OVN");
});

test("a failed TLS handshake is told in our words, OpenSSL's verify code kept, the runtime's own codes and sentences not", () => {
  assert.is(
    tlsProblem({ code: "SELF_SIGNED_CERT_IN_CHAIN", message: "self signed certificate in certificate chain" }),
    "the server's certificate does not verify against the CA certificate (SELF_SIGNED_CERT_IN_CHAIN)",
  );
  assert.is(
    tlsProblem({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }),
    "the server's certificate does not verify against the CA certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
  );
  assert.is(tlsProblem({ code: "CERT_HAS_EXPIRED" }), "the server's certificate has expired (CERT_HAS_EXPIRED)");
  assert.is(
    tlsProblem({ code: "ECONNRESET", message: "Client network socket disconnected before secure TLS connection was established" }),
    "the server closed the connection during the handshake (no TLS there, or it refused this client's certificate)",
  );
  assert.is(tlsProblem({ code: "ERR_SSL_WRONG_VERSION_NUMBER", message: "wrong version number" }), "the handshake failed");
  assert.is(tlsProblem(undefined), "the handshake failed");
});

test.run();
