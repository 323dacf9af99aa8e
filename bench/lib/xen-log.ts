// Xen's hotplug log directory, private to the bench: both Xen contenders append
// /var/log/xen/xen-hotplug.log as in production, and the system's stays untouched.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Bind-mounts a temp dir over /var/log/xen (private mount namespace only); returns the dir the log lands in. */
export function isolateXenLog(tmp: string, privateNamespace: boolean): { dir: string; note: string } | undefined {
  if (!privateNamespace) return undefined;
  if (existsSync("/var/log/xen")) {
    const dir = join(tmp, "var-log-xen");
    mkdirSync(dir, { recursive: true });
    if (spawnSync("mount", ["--bind", dir, "/var/log/xen"]).status !== 0) return undefined;
    return {
      dir,
      note: "/var/log/xen: a temp dir is bind-mounted over it in the bench's private mount namespace; the hooks append their hotplug log there (system /var/log/xen untouched).",
    };
  }
  // No /var/log/xen on this host: shadow /var/log (in this namespace only)
  // with a temp dir holding xen/, rather than creating a system directory.
  const shadow = join(tmp, "var-log");
  mkdirSync(join(shadow, "xen"), { recursive: true });
  if (spawnSync("mount", ["--bind", shadow, "/var/log"]).status !== 0) return undefined;
  return {
    dir: join(shadow, "xen"),
    note: "/var/log/xen did not exist: /var/log is shadowed by a temp dir holding xen/ in the bench's private mount namespace (nothing created at system paths).",
  };
}
