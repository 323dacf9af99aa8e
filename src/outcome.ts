// What a command did to each port or row, one line each, and whether it failed.
import { out, type RunContext } from "./context.ts";

export interface Outcome {
  line: string;
  failed: boolean;
}

/** Outcome lines on stdout and in the log; true when one failed. */
export function reportOutcomes(results: Outcome[], ctx: RunContext, prefix: string): boolean {
  for (const r of results) {
    out(r.line + "\n");
    ctx.log.write(r.failed ? "error" : "info", `${prefix}${r.line}`);
  }
  return results.some((r) => r.failed);
}
