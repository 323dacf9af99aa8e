// strace -f -ttt -T -yy output read back: calls (an unfinished call joined
// with its resumption, at its start time), process exits and execs, and what
// a batch of requests on an OVSDB or xenstored socket asked for.
export interface Call {
  pid: number;
  ts: number;
  name: string;
  args: string;
  ret: string;
  dur: number;
}

/** Calls (unfinished/resumed pairs joined, at the start time) and process exits, in order. */
export function parseStrace(text: string): { calls: Call[]; exits: Map<number, number>; execs: Map<number, { ts: number; file: string }> } {
  const calls: Call[] = [];
  const exits = new Map<number, number>();
  const execs = new Map<number, { ts: number; file: string }>();
  const pending = new Map<number, Call>();
  for (const line of text.split("\n")) {
    const m = /^(\d+) +(\d+\.\d+) (.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const ts = Number(m[2]) * 1000;
    const rest = m[3]!;
    if (rest.startsWith("+++ exited") || rest.startsWith("+++ killed")) {
      exits.set(pid, ts);
      continue;
    }
    if (rest.startsWith("---")) continue;
    const resumed = /^<\.\.\. (\w+) resumed>(.*?)(?: = (.*?))?(?: <([\d.]+)>)?$/.exec(rest);
    if (resumed) {
      const p = pending.get(pid);
      if (p) {
        p.args += resumed[2] ?? "";
        p.ret = resumed[3] ?? "";
        p.dur = Number(resumed[4] ?? 0) * 1000;
        pending.delete(pid);
      }
      continue;
    }
    const unfinished = /^(\w+)\((.*) <unfinished \.\.\.>$/.exec(rest);
    if (unfinished) {
      const c: Call = { pid, ts, name: unfinished[1]!, args: unfinished[2]!, ret: "", dur: 0 };
      pending.set(pid, c);
      calls.push(c);
      continue;
    }
    const full = /^(\w+)\((.*)\) += (.*?)(?: <([\d.]+)>)?$/.exec(rest) ?? /^(\w+)\((.*)\) += \?$/.exec(rest);
    if (!full) continue;
    const c: Call = { pid, ts, name: full[1]!, args: full[2]!, ret: full[3] ?? "?", dur: Number(full[4] ?? 0) * 1000 };
    calls.push(c);
    if (c.name === "execve" && c.ret.startsWith("0")) execs.set(pid, { ts, file: /^"([^"]*)"/.exec(c.args)?.[1] ?? "" });
  }
  return { calls, exits, execs };
}

export const fdOf = (args: string) => Number(/^(\d+)/.exec(args)?.[1] ?? -1);
export const retFd = (ret: string) => Number(/^(\d+)/.exec(ret)?.[1] ?? -1);

/** What a batch of requests on a socket asked for. */
export function describeRequests(kind: "ovsdb" | "xenstore", payloads: string[]): string {
  if (kind === "ovsdb") {
    const methods = payloads.flatMap((p) => [...p.matchAll(/\\"method\\":\\"(\w+)\\"/g)].map((m) => m[1]!));
    const ops = payloads.flatMap((p) => [...p.matchAll(/\\"op\\":\\"(\w+)\\"/g)].map((m) => m[1]!));
    const opCounts = [...new Set(ops)].map((o) => `${o}×${ops.filter((x) => x === o).length}`).join(" ");
    return `${methods.join(" + ") || "?"}${opCounts ? ` [${opCounts}]` : ""}`;
  }
  // xsd_sockmsg: type is the first little-endian u32 (strace shows \2\0\0\0 for XS_READ).
  const names: Record<string, string> = { "\\1": "directory", "\\2": "read", "\\v": "write", "\\r": "rm" };
  const ops = payloads.map((p) => names[/^"(\\\w+|\\\d+)/.exec(p)?.[1] ?? ""] ?? "op");
  return [...new Set(ops)].map((o) => `${ops.filter((x) => x === o).length} × ${o}`).join(", ");
}
