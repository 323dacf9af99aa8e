// The runtime floor and `ovs-vif --version`, timed and reported alike by every bench.
import { fmt, stats } from "./stats.ts";
import type { Target } from "./report.ts";
import { timedSpawn } from "./timed-spawn.ts";

export const TARGET_VERSION_ABOVE_FLOOR_MS = 1.5;

/** The floor and `BINARY --version`, alternating so both see the same machine (3 warm-ups each). */
export async function floorAndVersion(floor: string, binary: string, env: NodeJS.ProcessEnv, runs: number): Promise<{ floor: number[]; version: number[] }> {
  const out = { floor: [] as number[], version: [] as number[] };
  for (let i = 0; i < 3 + runs; i++) {
    const f = await timedSpawn(floor, [], env);
    const v = await timedSpawn(binary, ["--version"], env);
    if (f.code !== 0) throw new Error(`floor program: exit ${f.code}: ${f.stderr.trim()}`);
    if (v.code !== 0 || !/^ovs-vif \S+/.test(v.stdout)) throw new Error(`--version: exit ${v.code}, printed ${JSON.stringify(v.stdout)}`);
    if (i >= 3) {
      out.floor.push(f.ms);
      out.version.push(v.ms);
    }
  }
  return out;
}

/** "label  median-floor" lines for ovs-vif's measurements. */
export function aboveFloorLines(rows: { label: string; xs: number[] }[], floor: number[]): string[] {
  const f = floor.length ? stats(floor).median : undefined;
  const w = Math.max(...rows.map((r) => r.label.length));
  const out = [`runtime floor (empty program compiled as the product): median ${fmt(f)} ms; ovs-vif above the floor (median - floor, ms):`];
  for (const r of rows) if (r.xs.length) out.push(`  ${r.label.padEnd(w)}  ${fmt(f === undefined ? undefined : stats(r.xs).median - f).padStart(8)}`);
  return out;
}

export function versionTarget(version: number[], floor: number[]): Target {
  const v = version.length ? stats(version).median : undefined;
  const f = floor.length ? stats(floor).median : undefined;
  const above = v !== undefined && f !== undefined ? v - f : undefined;
  return {
    name: `ovs-vif --version within ${TARGET_VERSION_ABOVE_FLOOR_MS} ms of the floor`,
    value: `${fmt(above)} ms above (${fmt(v)} vs ${fmt(f)})`,
    pass: above !== undefined && above <= TARGET_VERSION_ABOVE_FLOOR_MS,
    gate: true,
  };
}
