// Ganeti's stock NIC scripts, for comparison tests and the benchmark: the
// distribution's Ganeti package (ganeti-3.0 on Debian 12, ganeti-3.1 on
// Debian 13: whatever the `ganeti` package depends on) is fetched at run time
// (`apt-get download` in a temp dir, `dpkg -x`), never copied into this
// repository. Where the download is not
// possible (no network), the same package's files as installed are used,
// and the caller is told which. kvm-ifup sources /usr/lib/ganeti/net-common by
// absolute path; the runnable copy here sources the extracted one instead.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sh } from "./proc.ts";

export interface StockGaneti {
  dir: string;
  /** Where the files came from (for the test output). */
  source: string;
  /** The versioned package they came from, e.g. ganeti-3.1. */
  pkg: string;
  netCommon: string;
  /** kvm-ifup, sourcing the extracted net-common. */
  kvmIfup: string;
  /** A driver running net-common's setup_bridge/setup_ovs/setup_route for the
   * environment's NIC, as kvm-ifup's built-in path does (no kvm-vif-bridge). */
  driver: string;
  cleanup(): void;
}

let cached: Promise<StockGaneti> | undefined;

function findFile(root: string, name: string): string | undefined {
  const stack = [root];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name === name && (e.isFile() || e.isSymbolicLink())) return p;
    }
  }
  return undefined;
}

/** The versioned package holding Ganeti's scripts: the first dependency of
 * `ganeti` (installed, else the archive's candidate). */
export async function ganetiScriptsPackage(): Promise<string> {
  const installed = await sh("dpkg-query", ["-W", "-f=${Depends}", "ganeti"]);
  let first = installed.code === 0 ? /^(ganeti-[0-9.]+)\b/.exec(installed.stdout)?.[1] : undefined;
  if (!first) {
    const cand = await sh("apt-cache", ["depends", "ganeti"]);
    first = /Depends: (ganeti-[0-9.]+)\b/.exec(cand.stdout)?.[1];
  }
  if (!first) throw new Error("cannot tell which ganeti-X.Y package holds Ganeti's scripts (neither dpkg nor apt-cache knows package ganeti)");
  return first;
}

async function fetch(): Promise<StockGaneti> {
  const pkg = await ganetiScriptsPackage();
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-ganeti-stock-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  let source: string;
  // apt-get download writes into the current directory.
  const dl = await sh("env", ["-C", dir, "apt-get", "download", "-q", pkg], { timeoutMs: 120000, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  const debs = readdirSync(dir).filter((f) => f.endsWith(".deb"));
  if (dl.code === 0 && debs.length === 1) {
    const x = await sh("dpkg", ["-x", join(dir, debs[0]!), join(dir, "root")], { timeoutMs: 60000 });
    if (x.code !== 0) throw new Error(`dpkg -x ${debs[0]} failed: ${x.stderr}`);
    source = `downloaded ${debs[0]}`;
  } else {
    // No download (offline): the installed package's own copies.
    const files = await sh("dpkg", ["-L", pkg]);
    const wanted = files.stdout.split("\n").filter((f) => /\/usr\/lib\/ganeti\/(net-common|kvm-ifup)$/.test(f));
    if (files.code !== 0 || wanted.length < 2) {
      throw new Error(
        `cannot get Ganeti's stock scripts: apt-get download failed (${(dl.stderr || dl.stdout).trim().split("\n").pop()}) and ${pkg} is not installed`,
      );
    }
    for (const f of wanted) {
      mkdirSync(join(dir, "root", "installed"), { recursive: true });
      copyFileSync(f, join(dir, "root", "installed", f.split("/").pop()!));
    }
    source = `installed ${pkg} (apt-get download failed)`;
  }
  const netCommon = findFile(join(dir, "root"), "net-common");
  const kvmIfupOrig = findFile(join(dir, "root"), "kvm-ifup");
  if (!netCommon || !kvmIfupOrig) throw new Error(`net-common or kvm-ifup missing from the ${pkg} package (${source})`);
  const kvmIfup = join(dir, "kvm-ifup");
  const text = readFileSync(kvmIfupOrig, "utf8");
  if (!text.includes("source /usr/lib/ganeti/net-common")) throw new Error("kvm-ifup no longer sources /usr/lib/ganeti/net-common; update the harness");
  writeFileSync(kvmIfup, text.replace("source /usr/lib/ganeti/net-common", `source ${netCommon}`));
  chmodSync(kvmIfup, 0o755);
  const driver = join(dir, "net-common-driver");
  writeFileSync(driver, `#!/bin/bash\nsource ${netCommon}\ncheck\nsetup_bridge\nsetup_ovs\nsetup_route\n`);
  chmodSync(driver, 0o755);
  if (!existsSync(netCommon)) throw new Error("net-common vanished");
  return { dir, source, pkg, netCommon, kvmIfup, driver, cleanup };
}

export function stockGaneti(): Promise<StockGaneti> {
  cached ??= fetch();
  return cached;
}
