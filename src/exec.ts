// Child processes, always with an argument vector (never a shell).
//
// Built on node:child_process rather than execa: in the compiled binary,
// importing execa cost 5-12 ms and each execa run ~2-4 ms more than a plain
// spawn, on a path (VM start, migration) where the whole budget is ~14 ms.
import { CommandError } from "./errors.ts";

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** false: resolve with the exit code instead of throwing on failure. */
  reject?: boolean;
}

export function run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].join(" ");
  // Loaded on first use: the VM-start path runs no process.
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], shell: false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 10_000);
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new CommandError(command, undefined, e.code === "ENOENT" ? `${file}: command not found` : e.message));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = {
        stdout: Buffer.concat(out).toString("utf8").replace(/\n$/, ""),
        stderr: Buffer.concat(err).toString("utf8").replace(/\n$/, ""),
        exitCode: code ?? -1,
      };
      if (opts.reject !== false && (code !== 0 || timedOut)) {
        const why = timedOut ? `timed out after ${opts.timeoutMs ?? 10_000} ms` : (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" ");
        reject(new CommandError(command, code ?? undefined, why || (signal ? `killed by ${signal}` : "")));
        return;
      }
      resolve(result);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
