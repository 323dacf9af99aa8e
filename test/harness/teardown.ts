// Synchronous teardown for the private-daemon harnesses (ovs.ts, ovn.ts):
// cleanups registered here run at process exit and on SIGINT/SIGTERM/SIGHUP,
// the most recently registered first, so a harness built on another one
// stops its own daemons before the one below it goes away.
import { existsSync, readFileSync } from "node:fs";

const cleanups: Array<() => void> = [];

function runAll(): void {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      fn();
    } catch {
      /* keep tearing down the rest */
    }
  }
}
process.once("exit", runAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    runAll();
    process.exit(130);
  });
}

/** Registers `fn` to run once at exit or on a signal. */
export function onExit(fn: () => void): void {
  cleanups.push(fn);
}

/** SIGKILLs the process named in a pid file, if the file and the process exist. */
export function killPidfile(path: string): void {
  if (!existsSync(path)) return;
  const pid = Number(readFileSync(path, "utf8").trim());
  if (pid > 0) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}
