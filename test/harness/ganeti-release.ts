// The installed Ganeti's release and what differs between releases in the
// CLI the tests call. Apart from ganeti-cluster.ts because it asks dpkg,
// not a cluster: tests read it to pick fixtures and options.
import { spawnSync } from "node:child_process";

/** The installed Ganeti's release, e.g. "3.0" or "3.1" (hook environments,
 * defaults and CLI options differ between them). */
export function ganetiRelease(): string {
  const v = spawnSync("dpkg-query", ["-W", "-f=${Version}", "ganeti"], { encoding: "utf8" }).stdout;
  const m = /^(?:[0-9]+:)?([0-9]+\.[0-9]+)/.exec(v);
  if (!m) throw new Error(`cannot read the installed Ganeti's version (dpkg-query: ${JSON.stringify(v)})`);
  return m[1]!;
}

/** `gnt-instance modify` options for a NIC change that goes to Ganeti's
 * configuration only (the running instance keeps its NIC; ovs-vif's
 * instance-modify hook changes the port): Ganeti 3.1 hotplugs by default,
 * 3.0 does not and knows no --no-hotplug. */
export function configOnly(): string[] {
  const [major, minor] = ganetiRelease().split(".").map(Number) as [number, number];
  return major > 3 || (major === 3 && minor >= 1) ? ["--no-hotplug"] : [];
}
