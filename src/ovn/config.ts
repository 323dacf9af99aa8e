// A node's OVN settings: /etc/ovs-vif/ovn.json (OVS_VIF_OVN names another
// file), `{"version": 1, "nb": "ssl:10.0.0.1:6641", "bridge": "br-int",
// "private_key": "...", "certificate": "...", "ca_cert": "..."}`; the
// OVN_NB_DB variable or --ovn-nb replace "nb", as for ovn-nbctl. Without
// the file (and without OVN_NB_DB) the node has no OVN mode: a NIC on br-int
// is a plain port.
import { Checker, parseJson, readTextFile } from "../checker.ts";
import { InputError } from "../errors.ts";
import { parseBridgeName } from "../names.ts";
import { checkSslFiles, parseRemote, type Endpoint } from "../remote.ts";
import { ovnConfigPath } from "../paths.ts";

export interface OvnConfig {
  file?: string;
  nb: Endpoint;
  /** The integration bridge: a NIC whose link is this bridge is an OVN NIC. */
  bridge: string;
}

const SSL_KEYS = ["private_key", "certificate", "ca_cert"] as const;

/** The node's OVN settings, undefined when it has none. `nb`: --ovn-nb.
 * A file that names no Northbound database while neither OVN_NB_DB nor
 * --ovn-nb does is an error (not a node without OVN). */
export function loadOvnConfig(nbOption?: string, env: NodeJS.ProcessEnv = process.env): OvnConfig | undefined {
  const file = ovnConfigPath(env);
  const text = readTextFile(env.OVS_VIF_OVN ? "OVS_VIF_OVN" : "OVN settings", file, true);
  let doc: Record<string, unknown> = {};
  if (text !== undefined) {
    const c = new Checker();
    const root = c.object("(top level)", parseJson(text, file));
    if (root) {
      c.keys("", root, ["version", "nb", "bridge", ...SSL_KEYS]);
      if (root.version !== 1) c.fail("version", root.version, "expected 1");
      for (const k of ["nb", ...SSL_KEYS]) if (root[k] !== undefined) c.string(k, root[k]);
      if (typeof root.nb === "string") c.valid("nb", root.nb, (field, raw) => parseRemote(field, raw, { privateKey: "", certificate: "", caCert: "" }));
      if (root.bridge !== undefined) c.valid("bridge", root.bridge, parseBridgeName);
      const given = SSL_KEYS.filter((k) => root[k] !== undefined);
      if (given.length > 0 && given.length < SSL_KEYS.length)
        for (const k of SSL_KEYS.filter((x) => root[x] === undefined)) c.missing(k, `required with ${given.join(" and ")} (an ssl: remote needs all three)`);
      doc = root;
    }
    c.done(file);
  }
  const [field, remote] =
    nbOption !== undefined ? ["--ovn-nb", nbOption] : env.OVN_NB_DB ? ["OVN_NB_DB", env.OVN_NB_DB] : [`${file}: nb`, doc.nb as string | undefined];
  if (remote === undefined) {
    if (text === undefined) return undefined;
    throw new InputError(`${file}: nb`, "", "not set, and neither is OVN_NB_DB: the Northbound database, e.g. ssl:10.0.0.1:6641");
  }
  const hasSsl = doc.private_key !== undefined;
  const ssl = hasSsl ? { privateKey: doc.private_key as string, certificate: doc.certificate as string, caCert: doc.ca_cert as string } : undefined;
  const hint =
    text === undefined
      ? `an ssl: remote needs the key files of ${file} (private_key, certificate, ca_cert), and there is no such file`
      : `an ssl: remote needs private_key, certificate and ca_cert in ${file}`;
  const nb = parseRemote(field, remote, ssl, hint);
  if (nb.kind === "ssl") checkSslFiles(nb, { privateKey: `${file}: private_key`, certificate: `${file}: certificate`, caCert: `${file}: ca_cert` });
  const config: OvnConfig = { nb, bridge: (doc.bridge as string | undefined) ?? "br-int" };
  if (text !== undefined) config.file = file;
  return config;
}
