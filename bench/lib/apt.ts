// The stock packages, fetched at run time and never stored in the repository.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Fetches Debian packages with `apt-get download` into a new temp dir (never into the repository). */
export function aptDownload(packages: string[]): { dir: string; debs: string[]; error?: string } {
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-bench-deb-"));
  process.stderr.write(`bench: fetching ${packages.join(", ")} (apt-get download)...\n`);
  const r = spawnSync("apt-get", ["download", "-q", ...packages], {
    cwd: dir,
    encoding: "utf8",
    timeout: 180_000,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const debs = readdirSync(dir).filter((f) => f.endsWith(".deb"));
  const error =
    r.status === 0 && debs.length === packages.length
      ? undefined
      : (r.error?.message ??
          (r.stderr || r.stdout || "")
            .trim()
            .split("\n")
            .filter((l) => !/unsandboxed/.test(l))
            .slice(-3)
            .join(" | ")) ||
        `exit ${r.status}`;
  return error === undefined ? { dir, debs } : { dir, debs, error };
}
