// Tests for install.sh. Everything happens under --root in mkdtemp dirs, with
// a fake binary (a tiny shell script) so the tests do not depend on the build.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { KVM_SCRIPT_TEXT, KVM_TARGET } from "../harness/kvm-script.ts";
import { BINARY } from "../harness/ovs.ts";

const SCRIPT = fileURLToPath(new URL("../../install.sh", import.meta.url));
const BIN = "/usr/lib/ovs-vif/ovs-vif";
const ALL = ["--xen", "--ganeti", "--qemu"];

const HOOKPATHS = [
  "instance-start",
  "instance-reboot",
  "instance-stop",
  "instance-remove",
  "instance-migrate",
  "instance-failover",
  "instance-modify",
  "network-rename",
  "network-connect",
  "network-disconnect",
  "node-add",
];
const XEN_LINKS = ["/etc/xen/scripts/vif-openvswitch"];
const GANETI_LINKS = [
  "/etc/ganeti/kvm-vif-bridge",
  ...["openvswitch", "bridged", "routed"].flatMap((m) => [`/etc/ganeti/network/${m}/up`, `/etc/ganeti/network/${m}/down`]),
  "/etc/xen/scripts/vif-custom",
  ...HOOKPATHS.map((h) => `/etc/ganeti/hooks/${h}-post.d/ovs-vif`),
  "/etc/ganeti/hooks/network-rename-pre.d/ovs-vif",
];
const QEMU_LINKS = ["/etc/ovs-vif/qemu-ifup", "/etc/ovs-vif/qemu-ifdown"];
const ALL_LINKS = ["/usr/sbin/ovs-vif", KVM_TARGET, ...XEN_LINKS, ...GANETI_LINKS, ...QEMU_LINKS];
/** Ganeti copies kvm-vif-bridge's content to every node: it is a small script, not a link. */
const KVM_SCRIPT = "/etc/ganeti/kvm-vif-bridge";

const STOCK = '#!/bin/bash\n# stock Xen vif-openvswitch\ndir=$(dirname "$0")\n. "$dir/vif-common.sh"\n';

const tempDirs: string[] = [];

interface Env {
  base: string;
  root: string;
  bin: string;
}

/** A fresh temp dir holding root/ (the --root) and a fake binary beside it. */
/** A stand-in binary: says which it is, and answers hook-locations as the real one does (install.sh asks it). */
const fakeBinary = (version: string) => `#!/bin/sh\n[ "$1" = hook-locations ] && exec ${BINARY} hook-locations\necho "fake ovs-vif ${version} $0"\n`;

function setup(binText = fakeBinary("v1")): Env {
  const base = mkdtempSync(join(tmpdir(), "ovs-vif-install-"));
  tempDirs.push(base);
  const root = join(base, "root");
  mkdirSync(root);
  const bin = join(base, "fake-ovs-vif");
  writeFileSync(bin, binText);
  chmodSync(bin, 0o755);
  return { base, root, bin };
}

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

let logDir = "";
let runCount = 0;

/** Run install.sh (or `script`, e.g. a link to it) with an argument array;
 * stderr goes through a file so it is kept on success too. */
function run(args: string[], script = SCRIPT): Result {
  if (!logDir) {
    logDir = mkdtempSync(join(tmpdir(), "ovs-vif-install-log-"));
    tempDirs.push(logDir);
  }
  const errFile = join(logDir, `stderr.${runCount++}`);
  const fd = openSync(errFile, "w");
  let status = 0;
  let stdout: string;
  try {
    stdout = execFileSync(script, args, { encoding: "utf8", stdio: ["ignore", "pipe", fd] });
  } catch (e) {
    const err = e as { status?: number | null; stdout?: string };
    if (typeof err.status !== "number") throw e;
    status = err.status;
    stdout = err.stdout ?? "";
  } finally {
    closeSync(fd);
  }
  return { status, stdout, stderr: readFileSync(errFile, "utf8") };
}

/** Run and require success. */
function ok(env: Env, ...args: string[]): Result {
  const r = run(["--root", env.root, "--binary", env.bin, ...args]);
  assert.is(r.status, 0, `install.sh ${args.join(" ")} failed: ${r.stderr}`);
  return r;
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** Recursive listing: path, type, mode, inode and link target or content hash. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const rel = p.slice(root.length);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${rel} l ino=${st.ino} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel} d ${mode}`);
        walk(p);
      } else out.push(`${rel} f ${mode} ino=${st.ino} sha256=${sha(p)}`);
    }
  };
  walk(root);
  return out;
}

/** Follow symlinks as the installed system would, i.e. absolute targets inside root. */
function resolveInRoot(root: string, path: string): string {
  let p = join(root, path);
  for (let i = 0; i < 40; i++) {
    const st = lstatSync(p);
    if (!st.isSymbolicLink()) return p;
    const t = readlinkSync(p);
    p = t.startsWith("/") ? join(root, t) : resolve(dirname(p), t);
  }
  throw new Error(`symlink loop at ${path}`);
}

/** All symlinks under root that point at our binary. */
/** Our hook locations: links to the binary, and the kvm-vif-bridge script. */
function ourLinks(root: string): string[] {
  const links = listing(root)
    .filter((l) => l.endsWith(` -> ${BIN}`))
    .map((l) => l.split(" ")[0]!);
  const script = join(root, KVM_SCRIPT);
  if (existsSync(script) && !lstatSync(script).isSymbolicLink() && readFileSync(script, "utf8") === KVM_SCRIPT_TEXT) links.push(KVM_SCRIPT);
  return links;
}

test.after(() => {
  const dirs = tempDirs.splice(0);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const d of dirs) assert.not.ok(existsSync(d), `temp dir ${d} removed`);
  logDir = "";
});

test("fresh install --xen --ganeti --qemu creates the binary and every link", () => {
  const env = setup();
  const r = ok(env, ...ALL);

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
  const env = setup();
  const scripts = join(env.root, "etc/xen/scripts");
  mkdirSync(scripts, { recursive: true });
  const stock = join(scripts, "vif-openvswitch");
  const backup = `${stock}.ovs-vif-orig`;
  writeFileSync(stock, STOCK);
  chmodSync(stock, 0o755);
  writeFileSync(join(scripts, "vif-common.sh"), "# common\n");
  const stockHash = sha(stock);
  const commonBefore = listing(env.root).filter((l) => l.includes("vif-common.sh"));

  const r = ok(env, "--xen");
  assert.ok(lines(r.stdout).includes(`mv ${stock} ${backup}`));
  assert.is(readlinkSync(stock), BIN);
  assert.ok(lstatSync(backup).isFile());
  assert.is(sha(backup), stockHash);

  // Re-running must not clobber the backup with our own link.
  assert.is(ok(env, "--xen").stdout, "nothing to do\n");
  assert.ok(lstatSync(backup).isFile());
  assert.is(sha(backup), stockHash);

  const u = ok(env, "--uninstall");
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
  const env = setup();
  mkdirSync(join(env.root, "etc/xen/scripts"), { recursive: true });
  writeFileSync(join(env.root, "etc/xen/scripts/vif-openvswitch"), STOCK);
  ok(env, ...ALL);
  const before = listing(env.root);
  const r = ok(env, ...ALL);
  assert.is(r.stdout, "nothing to do\n");
  assert.is(r.stderr, "");
  assert.equal(listing(env.root), before);
  // Subsets of an existing install are no-ops too.
  for (const flag of [[], ["--xen"], ["--ganeti"], ["--qemu"]]) assert.is(ok(env, ...flag).stdout, "nothing to do\n");
  assert.equal(listing(env.root), before);
});

test("a changed binary is replaced atomically; links are left as they are", () => {
  const env = setup();
  ok(env, ...ALL);
  const before = listing(env.root);
  writeFileSync(env.bin, fakeBinary("v2"));
  const r = ok(env, ...ALL);
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
  const env = setup();
  mkdirSync(join(env.root, "etc/xen/scripts"), { recursive: true });
  writeFileSync(join(env.root, "etc/xen/scripts/vif-openvswitch"), STOCK);
  const before = listing(env.root);

  const dry = ok(env, "--dry-run", ...ALL);
  assert.equal(listing(env.root), before);
  const out = lines(dry.stdout);
  assert.ok(out.includes(`install -m 0755 ${env.bin} ${env.root}${BIN}`));
  assert.ok(out.includes(`mv ${env.root}/etc/xen/scripts/vif-openvswitch ${env.root}/etc/xen/scripts/vif-openvswitch.ovs-vif-orig`));
  assert.is(out.filter((l) => l.startsWith("ln -sfn ")).length, 24);
  assert.ok(out.includes(`mkdir -p ${env.root}/etc/ovs-vif`));
  assert.is(new Set(out).size, out.length, "no action printed twice");

  const real = ok(env, ...ALL);
  assert.is(real.stdout, dry.stdout);

  // Dry-run of an uninstall on the installed tree: prints removals, keeps everything.
  const installedTree = listing(env.root);
  const dryU = ok(env, "--dry-run", "--uninstall");
  assert.equal(listing(env.root), installedTree);
  const uout = lines(dryU.stdout);
  for (const l of ALL_LINKS) assert.ok(uout.includes(`rm -f ${env.root}${l}`), `would remove ${l}`);
  assert.ok(uout.includes(`rm -f ${env.root}${BIN}`));
  assert.ok(uout.includes(`rmdir ${env.root}/etc/ovs-vif`));
  assert.not.ok(uout.includes(`rmdir ${env.root}/etc/xen/scripts`), "pre-existing dir is kept");
  assert.is(ok(env, "--uninstall").stdout, dryU.stdout);
  assert.is(ok(env, "--dry-run", "--uninstall").stdout, "nothing to do\n");
});

test("--uninstall leaves no link of ours and restores the original tree", () => {
  const env = setup();
  const before = listing(env.root);
  ok(env, ...ALL);
  assert.is(ourLinks(env.root).length, 25);
  const u = ok(env, "--uninstall");
  assert.equal(ourLinks(env.root), []);
  assert.not.ok(existsSync(join(env.root, BIN)));
  assert.not.ok(existsSync(join(env.root, "usr/sbin/ovs-vif")));
  // Every directory it created was empty afterwards and is gone again.
  assert.equal(listing(env.root), before);
  assert.equal(readdirSync(env.root), []);
  assert.ok(lines(u.stdout).every((l) => /^(rm -f|rmdir|mv) /.test(l)));
  assert.is(ok(env, "--uninstall").stdout, "nothing to do\n");
});

test("partial --uninstall removes only the selected links and keeps the binary in use", () => {
  const env = setup();
  ok(env, ...ALL);
  const r = run(["--root", env.root, "--uninstall", "--qemu"]);
  assert.is(r.status, 0);
  for (const l of QEMU_LINKS) assert.not.ok(existsSync(join(env.root, l)) || isLink(join(env.root, l)));
  assert.ok(existsSync(join(env.root, "etc/ovs-vif")), "the spec directory stays with the binary");
  for (const l of ["/usr/sbin/ovs-vif", ...XEN_LINKS, ...GANETI_LINKS].filter((x) => x !== KVM_SCRIPT)) assert.is(readlinkSync(join(env.root, l)), BIN);
  assert.is(readFileSync(join(env.root, KVM_SCRIPT), "utf8"), KVM_SCRIPT_TEXT);
  assert.ok(lstatSync(join(env.root, BIN)).isFile());
  assert.match(r.stderr, /keeping .*ovs-vif: still linked from /);

  ok(env, "--uninstall", "--xen", "--ganeti");
  assert.equal(ourLinks(env.root), []);
  assert.equal(readdirSync(env.root), []);
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

test("an unrelated hook in instance-start-post.d is untouched", () => {
  const env = setup();
  const hookDir = join(env.root, "etc/ganeti/hooks/instance-start-post.d");
  mkdirSync(hookDir, { recursive: true });
  const other = join(hookDir, "00-other-hook");
  writeFileSync(other, "#!/bin/sh\nexit 0\n");
  chmodSync(other, 0o750);
  const snapshot = () => listing(env.root).filter((l) => l.includes("00-other-hook"));
  const orig = snapshot();
  assert.is(orig.length, 1);

  ok(env, "--ganeti");
  assert.equal(readdirSync(hookDir).sort(), ["00-other-hook", "ovs-vif"]);
  assert.equal(snapshot(), orig);

  ok(env, "--uninstall", "--ganeti");
  assert.equal(readdirSync(hookDir), ["00-other-hook"]);
  assert.equal(snapshot(), orig);
  assert.equal(ourLinks(env.root), []);
  // The hooks dir existed before us and is kept; the ones we created are gone.
  assert.ok(lstatSync(join(env.root, "etc/ganeti/hooks")).isDirectory());
  assert.equal(readdirSync(join(env.root, "etc/ganeti/hooks")), ["instance-start-post.d"]);
});

test("--uninstall never removes a file at a hook path that is not our link", () => {
  const env = setup();
  ok(env, "--qemu");
  const ifup = join(env.root, "etc/ovs-vif/qemu-ifup");
  rmSync(ifup);
  writeFileSync(ifup, "#!/bin/sh\n# admin's own script\n");
  const foreign = join(env.root, "etc/ovs-vif/qemu-ifdown");
  rmSync(foreign);
  symlinkSync("/usr/local/bin/something-else", foreign);
  const keep = listing(env.root).filter((l) => l.startsWith("/etc/ovs-vif"));

  ok(env, "--uninstall");
  assert.equal(
    listing(env.root).filter((l) => l.startsWith("/etc/ovs-vif")),
    keep,
  );
  assert.is(readlinkSync(foreign), "/usr/local/bin/something-else");
  assert.not.ok(existsSync(join(env.root, BIN)));
});

test("a conflicting file with a different backup aborts before changing anything", () => {
  const env = setup();
  const scripts = join(env.root, "etc/xen/scripts");
  mkdirSync(scripts, { recursive: true });
  writeFileSync(join(scripts, "vif-openvswitch"), STOCK);
  writeFileSync(join(scripts, "vif-openvswitch.ovs-vif-orig"), "older stock\n");
  const before = listing(env.root);
  const r = run(["--root", env.root, "--binary", env.bin, ...ALL]);
  assert.is.not(r.status, 0);
  assert.is(r.stdout, "");
  assert.match(r.stderr, /vif-openvswitch: exists and differs from existing backup/);
  assert.equal(listing(env.root), before);

  // Identical content to the held backup (e.g. a package re-shipped it) is simply replaced.
  writeFileSync(join(scripts, "vif-openvswitch.ovs-vif-orig"), STOCK);
  const r2 = ok(env, "--xen");
  assert.ok(lines(r2.stdout).includes(`rm -f ${scripts}/vif-openvswitch`));
  assert.is(readFileSync(join(scripts, "vif-openvswitch.ovs-vif-orig"), "utf8"), STOCK);
});

test("errors: unknown option, missing binary, bad --root", () => {
  const env = setup();
  const check = (args: string[], re: RegExp) => {
    const r = run(args);
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
  assert.is(run(["--root", env.root, "--binary", join(env.base, "no-such-binary"), "--uninstall"]).stdout, "nothing to do\n");
  assert.equal(readdirSync(env.root), [], "nothing was created by failed runs");
});

test("--help prints usage and exits 0", () => {
  const r = run(["--help"]);
  assert.is(r.status, 0);
  assert.match(r.stdout, /^Usage: install\.sh /);
  for (const o of ["--root", "--dry-run", "--uninstall", "--xen", "--ganeti", "--qemu", "--binary"]) assert.ok(r.stdout.includes(o), o);
});

// --links-only: what the Debian package runs as ovs-vif-setup. The package
// owns the binary, /usr/sbin/ovs-vif, /etc/ovs-vif and /var/lib/ovs-vif.
const SETUP_MANIFEST = "/var/lib/ovs-vif/setup-created-dirs";

/** A root as the package leaves it (fake binary), plus Xen's stock script. */
function packagedRoot(): Env {
  const env = setup();
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
  const r = run(["--links-only", "--root", env.root, ...args]);
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

  const help = run(["--help"], setupLink);
  assert.is(help.status, 0);
  assert.match(help.stdout, /^Usage: ovs-vif-setup --ganeti\|--xen\|--qemu/);
  for (const o of ["--ganeti", "--xen", "--qemu", "--replace-vif-openvswitch", "--undo", "--dry-run", "--root", "--list"])
    assert.ok(help.stdout.includes(o), o);

  const dry = run(["--root", env.root, "--dry-run", "--ganeti"], setupLink);
  assert.is(dry.status, 0, dry.stderr);
  assert.equal(listing(env.root), before, "dry run changes nothing");
  const real = run(["--root", env.root, "--ganeti"], setupLink);
  assert.is(real.stdout, dry.stdout);
  assert.equal(ourLinks(env.root).sort(), [...GANETI_LINKS].sort());

  const refuse = (args: string[], status: number, re: RegExp) => {
    const r = run(args, setupLink);
    assert.is(r.status, status, `${args.join(" ")}: ${r.stderr}`);
    assert.is(r.stdout, "");
    assert.match(r.stderr, re);
  };
  refuse(["--root", env.root], 2, /^ovs-vif-setup: nothing selected: give --ganeti, --xen and\/or --qemu/);
  refuse(["--root", env.root, "--qemu", "--binary", env.bin], 2, /--binary: with --links-only the links point at the installed/);
  rmSync(join(env.root, BIN));
  refuse(["--root", env.root, "--qemu"], 1, /usr\/lib\/ovs-vif\/ovs-vif: not installed \(install the ovs-vif package first\)/);
  // Undo still works without the binary (the package's prerm runs it before dpkg removes it, but need not).
  assert.is(run(["--root", env.root, "--undo"], setupLink).status, 0);
  assert.equal(ourLinks(env.root), []);
});

test("--list prints every hook location with its integration", () => {
  const r = run(["--list"]);
  assert.is(r.status, 0);
  assert.equal(lines(r.stdout), [...XEN_LINKS.map((l) => `xen ${l}`), ...GANETI_LINKS.map((l) => `ganeti ${l}`), ...QEMU_LINKS.map((l) => `qemu ${l}`)]);
});

test.run();
