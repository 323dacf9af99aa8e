// Debian's stock Xen hotplug scripts (xen-utils-common), from the .deb fetched
// with `apt-get download` outside the bench's namespace (it has no network).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { aptDownload } from "./apt.ts";

export const XEN_STOCK_PACKAGE = "xen-utils-common";

export interface XenStock {
  scriptsDir: string;
  version: string;
}

/** The xen-utils-common .debs in DIR (none when DIR is unset or missing). */
export function xenStockDebs(dir: string | undefined): string[] {
  return dir && existsSync(dir) ? readdirSync(dir).filter((f) => /^xen-utils-common_.*\.deb$/.test(f)) : [];
}

/** The stock scripts unpacked into WORKDIR, from PREFETCHED's .deb (else downloaded here, outside any namespace); undefined, with the reason in PROBLEMS, when they cannot be had. */
export function unpackXenStock(workDir: string, prefetched: string | undefined, problems: string[]): XenStock | undefined {
  const pre = xenStockDebs(prefetched);
  const dl = pre.length > 0 ? { dir: prefetched!, debs: pre, error: undefined } : aptDownload([XEN_STOCK_PACKAGE]);
  const deb = dl.debs[0];
  if (dl.error || deb === undefined) {
    problems.push(`stock script unavailable: 'apt-get download xen-utils-common' failed (${dl.error}); try 'apt-get update' first. Only ovs-vif was measured.`);
    return undefined;
  }
  const root = join(workDir, "root");
  const x = spawnSync("dpkg", ["-x", join(dl.dir, deb), root], { encoding: "utf8", timeout: 60_000 });
  if (dl.dir !== prefetched) rmSync(dl.dir, { recursive: true, force: true });
  const scriptsDir = join(root, "etc", "xen", "scripts");
  if (x.status !== 0 || !existsSync(join(scriptsDir, "vif-openvswitch"))) {
    problems.push(`stock script unavailable: dpkg -x ${deb} failed or has no etc/xen/scripts/vif-openvswitch (${(x.stderr || "").trim()})`);
    return undefined;
  }
  return { scriptsDir, version: deb.replace(/^xen-utils-common_/, "").replace(/_[^_]*\.deb$/, "") };
}
