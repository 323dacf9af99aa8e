// install.sh's command line: its one-line errors (unknown option, missing
// binary, bad --root), --help, and --list of every hook location with its
// integration. Apart from the runs that change a tree.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { GANETI_LINKS, lines, QEMU_LINKS, type World, XEN_LINKS } from "./world.ts";

export function registerCli(w: World): void {
  test("errors: unknown option, missing binary, bad --root", () => {
    const env = w.setup();
    const check = (args: string[], re: RegExp) => {
      const r = w.run(args);
      assert.is.not(r.status, 0, `${args.join(" ")} must fail`);
      assert.is(r.stdout, "");
      assert.is(lines(r.stderr).length, 1, `one-line error for ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    };
    check(["--root", env.root, "--binary", env.bin, "--frobnicate"], /^install\.sh: unknown option: --frobnicate/);
    check(["--root", env.root, "--binary", env.bin, "stray"], /unexpected argument: stray/);
    check(["--root", env.root, "--binary", join(env.base, "no-such-binary"), "--xen"], /binary not found: .*no-such-binary/);
    check(["--root", env.root, "--binary", env.root, "--xen"], /binary is not a regular file/);
    check(["--root", join(env.base, "missing"), "--binary", env.bin], /--root .*missing: not a directory/);
    check(["--root", env.bin, "--binary", env.bin], /not a directory/);
    check(["--root"], /--root needs a directory argument/);
    check(["--root", env.root, "--binary"], /--binary needs a path argument/);
    // A missing binary does not block an uninstall.
    assert.is(w.run(["--root", env.root, "--binary", join(env.base, "no-such-binary"), "--uninstall"]).stdout, "nothing to do\n");
    assert.equal(readdirSync(env.root), [], "nothing was created by failed runs");
  });

  test("--help prints usage and exits 0", () => {
    const r = w.run(["--help"]);
    assert.is(r.status, 0);
    assert.match(r.stdout, /^Usage: install\.sh /);
    for (const o of ["--root", "--dry-run", "--uninstall", "--xen", "--ganeti", "--qemu", "--binary"]) assert.ok(r.stdout.includes(o), o);
  });
}

export function registerList(w: World): void {
  test("--list prints every hook location with its integration", () => {
    const r = w.run(["--list"]);
    assert.is(r.status, 0);
    assert.equal(lines(r.stdout), [...XEN_LINKS.map((l) => `xen ${l}`), ...GANETI_LINKS.map((l) => `ganeti ${l}`), ...QEMU_LINKS.map((l) => `qemu ${l}`)]);
  });
}
