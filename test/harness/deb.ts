// The Debian package in tests: built from the binary under test, installed
// with the real dpkg (maintainer scripts and all) into a private root.
//
// A private root is a directory with etc/, usr/ and var/: a command run
// inPrivateRoot() sees the host's /etc, /usr and /var with the root's
// directories as overlay upper layers, in a mount namespace of its own, with
// a fresh tmpfs on /run (so no systemd is reachable: maintainer scripts only
// make the enablement links, as on a node installed offline). Whatever dpkg
// and the maintainer scripts write lands in the root; the host's files and
// its dpkg database stay as they are. The same directories can later be the
// upper layers of a Ganeti node's /etc, /usr and /var overlays
// (test/harness/ganeti-cluster.sh), so a node sees the package installed.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BINARY, ROOT } from "./ovs.ts";
import { sh, type Result } from "./proc.ts";
import { onExit } from "./teardown.ts";

const CLEAN_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LC_ALL: "C.UTF-8" };
const LAYERS = ["etc", "usr", "var"] as const;

/** Why the package tests cannot run here, or undefined. */
export function debUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["/usr/bin/dpkg-deb", "/usr/bin/dpkg-shlibdeps", "/usr/bin/unshare"]) if (!existsSync(tool)) return `missing ${tool}`;
  if (!existsSync(BINARY)) return `no binary at ${BINARY} (npm run build)`;
  return undefined;
}

let built: Promise<string> | undefined;
let buildDir: string | undefined;
onExit(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

/** Builds the .deb from the binary under test, once per process, with
 * packaging/build-deb.sh (gzip: the contents are those of `npm run package`,
 * which compresses with xz, in a fraction of the time). Returns its path.
 * OVS_VIF_DEB names one built already: CI builds it once, on Debian 12, and
 * both legs install that same package. */
export function buildDeb(): Promise<string> {
  const given = process.env.OVS_VIF_DEB;
  if (given) {
    if (!existsSync(given)) throw new Error(`OVS_VIF_DEB=${given}: no such file`);
    built ??= Promise.resolve(given);
  }
  built ??= (async () => {
    buildDir = mkdtempSync(join(tmpdir(), "ovs-vif-deb-"));
    const r = await sh(join(ROOT, "packaging/build-deb.sh"), ["--binary", BINARY, "--out", buildDir, "--compression", "gzip"], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`packaging/build-deb.sh failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout.trim();
  })();
  return built;
}

export interface PrivateRootOptions {
  env?: Record<string, string>;
  /** Run inside this network namespace (ip netns exec), e.g. a private OVS's. */
  netns?: string;
  /** Extra bind mounts [host path, path inside], made after /run is fresh,
   * e.g. [ovs.dir, "/run/openvswitch"] for the default OVSDB socket. */
  binds?: [string, string][];
  timeoutMs?: number;
}

// Mounts the layers, a fresh /run, the binds; then execs the command.
const ENTER = `set -euo pipefail
root=$1 work=$2 nbinds=$3; shift 3
for d in ${LAYERS.join(" ")}; do
  mkdir -p "$root/$d" "$work/$d"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$root/$d,workdir=$work/$d" "/$d"
done
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock
for ((i = 0; i < nbinds; i++)); do
  mkdir -p "$2"
  mount --bind "$1" "$2"
  shift 2
done
exec "$@"`;

/** Runs FILE ARGS with root's etc/, usr/ and var/ over the host's (see the top of this file). */
export async function inPrivateRoot(root: string, file: string, args: string[], opts: PrivateRootOptions = {}): Promise<Result> {
  for (const d of LAYERS) mkdirSync(join(root, d), { recursive: true });
  // Overlay work directories must be on the upper layer's file system, and outside it.
  const work = mkdtempSync(join(dirname(root), ".ovs-vif-overlay-work-"));
  try {
    const binds = opts.binds ?? [];
    const inner = [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "bash",
      "-c",
      ENTER,
      "bash",
      root,
      work,
      String(binds.length),
      ...binds.flat(),
      file,
      ...args,
    ];
    const [cmd, ...rest] = opts.netns ? ["ip", "netns", "exec", opts.netns, ...inner] : inner;
    return await sh(cmd!, rest, { env: { ...CLEAN_ENV, ...(opts.env ?? {}) }, timeoutMs: opts.timeoutMs ?? 120_000 });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Like inPrivateRoot, but throws with the output on a non-zero exit. */
export async function mustInPrivateRoot(root: string, file: string, args: string[], opts: PrivateRootOptions = {}): Promise<string> {
  const r = await inPrivateRoot(root, file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} in ${root} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface DebInstall {
  deb: string;
  /** What dpkg -i printed (stdout and stderr). */
  dpkg: string;
  /** What ovs-vif-setup printed: one action a line. */
  setup: string;
}

/**
 * Installs the built .deb into a node's private root with dpkg -i (its
 * maintainer scripts run), then enables the hooks there with ovs-vif-setup
 * (default --ganeti): "installed from the .deb instead of from install.sh".
 *
 * For test/harness/ganeti-cluster.ts: in prepareNodeDir, after the copy of
 * /etc/ganeti and before the node's namespaces start, in place of
 * `install.sh --ganeti --root DIR/root --binary BINARY`:
 *
 *   const inst = await installDebInto(join(dir, "root"));
 *   // inst.setup.trim().split("
").length: the links made
 *
 * root/etc/ganeti receives the links, root/usr the binary, the units and the
 * man pages, root/etc/ovs-vif and root/var/lib/ovs-vif are made by dpkg, and
 * root/var/lib/dpkg records the package, so the node's overlays of /etc,
 * /usr and /var show a node with ovs-vif installed the Debian way. The .deb
 * is built once per process (about 15 s; concurrent calls share it), each
 * node's dpkg -i takes about 2 s.
 */
export async function installDebInto(root: string, opts: { deb?: string; setup?: string[] } = {}): Promise<DebInstall> {
  const deb = opts.deb ?? (await buildDeb());
  const dpkg = await inPrivateRoot(root, "dpkg", ["-i", deb], { timeoutMs: 300_000 });
  if (dpkg.code !== 0) throw new Error(`dpkg -i ${deb} into ${root} failed (exit ${dpkg.code}): ${(dpkg.stderr || dpkg.stdout).trim()}`);
  const setup = await mustInPrivateRoot(root, "ovs-vif-setup", opts.setup ?? ["--ganeti"]);
  return { deb, dpkg: dpkg.stdout + dpkg.stderr, setup };
}
