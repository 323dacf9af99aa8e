// Ganeti's `gnt-* list` prints some list fields as Python reprs
// (`['.3', ':10:20']`, `[None, 'eth1']`). This reads that small subset:
// lists of strings, None and integers.
import { GanetiOutputError } from "../errors.ts";

export type PyValue = string | number | null | PyValue[];

export function parsePyList(text: string): PyValue[] {
  let i = 0;
  const s = text.trim();
  const fail = (why: string): never => {
    throw new GanetiOutputError("Ganeti list", text, `${why} at ${i}`);
  };
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = s[i];
    if (c === "[") return list();
    if (c === "'" || c === '"') return str();
    if (s.startsWith("None", i)) {
      i += 4;
      return null;
    }
    const m = /^-?[0-9]+/.exec(s.slice(i));
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail("unexpected character");
  };
  const str = (): string => {
    const q = s[i++];
    let out = "";
    while (i < s.length && s[i] !== q) {
      if (s[i] === "\\") {
        const e = s[i + 1];
        i += 2;
        if (e === "n") out += "\n";
        else if (e === "t") out += "\t";
        else if (e === "x" || e === "u") {
          const len = e === "x" ? 2 : 4;
          out += String.fromCharCode(parseInt(s.slice(i, i + len), 16));
          i += len;
        } else out += e ?? "";
      } else out += s[i++];
    }
    if (s[i] !== q) fail("unterminated string");
    i++;
    return out;
  };
  const list = (): PyValue[] => {
    i++;
    const out: PyValue[] = [];
    ws();
    if (s[i] === "]") {
      i++;
      return out;
    }
    for (;;) {
      out.push(value());
      ws();
      if (s[i] === ",") {
        i++;
        ws();
        if (s[i] === "]") {
          i++;
          return out;
        }
        continue;
      }
      if (s[i] === "]") {
        i++;
        return out;
      }
      fail("expected , or ]");
    }
  };
  ws();
  if (s[i] !== "[") fail("expected [");
  const result = list();
  ws();
  if (i !== s.length) fail("trailing text");
  return result;
}
