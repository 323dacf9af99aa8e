// One child timed from spawn to exit. test/harness/proc.ts's sh() would stop
// the clock when the child's pipes close, which a process it leaves behind can
// delay, and gives the child a stdin pipe no hook gets from its caller.
import { spawn } from "node:child_process";

export interface Run {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
  /** Wall clock (epoch ms) at spawn, to attribute syslog lines to runs. */
  start: number;
  pid: number;
}

/** Wall clock from spawn to the child's exit. */
export function timedSpawn(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    let ms = 0;
    let code = -1;
    const start = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} ${args.join(" ")}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (c, signal) => {
      ms = performance.now() - t0;
      code = c ?? (signal ? 128 : -1);
    });
    child.on("close", () => {
      clearTimeout(timer);
      resolvePromise({ ms, code, stdout, stderr, start, pid: child.pid ?? -1 });
    });
  });
}
