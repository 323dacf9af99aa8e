// The package in roots of their own: preinst refusing to install over an
// install.sh installation, and installDebInto (what the Ganeti cluster
// harness uses) installing it into a node root with the Ganeti hooks
// enabled. Apart from the install tests: neither touches their root.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inPrivateRoot, installDebInto, mustInPrivateRoot } from "../../harness/deb.ts";
import { KVM_SCRIPT_TEXT } from "../../harness/kvm-script.ts";
import { BINARY, ROOT } from "../../harness/ovs.ts";
import { BIN, hostRun, lines, sha, skip, type World } from "./world.ts";

export function registerOtherRoots(w: World): void {
  test("preinst refuses to install over an install.sh installation", async () => {
    if (skip("preinst")) return;
    const other = join(w.base, "other");
    mkdirSync(other);
    await mustInPrivateRoot(other, join(ROOT, "install.sh"), ["--qemu", "--binary", BINARY]);
    const r = await inPrivateRoot(other, "dpkg", ["-i", w.deb]);
    assert.is.not(r.code, 0);
    assert.match(r.stderr, /ovs-vif: run 'install\.sh --uninstall' from that checkout first/);
    const status = await inPrivateRoot(other, "dpkg-query", ["-W", "-f", "${Status}", "ovs-vif"]);
    assert.not.match(status.stdout, /ok installed|config-files|half|unpacked/, status.stdout);
    assert.is(sha(join(other, BIN)), sha(BINARY), "install.sh's binary is untouched");
  });

  test("installDebInto (for the Ganeti cluster harness) installs the package into a node root and enables the Ganeti hooks there", async () => {
    if (skip("installDebInto")) return;
    const node = join(w.base, "node1", "root");
    mkdirSync(join(node, "etc/ganeti"), { recursive: true });
    writeFileSync(join(node, "etc/ganeti/ssconf_cluster_name"), "cluster1\n");
    const r = await installDebInto(node, { deb: w.deb });
    assert.match(r.dpkg, /Setting up ovs-vif/);
    assert.ok(
      lines(r.setup).every((l) => /^(mkdir -p|ln -sfn|write) /.test(l)),
      r.setup,
    );
    for (const l of lines(hostRun(join(ROOT, "install.sh"), ["--list"]))
      .filter((l) => l.startsWith("ganeti "))
      .map((l) => l.split(" ")[1]!)) {
      if (l === "/etc/ganeti/kvm-vif-bridge") assert.is(readFileSync(join(node, l), "utf8"), KVM_SCRIPT_TEXT, l);
      else assert.is(readlinkSync(join(node, l)), BIN, l);
    }
    assert.ok(lstatSync(join(node, BIN)).isFile());
    assert.ok(readFileSync(join(node, "etc/ganeti/ssconf_cluster_name"), "utf8") === "cluster1\n", "the node's own files stay");
    assert.not.ok(
      readdirSync(join(w.base, "node1")).some((n) => n.startsWith(".ovs-vif-overlay-work-")),
      "no overlay work directory left beside the root",
    );
  });
}
