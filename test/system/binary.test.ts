// The compiled binary itself: dispatch by name, and that nothing in the
// caller's working directory (.env, bunfig.toml) reaches a root hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BINARY } from "../harness/ovs.ts";
import pkg from "../../package.json" with { type: "json" };

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-bin-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const run = (file: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(file, args, { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH, ...env } });

test("--version prints the package version", () => {
  const r = run(BINARY, ["--version"]);
  assert.is(r.status, 0);
  assert.is(r.stdout, `ovs-vif ${pkg.version}\n`);
});

test("dispatch on the invoked name: vif-openvswitch, kvm-vif-bridge, qemu-ifup; unknown commands exit 2", () => {
  for (const name of ["vif-openvswitch", "kvm-vif-bridge", "qemu-ifup"]) {
    const link = join(dir, name);
    symlinkSync(BINARY, link);
    const r = run(link, ["--help"]);
    assert.is(r.status, 0, name);
    assert.match(r.stdout, new RegExp(`usage: ${name}`), `${name}: ${r.stdout.slice(0, 80)}`);
  }
  const r = run(BINARY, ["frobnicate"]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /^ovs-vif: error: command "frobnicate": unknown command/);
  assert.is(r.stderr.trim().split("\n").length, 1, "one line");
});

test("a .env or bunfig.toml in the working directory is not loaded", () => {
  writeFileSync(join(dir, ".env"), "OVS_RUNDIR=/nonexistent-from-dotenv\nOVS_VIF_TIMEOUT=abc\n");
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
  writeFileSync(join(dir, "evil.ts"), 'console.log("EVIL");\n');
  const r = run(BINARY, ["detach", "--iface", "x"], { OVS_RUNDIR: join(dir, "run") });
  assert.is(r.status, 1);
  assert.not.match(r.stdout + r.stderr, /EVIL|from-dotenv|OVS_VIF_TIMEOUT/);
  assert.match(r.stderr, new RegExp(`OVSDB unix:${join(dir, "run")}/db.sock: ENOENT`));
});

test.run();
