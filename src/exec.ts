// Child processes, always with an argument vector (never a shell). execa is
// loaded on first use: most paths of this binary never start a process and
// its import cost would be paid on every VM start.
import { InputError } from "./errors.ts";

export class CommandError extends Error {
  override readonly name = "CommandError";
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly output: string,
  ) {
    super(`${command} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ""}${output ? `: ${output}` : ""}`);
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function run(file: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; reject?: boolean } = {}): Promise<RunResult> {
  const { execa } = await import("execa");
  const res = await execa(file, args, {
    input: opts.input,
    timeout: opts.timeoutMs ?? 10_000,
    env: opts.env,
    reject: false,
    stripFinalNewline: true,
    shell: false,
  });
  const exitCode = typeof res.exitCode === "number" ? res.exitCode : -1;
  const result = { stdout: String(res.stdout ?? ""), stderr: String(res.stderr ?? ""), exitCode };
  if (opts.reject !== false && (exitCode !== 0 || res.failed)) {
    const out = (result.stderr || result.stdout || (res.timedOut ? "timed out" : "")).trim().split("\n").slice(-3).join(" ");
    throw new CommandError([file, ...args].join(" "), exitCode >= 0 ? exitCode : undefined, out);
  }
  return result;
}

/** Rejects values that would read as an option to the tools we run. */
export function noOption(field: string, value: string): string {
  if (value.startsWith("-")) throw new InputError(field, value, "must not start with '-'");
  return value;
}
