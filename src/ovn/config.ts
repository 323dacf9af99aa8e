// A node's OVN settings: /etc/ovs-vif/ovn.json (OVS_VIF_OVN names another
// file), `{"version": 1, "nb": "ssl:10.0.0.1:6641", "bridge": "br-int",
// "private_key": "...", "certificate": "...", "ca_cert": "..."}`; the
// OVN_NB_DB variable or --ovn-nb replace "nb", as for ovn-nbctl. Without
// the file (and without OVN_NB_DB) the node has no OVN mode: a NIC on br-int
// is a plain port.
import { Checker, parseJson, readTextFile } from "../checker.ts";
import { parseBridgeName } from "../names.ts";
import { parseRemote, type Endpoint } from "../ovsdb/client.ts";
import { ovnConfigPath } from "../paths.ts";


export interface OvnConfig {
  file?: string;
  nb: Endpoint;
  /** The integration bridge: a NIC whose link is this bridge is an OVN NIC. */
  bridge: string;
}


/** The node's OVN settings, undefined when it has none. `nb`: --ovn-nb. */
export function loadOvnConfig(nbOption?: string, env: NodeJS.ProcessEnv = process.env): OvnConfig | undefined {
  const file = ovnConfigPath(env);
  const text = readTextFile(env.OVS_VIF_OVN ? "OVS_VIF_OVN" : "OVN settings", file, true);
  let doc: Record<string, unknown> = {};
  if (text !== undefined) {
    const c = new Checker();
    const root = c.object("(top level)", parseJson(text, file));
    if (root) {
      c.keys("", root, ["version", "nb", "bridge", "private_key", "certificate", "ca_cert"]);
      if (root.version !== 1) c.fail("version", root.version, "expected 1");
      for (const k of ["nb", "private_key", "certificate", "ca_cert"]) if (root[k] !== undefined) c.string(k, root[k]);
      if (root.bridge !== undefined) c.valid("bridge", root.bridge, parseBridgeName);
      doc = root;
    }
    c.done(file);
  }
  const [field, remote] = nbOption !== undefined ? ["--ovn-nb", nbOption] : env.OVN_NB_DB ? ["OVN_NB_DB", env.OVN_NB_DB] : [`${file}: nb`, doc.nb as string | undefined];
  if (remote === undefined) return undefined;
  const ssl = doc.private_key !== undefined ? { privateKey: String(doc.private_key), certificate: String(doc.certificate ?? ""), caCert: String(doc.ca_cert ?? "") } : undefined;
  const config: OvnConfig = { nb: parseRemote(field, remote, ssl), bridge: (doc.bridge as string | undefined) ?? "br-int" };
  if (text !== undefined) config.file = file;
  return config;
}
