// What the tests of install.test.ts share: install.sh's path, the hook
// locations per integration (--xen, --ganeti, --qemu), Xen's stock script,
// the fake binary, the temp dirs every test works in (removed by the test
// file's after()), running install.sh with its stderr kept, and the tree
// listings the tests compare. Apart from the test groups so each of them
// reads the same helpers.
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { KVM_SCRIPT_TEXT, KVM_TARGET } from "../../harness/kvm-script.ts";
import { GANETI_HOOK_PATHS, GANETI_PRE_HOOK_PATHS } from "../../../src/roles.ts";
import { BINARY } from "../../harness/ovs.ts";

export const SCRIPT = fileURLToPath(new URL("../../../install.sh", import.meta.url));
export const BIN = "/usr/lib/ovs-vif/ovs-vif";
export const ALL = ["--xen", "--ganeti", "--qemu"];

export const XEN_LINKS = ["/etc/xen/scripts/vif-openvswitch"];
export const GANETI_LINKS = [
  "/etc/ganeti/kvm-vif-bridge",
  ...["openvswitch", "bridged", "routed"].flatMap((m) => [`/etc/ganeti/network/${m}/up`, `/etc/ganeti/network/${m}/down`]),
  "/etc/xen/scripts/vif-custom",
  ...GANETI_HOOK_PATHS.map((h) => `/etc/ganeti/hooks/${h}-post.d/ovs-vif`),
  ...GANETI_PRE_HOOK_PATHS.map((h) => `/etc/ganeti/hooks/${h}-pre.d/ovs-vif`),
];
export const QEMU_LINKS = ["/etc/ovs-vif/qemu-ifup", "/etc/ovs-vif/qemu-ifdown"];
export const ALL_LINKS = ["/usr/sbin/ovs-vif", KVM_TARGET, ...XEN_LINKS, ...GANETI_LINKS, ...QEMU_LINKS];
/** Ganeti copies kvm-vif-bridge's content to every node: it is a small script, not a link. */
export const KVM_SCRIPT = "/etc/ganeti/kvm-vif-bridge";

export const STOCK = '#!/bin/bash\n# stock Xen vif-openvswitch\ndir=$(dirname "$0")\n. "$dir/vif-common.sh"\n';

export interface Env {
  base: string;
  root: string;
  bin: string;
}

/** A stand-in binary: says which it is, and answers hook-locations as the real one does (install.sh asks it). */
export const fakeBinary = (version: string) => `#!/bin/sh\n[ "$1" = hook-locations ] && exec ${BINARY} hook-locations\necho "fake ovs-vif ${version} $0"\n`;

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

/** The temp dirs the tests made (removed by the test file's after()) and install.sh run with them. */
export class World {
  readonly tempDirs: string[] = [];
  logDir = "";
  runCount = 0;

  /** A fresh temp dir holding root/ (the --root) and a fake binary beside it. */
  setup(binText = fakeBinary("v1")): Env {
    const base = mkdtempSync(join(tmpdir(), "ovs-vif-install-"));
    this.tempDirs.push(base);
    const root = join(base, "root");
    mkdirSync(root);
    const bin = join(base, "fake-ovs-vif");
    writeFileSync(bin, binText);
    chmodSync(bin, 0o755);
    return { base, root, bin };
  }

  /** Run install.sh (or `script`, e.g. a link to it) with an argument array;
   * stderr goes through a file so it is kept on success too. */
  run(args: string[], script = SCRIPT): Result {
    if (!this.logDir) {
      this.logDir = mkdtempSync(join(tmpdir(), "ovs-vif-install-log-"));
      this.tempDirs.push(this.logDir);
    }
    const errFile = join(this.logDir, `stderr.${this.runCount++}`);
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
  ok(env: Env, ...args: string[]): Result {
    const r = this.run(["--root", env.root, "--binary", env.bin, ...args]);
    assert.is(r.status, 0, `install.sh ${args.join(" ")} failed: ${r.stderr}`);
    return r;
  }
}

export const lines = (s: string) => s.split("\n").filter((l) => l !== "");
export const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** Recursive listing: path, type, mode, inode and link target or content hash. */
export function listing(root: string): string[] {
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
export function resolveInRoot(root: string, path: string): string {
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
export function ourLinks(root: string): string[] {
  const links = listing(root)
    .filter((l) => l.endsWith(` -> ${BIN}`))
    .map((l) => l.split(" ")[0]!);
  const script = join(root, KVM_SCRIPT);
  if (existsSync(script) && !lstatSync(script).isSymbolicLink() && readFileSync(script, "utf8") === KVM_SCRIPT_TEXT) links.push(KVM_SCRIPT);
  return links;
}
