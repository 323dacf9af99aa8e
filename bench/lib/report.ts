// What every bench ends with: its targets, and the PROBLEMS section when it aborts.

export interface Target {
  name: string;
  value: string;
  pass: boolean;
  /** false: reported, not a gate. */
  gate: boolean;
}

export function targetLines(targets: Target[]): string[] {
  const w = Math.max(...targets.map((t) => t.name.length));
  return targets.map((t) => `  ${t.pass ? "PASS" : "FAIL"}  ${t.name.padEnd(w)}  ${t.value}${t.gate ? "" : "  (reported, not a gate)"}`);
}

/** Runs BODY for its exit code; an exception is printed as PROBLEMS (after PREFIX's lines, if any); CLEANUPS run in order whatever happened. */
export async function guarded(what: string, body: () => Promise<number>, cleanups: (() => unknown)[], prefix: () => string = () => ""): Promise<number> {
  let code: number;
  try {
    code = await body();
  } catch (err) {
    const pre = prefix();
    if (pre) console.log(pre);
    console.log(`\nPROBLEMS\n  ! ${what} aborted: ${(err as Error).stack ?? err}`);
    code = 1;
  } finally {
    for (const c of cleanups) {
      try {
        await c();
      } catch {
        // the next clean-up still runs
      }
    }
  }
  return code;
}
