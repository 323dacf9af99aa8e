// Timing and statistics shared by the benchmarks.
import { spawn } from "node:child_process";

export interface Run {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Wall clock from spawn to the child's exit. */
export function timedSpawn(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    let ms = 0;
    let code = -1;
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
      resolvePromise({ ms, code, stdout, stderr });
    });
  });
}

export interface Stats {
  n: number;
  median: number;
  p90: number;
  min: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)]!;
  return { n, median, p90, min: s[0]! };
}

