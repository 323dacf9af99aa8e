// The installed package removed and purged: dpkg -r refused while Xen's
// script is replaced, then remove (the hooks disabled) and purge, after
// which nothing of the package is left in the root (what the upper layers
// hold beyond dpkg's own bookkeeping). Apart from the install tests: it ends
// the installed root's life.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { inPrivateRoot, mustInPrivateRoot } from "../../harness/deb.ts";
import { KVM_SCRIPT_TEXT } from "../../harness/kvm-script.ts";
import { ROOT } from "../../harness/ovs.ts";
import { BIN, sha, skip, type World } from "./world.ts";

export function registerRemoveAndPurge(w: World): void {
  test("dpkg -r refuses while Xen's script is replaced; after --undo --xen it removes the package and disables the hooks; purge leaves nothing of it", async () => {
    if (skip("remove and purge")) return;
    const stock = "/etc/xen/scripts/vif-openvswitch";
    if (existsSync(stock)) {
      const stockSha = (await inPrivateRoot(w.root, "sha256sum", [stock])).stdout;
      const replaced = await mustInPrivateRoot(w.root, "ovs-vif-setup", ["--replace-vif-openvswitch"]);
      assert.match(replaced, /dpkg\nxen: now reports it as modified/);
      assert.is(readlinkSync(join(w.root, stock)), BIN);

      const refused = await inPrivateRoot(w.root, "dpkg", ["-r", "ovs-vif"]);
      assert.is.not(refused.code, 0);
      assert.match(refused.stderr, /ovs-vif:   ovs-vif-setup --undo --xen/);
      assert.match(await mustInPrivateRoot(w.root, "dpkg-query", ["-W", "-f", "${Status}", "ovs-vif"]), / ok installed$/, "still installed, as it was");
      assert.is(readFileSync(join(w.root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT, "hooks untouched by the refused removal");

      await mustInPrivateRoot(w.root, "ovs-vif-setup", ["--undo", "--xen"]);
      assert.is((await inPrivateRoot(w.root, "sha256sum", [stock])).stdout, stockSha, "Xen's script is back");
    } else {
      console.log(`  refusal part skipped: no ${stock} (package xen-utils-common)`);
    }
    // What the operator and Ganeti put into the package's directories.
    await mustInPrivateRoot(w.root, "cp", [join(ROOT, "examples/switches.json"), "/etc/ovs-vif/switches.json"]);
    await mustInPrivateRoot(w.root, "bash", ["-c", "echo '{}' >/var/lib/ovs-vif/ganeti.json"]);

    const removed = await inPrivateRoot(w.root, "dpkg", ["-r", "ovs-vif"]);
    assert.is(removed.code, 0, removed.stdout + removed.stderr);
    assert.match(removed.stdout, /ovs-vif: disabling the hooks enabled with ovs-vif-setup:\nrm -f \/etc\/ganeti\/kvm-vif-bridge\n/);
    const gone = await inPrivateRoot(w.root, "bash", [
      "-c",
      "for p in /etc/ganeti/kvm-vif-bridge /etc/ovs-vif/qemu-ifup /etc/ganeti/network /usr/lib/ovs-vif /usr/sbin/ovs-vif /usr/sbin/ovs-vif-setup; do [ -e $p ] || [ -L $p ] && echo $p; done; true",
    ]);
    assert.is(gone.stdout, "", "hook links, their directories and the binary are gone after remove");
    assert.is(await mustInPrivateRoot(w.root, "dpkg-query", ["-W", "-f", "${Status}", "ovs-vif"]), "deinstall ok config-files");
    // Until the purge, dpkg still holds the scripts (and the walk below sees them).
    assert.ok(leftovers(w.root).includes("/var/lib/dpkg/info/ovs-vif.postrm (ours)"), leftovers(w.root).join("\n"));

    const purged = await inPrivateRoot(w.root, "dpkg", ["--purge", "ovs-vif"]);
    assert.is(purged.code, 0, purged.stdout + purged.stderr);
    assert.match(purged.stderr, /ovs-vif: \/etc\/ovs-vif kept: it holds files the package did not install \(switches\.json\)/);
    assert.is((await inPrivateRoot(w.root, "test", ["-e", "/var/lib/ovs-vif"])).code, 1, "state removed by purge");
    rmSync(join(w.root, "etc/ovs-vif"), { recursive: true });
    assert.equal(leftovers(w.root), [], "nothing of the package is left in the root");
  });
}

/**
 * What is left in a private root's upper layers that is not dpkg's, man-db's
 * or deb-systemd-helper's own bookkeeping: files the package left, deletions
 * of host files (whiteouts), directories the host does not have.
 */
function leftovers(r: string): string[] {
  // A host file copied up (moved away and back) with its content and mode unchanged.
  const sameAsHost = (p: string, sys: string) => {
    const [a, b] = [lstatSync(p), existsSync(sys) ? lstatSync(sys) : undefined];
    if (!b || !a.isFile() || !b.isFile() || a.mode !== b.mode) return false;
    return sha(p) === sha(sys);
  };
  // dpkg's database and log, man-db's and debconf's caches, and the log of
  // the Ganeti CLI that ovs-vif doctor asked.
  const bookkeeping = [
    /^\/var\/lib\/dpkg\//,
    /^\/var\/log\/dpkg\.log$/,
    /^\/var\/cache\/man\//,
    /^\/var\/cache\/debconf\//,
    /^\/var\/log\/ganeti\/commands\.log$/,
  ];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const sys = p.slice(r.length);
      const st = lstatSync(p);
      // man-db's cache: systemd-analyze verify ran man for the units' Documentation=,
      // which keeps a formatted page in /var/cache/man/cat8 until man-db's daily purge.
      if (/^\/var\/cache\/man\//.test(sys)) continue;
      if (/ovs-vif/.test(sys) && !st.isCharacterDevice() && !/^\/var\/lib\/dpkg\/(status|status-old|available)$/.test(sys)) {
        out.push(`${sys} (ours)`);
        if (st.isDirectory()) walk(p);
        continue;
      }
      if (st.isDirectory()) {
        const host = existsSync(sys) && lstatSync(sys).isDirectory();
        const dsh = /^\/var\/lib\/systemd\/deb-systemd-helper-(masked|enabled)(\/|$)/.test(sys);
        if (!host && !(dsh && readdirSync(p).length === 0)) out.push(`${sys} (a directory the host does not have)`);
        walk(p);
      } else if (st.isCharacterDevice()) {
        // Purge removes /var/lib/ovs-vif, also when the host had one (ovs-vif's state).
        if (!bookkeeping.some((b) => b.test(sys)) && sys !== "/var/lib/ovs-vif") out.push(`${sys} (a host file deleted)`);
      } else if (!bookkeeping.some((b) => b.test(sys)) && !sameAsHost(p, sys)) {
        out.push(`${sys} (left)`);
      }
    }
  };
  walk(r);
  return out;
}
