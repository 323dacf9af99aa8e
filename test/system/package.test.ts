// The Debian package: built from the binary under test with
// packaging/build-deb.sh, inspected (dpkg-deb -c/-I, lintian, man), then
// installed with the real dpkg into a private root (test/harness/deb.ts:
// overlays over the host's /etc, /usr and /var in a mount namespace, so the
// maintainer scripts run for real and the host is not touched). The installed
// binary runs through Ganeti's own kvm-ifup against a private OVS; the gc
// unit's ExecStart runs against planted stale rows; remove and purge leave
// nothing the package made.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDeb, debUnavailable, inPrivateRoot, installDebInto, mustInPrivateRoot, type PrivateRootOptions } from "../harness/deb.ts";
import { listRows, portView } from "../harness/oracle.ts";
import { BINARY, ROOT, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { sh } from "../harness/proc.ts";
import { parseNodeDefaults } from "../../src/sources/defaults.ts";
import { KVM_SCRIPT_TEXT, KVM_TARGET } from "../harness/kvm-script.ts";
import { ROLES } from "../../src/roles.ts";

const why = debUnavailable();
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const BIN = "/usr/lib/ovs-vif/ovs-vif";

let deb = "";
let base = "";
let root = ""; // the node's private root: etc/, usr/, var/ upper layers
let ovs: OvsHandle | undefined;
const t0 = Date.now();
const lines = (s: string) => s.split("\n").filter((l) => l !== "");
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

test.before(async () => {
  if (why) return;
  const t = Date.now();
  deb = await buildDeb();
  console.log(`  build-deb.sh: ${deb.split("/").pop()} ${(lstatSync(deb).size / 1e6).toFixed(1)} MB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  base = mkdtempSync(join(tmpdir(), "ovs-vif-pkg-"));
  root = join(base, "root");
  mkdirSync(root);
});

test.after(async () => {
  await ovs?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
  if (!why) console.log(`  package test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

const skip = (name: string) => {
  if (why) console.log(`  skipped (${why}): ${name}`);
  return Boolean(why);
};

/** The private OVS, its network namespace and its socket at the default path. */
const onOvs = (): PrivateRootOptions => ({ netns: ovs!.ns, binds: [[ovs!.dir, "/run/openvswitch"]], env: { OVS_VIF_SYSLOG: "0" } });

// ------------------------------------------------------------------ the .deb itself

interface Entry { mode: string; owner: string; path: string; target?: string }

function contents(): Entry[] {
  return lines(hostRun("dpkg-deb", ["-c", deb])).map((l) => {
    const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ \.(\/\S*?)\/?(?: -> (\S+))?$/.exec(l);
    if (!m) throw new Error(`dpkg-deb -c line: ${l}`);
    return { mode: m[1]!, owner: m[2]!, path: m[3]! === "/" ? "/" : m[3]!, ...(m[4] ? { target: m[4] } : {}) };
  });
}

/** Runs a host command synchronously; throws when it fails. */
function hostRun(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: "utf8", maxBuffer: 64 << 20 });
}

const FILES: Record<string, string> = {
  [BIN]: "-rwxr-xr-x",
  "/usr/sbin/ovs-vif-setup": "-rwxr-xr-x",
  "/usr/lib/systemd/system/ovs-vif-gc.service": "-rw-r--r--",
  "/usr/lib/systemd/system/ovs-vif-watch.service": "-rw-r--r--",
  "/usr/lib/systemd/system/ovs-vif-gc.path": "-rw-r--r--",
  "/usr/lib/systemd/system/ovs-vif-watch.path": "-rw-r--r--",
  "/usr/share/man/man8/ovs-vif.8.gz": "-rw-r--r--",
  "/usr/share/man/man8/ovs-vif-setup.8.gz": "-rw-r--r--",
  "/usr/share/doc/ovs-vif/copyright": "-rw-r--r--",
  "/usr/share/doc/ovs-vif/changelog.gz": "-rw-r--r--",
  "/usr/share/doc/ovs-vif/README.md.gz": "-rw-r--r--",
  "/usr/share/doc/ovs-vif/ganeti.md.gz": "-rw-r--r--",
  "/usr/share/doc/ovs-vif/switches.md.gz": "-rw-r--r--",
  "/usr/share/doc/ovs-vif/examples/switches.json": "-rw-r--r--",
  "/usr/share/doc/ovs-vif/examples/defaults.json": "-rw-r--r--",
  "/usr/share/lintian/overrides/ovs-vif": "-rw-r--r--",
};
const LINKS: Record<string, string> = { "/usr/sbin/ovs-vif": "../lib/ovs-vif/ovs-vif", "/usr/lib/ovs-vif/vif-openvswitch": "ovs-vif", "/usr/lib/ovs-vif/kvm-vif-bridge": "ovs-vif" };

test("dpkg-deb -c: the binary, its links, the setup tool, units, man pages, docs and examples, root-owned, with their modes", () => {
  if (skip("contents")) return;
  const entries = contents();
  for (const e of entries) assert.is(e.owner, "root/root", `${e.path} owner`);
  const files = Object.fromEntries(entries.filter((e) => e.mode.startsWith("-")).map((e) => [e.path, e.mode]));
  assert.equal(files, FILES);
  const links = Object.fromEntries(entries.filter((e) => e.mode.startsWith("l")).map((e) => [e.path, e.target]));
  assert.equal(links, LINKS);
  for (const e of entries.filter((e) => e.mode.startsWith("d"))) assert.is(e.mode, "drwxr-xr-x", e.path);
  const dirs = entries.filter((e) => e.mode.startsWith("d")).map((e) => e.path);
  for (const d of ["/etc/ovs-vif", "/var/lib/ovs-vif"]) assert.ok(dirs.includes(d), `${d} is the package's`);
  // Nothing else in /etc: the package has no conffile, and no hook location is in it.
  assert.equal(entries.filter((e) => e.path.startsWith("/etc/")).map((e) => e.path), ["/etc/ovs-vif"]);
  // The binary is the one under test, byte for byte.
  const x = join(base, "x");
  hostRun("dpkg-deb", ["-x", deb, x]);
  assert.is(sha(join(x, BIN)), sha(BINARY));
  assert.is(readFileSync(join(x, "usr/sbin/ovs-vif-setup"), "utf8"), readFileSync(join(ROOT, "install.sh"), "utf8").replace(/^#!\/usr\/bin\/env bash\n/, "#!/bin/bash\n"));
});

test("dpkg-deb -I: version from package.json, run-time dependencies, maintainer scripts, no conffiles", () => {
  if (skip("control")) return;
  const info = hostRun("dpkg-deb", ["-I", deb]);
  const field = (name: string) => new RegExp(`^ ${name}: (.*)$`, "m").exec(info)?.[1];
  assert.is(field("Package"), "ovs-vif");
  assert.is(field("Version"), VERSION);
  assert.is(field("Architecture"), hostRun("dpkg", ["--print-architecture"]).trim());
  assert.match(field("Depends") ?? "", /^libc6 \(>= 2\.\d+\), iproute2$/);
  assert.is(field("Recommends"), "openvswitch-switch");
  assert.ok(Number(field("Installed-Size")) > 100_000, "Installed-Size in KiB");
  for (const script of ["preinst", "postinst", "prerm", "postrm"]) assert.match(info, new RegExp(`\\d+ lines\\s+\\*\\s+${script}\\s+#!/bin/sh`), script);
  assert.not.match(info, /conffiles/);
  const ctl = join(base, "ctl");
  hostRun("dpkg-deb", ["-e", deb, ctl]);
  // No maintainer script enables a hook or changes Xen's conffile: the one
  // command running ovs-vif-setup is the prerm's undo of the Ganeti and QEMU
  // hooks; the postrm lists every hook location, to report leftovers.
  const commands = ["preinst", "postinst", "prerm", "postrm"].flatMap((script) =>
    readFileSync(join(ctl, script), "utf8").split("\n").filter((l) => !/^\s*(#|echo )/.test(l)).map((l) => `${script}: ${l.trim()}`),
  );
  assert.equal(commands.filter((l) => l.includes("ovs-vif-setup")), ["prerm: out=$(ovs-vif-setup --undo --ganeti --qemu)"]);
  assert.equal(commands.filter((l) => /\/etc\/xen\/scripts\/vif-openvswitch|\$xen/.test(l) && !/^\S+ (xen=|if \[ -L "\$xen" \]|for link in )/.test(l)), [], "Xen's script is only read");
  const listed = lines(hostRun(join(ROOT, "install.sh"), ["--list"])).map((l) => l.split(" ")[1]!);
  assert.ok(readFileSync(join(ctl, "postrm"), "utf8").includes(`for link in ${listed.join(" ")}; do`));
});

/** Overrides the package needs for one lintian release that another does
 * not report at all (the same .deb is checked on Debian 12 and 13): lintian
 * 2.122 no longer finds misspellings inside this binary. */
const NOT_REPORTED_BY: Record<string, string[]> = { "2.122": ["spelling-error-in-binary"] };

test("lintian --pedantic: no tag but the overridden ones, each override with its reason", async () => {
  if (skip("lintian")) return;
  if (!existsSync("/usr/bin/lintian")) {
    console.log("  skipped: no lintian (Debian package lintian)");
    return;
  }
  const t = Date.now();
  const r = await sh("lintian", ["--pedantic", "--display-info", "--fail-on", "error,warning,info,pedantic", deb], { timeoutMs: 600_000 });
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(r.stdout, "", "no tag");
  const shown = await sh("lintian", ["--pedantic", "--display-info", "--show-overrides", deb], { timeoutMs: 600_000 });
  const overridden = lines(shown.stdout).filter((l) => l.startsWith("O: "));
  console.log(`  lintian: clean, ${overridden.length} overridden tags, ${((Date.now() - t) / 1000).toFixed(1)} s`);
  // Every override line in the file is preceded by a comment (its reason), and is used
  // by this lintian, but for those a release of lintian no longer reports.
  const version = /v?([0-9]+\.[0-9]+)/.exec((await sh("lintian", ["--version"])).stdout)?.[1] ?? "";
  const notReported = NOT_REPORTED_BY[version] ?? [];
  const file = readFileSync(join(ROOT, "packaging/lintian-overrides"), "utf8").split("\n");
  file.forEach((l, i) => {
    if (!l.startsWith("ovs-vif: ")) return;
    let j = i - 1;
    while (j >= 0 && file[j]!.startsWith("ovs-vif: ")) j--;
    assert.ok(j >= 0 && file[j]!.startsWith("# "), `override "${l}" has a reason above it`);
    const tag = l.split(" ")[1]!;
    const used = overridden.some((o) => o.split(" ")[2] === tag);
    if (notReported.includes(tag)) assert.not.ok(used, `lintian ${version} reports ${tag} after all: drop it from NOT_REPORTED_BY`);
    else assert.ok(used, `override ${tag} is used by lintian ${version}`);
  });
  console.log(`  lintian ${version}: every override used${notReported.length ? ` but ${notReported.join(", ")}, which this release does not report` : ""}`);
  // The misspellings are the runtime's, not ovs-vif's.
  const words = overridden.filter((o) => o.includes("spelling-error-in-binary")).map((o) => o.split(" ")[3]!);
  assert.ok(words.length > 0 || notReported.includes("spelling-error-in-binary"));
  const sources = ["src", "hooks"].flatMap((d) => lines(hostRun("find", [join(ROOT, d), "-name", "*.ts"]))).map((f) => readFileSync(f, "utf8")).join("\n");
  for (const w of words) assert.not.match(sources, new RegExp(`\\b${w.replace(/[^A-Za-z]/g, "")}\\b`), `"${w}" is not in ovs-vif's sources`);
});

test("man ovs-vif and ovs-vif-setup: no warnings at 80 columns, every command, hook name and variable", async () => {
  if (skip("man")) return;
  const x = join(base, "x");
  const render = async (page: string, warn: boolean) => {
    const args = warn ? ["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page] : ["-l", page];
    const r = await sh("man", args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MANWIDTH: "80", LC_ALL: "C.UTF-8" } });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stderr, "", `${page}: groff says nothing`);
    return r.stdout;
  };
  const pages: Record<string, string> = {};
  for (const name of ["ovs-vif", "ovs-vif-setup"]) {
    const page = join(x, `usr/share/man/man8/${name}.8.gz`);
    await render(page, true);
    pages[name] = (await render(page, false)).replace(/.\x08/g, "");
    for (const l of lines(pages[name]!)) assert.ok(l.length <= 80, `${name}: line within 80 columns: ${JSON.stringify(l)}`);
    assert.match(pages[name]!, new RegExp(`^NAME\\n {7}${name} - `, "m"));
  }
  const man = pages["ovs-vif"]!;
  const section = (title: string) => {
    const m = new RegExp(`^${title}\\n([\\s\\S]*?)(?=^[A-Z][A-Z ]+\\n)`, "m").exec(man);
    assert.ok(m, `section ${title}`);
    return m![1]!;
  };
  // Every command of `ovs-vif --help`, as a subsection.
  const help = hostRun(BINARY, ["--help"]);
  const commands = [...help.matchAll(/^ {2}([a-z][a-z-]+)/gm)].map((m) => m[1]!);
  assert.ok(commands.length >= 14, commands.join(" "));
  const subsections = [...man.matchAll(/^ {3}(\S.*)$/gm)].flatMap((m) => m[1]!.split(", "));
  for (const c of [...commands, "qemu-ifdown"]) assert.ok(subsections.includes(c), `command ${c} has its section`);
  // Every name the binary answers to and every hook location, from the role registry.
  const names = ROLES.flatMap((r) => r.names ?? []);
  assert.ok(names.length >= 7, names.join(" "));
  const hooks = section("HOOK NAMES");
  for (const n of names) assert.match(hooks, new RegExp(`^ {7}(\\S+, )*${n}(,|$)`, "m"), `hook name ${n}`);
  for (const l of lines(hostRun(join(ROOT, "install.sh"), ["--list"]))) assert.ok(hooks.includes(l.split(" ")[1]!), l);
  // Every variable the sources read.
  const env = section("ENVIRONMENT");
  const sources = ["src", "hooks"].flatMap((d) => lines(hostRun("find", [join(ROOT, d), "-name", "*.ts"]))).map((f) => readFileSync(f, "utf8")).join("\n");
  const vars = new Set([...sources.matchAll(/\b(OVS_VIF_[A-Z_]+|OVS_RUNDIR|OVN_NB_DB|XENSTORED_PATH|GANETI_HOOKS_PATH|GANETI_ROOTDIR|NO_COLOR)\b/g)].map((m) => m[1]!));
  for (const v of vars) assert.ok(new RegExp(`\\b${v}\\b`).test(env), `variable ${v} in ENVIRONMENT`);
  for (const s of ["SYNOPSIS", "DESCRIPTION", "COMMANDS", "COMMON OPTIONS", "FILES", "EXIT STATUS", "SEE ALSO"]) assert.match(man, new RegExp(`^${s}$`, "m"));
  const setup = pages["ovs-vif-setup"]!;
  for (const o of ["--ganeti", "--xen", "--qemu", "--replace-vif-openvswitch", "--undo", "--dry-run", "--root", "--list"]) assert.match(setup, new RegExp(`^ {7}${o}\\b`, "m"), o);
});

test("the example specs are valid", async () => {
  if (skip("examples")) return;
  const x = join(base, "x/usr/share/doc/ovs-vif/examples");
  const r = await sh(BINARY, ["switch", "check", "--spec", join(x, "switches.json")]);
  assert.is(r.code, 0, r.stderr);
  const d = parseNodeDefaults("defaults.json", readFileSync(join(x, "defaults.json"), "utf8"));
  assert.is(d.version, 1);
});

// ------------------------------------------------------------------ installed

/** Where the units are enabled: each service in multi-user.target, each path unit in paths.target. */
const ENABLEMENT: Record<string, string> = {
  "ovs-vif-gc.service": "multi-user.target.wants",
  "ovs-vif-watch.service": "multi-user.target.wants",
  "ovs-vif-gc.path": "paths.target.wants",
  "ovs-vif-watch.path": "paths.target.wants",
};
const enablementLinks = () => Object.entries(ENABLEMENT).map(([unit, wants]) => `/etc/systemd/system/${wants}/${unit}`);

/** An enablement link names the unit the package installed: deb-systemd-helper
 * writes /lib/systemd/system/UNIT on Debian 12 (where /lib is /usr/lib) and
 * /usr/lib/systemd/system/UNIT on Debian 13; both are the same file. */
function assertEnabled(root: string, unit: string): void {
  const target = readlinkSync(join(root, "etc/systemd/system", ENABLEMENT[unit]!, unit));
  assert.ok([`/lib/systemd/system/${unit}`, `/usr/lib/systemd/system/${unit}`].includes(target), `${unit} enabled (-> ${target})`);
}

test("dpkg -i into a private root: the files, the four units enabled, no hook enabled, the host untouched", async () => {
  if (skip("install")) return;
  const hostBefore = ["/usr/lib/ovs-vif", "/etc/systemd/system/multi-user.target.wants/ovs-vif-gc.service", "/var/lib/ovs-vif"].map(existsSync);
  const r = await inPrivateRoot(root, "dpkg", ["-i", deb], { timeoutMs: 300_000 });
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Setting up ovs-vif \(/);
  // The package's files in the root (upper layers), made by dpkg and its scripts.
  assert.ok(lstatSync(join(root, BIN)).isFile());
  assert.is(readlinkSync(join(root, "usr/sbin/ovs-vif")), "../lib/ovs-vif/ovs-vif");
  // The package's directories (the host may hold /var/lib/ovs-vif already: look at the merged view).
  const listed = lines(await mustInPrivateRoot(root, "dpkg", ["-L", "ovs-vif"]));
  for (const d of ["/etc/ovs-vif", "/var/lib/ovs-vif"]) {
    assert.ok(listed.includes(d), `${d} is the package's`);
    assert.is((await inPrivateRoot(root, "test", ["-d", d])).code, 0, `${d} exists`);
  }
  for (const unit of Object.keys(ENABLEMENT)) assertEnabled(root, unit);
  // No hook: nothing in /etc but the enablement links.
  const etc = lines(hostRun("find", [join(root, "etc"), "-mindepth", "1", "-not", "-type", "d"])).map((p) => p.slice(root.length));
  assert.equal(etc.sort(), enablementLinks().sort());
  assert.not.ok(existsSync(join(root, "etc/ganeti")));
  assert.equal(["/usr/lib/ovs-vif", "/etc/systemd/system/multi-user.target.wants/ovs-vif-gc.service", "/var/lib/ovs-vif"].map(existsSync), hostBefore, "the host is untouched");
  const status = await mustInPrivateRoot(root, "dpkg-query", ["-W", "-f", "${Status} ${Version}", "ovs-vif"]);
  assert.is(status, `install ok installed ${VERSION}`);
  assert.is((await mustInPrivateRoot(root, "ovs-vif", ["--version"])).trim(), `ovs-vif ${VERSION}`);
});

test("systemd-analyze verify accepts the four units (with their ExecStart installed)", async () => {
  if (skip("systemd-analyze")) return;
  const r = await inPrivateRoot(root, "systemd-analyze", ["verify", ...Object.keys(ENABLEMENT).map((u) => `/usr/lib/systemd/system/${u}`)]);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout + r.stderr, /ovs-vif/, `nothing said about our units: ${r.stderr}`);
});

test("ovs-vif-setup --ganeti --qemu links the hooks; Ganeti's own kvm-ifup then attaches a tap to OVS through the packaged binary", async () => {
  if (skip("kvm-ifup")) return;
  ovs = await startOvs();
  await ovs.addBridge("sw1");
  const setup = await mustInPrivateRoot(root, "ovs-vif-setup", ["--ganeti", "--qemu"]);
  assert.ok(lines(setup).includes(`write /etc/ganeti/kvm-vif-bridge (exec ${KVM_TARGET})`), setup);
  assert.is(readFileSync(join(root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT);
  assert.is(readlinkSync(join(root, "etc/ovs-vif/qemu-ifup")), BIN);
  assert.ok(readFileSync(join(root, "var/lib/ovs-vif/setup-created-dirs"), "utf8").includes("/etc/ganeti/network"));
  if (!existsSync("/usr/lib/ganeti/kvm-ifup")) {
    console.log("  kvm-ifup part skipped: no /usr/lib/ganeti/kvm-ifup (package ganeti)");
    return;
  }
  await ovs.addTap("tap0");
  const env = {
    INSTANCE: "inst1.example.com",
    MAC: "aa:00:00:00:00:01",
    MODE: "openvswitch",
    INTERFACE: "tap0",
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: "6f2c1a4e-0000-4000-8000-000000000001",
    LINK: "sw1",
    VLAN: ".10:20",
    TAGS: "",
  };
  const r = await inPrivateRoot(root, "/usr/lib/ganeti/kvm-ifup", [], { ...onOvs(), env: { ...onOvs().env, ...env } });
  assert.is(r.code, 0, r.stdout + r.stderr);
  const port = await portView(ovs, "tap0");
  assert.ok(port, "kvm-ifup -> /etc/ganeti/kvm-vif-bridge -> /usr/lib/ovs-vif/kvm-vif-bridge attached tap0");
  assert.is(port!.bridge, "sw1");
  assert.is(port!.vlan_mode, "native-untagged");
  assert.is(port!.tag, 10);
  assert.equal(port!.trunks, [20]);
  assert.is(port!.portIds["ovs-vif-owner"], "ganeti");
  assert.is(port!.ifaceIds["ganeti-instance"], "inst1.example.com");
});

test("ovs-vif doctor on the installed node: OVSDB, the Ganeti hook links and the package's directories are ok", async () => {
  if (skip("doctor")) return;
  const r = await inPrivateRoot(root, "ovs-vif", ["doctor"], onOvs());
  const ok = (check: string) => assert.match(r.stdout, new RegExp(`: ok +${check}`), `${check}: ${r.stdout}`);
  ok("ovsdb");
  ok(`ganeti kvm-vif-bridge: /etc/ganeti/kvm-vif-bridge runs ${KVM_TARGET} -> ovs-vif`);
  ok("ganeti hook instance-start: ");
  ok("xen vif-custom \\(Ganeti on Xen\\): ");
  ok("directory /etc/ovs-vif: exists");
  ok("directory /var/lib/ovs-vif: exists");
  assert.not.match(r.stdout, /: fail +(ganeti|xen|directory)/, r.stdout);
});

test("ovs-vif-setup --xen leaves Xen's vif-openvswitch and prints the xl line; the package's script path is the Xen hook", async () => {
  if (skip("xen")) return;
  const stock = "/etc/xen/scripts/vif-openvswitch";
  const shaIn = async () => (await inPrivateRoot(root, "sha256sum", [stock])).stdout;
  const before = await shaIn();
  const out = await mustInPrivateRoot(root, "ovs-vif-setup", ["--xen"]);
  assert.ok(lines(out).includes('xen:   vif.default.script="/usr/lib/ovs-vif/vif-openvswitch"'), out);
  assert.is(await shaIn(), before);
  assert.not.ok(existsSync(join(root, stock)) || existsSync(join(root, `${stock}.ovs-vif-orig`)), "nothing written at Xen's script");
  const help = await mustInPrivateRoot(root, "/usr/lib/ovs-vif/vif-openvswitch", ["--help"]);
  assert.match(help, /^usage: vif-openvswitch online\|offline\|add\|remove/);
});

test("dpkg -i again (an upgrade): the enabled hooks and the units' enablement stay", async () => {
  if (skip("upgrade")) return;
  const links = () => lines(hostRun("find", [join(root, "etc"), "-type", "l"])).sort().map((l) => `${l} -> ${readlinkSync(l)}`);
  const before = links();
  assert.ok(before.some((l) => l.endsWith(`/etc/ganeti/hooks/instance-start-post.d/ovs-vif -> ${BIN}`)), before.join("\n"));
  assert.is(readFileSync(join(root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT);
  const r = await inPrivateRoot(root, "dpkg", ["-i", deb], { timeoutMs: 300_000 });
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Unpacking ovs-vif \(.*\) over \(/);
  assert.not.match(r.stdout + r.stderr, /disabling the hooks/);
  assert.equal(links(), before);
  assert.is(readFileSync(join(root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT);
});

test("install.sh on a node with the package refuses to remove or replace the package's binary (dpkg -S names its owner), and changes nothing", async () => {
  if (skip("install.sh over the package")) return;
  const before = lines(hostRun("find", [root, "-printf", "%p %y %s %l\\n"])).sort();
  for (const args of [["--uninstall"], ["--qemu", "--binary", BINARY]]) {
    const r = await inPrivateRoot(root, join(ROOT, "install.sh"), args);
    assert.is(r.code, 1, r.stdout + r.stderr);
    assert.is(r.stdout, "");
    assert.match(r.stderr, /^install\.sh: \/usr\/lib\/ovs-vif\/ovs-vif belongs to the Debian package ovs-vif: install\.sh neither replaces nor removes it .*nothing changed\n$/);
  }
  assert.equal(lines(hostRun("find", [root, "-printf", "%p %y %s %l\\n"])).sort(), before, "the root as it was");
});

test("ovs-vif-gc.service's ExecStart removes ovs-vif's stale ports and orphaned QoS rows, and only those", async () => {
  if (skip("gc unit")) return;
  const unit = readFileSync(join(root, "usr/lib/systemd/system/ovs-vif-gc.service"), "utf8");
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(" ");
  assert.equal(exec, ["/usr/sbin/ovs-vif", "gc"]);
  const unitEnv = Object.fromEntries([...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const condition = /^ConditionPathExists=(.*)$/m.exec(unit)?.[1];
  assert.is(condition, "/run/openvswitch/db.sock");
  const o = ovs!;
  const run = (file: string, args: string[]) => mustInPrivateRoot(root, file, args, { ...onOvs(), env: { ...unitEnv } });
  // Ports of VMs that ran before "the crash": attached by the packaged binary, then their taps vanish.
  for (const [tap, args] of [["vif5.0", ["--owner", "xen", "--rx-rate", "20M"]], ["tap7", ["--owner", "qemu"]]] as const) {
    await o.addTap(tap);
    await run("ovs-vif", ["attach", "--bridge", "sw1", "--iface", tap, ...args]);
    await o.inNs("ip", ["link", "del", tap]);
  }
  // A foreign port whose device is gone too, a live ovs-vif port (tap0 from kvm-ifup, or a new one).
  await o.vsctl("add-port", "sw1", "foreign0");
  if (!(await portView(o, "tap0"))) {
    await o.addTap("tap0");
    await run("ovs-vif", ["attach", "--bridge", "sw1", "--iface", "tap0", "--owner", "ganeti"]);
  }
  const marked = (await o.vsctl("create", "qos", "type=linux-htb", "external_ids:ovs-vif-port=gone0")).trim();
  const foreignQos = (await o.vsctl("create", "qos", "type=linux-htb", "other_config:max-rate=1000000")).trim();
  assert.is((await listRows(o, "QoS")).length, 3, "vif5.0's, the orphan and the foreign one");
  assert.ok((await inPrivateRoot(root, "test", ["-S", condition!], onOvs())).code === 0, "the unit's condition holds");

  const out = await run(exec![0]!, exec!.slice(1));
  assert.match(out, /^removed vif5\.0 from sw1 \(owner xen\): device gone$/m);
  assert.match(out, /^removed tap7 from sw1 \(owner qemu\): device gone$/m);
  assert.match(out, new RegExp(`^removed orphaned QoS row ${marked} \\(made for port gone0`, "m"));
  assert.is(lines(out).length, 3, out);
  assert.is(await portView(o, "vif5.0"), undefined);
  assert.is(await portView(o, "tap7"), undefined);
  assert.ok(await portView(o, "foreign0"), "the foreign port stays");
  assert.ok(await portView(o, "tap0"), "the live port stays");
  assert.equal((await listRows(o, "QoS")).map((q) => q._uuid), [foreignQos], "only the foreign QoS row is left");
  assert.is((await listRows(o, "Queue")).length, 0, "vif5.0's queue went with its QoS row");
  assert.is((await run(exec![0]!, exec!.slice(1))).trim(), "no stale ports", "a second run finds nothing");
});

test("dpkg -r refuses while Xen's script is replaced; after --undo --xen it removes the package and disables the hooks; purge leaves nothing of it", async () => {
  if (skip("remove and purge")) return;
  const stock = "/etc/xen/scripts/vif-openvswitch";
  if (existsSync(stock)) {
    const stockSha = (await inPrivateRoot(root, "sha256sum", [stock])).stdout;
    const replaced = await mustInPrivateRoot(root, "ovs-vif-setup", ["--replace-vif-openvswitch"]);
    assert.match(replaced, /dpkg\nxen: now reports it as modified/);
    assert.is(readlinkSync(join(root, stock)), BIN);

    const refused = await inPrivateRoot(root, "dpkg", ["-r", "ovs-vif"]);
    assert.is.not(refused.code, 0);
    assert.match(refused.stderr, /ovs-vif:   ovs-vif-setup --undo --xen/);
    assert.match(await mustInPrivateRoot(root, "dpkg-query", ["-W", "-f", "${Status}", "ovs-vif"]), / ok installed$/, "still installed, as it was");
    assert.is(readFileSync(join(root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT, "hooks untouched by the refused removal");

    await mustInPrivateRoot(root, "ovs-vif-setup", ["--undo", "--xen"]);
    assert.is((await inPrivateRoot(root, "sha256sum", [stock])).stdout, stockSha, "Xen's script is back");
  } else {
    console.log(`  refusal part skipped: no ${stock} (package xen-utils-common)`);
  }
  // What the operator and Ganeti put into the package's directories.
  await mustInPrivateRoot(root, "cp", [join(ROOT, "examples/switches.json"), "/etc/ovs-vif/switches.json"]);
  await mustInPrivateRoot(root, "bash", ["-c", "echo '{}' >/var/lib/ovs-vif/ganeti.json"]);

  const removed = await inPrivateRoot(root, "dpkg", ["-r", "ovs-vif"]);
  assert.is(removed.code, 0, removed.stdout + removed.stderr);
  assert.match(removed.stdout, /ovs-vif: disabling the hooks enabled with ovs-vif-setup:\nrm -f \/etc\/ganeti\/kvm-vif-bridge\n/);
  const gone = await inPrivateRoot(root, "bash", ["-c", "for p in /etc/ganeti/kvm-vif-bridge /etc/ovs-vif/qemu-ifup /etc/ganeti/network /usr/lib/ovs-vif /usr/sbin/ovs-vif /usr/sbin/ovs-vif-setup; do [ -e $p ] || [ -L $p ] && echo $p; done; true"]);
  assert.is(gone.stdout, "", "hook links, their directories and the binary are gone after remove");
  assert.is(await mustInPrivateRoot(root, "dpkg-query", ["-W", "-f", "${Status}", "ovs-vif"]), "deinstall ok config-files");
  // Until the purge, dpkg still holds the scripts (and the walk below sees them).
  assert.ok(leftovers(root).includes("/var/lib/dpkg/info/ovs-vif.postrm (ours)"), leftovers(root).join("\n"));

  const purged = await inPrivateRoot(root, "dpkg", ["--purge", "ovs-vif"]);
  assert.is(purged.code, 0, purged.stdout + purged.stderr);
  assert.match(purged.stderr, /ovs-vif: \/etc\/ovs-vif kept: it holds files the package did not install \(switches\.json\)/);
  assert.is((await inPrivateRoot(root, "test", ["-e", "/var/lib/ovs-vif"])).code, 1, "state removed by purge");
  rmSync(join(root, "etc/ovs-vif"), { recursive: true });
  assert.equal(leftovers(root), [], "nothing of the package is left in the root");
});

test("preinst refuses to install over an install.sh installation", async () => {
  if (skip("preinst")) return;
  const other = join(base, "other");
  mkdirSync(other);
  await mustInPrivateRoot(other, join(ROOT, "install.sh"), ["--qemu", "--binary", BINARY]);
  const r = await inPrivateRoot(other, "dpkg", ["-i", deb]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /ovs-vif: run 'install\.sh --uninstall' from that checkout first/);
  const status = await inPrivateRoot(other, "dpkg-query", ["-W", "-f", "${Status}", "ovs-vif"]);
  assert.not.match(status.stdout, /ok installed|config-files|half|unpacked/, status.stdout);
  assert.is(sha(join(other, BIN)), sha(BINARY), "install.sh's binary is untouched");
});

test("installDebInto (for the Ganeti cluster harness) installs the package into a node root and enables the Ganeti hooks there", async () => {
  if (skip("installDebInto")) return;
  const node = join(base, "node1", "root");
  mkdirSync(join(node, "etc/ganeti"), { recursive: true });
  writeFileSync(join(node, "etc/ganeti/ssconf_cluster_name"), "cluster1\n");
  const r = await installDebInto(node, { deb });
  assert.match(r.dpkg, /Setting up ovs-vif/);
  assert.ok(lines(r.setup).every((l) => /^(mkdir -p|ln -sfn|write) /.test(l)), r.setup);
  for (const l of lines(hostRun(join(ROOT, "install.sh"), ["--list"])).filter((l) => l.startsWith("ganeti ")).map((l) => l.split(" ")[1]!)) {
    if (l === "/etc/ganeti/kvm-vif-bridge") assert.is(readFileSync(join(node, l), "utf8"), KVM_SCRIPT_TEXT, l);
    else assert.is(readlinkSync(join(node, l)), BIN, l);
  }
  assert.ok(lstatSync(join(node, BIN)).isFile());
  assert.ok(readFileSync(join(node, "etc/ganeti/ssconf_cluster_name"), "utf8") === "cluster1\n", "the node's own files stay");
  assert.not.ok(readdirSync(join(base, "node1")).some((n) => n.startsWith(".ovs-vif-overlay-work-")), "no overlay work directory left beside the root");
});

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
  const bookkeeping = [/^\/var\/lib\/dpkg\//, /^\/var\/log\/dpkg\.log$/, /^\/var\/cache\/man\//, /^\/var\/cache\/debconf\//, /^\/var\/log\/ganeti\/commands\.log$/];
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

test.run();
