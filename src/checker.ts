// Validation of the JSON files ovs-vif reads (the switch spec, the node's
// QoS defaults, the Ganeti snapshot of `reconcile --export`). A Checker walks
// a parsed document and collects every problem with its JSON path, e.g.
//   /etc/ovs-vif/switches.json: switches[0].mtu 70000: out of range 68..65535
// so an operator fixes a file in one pass. Values with a kind of their own
// (bridge, device, VLAN, rate) are checked by the same validators the hooks
// use (names.ts, vlan.ts, qos.ts).
import { readFile } from "./files.ts";
import { InputError } from "./errors.ts";

/** Every problem found in one file, each with its JSON path. */
export class DocumentError extends InputError {
  override readonly name = "DocumentError";
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(file, "", problems.join("; "));
    const shown = problems.length > 12 ? [...problems.slice(0, 12), `(and ${problems.length - 12} more)`] : problems;
    this.message = `${file}: ${shown.join("; ")}`;
  }
}

export type Obj = Record<string, unknown>;

export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `a.b`, `a["odd key"]`, or the key alone at the top. */
export function keyPath(path: string, key: string): string {
  const step = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return path === "" ? step.replace(/^\./, "") : `${path}${step}`;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

export class Checker {
  readonly problems: string[] = [];

  fail(path: string, value: unknown, reason: string): undefined {
    this.problems.push(`${path} ${show(value)}: ${reason}`);
    return undefined;
  }

  missing(path: string, reason = "required"): undefined {
    this.problems.push(`${path}: ${reason}`);
    return undefined;
  }

  object(path: string, value: unknown): Obj | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return this.fail(path, value, "expected an object");
    return value as Obj;
  }

  /** Rejects keys outside `allowed`, suggesting the closest known key. */
  keys(path: string, obj: Obj, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const near = allowed.filter((a) => distance(a.replace(/_/g, "-"), key.replace(/_/g, "-")) <= 2);
      this.problems.push(`${keyPath(path, key)}: unknown key${near.length ? ` (did you mean ${listWords(near)}?)` : ` (known: ${allowed.join(", ")})`}`);
    }
  }

  array(path: string, value: unknown): unknown[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, value, "expected a list");
    return value;
  }

  string(path: string, value: unknown, what = "a string"): string | undefined {
    if (typeof value !== "string") return this.fail(path, value, `expected ${what}`);
    return value;
  }

  /** A list of strings. */
  strings(path: string, value: unknown, what = "a string"): string[] | undefined {
    const list = this.array(path, value);
    if (!list) return undefined;
    const out: string[] = [];
    list.forEach((v, i) => {
      const s = this.string(`${path}[${i}]`, v, what);
      if (s !== undefined) out.push(s);
    });
    return out.length === list.length ? out : undefined;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    return this.fail(path, value, `expected ${listWords(allowed)}`);
  }

  integer(path: string, value: unknown, min: number, max: number, what = "a whole number"): number | undefined {
    if (typeof value !== "number" || !Number.isInteger(value)) return this.fail(path, value, `expected ${what} ${min}..${max}`);
    if (value < min || value > max) return this.fail(path, value, `out of range ${min}..${max}`);
    return value;
  }

  boolean(path: string, value: unknown): boolean | undefined {
    if (typeof value !== "boolean") return this.fail(path, value, "expected true or false");
    return value;
  }

  /** A string checked by one of the project's validators (which throw an
   * InputError): its reason becomes this path's problem. */
  valid<T>(path: string, value: unknown, validate: (field: string, raw: string) => T, what = "a string"): T | undefined {
    if (typeof value !== "string") return this.fail(path, value, `expected ${what}`);
    try {
      return validate(path, value);
    } catch (err) {
      if (err instanceof InputError) return this.fail(path, value, err.reason);
      throw err;
    }
  }

  /** Throws every problem at once, if there is any. */
  done(file: string): void {
    if (this.problems.length > 0) throw new DocumentError(file, this.problems);
  }
}

function lineHint(text: string, err: Error): string {
  const pos = /position (\d+)/.exec(err.message);
  if (!pos) return "";
  const before = text.slice(0, Number(pos[1]));
  const line = before.split("\n").length;
  const col = before.length - before.lastIndexOf("\n");
  return ` (line ${line}, column ${col})`;
}

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DocumentError(file, [`not valid JSON: ${(err as Error).message}${lineHint(text, err as Error)}`]);
  }
}

/** Reads a file; undefined when it does not exist and `optional`. Any other
 * failure (a directory, no permission) names `field` and the path. */
export function readTextFile(field: string, path: string, optional: boolean, hint = ""): string | undefined {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === "ENOENT" || code === "ENOTDIR") && optional) return undefined;
    const why = code === "ENOENT" ? `no such file${hint}` : code === "EISDIR" ? "is a directory, not a file" : code === "EACCES" ? "permission denied" : `cannot read: ${(err as Error).message}`;
    throw new InputError(field, path, why);
  }
}
