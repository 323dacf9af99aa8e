// roff for the manual pages (packaging/manpage.ts): escaping, and a --help
// text's structure (usage lines, paragraphs, indented lists) as roff lines.

/** Text for a roff text line: escapes, minus signs, break points in long tokens. */
export function roffText(text: string): string {
  let t = text.replace(/\\/g, "\\e").replace(/-/g, "\\-");
  // A long path or list can break after / , or | instead of overrunning the line.
  t = t.replace(/\S{45,}/g, (tok) => tok.replace(/([/,|])(?=\S)/g, "$1\\:"));
  // A line must not start with a control character.
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

export const bold = (s: string) => `\\fB${roffText(s)}\\fR`;

/** A usage line: the program (and sub-command) bold, optional groups kept together. */
export function usageLine(line: string): string {
  const m = /^(\S+(?: [a-z][a-z-]*(?:\|[a-z-]+)*)?)(.*)$/.exec(line)!;
  const [, head = "", rest = ""] = m;
  // Spaces inside [...] are unbreakable, so "[--vlan SPEC]" stays on one line.
  let depth = 0;
  let out = "";
  for (const ch of rest) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    out += ch === " " && depth > 0 ? "\u0000" : ch;
  }
  return `${bold(head)}${roffText(out).replace(/\u0000/g, "\\ ")}`;
}

interface Item {
  term?: string;
  text: string;
}

type Block = { kind: "para"; text: string } | { kind: "list"; items: Item[] } | { kind: "usage"; lines: string[] };

const indentOf = (l: string) => l.length - l.trimStart().length;

/** Joins wrapped lines: a line ending in "/" continues the word. */
function joinLines(lines: string[]): string {
  return lines.reduce((acc, l) => {
    const t = l.trim();
    if (acc === "") return t;
    return acc.endsWith("/") ? acc + t : `${acc} ${t}`;
  }, "");
}

/** The structure of a --help text: usage lines, paragraphs, indented lists. */
export function parseHelp(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.replace(/\s+$/, "").split("\n");
  let i = 0;
  // usage: the first line and every following line up to a blank one; a line
  // indented deeper than "usage: " continues the one before.
  if (/^usage: /i.test(lines[0] ?? "")) {
    const usage: string[] = [];
    const at = "usage: ".length;
    for (; i < lines.length && lines[i]!.trim() !== ""; i++) {
      const l = i === 0 ? lines[i]!.slice(at) : lines[i]!;
      if (i > 0 && indentOf(l) > at) usage[usage.length - 1] += ` ${l.trim()}`;
      else usage.push(l.trim());
    }
    blocks.push({ kind: "usage", lines: usage.map((u) => u.replace(/\s+/g, " ")) });
  }
  while (i < lines.length) {
    if (lines[i]!.trim() === "") {
      i++;
      continue;
    }
    if (indentOf(lines[i]!) === 0) {
      const para: string[] = [];
      for (; i < lines.length && lines[i]!.trim() !== "" && indentOf(lines[i]!) === 0; i++) para.push(lines[i]!);
      blocks.push({ kind: "para", text: joinLines(para) });
      continue;
    }
    const base = indentOf(lines[i]!);
    const items: Item[] = [];
    for (; i < lines.length && lines[i]!.trim() !== "" && indentOf(lines[i]!) >= base; i++) {
      const l = lines[i]!;
      if (indentOf(l) > base && items.length) {
        const last = items[items.length - 1]!;
        // A term alone on its line: what follows, indented, is its text.
        if (last.term === undefined && !last.text.includes(" ")) items[items.length - 1] = { term: last.text, text: l.trim() };
        else last.text = joinLines([last.text, l]);
        continue;
      }
      const m = /^\s+(\S.*?)\s{2,}(\S.*)$/.exec(l);
      items.push(m ? { term: m[1]!, text: m[2]!.trim() } : { text: l.trim() });
    }
    for (const it of items) it.text = it.text.replace(/\s+/g, " ");
    blocks.push({ kind: "list", items });
  }
  return blocks;
}

export function renderBlocks(blocks: Block[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.kind === "usage") {
      out.push(".PP", ".in +4n");
      for (const u of b.lines) out.push(".ti -4n", usageLine(u), ".br");
      out.push(".in");
    } else if (b.kind === "para") {
      out.push(".PP", roffText(b.text));
    } else {
      for (const it of b.items) {
        if (it.term !== undefined) out.push(".TP", bold(it.term), roffText(it.text));
        else out.push('.IP "" 4', roffText(it.text));
      }
    }
  }
  return out;
}
