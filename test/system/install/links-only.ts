// --links-only, what the Debian package runs as ovs-vif-setup, on a root
// as the package leaves it: the Ganeti and QEMU hooks linked to the packaged
// binary (the binary, /usr/sbin/ovs-vif and Xen's conffile untouched) and
// undone, --replace-vif-openvswitch and its undo, and install.sh called as
// ovs-vif-setup (its usage, links only, its refusals). Apart from the
// stand-alone install, which owns the binary too.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KVM_TARGET } from "../../harness/kvm-script.ts";
import {
  BIN,
  type Env,
  fakeBinary,
  GANETI_LINKS,
  KVM_SCRIPT,
  lines,
  listing,
  ourLinks,
  QEMU_LINKS,
  type Result,
  SCRIPT,
  sha,
  STOCK,
  type World,
  XEN_LINKS,
} from "./world.ts";

// --links-only: what the Debian package runs as ovs-vif-setup. The package
// owns the binary, /usr/sbin/ovs-vif, /etc/ovs-vif and /var/lib/ovs-vif.
const SETUP_MANIFEST = "/var/lib/ovs-vif/setup-created-dirs";

export function registerLinksOnly(w: World): void {
  /** A root as the package leaves it (fake binary), plus Xen's stock script. */
  function packagedRoot(): Env {
    const env = w.setup();
    mkdirSync(join(env.root, "usr/lib/ovs-vif"), { recursive: true });
    writeFileSync(join(env.root, BIN), fakeBinary("packaged"));
    chmodSync(join(env.root, BIN), 0o755);
    mkdirSync(join(env.root, "usr/sbin"), { recursive: true });
    symlinkSync("../lib/ovs-vif/ovs-vif", join(env.root, "usr/sbin/ovs-vif"));
    symlinkSync("ovs-vif", join(env.root, KVM_TARGET));
    for (const d of ["etc/ovs-vif", "var/lib/ovs-vif", "etc/xen/scripts"]) mkdirSync(join(env.root, d), { recursive: true });
    writeFileSync(join(env.root, XEN_LINKS[0]!), STOCK);
    chmodSync(join(env.root, XEN_LINKS[0]!), 0o755);
    return env;
  }

  const links = (env: Env, ...args: string[]): Result => {
    const r = w.run(["--links-only", "--root", env.root, ...args]);
    assert.is(r.status, 0, `--links-only ${args.join(" ")} failed: ${r.stderr}`);
    return r;
  };

  test("--links-only links the Ganeti and QEMU hooks to the packaged binary; the binary, /usr/sbin/ovs-vif and Xen's conffile stay", () => {
    const env = packagedRoot();
    const before = listing(env.root);
    const xenBefore = before.find((l) => l.startsWith(`${XEN_LINKS[0]} `));
    const r = links(env, "--ganeti", "--qemu", "--xen");

    assert.equal(ourLinks(env.root).sort(), [...GANETI_LINKS, ...QEMU_LINKS].sort());
    const after = listing(env.root);
    // Untouched: the package's files and Xen's script (same inode, same content).
    for (const p of [BIN, "/usr/sbin/ovs-vif", XEN_LINKS[0]!]) {
      assert.equal(
        after.filter((l) => l.startsWith(`${p} `)),
        before.filter((l) => l.startsWith(`${p} `)),
        `${p} unchanged`,
      );
    }
    assert.ok(after.includes(xenBefore!));
    assert.not.ok(existsSync(join(env.root, `${XEN_LINKS[0]}.ovs-vif-orig`)));

    const out = lines(r.stdout);
    assert.not.ok(
      out.some((l) => l.startsWith("install ")),
      "no binary installed",
    );
    assert.is(out.filter((l) => l.startsWith("ln -sfn ")).length, GANETI_LINKS.length + QEMU_LINKS.length - 1);
    assert.ok(out.includes(`write ${env.root}${KVM_SCRIPT} (exec ${KVM_TARGET})`), r.stdout);
    // For Xen: the xl settings to use instead, with the package's script path.
    assert.ok(out.includes('xen:   vif.default.script="/usr/lib/ovs-vif/vif-openvswitch"'), r.stdout);
    assert.ok(out.includes("xen:   vif = [ 'bridge=BR,script=/usr/lib/ovs-vif/vif-openvswitch' ]"), r.stdout);
    assert.match(r.stdout, /conffile of xen-utils-common\) is left as it is/);
    // The directories it made are remembered in the package's state directory, not in /usr/lib/ovs-vif.
    const manifest = readFileSync(join(env.root, SETUP_MANIFEST), "utf8");
    assert.ok(lines(manifest).includes("/etc/ganeti/hooks/instance-start-post.d"), manifest);
    assert.equal(readdirSync(join(env.root, "usr/lib/ovs-vif")), ["kvm-vif-bridge", "ovs-vif"]);

    assert.is(links(env, "--ganeti", "--qemu").stdout, "nothing to do\n");
    const u = links(env, "--undo");
    assert.ok(
      lines(u.stdout).every((l) => /^(rm -f|rmdir|mv) /.test(l)),
      u.stdout,
    );
    assert.not.ok(
      lines(u.stdout).some((l) => l.includes(BIN) && l.startsWith("rm ")),
      "the binary is the package's",
    );
    assert.equal(listing(env.root), before, "the tree as the package left it, manifest included");
  });

  test("--replace-vif-openvswitch replaces Xen's script (kept as .ovs-vif-orig) and says dpkg will report it; --undo --xen puts it back", () => {
    const env = packagedRoot();
    const stock = join(env.root, XEN_LINKS[0]!);
    const stockHash = sha(stock);
    const before = listing(env.root);
    const r = links(env, "--replace-vif-openvswitch");
    assert.ok(lines(r.stdout).includes(`mv ${stock} ${stock}.ovs-vif-orig`));
    assert.is(readlinkSync(stock), BIN);
    assert.is(sha(`${stock}.ovs-vif-orig`), stockHash);
    assert.match(r.stdout, /dpkg\nxen: now reports it as modified/);
    assert.match(r.stdout, /vif-openvswitch\.dpkg-new/);
    assert.equal(ourLinks(env.root), [XEN_LINKS[0]]);

    // --undo of the other integrations leaves it; --undo --xen restores it.
    assert.is(links(env, "--undo", "--ganeti", "--qemu").stdout, "nothing to do\n");
    assert.is(readlinkSync(stock), BIN);
    const u = links(env, "--undo", "--xen");
    assert.equal(lines(u.stdout), [`rm -f ${stock}`, `mv ${stock}.ovs-vif-orig ${stock}`]);
    assert.equal(
      listing(env.root).filter((l) => !l.startsWith(XEN_LINKS[0]!)),
      before.filter((l) => !l.startsWith(XEN_LINKS[0]!)),
    );
    assert.is(readFileSync(stock, "utf8"), STOCK);
    assert.is(lstatSync(stock).mode & 0o777, 0o755);
  });

  test("as ovs-vif-setup (its name in the package) it manages links only", () => {
    const env = packagedRoot();
    const setupLink = join(env.base, "ovs-vif-setup");
    symlinkSync(SCRIPT, setupLink);
    const before = listing(env.root);

    const help = w.run(["--help"], setupLink);
    assert.is(help.status, 0);
    assert.match(help.stdout, /^Usage: ovs-vif-setup --ganeti\|--xen\|--qemu/);
    for (const o of ["--ganeti", "--xen", "--qemu", "--replace-vif-openvswitch", "--undo", "--dry-run", "--root", "--list"])
      assert.ok(help.stdout.includes(o), o);

    const dry = w.run(["--root", env.root, "--dry-run", "--ganeti"], setupLink);
    assert.is(dry.status, 0, dry.stderr);
    assert.equal(listing(env.root), before, "dry run changes nothing");
    const real = w.run(["--root", env.root, "--ganeti"], setupLink);
    assert.is(real.stdout, dry.stdout);
    assert.equal(ourLinks(env.root).sort(), [...GANETI_LINKS].sort());

    const refuse = (args: string[], status: number, re: RegExp) => {
      const r = w.run(args, setupLink);
      assert.is(r.status, status, `${args.join(" ")}: ${r.stderr}`);
      assert.is(r.stdout, "");
      assert.match(r.stderr, re);
    };
    refuse(["--root", env.root], 2, /^ovs-vif-setup: nothing selected: give --ganeti, --xen and\/or --qemu/);
    refuse(["--root", env.root, "--qemu", "--binary", env.bin], 2, /--binary: with --links-only the links point at the installed/);
    rmSync(join(env.root, BIN));
    refuse(["--root", env.root, "--qemu"], 1, /usr\/lib\/ovs-vif\/ovs-vif: not installed \(install the ovs-vif package first\)/);
    // Undo still works without the binary (the package's prerm runs it before dpkg removes it, but need not).
    assert.is(w.run(["--root", env.root, "--undo"], setupLink).status, 0);
    assert.equal(ourLinks(env.root), []);
  });
}
