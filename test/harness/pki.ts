// A throw-away PKI for TLS tests: a CA (ca.key, ca.pem), another CA
// (other.key, other.pem) whose certificates the first does not verify, and
// a server and a client certificate signed by the first (server.key/.pem,
// client.key/.pem), all valid for two days, in `dir`.
import { join } from "node:path";
import { must } from "./proc.ts";

export async function makeTestPki(dir: string): Promise<void> {
  const p = (n: string) => join(dir, n);
  const ssl = (args: string[]) => must("openssl", args);
  await must("mkdir", ["-p", dir]);
  for (const [ca, cn] of [
    ["ca", "ovs-vif test CA"],
    ["other", "another CA"],
  ])
    await ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p(`${ca}.key`), "-out", p(`${ca}.pem`), "-days", "2", "-subj", `/CN=${cn}`]);
  for (const n of ["server", "client"]) {
    await ssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(`${n}.key`), "-out", p(`${n}.csr`), "-subj", `/CN=${n}`]);
    await ssl(["x509", "-req", "-in", p(`${n}.csr`), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p(`${n}.pem`), "-days", "2"]);
  }
}
