// NB over ssl: a second NB server with TLS only and a private CA; attach
// --dry-run reads and plans over TLS with the node's key, certificate and
// CA, and a certificate of another CA is refused in one line. Apart from the
// rest: its own PKI and NB server, stopped at its end.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestPki } from "../../harness/pki.ts";
import { must } from "../../harness/proc.ts";
import { report, type World } from "./world.ts";

export function registerNbSsl(w: World): void {
  test("NB over ssl: with the node's key, certificate and CA (as ovn-nbctl takes them); another CA is refused in one line", async () => {
    const pki = join(w.ovn.dir, "pki");
    await makeTestPki(pki);
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
          process.env.OVS_VIF_BINARY ?? join(import.meta.dirname, "..", "..", "..", "dist", "ovs-vif"),
          "attach",
          "--dry-run",
          `--db=unix:${w.c1.ovs.dbSock}`,
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
}
