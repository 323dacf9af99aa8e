// Ganeti's per-NIC runtime file for Xen instances,
// /var/run/ganeti/xen-hypervisor/nic/INSTANCE/INDEX: shell `KEY=value` lines
// that Ganeti's vif-ganeti sources. We read it WITHOUT a shell: the subset of
// POSIX shell word syntax Ganeti writes (and a careful admin might), and a
// clear error for anything a shell would execute or expand.
//
// Accepted per line: blank lines, `# comments`, `[export] NAME=WORD [NAME=WORD...]`
// where WORD may mix unquoted text, backslash escapes, '...' and "..."
// (inside double quotes a backslash escapes only $ ` " \ and newline, as in
// sh: Ganeti writes TAGS="a\ b", which a shell reads as `a\ b`).
// Refused: command substitution, parameter and tilde expansion, operators,
// and any word that is not an assignment (a shell would run it as a command).
import { readFile } from "../files.ts";
import { InputError } from "../errors.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses shell assignment lines; `where` names the file in errors. */
export function parseShellAssignments(text: string, where: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let i = 0;
  let line = 1;
  const n = text.length;
  const fail = (reason: string, at = line): never => {
    const lines = text.split("\n");
    throw new InputError(`${where} line ${at}`, lines[at - 1] ?? "", reason);
  };

  // Reads one word starting at i (not at a blank); returns its value and
  // whether any part was quoted.
  const readWord = (): string => {
    let out = "";
    const start = i;
    while (i < n) {
      const c = text[i]!;
      // Tilde expansion: at the start of an assignment's value and after ':'.
      if (c === "~" && (i === start || text[i - 1] === ":")) fail("tilde expansion is not supported (quote the ~)");
      if (c === " " || c === "\t" || c === "\n" || c === "\r") break;
      if (c === ";" || c === "&" || c === "|" || c === "<" || c === ">" || c === "(" || c === ")")
        fail(`unsupported shell syntax ${JSON.stringify(c)} (only NAME=value assignments are read)`);
      if (c === "`") fail("command substitution is not supported");
      if (c === "$") {
        const next = text[i + 1];
        if (next !== undefined && /[A-Za-z0-9_{(@*#?$!-]/.test(next)) fail("parameter expansion and command substitution are not supported");
        out += c;
        i++;
        continue;
      }
      if (c === "\\") {
        const next = text[i + 1];
        if (next === undefined) {
          i++;
          break;
        }
        if (next === "\n") line++;
        else out += next;
        i += 2;
        continue;
      }
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        if (end === -1) fail("unterminated single quote");
        const part = text.slice(i + 1, end);
        line += part.split("\n").length - 1;
        out += part;
        i = end + 1;
        continue;
      }
      if (c === '"') {
        const start = line;
        i++;
        for (;;) {
          if (i >= n) fail("unterminated double quote", start);
          const d = text[i]!;
          if (d === '"') {
            i++;
            break;
          }
          if (d === "`") fail("command substitution is not supported");
          if (d === "$") {
            const next = text[i + 1];
            if (next !== undefined && /[A-Za-z0-9_{(@*#?$!-]/.test(next)) fail("parameter expansion and command substitution are not supported");
          }
          if (d === "\\") {
            const next = text[i + 1];
            if (next === "$" || next === "`" || next === '"' || next === "\\") {
              out += next;
              i += 2;
              continue;
            }
            if (next === "\n") {
              line++;
              i += 2;
              continue;
            }
          }
          if (d === "\n") line++;
          out += d;
          i++;
        }
        continue;
      }
      out += c;
      i++;
    }
    return out;
  };

  while (i < n) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    // A word at the start of a command or after an assignment.
    const wordLine = line;
    const eq = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(text.slice(i, i + 256));
    if (!eq) {
      const start = i;
      const word = readWord();
      if (word === "export" && text.slice(start, i) === "export") continue;
      fail(`${JSON.stringify(word)} is not a NAME=value assignment (a shell would run it as a command)`, wordLine);
    }
    const name = eq![1]!;
    if (!NAME.test(name)) fail(`bad variable name ${JSON.stringify(name)}`, wordLine);
    i += name.length + 1;
    vars[name] = readWord();
  }
  return vars;
}

/** Reads and parses a NIC file; undefined when it does not exist. */
export function readNicFile(path: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new InputError(path, "", `cannot read: ${(err as Error).message}`);
  }
  return parseShellAssignments(text, path);
}
