// --uninstall: the original tree back with no link of ours, a partial
// uninstall keeping the binary while a link still uses it, an unrelated hook
// and a foreign file at a hook path left alone, and a conflicting file with a
// different backup aborting before anything changes. Apart from installing:
// these take an install away, or refuse to.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KVM_SCRIPT_TEXT } from "../../harness/kvm-script.ts";
import { ALL, BIN, GANETI_LINKS, KVM_SCRIPT, lines, listing, ourLinks, QEMU_LINKS, STOCK, type World, XEN_LINKS } from "./world.ts";

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export function registerUninstall(w: World): void {
  test("--uninstall leaves no link of ours and restores the original tree", () => {
    const env = w.setup();
    const before = listing(env.root);
    w.ok(env, ...ALL);
    assert.is(ourLinks(env.root).length, 25);
    const u = w.ok(env, "--uninstall");
    assert.equal(ourLinks(env.root), []);
    assert.not.ok(existsSync(join(env.root, BIN)));
    assert.not.ok(existsSync(join(env.root, "usr/sbin/ovs-vif")));
    // Every directory it created was empty afterwards and is gone again.
    assert.equal(listing(env.root), before);
    assert.equal(readdirSync(env.root), []);
    assert.ok(lines(u.stdout).every((l) => /^(rm -f|rmdir|mv) /.test(l)));
    assert.is(w.ok(env, "--uninstall").stdout, "nothing to do\n");
  });

  test("partial --uninstall removes only the selected links and keeps the binary in use", () => {
    const env = w.setup();
    w.ok(env, ...ALL);
    const r = w.run(["--root", env.root, "--uninstall", "--qemu"]);
    assert.is(r.status, 0);
    for (const l of QEMU_LINKS) assert.not.ok(existsSync(join(env.root, l)) || isLink(join(env.root, l)));
    assert.ok(existsSync(join(env.root, "etc/ovs-vif")), "the spec directory stays with the binary");
    for (const l of ["/usr/sbin/ovs-vif", ...XEN_LINKS, ...GANETI_LINKS].filter((x) => x !== KVM_SCRIPT)) assert.is(readlinkSync(join(env.root, l)), BIN);
    assert.is(readFileSync(join(env.root, KVM_SCRIPT), "utf8"), KVM_SCRIPT_TEXT);
    assert.ok(lstatSync(join(env.root, BIN)).isFile());
    assert.match(r.stderr, /keeping .*ovs-vif: still linked from /);

    w.ok(env, "--uninstall", "--xen", "--ganeti");
    assert.equal(ourLinks(env.root), []);
    assert.equal(readdirSync(env.root), []);
  });

  test("an unrelated hook in instance-start-post.d is untouched", () => {
    const env = w.setup();
    const hookDir = join(env.root, "etc/ganeti/hooks/instance-start-post.d");
    mkdirSync(hookDir, { recursive: true });
    const other = join(hookDir, "00-other-hook");
    writeFileSync(other, "#!/bin/sh\nexit 0\n");
    chmodSync(other, 0o750);
    const snapshot = () => listing(env.root).filter((l) => l.includes("00-other-hook"));
    const orig = snapshot();
    assert.is(orig.length, 1);

    w.ok(env, "--ganeti");
    assert.equal(readdirSync(hookDir).sort(), ["00-other-hook", "ovs-vif"]);
    assert.equal(snapshot(), orig);

    w.ok(env, "--uninstall", "--ganeti");
    assert.equal(readdirSync(hookDir), ["00-other-hook"]);
    assert.equal(snapshot(), orig);
    assert.equal(ourLinks(env.root), []);
    // The hooks dir existed before us and is kept; the ones we created are gone.
    assert.ok(lstatSync(join(env.root, "etc/ganeti/hooks")).isDirectory());
    assert.equal(readdirSync(join(env.root, "etc/ganeti/hooks")), ["instance-start-post.d"]);
  });

  test("--uninstall never removes a file at a hook path that is not our link", () => {
    const env = w.setup();
    w.ok(env, "--qemu");
    const ifup = join(env.root, "etc/ovs-vif/qemu-ifup");
    rmSync(ifup);
    writeFileSync(ifup, "#!/bin/sh\n# admin's own script\n");
    const foreign = join(env.root, "etc/ovs-vif/qemu-ifdown");
    rmSync(foreign);
    symlinkSync("/usr/local/bin/something-else", foreign);
    const keep = listing(env.root).filter((l) => l.startsWith("/etc/ovs-vif"));

    w.ok(env, "--uninstall");
    assert.equal(
      listing(env.root).filter((l) => l.startsWith("/etc/ovs-vif")),
      keep,
    );
    assert.is(readlinkSync(foreign), "/usr/local/bin/something-else");
    assert.not.ok(existsSync(join(env.root, BIN)));
  });

  test("a conflicting file with a different backup aborts before changing anything", () => {
    const env = w.setup();
    const scripts = join(env.root, "etc/xen/scripts");
    mkdirSync(scripts, { recursive: true });
    writeFileSync(join(scripts, "vif-openvswitch"), STOCK);
    writeFileSync(join(scripts, "vif-openvswitch.ovs-vif-orig"), "older stock\n");
    const before = listing(env.root);
    const r = w.run(["--root", env.root, "--binary", env.bin, ...ALL]);
    assert.is.not(r.status, 0);
    assert.is(r.stdout, "");
    assert.match(r.stderr, /vif-openvswitch: exists and differs from existing backup/);
    assert.equal(listing(env.root), before);

    // Identical content to the held backup (e.g. a package re-shipped it) is simply replaced.
    writeFileSync(join(scripts, "vif-openvswitch.ovs-vif-orig"), STOCK);
    const r2 = w.ok(env, "--xen");
    assert.ok(lines(r2.stdout).includes(`rm -f ${scripts}/vif-openvswitch`));
    assert.is(readFileSync(join(scripts, "vif-openvswitch.ovs-vif-orig"), "utf8"), STOCK);
  });
}
