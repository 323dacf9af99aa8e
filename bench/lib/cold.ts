// Cold runs: the page cache dropped before each, as on a node under memory
// pressure, where a hook's binary and the stock scripts' interpreters and tools
// are read from disk again. Needs root.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

/** Cold runs per contender. */
export const COLD_RUNS = 8;

/** `ovs-vif watch` running, as the package's ovs-vif-watch.service keeps it
 * on every node: a process that maps the binary keeps its pages in memory
 * (dropping the page cache leaves mapped pages alone, and reclaim prefers
 * unmapped ones). Resolves once it runs; stop() ends it. */
export async function startWatcher(binary: string, env: NodeJS.ProcessEnv): Promise<{ stop(): void }> {
  const child = spawn(binary, ["watch", "--sweep", "3600"], { env, stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode !== null) throw new Error(`ovs-vif watch exited at once (${child.exitCode})`);
  return { stop: () => child.kill("SIGTERM") };
}

export function dropPageCache(): void {
  spawnSync("sync", []);
  writeFileSync("/proc/sys/vm/drop_caches", "3\n");
}
