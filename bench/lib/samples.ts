// Timed samples by key, kept in the order the keys were first recorded (the order the report lists them in).
import { stats } from "./stats.ts";

export class Samples {
  private readonly byKey = new Map<string, number[]>();

  add(key: string, ms: number): void {
    const xs = this.byKey.get(key);
    if (xs) xs.push(ms);
    else this.byKey.set(key, [ms]);
  }

  get(key: string): number[] | undefined {
    return this.byKey.get(key);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  median(key: string): number | undefined {
    const xs = this.byKey.get(key);
    return xs && xs.length > 0 ? stats(xs).median : undefined;
  }

  /** Ratio of the medians of A and B. */
  ratio(a: string, b: string): number | undefined {
    const ma = this.median(a);
    const mb = this.median(b);
    return ma === undefined || mb === undefined ? undefined : ma / mb;
  }
}
