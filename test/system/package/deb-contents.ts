// The .deb itself, before anything installs it: its contents with owners
// and modes (the binary byte for byte the one under test), its control
// fields and maintainer scripts, lintian, the man pages (every command, hook
// name and variable) and the example files. Apart from the install tests:
// these read the package file only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, ROOT } from "../../harness/ovs.ts";
import { sh } from "../../harness/proc.ts";
import { parseNodeDefaults } from "../../../src/sources/defaults.ts";
import { ROLES } from "../../../src/roles.ts";
import { BIN, hostRun, lines, sha, skip, VERSION, type World } from "./world.ts";

// ------------------------------------------------------------------ the .deb itself

interface Entry {
  mode: string;
  owner: string;
  path: string;
  target?: string;
}

function contents(deb: string): Entry[] {
  return lines(hostRun("dpkg-deb", ["-c", deb])).map((l) => {
    const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ \.(\/\S*?)\/?(?: -> (\S+))?$/.exec(l);
    if (!m) throw new Error(`dpkg-deb -c line: ${l}`);
    return { mode: m[1]!, owner: m[2]!, path: m[3]! === "/" ? "/" : m[3]!, ...(m[4] ? { target: m[4] } : {}) };
  });
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
const LINKS: Record<string, string> = {
  "/usr/sbin/ovs-vif": "../lib/ovs-vif/ovs-vif",
  "/usr/lib/ovs-vif/vif-openvswitch": "ovs-vif",
  "/usr/lib/ovs-vif/kvm-vif-bridge": "ovs-vif",
};

/** Overrides the package needs for one lintian release that another does
 * not report at all (the same .deb is checked on Debian 12 and 13): lintian
 * 2.122 no longer finds misspellings inside this binary. */
const NOT_REPORTED_BY: Record<string, string[]> = { "2.122": ["spelling-error-in-binary"] };

export function registerDebContents(w: World): void {
  test("dpkg-deb -c: the binary, its links, the setup tool, units, man pages, docs and examples, root-owned, with their modes", () => {
    if (skip("contents")) return;
    const entries = contents(w.deb);
    for (const e of entries) assert.is(e.owner, "root/root", `${e.path} owner`);
    const files = Object.fromEntries(entries.filter((e) => e.mode.startsWith("-")).map((e) => [e.path, e.mode]));
    assert.equal(files, FILES);
    const links = Object.fromEntries(entries.filter((e) => e.mode.startsWith("l")).map((e) => [e.path, e.target]));
    assert.equal(links, LINKS);
    for (const e of entries.filter((e) => e.mode.startsWith("d"))) assert.is(e.mode, "drwxr-xr-x", e.path);
    const dirs = entries.filter((e) => e.mode.startsWith("d")).map((e) => e.path);
    for (const d of ["/etc/ovs-vif", "/var/lib/ovs-vif"]) assert.ok(dirs.includes(d), `${d} is the package's`);
    // Nothing else in /etc: the package has no conffile, and no hook location is in it.
    assert.equal(
      entries.filter((e) => e.path.startsWith("/etc/")).map((e) => e.path),
      ["/etc/ovs-vif"],
    );
    // The binary is the one under test, byte for byte.
    const x = join(w.base, "x");
    hostRun("dpkg-deb", ["-x", w.deb, x]);
    assert.is(sha(join(x, BIN)), sha(BINARY));
    assert.is(
      readFileSync(join(x, "usr/sbin/ovs-vif-setup"), "utf8"),
      readFileSync(join(ROOT, "install.sh"), "utf8").replace(/^#!\/usr\/bin\/env bash\n/, "#!/bin/bash\n"),
    );
  });

  test("dpkg-deb -I: version from package.json, run-time dependencies, maintainer scripts, no conffiles", () => {
    if (skip("control")) return;
    const info = hostRun("dpkg-deb", ["-I", w.deb]);
    const field = (name: string) => new RegExp(`^ ${name}: (.*)$`, "m").exec(info)?.[1];
    assert.is(field("Package"), "ovs-vif");
    assert.is(field("Version"), VERSION);
    assert.is(field("Architecture"), hostRun("dpkg", ["--print-architecture"]).trim());
    assert.match(field("Depends") ?? "", /^libc6 \(>= 2\.\d+\), iproute2$/);
    assert.is(field("Recommends"), "openvswitch-switch");
    assert.ok(Number(field("Installed-Size")) > 100_000, "Installed-Size in KiB");
    for (const script of ["preinst", "postinst", "prerm", "postrm"]) assert.match(info, new RegExp(`\\d+ lines\\s+\\*\\s+${script}\\s+#!/bin/sh`), script);
    assert.not.match(info, /conffiles/);
    const ctl = join(w.base, "ctl");
    hostRun("dpkg-deb", ["-e", w.deb, ctl]);
    // No maintainer script enables a hook or changes Xen's conffile: the one
    // command running ovs-vif-setup is the prerm's undo of the Ganeti and QEMU
    // hooks; the postrm lists every hook location, to report leftovers.
    const commands = ["preinst", "postinst", "prerm", "postrm"].flatMap((script) =>
      readFileSync(join(ctl, script), "utf8")
        .split("\n")
        .filter((l) => !/^\s*(#|echo )/.test(l))
        .map((l) => `${script}: ${l.trim()}`),
    );
    assert.equal(
      commands.filter((l) => l.includes("ovs-vif-setup")),
      ["prerm: out=$(ovs-vif-setup --undo --ganeti --qemu)"],
    );
    assert.equal(
      commands.filter((l) => /\/etc\/xen\/scripts\/vif-openvswitch|\$xen/.test(l) && !/^\S+ (xen=|if \[ -L "\$xen" \]|for link in )/.test(l)),
      [],
      "Xen's script is only read",
    );
    const listed = lines(hostRun(join(ROOT, "install.sh"), ["--list"])).map((l) => l.split(" ")[1]!);
    assert.ok(readFileSync(join(ctl, "postrm"), "utf8").includes(`for link in ${listed.join(" ")}; do`));
  });

  test("lintian --pedantic: no tag but the overridden ones, each override with its reason", async () => {
    if (skip("lintian")) return;
    if (!existsSync("/usr/bin/lintian")) {
      console.log("  skipped: no lintian (Debian package lintian)");
      return;
    }
    const t = Date.now();
    const r = await sh("lintian", ["--pedantic", "--display-info", "--fail-on", "error,warning,info,pedantic", w.deb], { timeoutMs: 600_000 });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.is(r.stdout, "", "no tag");
    const shown = await sh("lintian", ["--pedantic", "--display-info", "--show-overrides", w.deb], { timeoutMs: 600_000 });
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
    const sources = ["src", "hooks"]
      .flatMap((d) => lines(hostRun("find", [join(ROOT, d), "-name", "*.ts"])))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    for (const w of words) assert.not.match(sources, new RegExp(`\\b${w.replace(/[^A-Za-z]/g, "")}\\b`), `"${w}" is not in ovs-vif's sources`);
  });

  test("man ovs-vif and ovs-vif-setup: no warnings at 80 columns, every command, hook name and variable", async () => {
    if (skip("man")) return;
    const x = join(w.base, "x");
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
    const sources = ["src", "hooks"]
      .flatMap((d) => lines(hostRun("find", [join(ROOT, d), "-name", "*.ts"])))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    const vars = new Set(
      [...sources.matchAll(/\b(OVS_VIF_[A-Z_]+|OVS_RUNDIR|OVN_NB_DB|XENSTORED_PATH|GANETI_HOOKS_PATH|GANETI_ROOTDIR|NO_COLOR)\b/g)].map((m) => m[1]!),
    );
    for (const v of vars) assert.ok(new RegExp(`\\b${v}\\b`).test(env), `variable ${v} in ENVIRONMENT`);
    for (const s of ["SYNOPSIS", "DESCRIPTION", "COMMANDS", "COMMON OPTIONS", "FILES", "EXIT STATUS", "SEE ALSO"]) assert.match(man, new RegExp(`^${s}$`, "m"));
    const setup = pages["ovs-vif-setup"]!;
    for (const o of ["--ganeti", "--xen", "--qemu", "--replace-vif-openvswitch", "--undo", "--dry-run", "--root", "--list"])
      assert.match(setup, new RegExp(`^ {7}${o}\\b`, "m"), o);
  });

  test("the example specs are valid", async () => {
    if (skip("examples")) return;
    const x = join(w.base, "x/usr/share/doc/ovs-vif/examples");
    const r = await sh(BINARY, ["switch", "check", "--spec", join(x, "switches.json")]);
    assert.is(r.code, 0, r.stderr);
    const d = parseNodeDefaults("defaults.json", readFileSync(join(x, "defaults.json"), "utf8"));
    assert.is(d.version, 1);
  });
}
