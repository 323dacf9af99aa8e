// The private mount + network namespace every bench runs in, and its temp dirs.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

/**
 * Re-executes this script in a private mount + network namespace
 * (`unshare --mount --net --propagation private`) and exits with its status:
 * binds made there (/var/log/xen, /dev/log) vanish with it, and contenders are
 * spawned directly, as Xen and Ganeti spawn them. `prepare` runs first, outside
 * (the new namespace has no network: fetch the stock packages there); it returns
 * environment for the inner run and a cleanup. Inside, /sys is remounted for the
 * namespace. Returns true inside, false when no namespace could be made.
 */
export async function enterPrivateNamespaces(mark: string, prepare: () => Promise<{ env: Record<string, string>; cleanup(): void }>): Promise<boolean> {
  if (process.env[mark] === undefined) {
    const probe = spawnSync("unshare", ["--mount", "--net", "--propagation", "private", "true"], { encoding: "utf8" });
    if (probe.status !== 0) {
      process.stderr.write(`bench: cannot enter a private mount + network namespace (${probe.error?.message ?? probe.stderr.trim()})\n`);
      process.env[mark] = "0";
      return false;
    }
    const { env, cleanup } = await prepare();
    const r = spawnSync("unshare", ["--mount", "--net", "--propagation", "private", process.execPath, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, ...env, [mark]: "1" },
    });
    cleanup();
    process.exit(r.status ?? 1);
  }
  if (process.env[mark] !== "1") return false;
  // sysfs shows the network namespace of whoever mounted it: show ours.
  spawnSync("mount", ["-t", "sysfs", "sysfs", "/sys"]);
  return true;
}

/** Mount points strictly below DIR (from /proc/self/mountinfo), outermost first. */
export function mountsBelow(dir: string): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((p): p is string => p !== undefined && p.startsWith(`${dir}/`));
  const sorted = [...new Set(points)].sort((a, b) => a.length - b.length);
  return sorted.filter((p, i) => !sorted.slice(0, i).some((q) => p.startsWith(`${q}/`)));
}

/** Removes a temp dir, refusing when anything is still mounted below it. */
export function removeTemp(dir: string): void {
  const mounted = mountsBelow(dir);
  for (const m of mounted.reverse()) spawnSync("umount", ["-l", m]);
  if (mountsBelow(dir).length > 0) throw new Error(`not removing ${dir}: still mounted below it`);
  rmSync(dir, { recursive: true, force: true });
}
