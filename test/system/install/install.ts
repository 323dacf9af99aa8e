// A fresh install (--xen --ganeti --qemu: the binary and every link, the
// kvm-vif-bridge script, one line per action), Xen's stock vif-openvswitch
// backed up once and restored byte-identical, a second install with nothing
// to do, a changed binary replaced alone, and --dry-run printing exactly what
// a real run does. Apart from removal: these make and re-make an install.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KVM_SCRIPT_TEXT, KVM_TARGET } from "../../harness/kvm-script.ts";
import { ALL, ALL_LINKS, BIN, fakeBinary, KVM_SCRIPT, lines, listing, ourLinks, resolveInRoot, sha, STOCK, type World } from "./world.ts";

export function registerInstall(w: World): void {
  test("fresh install --xen --ganeti --qemu creates the binary and every link", () => {
    const env = w.setup();
    const r = w.ok(env, ...ALL);

    const installed = join(env.root, BIN);
    const st = lstatSync(installed);
    assert.ok(st.isFile());
    assert.is(st.mode & 0o777, 0o755);
    assert.is(sha(installed), sha(env.bin));
    assert.match(execFileSync(installed, { encoding: "utf8" }), /^fake ovs-vif v1 /);

    assert.is(ALL_LINKS.length, 25);
    const script = join(env.root, KVM_SCRIPT);
    assert.is(readFileSync(script, "utf8"), KVM_SCRIPT_TEXT);
    assert.is(lstatSync(script).mode & 0o777, 0o755);
    for (const l of ALL_LINKS.filter((x) => x !== KVM_SCRIPT)) {
      assert.ok(lstatSync(join(env.root, l)).isSymbolicLink(), `${l} is a symlink`);
      assert.is(readlinkSync(join(env.root, l)), BIN, `${l} target`);
      assert.is(resolveInRoot(env.root, l), installed, `${l} resolves to the installed binary`);
    }
    assert.equal(ourLinks(env.root).sort(), [...ALL_LINKS].sort());

    // One line per action, each a recognisable command; no temp files left behind.
    const out = lines(r.stdout);
    for (const l of out) assert.match(l, /^(mkdir -p|install -m 0755|ln -sfn|write|mv|rm -f|rmdir) /);
    assert.ok(out.includes(`install -m 0755 ${env.bin} ${installed}`));
    assert.is(out.filter((l) => l.startsWith("ln -sfn ")).length, 24);
    for (const l of ALL_LINKS.filter((x) => x !== KVM_SCRIPT)) assert.ok(out.includes(`ln -sfn ${BIN} ${env.root}${l}`), `announced ${l}`);
    assert.ok(out.includes(`write ${env.root}${KVM_SCRIPT} (exec ${KVM_TARGET})`));
    assert.is(r.stderr, "");
    assert.not.ok(
      listing(env.root).some((l) => l.includes("tmp")),
      "no temp files left",
    );
  });

  test("stock vif-openvswitch is backed up once and restored byte-identical", () => {
    const env = w.setup();
    const scripts = join(env.root, "etc/xen/scripts");
    mkdirSync(scripts, { recursive: true });
    const stock = join(scripts, "vif-openvswitch");
    const backup = `${stock}.ovs-vif-orig`;
    writeFileSync(stock, STOCK);
    chmodSync(stock, 0o755);
    writeFileSync(join(scripts, "vif-common.sh"), "# common\n");
    const stockHash = sha(stock);
    const commonBefore = listing(env.root).filter((l) => l.includes("vif-common.sh"));

    const r = w.ok(env, "--xen");
    assert.ok(lines(r.stdout).includes(`mv ${stock} ${backup}`));
    assert.is(readlinkSync(stock), BIN);
    assert.ok(lstatSync(backup).isFile());
    assert.is(sha(backup), stockHash);

    // Re-running must not clobber the backup with our own link.
    assert.is(w.ok(env, "--xen").stdout, "nothing to do\n");
    assert.ok(lstatSync(backup).isFile());
    assert.is(sha(backup), stockHash);

    const u = w.ok(env, "--uninstall");
    assert.ok(lines(u.stdout).includes(`mv ${backup} ${stock}`));
    const st = lstatSync(stock);
    assert.ok(st.isFile(), "stock script is a regular file again");
    assert.is(st.mode & 0o777, 0o755);
    assert.is(readFileSync(stock, "utf8"), STOCK);
    assert.is(sha(stock), stockHash);
    assert.not.ok(existsSync(backup));
    // The pre-existing /etc/xen/scripts and its other files are left alone.
    assert.equal(
      listing(env.root).filter((l) => l.includes("vif-common.sh")),
      commonBefore,
    );
    assert.equal(readdirSync(scripts).sort(), ["vif-common.sh", "vif-openvswitch"]);
  });

  test("second install reports nothing to do and leaves the tree identical", () => {
    const env = w.setup();
    mkdirSync(join(env.root, "etc/xen/scripts"), { recursive: true });
    writeFileSync(join(env.root, "etc/xen/scripts/vif-openvswitch"), STOCK);
    w.ok(env, ...ALL);
    const before = listing(env.root);
    const r = w.ok(env, ...ALL);
    assert.is(r.stdout, "nothing to do\n");
    assert.is(r.stderr, "");
    assert.equal(listing(env.root), before);
    // Subsets of an existing install are no-ops too.
    for (const flag of [[], ["--xen"], ["--ganeti"], ["--qemu"]]) assert.is(w.ok(env, ...flag).stdout, "nothing to do\n");
    assert.equal(listing(env.root), before);
  });

  test("a changed binary is replaced atomically; links are left as they are", () => {
    const env = w.setup();
    w.ok(env, ...ALL);
    const before = listing(env.root);
    writeFileSync(env.bin, fakeBinary("v2"));
    const r = w.ok(env, ...ALL);
    const installed = join(env.root, BIN);
    assert.equal(lines(r.stdout), [`install -m 0755 ${env.bin} ${installed}`]);
    assert.match(execFileSync(installed, { encoding: "utf8" }), /^fake ovs-vif v2 /);
    const after = listing(env.root);
    const changed = after.filter((l) => !before.includes(l));
    assert.is(changed.length, 1);
    assert.ok(changed[0]!.startsWith(`${BIN} f 755 `));
    assert.equal(
      after.filter((l) => l.includes(" l ")),
      before.filter((l) => l.includes(" l ")),
    );
  });

  test("--dry-run changes nothing but prints exactly what a real run does", () => {
    const env = w.setup();
    mkdirSync(join(env.root, "etc/xen/scripts"), { recursive: true });
    writeFileSync(join(env.root, "etc/xen/scripts/vif-openvswitch"), STOCK);
    const before = listing(env.root);

    const dry = w.ok(env, "--dry-run", ...ALL);
    assert.equal(listing(env.root), before);
    const out = lines(dry.stdout);
    assert.ok(out.includes(`install -m 0755 ${env.bin} ${env.root}${BIN}`));
    assert.ok(out.includes(`mv ${env.root}/etc/xen/scripts/vif-openvswitch ${env.root}/etc/xen/scripts/vif-openvswitch.ovs-vif-orig`));
    assert.is(out.filter((l) => l.startsWith("ln -sfn ")).length, 24);
    assert.ok(out.includes(`mkdir -p ${env.root}/etc/ovs-vif`));
    assert.is(new Set(out).size, out.length, "no action printed twice");

    const real = w.ok(env, ...ALL);
    assert.is(real.stdout, dry.stdout);

    // Dry-run of an uninstall on the installed tree: prints removals, keeps everything.
    const installedTree = listing(env.root);
    const dryU = w.ok(env, "--dry-run", "--uninstall");
    assert.equal(listing(env.root), installedTree);
    const uout = lines(dryU.stdout);
    for (const l of ALL_LINKS) assert.ok(uout.includes(`rm -f ${env.root}${l}`), `would remove ${l}`);
    assert.ok(uout.includes(`rm -f ${env.root}${BIN}`));
    assert.ok(uout.includes(`rmdir ${env.root}/etc/ovs-vif`));
    assert.not.ok(uout.includes(`rmdir ${env.root}/etc/xen/scripts`), "pre-existing dir is kept");
    assert.is(w.ok(env, "--uninstall").stdout, dryU.stdout);
    assert.is(w.ok(env, "--dry-run", "--uninstall").stdout, "nothing to do\n");
  });
}
