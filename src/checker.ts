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

/** The most a node file may hold, and how deep its JSON may nest: a file
 * beyond either is refused, naming it, before anything walks it. */
export const JSON_MAX_BYTES = 16 << 20;
export const JSON_MAX_DEPTH = 64;

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  return `line ${before.split("\n").length}, column ${pos - before.lastIndexOf("\n")}`;
}

/** The first thing wrong with a node file's JSON text, in our words, with
 * line and column; undefined when there is none. One pass, before
 * JSON.parse and before anything walks the document: syntax, nesting deeper
 * than `maxDepth` (the recursion stops there), and a key given twice in one
 * object (JSON.parse keeps the last: one value would silently win). */
export function jsonProblem(text: string, maxDepth = JSON_MAX_DEPTH): string | undefined {
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      i++;
    }
  };
  const stop = (message: string): never => {
    throw new JsonStop(message);
  };
  const fail = (what: string): never =>
    stop(
      `not valid JSON: ${i >= text.length ? `${what}: the text ends at ${lineCol(text, text.length)}` : `${what}: ${show(text.slice(i, i + 12))} at ${lineCol(text, i)}`}`,
    );
  const string = (): string => {
    const start = ++i;
    let plain = true;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail("a control character inside a string (write it as \\uXXXX)");
      if (c === 0x5c) {
        plain = false;
        const e = text[i + 1] ?? "";
        if (e === "u" ? !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)) : e === "" || !'"\\/bfnrt'.includes(e)) fail("a bad escape in a string");
        i += e === "u" ? 6 : 2;
        continue;
      }
      i++;
    }
    const raw = text.slice(start, i++);
    return plain ? raw : (JSON.parse(`"${raw}"`) as string);
  };
  const value = (depth: number): void => {
    ws();
    const ch = text[i];
    if (ch === "{" || ch === "[") {
      if (depth >= maxDepth) stop(`nested deeper than ${maxDepth} levels (at ${lineCol(text, i)})`);
      const close = ch === "{" ? "}" : "]";
      const keys = ch === "{" ? new Set<string>() : undefined;
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (keys) {
          ws();
          if (text[i] !== '"') fail("expected a key in double quotes");
          const at = i;
          const key = string();
          if (keys.has(key)) stop(`key ${show(key)} given twice in one object (${lineCol(text, at)}): one value would silently win`);
          keys.add(key);
          ws();
          if (text[i] !== ":") fail("expected ':' after the key");
          i++;
        }
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail(`expected ',' or '${close}'`);
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    const lit = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(text.slice(i, i + 400));
    if (!lit) fail("expected a value");
    i += lit![0].length;
  };
  try {
    ws();
    if (i >= text.length) return "not valid JSON: empty";
    value(0);
    ws();
    if (i < text.length) fail("more after the value");
    return undefined;
  } catch (err) {
    if (err instanceof JsonStop) return err.message;
    throw err;
  }
}

class JsonStop extends Error {}

/** Parses a node file's JSON: size and nesting bounded, keys unique, any
 * problem a DocumentError naming `file` (line and column, in our words). */
export function parseJson(text: string, file: string): unknown {
  if (text.length > JSON_MAX_BYTES) throw new DocumentError(file, [`larger than ${JSON_MAX_BYTES} bytes`]);
  const problem = jsonProblem(text);
  if (problem !== undefined) throw new DocumentError(file, [problem]);
  try {
    return JSON.parse(text);
  } catch {
    throw new DocumentError(file, ["not valid JSON"]);
  }
}

const READ_FAILURE: Record<string, string> = {
  EISDIR: "is a directory, not a file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ELOOP: "a loop of symbolic links",
  ENAMETOOLONG: "path too long",
  EAGAIN: "not a regular file",
  ENXIO: "not a regular file",
  ENODEV: "not a regular file",
  EIO: "input/output error",
};

/** Reads a file; undefined when it does not exist and `optional`. Any other
 * failure (a directory, no permission, more than `maxBytes`) names `field`
 * and the path. */
export function readTextFile(field: string, path: string, optional: boolean, hint = "", maxBytes = JSON_MAX_BYTES): string | undefined {
  try {
    return readFile(path, maxBytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if ((code === "ENOENT" || code === "ENOTDIR") && optional) return undefined;
    const why =
      code === "ENOENT" || code === "ENOTDIR"
        ? `no such file${hint}`
        : code === "EFBIG"
          ? `larger than ${maxBytes} bytes`
          : (READ_FAILURE[code] ?? `cannot be read${code ? ` (${code})` : ""}`);
    throw new InputError(field, path, why);
  }
}
