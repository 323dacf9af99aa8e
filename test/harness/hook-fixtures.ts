// Ganeti hook environments captured from the real cluster
// (test/system/ganeti-cluster-lifecycle.test.ts writes them with
// OVS_VIF_UPDATE_FIXTURES=1 and otherwise checks the committed files against
// what Ganeti sends): test/fixtures/ganeti-hooks/RELEASE/PATH-PHASE.env, one
// KEY=value line per variable, sorted, exactly what the hook process got.
// One set per Ganeti release (3.0 on Debian 12, 3.1 on Debian 13: their
// defaults differ, e.g. vhost_net and disk_discard).
import { readFileSync } from "node:fs";
import { join } from "node:path";
// The repository root (no OVS harness needed here).
const ROOT = join(import.meta.dirname, "..", "..");

/** The Ganeti releases fixtures were captured from. */
export const GANETI_RELEASES = ["3.0", "3.1"] as const;
export type GanetiRelease = (typeof GANETI_RELEASES)[number];

export function fixtureDir(release: string): string {
  return join(ROOT, "test/fixtures/ganeti-hooks", release);
}

/** The hook paths captured (node-add needs a second node: not captured). */
export const CAPTURED_PATHS = ["instance-start", "instance-stop", "instance-modify", "instance-reboot", "network-connect", "network-disconnect"] as const;

/** The paths captured from a release: 3.1 added network-rename. */
export function capturedPaths(release: string): string[] {
  return release === "3.0" ? [...CAPTURED_PATHS] : [...CAPTURED_PATHS, "network-rename"];
}
export const PHASES = ["pre", "post"] as const;

export const fixtureName = (path: string, phase: string) => `${path}-${phase}.env`;

/** Parses KEY=value lines (the value is everything after the first "="). */
export function parseEnvFile(text: string, what = "env file"): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`${what}:${i + 1}: not KEY=value: ${JSON.stringify(line)}`);
    if (m[1]! in env) throw new Error(`${what}:${i + 1}: ${m[1]} twice`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

export function loadFixture(path: string, phase: string, release: string = "3.0"): Record<string, string> {
  const file = join(fixtureDir(release), fixtureName(path, phase));
  return parseEnvFile(readFileSync(file, "utf8"), file);
}

/** Sorted KEY=value lines, as the fixtures are stored. */
export function formatEnvFile(env: Record<string, string>): string {
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}\n`)
    .join("");
}

/** For comparing a captured value with the fixture's: UUIDs are random per
 * cluster, and Ganeti lists tags (`*_TAGS`, space-separated) in set order,
 * which varies from run to run; everything else is stable. */
export function normalizeHookValue(key: string, value: string): string {
  const v = value.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>");
  return key.endsWith("_TAGS") ? v.split(" ").filter(Boolean).sort().join(" ") : v;
}
