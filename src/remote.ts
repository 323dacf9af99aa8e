// The one parser of OVSDB remotes, for every place that takes one: --db,
// OVS_RUNDIR, --ovn-nb, OVN_NB_DB and ovn.json's "nb". The forms are the
// active ones of ovsdb-server(1) and ovn-nbctl(8):
//   unix:PATH        an absolute path, at most 107 bytes (a unix socket address)
//   tcp:HOST:PORT    HOST an IPv4 address, [an IPv6 address] or a DNS name;
//   ssl:HOST:PORT    PORT 1..65535 in decimal
// Nothing is left to the runtime: a value it would read as another (a port
// of 65536, a host "0x7f000001", a path cut at a NUL) is refused here, with
// the field and the value as typed. Passive remotes (punix:, ptcp:, pssl:)
// listen, which ovs-vif never does; a comma-separated list (a clustered
// database's members) is refused rather than half read.
//
// An ssl: remote's key, certificate and CA certificate are checked before
// anything is done (readable, PEM, the key the certificate's): node:crypto
// is loaded for that only, never on a plain unix-socket run.
import { readTextFile } from "./checker.ts";
import { CONTROL_CHAR, InputError } from "./errors.ts";
import { isIpAddress } from "./names.ts";

/** The PEM files of an ssl: remote, and the fields that name them. */
export interface SslFiles {
  privateKey: string;
  certificate: string;
  caCert: string;
}

export interface Endpoint {
  kind: "unix" | "tcp" | "ssl";
  path?: string;
  host?: string;
  port?: number;
  /** For ssl: the PEM files (private key, certificate, CA certificate) and,
   * once checked (checkSslFiles), their texts. */
  ssl?: SslFiles & { pem?: { key: string; cert: string; ca: string } };
  text: string;
}

const FORMS = "expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT";
/** sun_path holds 108 bytes, the last one a NUL. */
export const UNIX_PATH_MAX = 107;

function badChar(value: string): string | undefined {
  const c = CONTROL_CHAR.exec(value);
  if (c) return `contains control character 0x${c[0].charCodeAt(0).toString(16).padStart(2, "0")}`;
  if (/\s/.test(value)) return "contains whitespace";
  return undefined;
}

/** A DNS name as a resolver takes it: labels of letters, digits and '-'. */
function isDnsName(host: string): boolean {
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  return name.split(".").every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

/** A name made of numbers only (127.1, 010.0.0.1, 0x7f000001): inet_aton,
 * behind the resolver, reads it as an IPv4 address other than it looks. */
function isNumericName(host: string): boolean {
  return host.split(".").every((l) => /^(?:0x[0-9a-f]*|[0-9]+)$/i.test(l));
}

function parseHost(field: string, remote: string, host: string): string {
  if (host.startsWith("[")) {
    const inner = host.slice(1, -1);
    if (!host.endsWith("]") || !inner.includes(":") || !isIpAddress(inner))
      throw new InputError(field, remote, `host ${JSON.stringify(host)}: brackets hold an IPv6 address (no zone), e.g. [2001:db8::1]`);
    return inner;
  }
  if (host === "") throw new InputError(field, remote, `no host (${FORMS})`);
  if (isIpAddress(host)) return host;
  // The resolver (inet_aton) would read 127.1 or 0x7f000001 as an address other than it looks.
  if (isNumericName(host))
    throw new InputError(
      field,
      remote,
      `host ${JSON.stringify(host)}: not an IPv4 address (four numbers 0..255 in decimal, no leading zeros), and a name made of numbers is no DNS name`,
    );
  if (!isDnsName(host))
    throw new InputError(field, remote, `host ${JSON.stringify(host)}: not an IPv4 address, [IPv6 address] or DNS name (letters, digits, '-' and '.')`);
  return host;
}

function parsePort(field: string, remote: string, port: string): number {
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535)
    throw new InputError(field, remote, `port ${JSON.stringify(port)}: expected a number 1..65535 in decimal`);
  return Number(port);
}

/** A remote as OVSDB's tools write it: unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT.
 * An ssl: remote takes `ssl` (its key files), else is refused saying `sslHint`. */
export function parseRemote(field: string, remote: string, ssl?: Endpoint["ssl"], sslHint?: string): Endpoint {
  if (remote === "") throw new InputError(field, remote, `empty (${FORMS})`);
  const bad = badChar(remote);
  if (bad) throw new InputError(field, remote, bad);
  if (remote.includes(",")) throw new InputError(field, remote, "a list of remotes (a clustered database's members): give one member");
  const colon = remote.indexOf(":");
  const scheme = colon < 0 ? "" : remote.slice(0, colon);
  const rest = remote.slice(colon + 1);
  if (scheme === "punix" || scheme === "ptcp" || scheme === "pssl")
    throw new InputError(field, remote, `a passive remote (one that listens, as ovsdb-server takes it); ovs-vif connects: ${FORMS}`);
  if (scheme === "unix") {
    if (rest === "") throw new InputError(field, remote, "unix: without a path");
    if (!rest.startsWith("/")) throw new InputError(field, remote, "a relative path: give the socket's absolute path");
    if (new TextEncoder().encode(rest).length > UNIX_PATH_MAX)
      throw new InputError(field, remote, `path longer than a unix socket address holds (${UNIX_PATH_MAX} bytes)`);
    return { kind: "unix", path: rest, text: remote };
  }
  if (scheme !== "tcp" && scheme !== "ssl")
    throw new InputError(field, remote, colon < 0 ? FORMS : `unknown kind of remote ${JSON.stringify(`${scheme}:`)} (${FORMS})`);
  const split = rest.startsWith("[") ? rest.indexOf("]") + 1 || -1 : rest.lastIndexOf(":");
  const hostText = split < 0 ? rest : rest.slice(0, split);
  const portText = split < 0 ? undefined : rest.slice(split);
  if (!hostText.startsWith("[") && hostText.includes(":")) throw new InputError(field, remote, `an IPv6 address goes in brackets: ${scheme}:[ADDRESS]:PORT`);
  if (portText === undefined || !portText.startsWith(":") || portText === ":") {
    if (portText !== undefined && portText !== "" && !portText.startsWith(":"))
      throw new InputError(field, remote, `${JSON.stringify(portText)} after the host: ${FORMS}`);
    parseHost(field, remote, hostText);
    throw new InputError(field, remote, `no port (${scheme}:HOST:PORT; ovs-vif assumes none)`);
  }
  const host = parseHost(field, remote, hostText);
  const port = parsePort(field, remote, portText.slice(1));
  const ep: Endpoint = { kind: scheme, host, port, text: remote };
  if (scheme === "ssl") {
    if (!ssl) throw new InputError(field, remote, sslHint ?? "an ssl: remote needs a private key, a certificate and a CA certificate");
    ep.ssl = { ...ssl };
  }
  return ep;
}

/** `--db`, else the socket in OVS_RUNDIR (default /var/run/openvswitch),
 * validated alike. --db has no key files: no ssl: there. */
export function resolveEndpoint(db: string | undefined, env: NodeJS.ProcessEnv = process.env): Endpoint {
  if (db === undefined || db === "") {
    const rundir = env.OVS_RUNDIR || "/var/run/openvswitch";
    const bad = badChar(rundir);
    if (bad) throw new InputError("OVS_RUNDIR", rundir, bad);
    if (!rundir.startsWith("/")) throw new InputError("OVS_RUNDIR", rundir, "not an absolute directory");
    const path = `${rundir.replace(/\/+$/, "")}/db.sock`;
    const ep = parseRemote("OVS_RUNDIR", `unix:${path}`);
    return ep;
  }
  return parseRemote("--db", db, undefined, "ssl: needs key files, which --db cannot give: use unix:PATH or tcp:HOST:PORT");
}

/** The field of each key file in messages (e.g. "/etc/ovs-vif/ovn.json: private_key"). */
export type SslFields = Record<keyof SslFiles, string>;

const PEM_KEY = /-----BEGIN (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----/;

/** Reads and checks an ssl: remote's files: each readable and PEM, the key
 * unencrypted and the one of the certificate, the CA a certificate. The
 * texts go into ep.ssl.pem (the connection uses them as read here). Loads
 * node:crypto: only ever called for an ssl: remote. */
export function checkSslFiles(ep: Endpoint, fields: SslFields): void {
  const files = ep.ssl;
  if (!files) return;
  const read = (k: keyof SslFiles): string => {
    const path = files[k];
    const bad = badChar(path);
    if (path === "") throw new InputError(fields[k], path, "empty: an ssl: remote needs it");
    if (bad) throw new InputError(fields[k], path, bad);
    if (!path.startsWith("/")) throw new InputError(fields[k], path, "not an absolute path");
    return readTextFile(fields[k], path, false, "", 1 << 20)!;
  };
  const key = read("privateKey");
  const cert = read("certificate");
  const ca = read("caCert");
  if (!PEM_KEY.test(key)) throw new InputError(fields.privateKey, files.privateKey, "not a PEM private key (no -----BEGIN ... PRIVATE KEY----- line)");
  if (!PEM_CERT.test(cert)) throw new InputError(fields.certificate, files.certificate, "not a PEM certificate (no -----BEGIN CERTIFICATE----- line)");
  if (!PEM_CERT.test(ca)) throw new InputError(fields.caCert, files.caCert, "not a PEM certificate (no -----BEGIN CERTIFICATE----- line)");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require("node:crypto") as typeof import("node:crypto");
  if (/ENCRYPTED/.test(key)) throw new InputError(fields.privateKey, files.privateKey, "an encrypted private key: ovs-vif cannot ask for its passphrase");
  let privateKey: import("node:crypto").KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch {
    throw new InputError(fields.privateKey, files.privateKey, "not a private key that can be read (a damaged or unsupported PEM)");
  }
  let x509: import("node:crypto").X509Certificate;
  try {
    x509 = new crypto.X509Certificate(cert);
  } catch {
    throw new InputError(fields.certificate, files.certificate, "not an X.509 certificate that can be read (a damaged PEM)");
  }
  try {
    new crypto.X509Certificate(ca);
  } catch {
    throw new InputError(fields.caCert, files.caCert, "not an X.509 certificate that can be read (a damaged PEM)");
  }
  let matches = false;
  try {
    matches = x509.checkPrivateKey(privateKey);
  } catch {
    matches = false;
  }
  if (!matches) throw new InputError(fields.privateKey, files.privateKey, `not the key of the certificate ${files.certificate}`);
  files.pem = { key, cert, ca };
}
