// The same `online` twice in one process (bench/plug-twice.ts, compiled with
// the product's flags, modules loaded before either): the first run's excess
// over the second is the runtime's first use of what the hook runs.
import { join } from "node:path";
import { compileAsProduct } from "../lib/product-build.ts";
import { timedSpawn } from "../lib/timed-spawn.ts";

export interface Twice {
  first: number[];
  second: number[];
  /** Each step's times in the first and in the second run, by mark. */
  steps: readonly [Map<string, number[]>, Map<string, number[]>];
  /** The steps in the first run's order. */
  order: string[];
}

/** RUNS runs (after 2 more) of plug-twice with ENV; RESET before each, CHECK after. */
export async function plugTwice(
  tmp: string,
  env: NodeJS.ProcessEnv,
  runs: number,
  reset: () => Promise<void>,
  check: (what: string) => Promise<void>,
): Promise<Twice> {
  const twiceBinary = join(tmp, "plug-twice");
  compileAsProduct(join(import.meta.dirname, "..", "plug-twice.ts"), twiceBinary);
  const twice: Twice = { first: [], second: [], steps: [new Map<string, number[]>(), new Map<string, number[]>()] as const, order: [] };
  for (let i = 0; i < runs + 2; i++) {
    await reset();
    // Marks on (both runs alike): the steps of each.
    const r = await timedSpawn(twiceBinary, [], env);
    const m = /plug-twice first=([\d.]+) offline=[\d.]+ second=([\d.]+)/.exec(r.stderr);
    if (r.code !== 0 || !m) throw new Error(`plug-twice failed (exit ${r.code}): ${r.stderr}`);
    await check("plug-twice run");
    if (i < 2) continue;
    twice.first.push(Number(m[1]));
    twice.second.push(Number(m[2]));
    const marks = [...r.stderr.matchAll(/^trace ([\d.]+) ms (.*)$/gm)].map((x) => ({ at: Number(x[1]), name: x[2]! }));
    for (const [k, [from, to]] of [
      ["first online", "offline"],
      ["second online", undefined],
    ].entries()) {
      const start = marks.findIndex((x) => x.name === from);
      const end = to === undefined ? marks.length : marks.findIndex((x) => x.name === to);
      for (let j = start + 1; j < end; j++) {
        const name = marks[j]!.name;
        if (k === 0 && !twice.order.includes(name)) twice.order.push(name);
        const list = twice.steps[k as 0 | 1].get(name) ?? [];
        list.push(marks[j]!.at - marks[j - 1]!.at);
        twice.steps[k as 0 | 1].set(name, list);
      }
    }
  }
  return twice;
}
