// Hostile setup: install.sh and ovs-vif-setup (the package's name for it)
// with arguments no one should give, paths that are no directory or file,
// control characters, and files a Debian package owns (a stand-in dpkg on
// PATH answers -S from a list, as dpkg does; without dpkg nothing is owned).
// Every refusal exits non-zero without a signal, prints one line naming the
// option, value or file (escaped, no runtime message), and changes nothing:
// not in the test root, and nothing outside it (the host's hook locations
// and ovs-vif's directories are compared before and after every call).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { escapeControls } from "../../src/errors.ts";
import { assertRefused, controlChar, generatedSuites, withControl, type Random } from "../harness/hostile.ts";
import { BINARY } from "../harness/ovs.ts";

const SCRIPT = fileURLToPath(new URL("../../install.sh", import.meta.url));
const BIN = "/usr/lib/ovs-vif/ovs-vif";
const HOST_PATHS = ["/usr/lib/ovs-vif", "/usr/sbin/ovs-vif", "/usr/sbin/ovs-vif-setup", "/etc/ganeti", "/etc/xen/scripts", "/etc/ovs-vif", "/var/lib/ovs-vif"];
const t0 = performance.now();

let base: string;
let root: string;
let setupLink: string;
let owned: string;
let fakeBin: string;
let cases = 0;
const classes = new Map<string, number>();

/** Every entry under `paths`: path, type, mode, size, mtime, link target. */
function listing(paths: string[]): string {
  const r = spawnSync("find", [...paths, "-printf", "%p %y %m %s %T@ %l\\n"], { encoding: "utf8" });
  return r.stdout.split("\n").sort().join("\n");
}

const DPKG = `#!/bin/sh
# A stand-in for dpkg -S: "PACKAGE: PATH" lines of $FAKE_DPKG_OWNED for the paths asked.
case $1 in --root=*) shift ;; esac
[ "$1" = -S ] || exit 2
shift
rc=0
for p in "$@"; do
  if grep -q -- ": $p\\$" "$FAKE_DPKG_OWNED"; then grep -- ": $p\\$" "$FAKE_DPKG_OWNED" | head -1; else echo "dpkg-query: no path found matching pattern $p" >&2; rc=1; fi
done
exit $rc
`;

test.before(() => {
  base = mkdtempSync(join(tmpdir(), "ovs-vif-hsetup-"));
  root = join(base, "root");
  // A node as the package leaves it (its binary a stand-in that lists the hook locations), with a dpkg database.
  mkdirSync(join(root, "usr/lib/ovs-vif"), { recursive: true });
  mkdirSync(join(root, "usr/sbin"), { recursive: true });
  mkdirSync(join(root, "var/lib/dpkg"), { recursive: true });
  writeFileSync(join(root, BIN), `#!/bin/sh\n[ "$1" = hook-locations ] && exec ${BINARY} hook-locations\necho packaged\n`);
  chmodSync(join(root, BIN), 0o755);
  symlinkSync("../lib/ovs-vif/ovs-vif", join(root, "usr/sbin/ovs-vif"));
  for (const d of ["etc/ovs-vif", "var/lib/ovs-vif", "etc/xen/scripts"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "etc/xen/scripts/vif-openvswitch"), "#!/bin/sh\n# stock\n");
  setupLink = join(base, "ovs-vif-setup");
  symlinkSync(SCRIPT, setupLink);
  execFileSync(setupLink, ["--root", root, "--ganeti", "--qemu"]);
  fakeBin = join(base, "bin");
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, "dpkg"), DPKG);
  chmodSync(join(fakeBin, "dpkg"), 0o755);
  owned = join(base, "owned");
  writeFileSync(owned, "");
  writeFileSync(join(base, "a-file"), "x");
  execFileSync("mkfifo", [join(base, "fifo")]);
});

test.after(() => {
  console.log(`  hostile-setup: ${cases} refused calls checked`);
  for (const [cls, n] of [...classes].sort((a, b) => b[1] - a[1])) console.log(`    ${String(n).padStart(4)}  ${cls}`);
  console.log(`  hostile-setup: whole file ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (base) rmSync(base, { recursive: true, force: true });
});

interface Call {
  cls: string;
  label: string;
  args: string[];
  /** ovs-vif-setup (links only) or install.sh. */
  setup: boolean;
  mentions: string[];
  /** "PACKAGE: PATH" lines the stand-in dpkg answers. */
  owns?: string[];
}

async function refused(c: Call): Promise<void> {
  writeFileSync(owned, (c.owns ?? []).map((l) => `${l}\n`).join(""));
  const host = listing(HOST_PATHS);
  const tree = listing([root]);
  const r = spawnSync(c.setup ? setupLink : SCRIPT, c.args, {
    encoding: "utf8",
    env: { PATH: `${fakeBin}:/usr/sbin:/usr/bin:/sbin:/bin`, FAKE_DPKG_OWNED: owned, LC_ALL: "C.UTF-8" },
    timeout: 60000,
  });
  assertRefused({ code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr }, c.label, c.mentions);
  assert.is(r.stdout, "", `${c.label}: nothing done, nothing printed`);
  assert.is(listing([root]), tree, `${c.label}: the test root unchanged`);
  assert.is(listing(HOST_PATHS), host, `${c.label}: nothing outside the test root changed`);
  cases++;
  classes.set(c.cls, (classes.get(c.cls) ?? 0) + 1);
}

const shown = (v: string) => escapeControls(v);

test("the example of the issue: install.sh --uninstall on a node with the package refuses, naming the binary and the package", async () => {
  const owns = [`ovs-vif: ${BIN}`, "ovs-vif: /usr/sbin/ovs-vif", "ovs-vif: /usr/lib/ovs-vif/kvm-vif-bridge"];
  const cls = "setup: a file a package owns";
  await refused({
    cls,
    label: "install.sh --uninstall",
    args: ["--root", root, "--uninstall"],
    setup: false,
    owns,
    mentions: [BIN, "Debian package ovs-vif", "apt remove ovs-vif", "nothing changed"],
  });
  await refused({
    cls,
    label: "install.sh --qemu over the package's binary",
    args: ["--root", root, "--qemu", "--binary", BINARY],
    setup: false,
    owns,
    mentions: [BIN, "Debian package ovs-vif"],
  });
  await refused({
    cls,
    label: "ovs-vif-setup --undo with a hook link the package owns",
    args: ["--root", root, "--undo"],
    setup: true,
    owns: ["ovs-vif: /etc/ovs-vif/qemu-ifup"],
    mentions: ["/etc/ovs-vif/qemu-ifup", "Debian package ovs-vif", "apt remove ovs-vif"],
  });
  await refused({
    cls,
    label: "ovs-vif-setup --undo --ganeti, another package's file",
    args: ["--root", root, "--undo", "--ganeti"],
    setup: true,
    owns: ["ganeti: /etc/ganeti/kvm-vif-bridge"],
    mentions: ["/etc/ganeti/kvm-vif-bridge", "Debian package ganeti", "apt install --reinstall ganeti"],
  });
});

test("what a package owns and a backup puts back is still undone: --replace-vif-openvswitch, then --undo --xen", () => {
  const env = { PATH: `${fakeBin}:/usr/sbin:/usr/bin:/sbin:/bin`, FAKE_DPKG_OWNED: owned, LC_ALL: "C.UTF-8" };
  writeFileSync(owned, "xen-utils-common: /etc/xen/scripts/vif-openvswitch\n");
  const before = listing([root]);
  execFileSync(setupLink, ["--root", root, "--replace-vif-openvswitch"], { env });
  const undo = spawnSync(setupLink, ["--root", root, "--undo", "--xen"], { encoding: "utf8", env });
  assert.is(undo.status, 0, undo.stderr);
  assert.is(
    undo.stdout,
    `rm -f ${root}/etc/xen/scripts/vif-openvswitch\nmv ${root}/etc/xen/scripts/vif-openvswitch.ovs-vif-orig ${root}/etc/xen/scripts/vif-openvswitch\n`,
  );
  assert.is(listing([root]).replace(/ [0-9.]+ (\S*)$/gm, " $1"), before.replace(/ [0-9.]+ (\S*)$/gm, " $1"), "the tree as before (times aside)");
});

type Gen = (r: Random) => Call;

const OPTIONS = [
  "--root",
  "--binary",
  "--dry-run",
  "--uninstall",
  "--undo",
  "--xen",
  "--ganeti",
  "--qemu",
  "--links-only",
  "--list",
  "--replace-vif-openvswitch",
];

const argCases: Gen = (r) => {
  const setup = r.pick([true, false]);
  const sel = r.pick(["--ganeti", "--qemu", "--xen"]);
  const binary = setup ? [] : ["--binary", BINARY];
  return r.pick([
    (): Call => {
      const opt = r.pick([
        () => withControl(r, r.pick(OPTIONS)),
        () => `--${r.pick(["rot", "roots", "bin", "x", "help-me", "ganetti", "qemu=1"])}`,
        () => `-${r.pick(["x", "r", "R", "u"])}`,
        () => `--root${controlChar(r)}`,
      ])();
      return {
        cls: "setup: an unknown option",
        label: `unknown option ${JSON.stringify(opt)}`,
        args: ["--root", root, sel, ...binary, opt],
        setup,
        mentions: [shown(opt)],
      };
    },
    (): Call => {
      const stray = r.pick([() => "stray", () => withControl(r, "stray"), () => root, () => "--", () => "x y"])();
      const args = stray === "--" ? ["--root", root, sel, ...binary, "--", "extra"] : ["--root", root, sel, ...binary, stray];
      return { cls: "setup: a surplus argument", label: `argument ${JSON.stringify(stray)}`, args, setup, mentions: [shown(stray === "--" ? "extra" : stray)] };
    },
    (): Call => {
      const dir = r.pick([
        () => withControl(r, root),
        () => join(base, "missing"),
        () => join(base, "a-file"),
        () => join(base, "fifo"),
        () => "",
        () => `relative${r.int(1, 9)}`,
        () => `${root}/../${controlChar(r)}`,
      ])();
      return {
        cls: dir.match(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/)
          ? "setup: a control character in a path"
          : "setup: --root that is no directory",
        label: `--root ${JSON.stringify(dir)}`,
        args: [`--root=${dir}`, sel, ...binary],
        setup,
        mentions: ["--root", shown(dir)],
      };
    },
    (): Call => {
      const bin = r.pick([() => withControl(r, BINARY), () => join(base, "missing-binary"), () => base, () => join(base, "fifo")])();
      if (setup)
        return {
          cls: "setup: --binary with the links only",
          label: `ovs-vif-setup --binary ${JSON.stringify(bin)}`,
          args: ["--root", root, sel, `--binary=${bin}`],
          setup,
          mentions: ["--binary"],
        };
      return {
        cls: bin.match(/[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/) ? "setup: a control character in a path" : "setup: --binary that is no binary",
        label: `--binary ${JSON.stringify(bin)}`,
        args: ["--root", root, sel, `--binary=${bin}`],
        setup,
        mentions: [shown(bin)],
      };
    },
    (): Call => {
      const which = r.pick(["--root", "--binary"]);
      return { cls: "setup: an option without its value", label: `${which} last`, args: [sel, which], setup, mentions: [which] };
    },
    (): Call => ({
      cls: "setup: nothing selected",
      label: "ovs-vif-setup with nothing selected",
      args: ["--root", root, ...(r.pick([true, false]) ? ["--dry-run"] : [])],
      setup: true,
      mentions: ["nothing selected"],
    }),
  ])();
};

const ownedCases: Gen = (r) => {
  const links = [
    "/etc/ovs-vif/qemu-ifup",
    "/etc/ovs-vif/qemu-ifdown",
    "/etc/ganeti/network/openvswitch/up",
    "/etc/ganeti/hooks/instance-start-post.d/ovs-vif",
    "/etc/xen/scripts/vif-custom",
    "/etc/ganeti/kvm-vif-bridge",
  ];
  const pkg = r.pick(["ovs-vif", "ganeti", "xen-utils-common", "some-package"]);
  const cls = "setup: a file a package owns";
  return r.pick([
    (): Call => {
      const path = r.pick(links);
      const undo = path.startsWith("/etc/ovs-vif") ? r.pick([["--undo"], ["--undo", "--qemu"]]) : r.pick([["--undo"], ["--undo", "--ganeti"], ["--uninstall"]]);
      return {
        cls,
        label: `ovs-vif-setup ${undo.join(" ")}, ${path} owned by ${pkg}`,
        args: ["--root", root, ...undo],
        setup: true,
        owns: [`${pkg}: ${path}`],
        mentions: [path, `Debian package ${pkg}`],
      };
    },
    (): Call => {
      const args = r.pick([
        ["--uninstall"],
        ["--uninstall", "--qemu"],
        ["--qemu", "--binary", BINARY],
        ["--ganeti", "--dry-run", "--binary", BINARY],
        ["--uninstall", "--dry-run"],
      ]);
      return {
        cls,
        label: `install.sh ${args.join(" ")} with ${BIN} owned by ${pkg}`,
        args: ["--root", root, ...args],
        setup: false,
        owns: [`${pkg}: ${BIN}`],
        mentions: [BIN, `Debian package ${pkg}`],
      };
    },
  ])();
};

generatedSuites(
  test,
  [
    ["install.sh and ovs-vif-setup arguments", argCases, 70, 81],
    ["files a package owns", ownedCases, 30, 82],
  ],
  refused,
);

test.run();
