// Hostile input for the entry points, generated from a fixed seed (the same
// cases every run; OVS_VIF_HOSTILE_SEED picks another set), and the one
// contract every refusal must meet: a non-zero exit without a signal,
// exactly one line on stderr, no stack trace, naming the field and the value.
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import type { Result } from "./proc.ts";
import { escapeControls } from "../../src/errors.ts";

export const SEED = Number(process.env.OVS_VIF_HOSTILE_SEED ?? 20261201);

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seeded(seed = SEED): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

export interface Random {
  next(): number;
  /** lo..hi inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
}

/** Numbers written so that a lax parser would read them as something else. */
export function numberLike(r: Random): string {
  const n = r.int(1, 4094);
  return r.pick([
    `0x${n.toString(16)}`,
    `${r.int(1, 9)}e${r.int(1, 3)}`,
    `+${n}`,
    `-${n}`,
    ` ${n}`,
    `${n} `,
    `${n}.0`,
    `${n}_0`,
    `0b${n.toString(2)}`,
    `${"9".repeat(r.int(16, 24))}`,
    `Infinity`,
    `NaN`,
    `${n}\t`,
  ]);
}

/** VLAN parts (Ganeti's vlan syntax) that must be refused. */
export function badVlan(r: Random): string {
  const id = () => r.int(1, 4094);
  return r.pick([
    () => `.${r.int(4095, 99999)}`,
    () => ".0",
    () => `..${id()}`,
    () => `.${id()}:`,
    () => `:${id()}::${id()}`,
    () => `:0`,
    () => `:${r.int(4095, 70000)}`,
    () => {
      const n = id();
      return `.${n}:${n}`;
    },
    () => `.${id()},${id()}`,
    () => `.${id()};${id()}`,
    () => `.${numberLike(r)}`,
    () => `:${numberLike(r)}`,
    () => `.${id()}:${id()}x`,
    () => `.${"9".repeat(20)}`,
    () => `${id()}:`,
    () => `.${id()}.${id()}`,
    () => `.${id()}$(reboot)`,
  ])();
}

/** Device and bridge names the kernel or a shell would misread. */
export function badName(r: Random): string {
  const base = r.pick(["sw", "tap", "vif5.", "br"]);
  return r.pick([
    () => `${base}${"x".repeat(r.int(14, 20))}`,
    () => `${base};reboot`,
    () => `${base}$(id)`,
    () => `${base}\`id\``,
    () => `${base} x`,
    () => `${base}/x`,
    () => `${base}\nx`,
    () => `${base}|x`,
    () => `${base}'x`,
    () => `${base}"x`,
    () => `${base}é`,
    () => `${base}:x`,
    () => "",
    () => "..",
    () => `${base}*`,
  ])();
}

export function badMac(r: Random): string {
  const h = () => r.int(0, 255).toString(16).padStart(2, "0");
  return r.pick([
    `${h()}:${h()}:${h()}:${h()}:${h()}`,
    `${h()}-${h()}-${h()}-${h()}-${h()}-${h()}`,
    `${h()}:${h()}:${h()}:${h()}:${h()}:${h()}:${h()}`,
    `zz:${h()}:${h()}:${h()}:${h()}:${h()}`,
    `${h()}${h()}${h()}${h()}${h()}${h()}`,
    `${h()}:${h()}:${h()}:${h()}:${h()}:${h()};x`,
    groupMac(r),
  ]);
}

/** Well-formed MACs that are no NIC's: zero, broadcast, group (multicast:
 * the lowest bit of the first octet set), in either case. */
export function groupMac(r: Random): string {
  const h = () => r.int(0, 255).toString(16).padStart(2, "0");
  const odd = () => (r.int(0, 127) * 2 + 1).toString(16).padStart(2, "0");
  const mac = r.pick([
    () => "00:00:00:00:00:00",
    () => "ff:ff:ff:ff:ff:ff",
    () => `01:00:5e:${h()}:${h()}:${h()}`,
    () => `33:33:${h()}:${h()}:${h()}:${h()}`,
    () => `01:80:c2:00:00:${h()}`,
    () => `${odd()}:${h()}:${h()}:${h()}:${h()}:${h()}`,
  ])();
  return r.next() < 0.3 ? mac.toUpperCase() : mac;
}

/** A control character that argv and the environment can carry (no NUL);
 * `withNul` for what only a file can hold. */
export function controlChar(r: Random, withNul = false): string {
  return r.pick([
    ...(withNul ? ["\u0000"] : []),
    "\r",
    "\n",
    "\t",
    "\u0001",
    "\u001b",
    "\u007f",
    "\u0085",
    "\u009b",
    "\u202e",
    "\u2066",
    "\u2028",
    "\u200f",
    "\u061c",
  ]);
}

/** `value` with a control character put somewhere in it. */
export function withControl(r: Random, value: string, withNul = false): string {
  const at = r.int(0, value.length);
  return value.slice(0, at) + controlChar(r, withNul) + value.slice(at);
}

/** OVSDB remotes that must be refused, by class. `port`: a port to use. */
export function badRemote(r: Random, sockDir = "/run/openvswitch"): { cls: string; value: string } {
  const ip = `127.0.0.${r.int(1, 254)}`;
  const port = String(r.int(1, 65535));
  return r.pick([
    () => ({
      cls: "remote: port out of range",
      value: `tcp:${ip}:${r.pick([String(r.int(65536, 99999)), "0", String(r.int(100000, 9999999)), "9".repeat(r.int(12, 20))])}`,
    }),
    () => ({
      cls: "remote: port spelled as another number",
      value: `tcp:${ip}:${r.pick([`0${port}`, `+${port}`, `0x${Number(port).toString(16)}`, `${port}.0`, `${r.int(1, 6)}e${r.int(1, 4)}`, `\uff16\uff16\uff14\uff10`, ` ${port}`, `${port}_0`, `-${port}`])}`,
    }),
    () => ({
      cls: "remote: host the resolver reads as another address",
      value: `tcp:${r.pick(["0x7f000001", "127.1", "2130706433", "010.0.0.1", "0177.0.0.1", "127.0.1", "0x7f.1", "017700000001", `${r.int(256, 999)}.0.0.1`])}:${port}`,
    }),
    () => ({
      cls: "remote: IPv6 without or with broken brackets",
      value: `${r.pick(["tcp", "ssl"])}:${r.pick(["::1", "[::1", "::1]", "[127.0.0.1]", "[fe80::1%lo]", "[::g]", "[]", "[2001:db8::1::2]"])}:${port}`,
    }),
    () => ({
      cls: "remote: not a DNS name",
      value: `tcp:${r.pick(["-nb.example", "nb_.example", "a..b", `${"x".repeat(64)}.example`, `${"a.".repeat(130)}x`, "nb$(id)", "nb;x", "n\u00e9b.example", "nb*.example"])}:${port}`,
    }),
    () => ({ cls: "remote: control character", value: withControl(r, r.pick([`tcp:${ip}:${port}`, `unix:${sockDir}/db.sock`, `ssl:${ip}:${port}`])) }),
    () => ({
      cls: "remote: unix path",
      value: `unix:${r.pick(["", "db.sock", "./db.sock", "../run/db.sock", `/${"p".repeat(r.int(107, 300))}`, `/${"\u00e9".repeat(r.int(54, 80))}`])}`,
    }),
    () => ({ cls: "remote: passive form", value: r.pick([`punix:${sockDir}/db.sock`, `ptcp:${port}`, `ptcp:${port}:${ip}`, `pssl:${port}`]) }),
    () => ({ cls: "remote: a list of members", value: `tcp:${ip}:${port},tcp:127.0.0.2:${port}` }),
    () => ({
      cls: "remote: unknown or misspelled kind",
      value: r.pick([
        `TCP:${ip}:${port}`,
        `udp:${ip}:${port}`,
        `http://${ip}:${port}`,
        `unix//run/db.sock`,
        `${sockDir}/db.sock`,
        `tcp${ip}:${port}`,
        "garbage",
        `tcp :${ip}:${port}`,
      ]),
    }),
    () => ({ cls: "remote: no host or no port", value: r.pick([`tcp:${ip}`, `tcp:${ip}:`, `tcp::${port}`, "tcp:", "ssl:"]) }),
  ])();
}

/** Receive bursts that are not 0 but below one frame, in every spelling. */
export function tinyBurst(r: Random): string {
  return r.pick([
    () => `0.${r.int(1, 9)}`,
    () => String(r.int(1, 655)),
    () => `0.${"0".repeat(r.int(1, 8))}${r.int(1, 9)}k`,
    () => `0.000${r.int(1, 655)}k`,
    () => `0.000000${r.int(1, 655)}M`,
    () => `${r.int(1, 655)}.${r.int(1, 999)}`,
    () => `0.000000000${r.int(1, 6)}G`,
  ])();
}

export function badMtu(r: Random): string {
  return r.pick([String(r.int(0, 67)), String(r.int(65536, 999999)), numberLike(r), "", "jumbo", `${r.int(68, 9000)}k`]);
}

/** Rates and bursts (SI values) that must be refused. */
export function badRate(r: Random): string {
  return r.pick([
    `${r.int(1, 99)}Q`,
    `-${r.int(1, 99)}M`,
    `${r.int(1, 9)}e${r.int(3, 9)}`,
    `0x${r.int(16, 255).toString(16)}`,
    `${r.int(1, 99)}MB`,
    `${r.int(1, 99)} M`,
    `${r.int(1, 9)}.${"5".repeat(r.int(10, 12))}M`,
    `${"9".repeat(r.int(16, 20))}G`,
    "fast",
    `${r.int(1, 99)}m`,
    `${r.pick([".", ".."])}${r.int(1, 999)}`,
    "1T",
  ]);
}

/** A character no line on stderr may hold as it is (src/errors.ts escapes
 * them all): C0 controls, DEL, C1 controls, the line and paragraph
 * separators and the bidirectional controls. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** A runtime's own words, which must never reach an error line: they name
 * neither the field nor the file (each found in a line before it was
 * wrapped into a typed error, or likely to be). */
export const RUNTIME_MESSAGES: readonly RegExp[] = [
  /SocketOptions/, // Bun.connect's argument checks (a port of 65536)
  /Maximum call stack/, // a walk of a too deeply nested document
  /\b(?:TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)\b/,
  /\bERR_[A-Z0-9_]{3,}/, // node's and Bun's error codes (ERR_TLS_..., ERR_INVALID_ARG_...)
  /JSON Parse error|Unexpected (?:token|identifier|EOF|end of JSON)|Unable to parse JSON/, // JSON.parse
  /is not a function|is not an object|undefined is not|null is not|Cannot read propert|cannot be converted to/,
  /\berror:[0-9A-Fa-f]{8}:|\b[A-Z0-9]+ routines\b/, // OpenSSL's packed codes ("error:0480006C:PEM routines")
  /\[object Object\]/,
  /\bE[A-Z]{3,}: [a-z]+ '/, // a file call's own message: "EISDIR: read '/x'"
  /no such file or directory, [a-z]+ '/, // node:fs's
  /error: E[A-Z]{3,}\b/, // an errno code as the whole message, naming nothing
  /Client network socket|socket hang up|self.signed certificate|unable to (?:verify|get) /, // node:tls's
];

/** Every line on stderr (of a refusal or not): no unescaped control
 * character, no runtime message. Applied by assertRefused, so by every
 * hostile suite. */
export function assertCleanStderr(stderr: string, label: string): void {
  for (const line of stderr.split("\n")) {
    const c = CONTROL_CHAR.exec(line);
    assert.ok(!c, `${label}: stderr holds control character U+${(c?.[0].charCodeAt(0) ?? 0).toString(16).padStart(4, "0")} unescaped: ${JSON.stringify(line)}`);
    for (const re of RUNTIME_MESSAGES) assert.not.match(line, re, `${label}: a runtime's own message on stderr (${re}): ${JSON.stringify(line)}`);
  }
}

/** The one contract of a refusal. `mentions` are strings the line must
 * contain (the field, the value as typed, quoted). */
export function assertRefused(r: Result, label: string, mentions: string[]): string {
  assert.ok(r.code === 1 || r.code === 2, `${label}: exit ${r.code} (want 1 or 2, no signal); stderr ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.is(lines.length, 1, `${label}: one stderr line, got ${JSON.stringify(r.stderr)}`);
  const line = lines[0]!;
  assert.not.match(line, /^\s+at |Error: .*\n\s+at /, `${label}: no stack trace`);
  assertCleanStderr(r.stderr, label);
  for (const m of mentions) assert.ok(line.includes(m), `${label}: ${JSON.stringify(line)} should name ${JSON.stringify(m)}`);
  return line;
}

/** How a value appears in an error line: JSON-quoted, as the errors print
 * it, with what JSON leaves raw (DEL, C1, bidi) escaped as the line has it. */
export const quoted = (value: string): string => escapeControls(JSON.stringify(value));

/** The variables Ganeti hands a NIC script (environment or Xen NIC file). */
export const NIC_VARIABLES = ["VLAN", "VLAN", "VLAN", "LINK", "MAC", "INTERFACE", "INTERFACE_UUID", "INTERFACE_INDEX", "TAGS", "IP", "MODE"] as const;
export type NicVariable = (typeof NIC_VARIABLES)[number];

/** A value of `key` that must be refused, and what the error line quotes
 * (for TAGS the one bad tag). IP needs MODE=routed beside it. */
export function badNicVariable(r: Random, key: NicVariable): { value: string; shown: string } {
  switch (key) {
    case "VLAN":
      return plain(badVlan(r));
    case "LINK":
    case "INTERFACE":
      return plain(badName(r) || "x;");
    case "MAC":
      return plain(badMac(r));
    case "INTERFACE_UUID":
      return plain(r.pick(["u u", "uuid;x", "x".repeat(70), "a/b"]));
    case "INTERFACE_INDEX":
      return plain(numberLike(r));
    case "TAGS": {
      const tag = `ovs-vif:${r.pick(["rate", "burst", "nic:0:rate"])}:${badRate(r).replace(/ /g, "_")}`;
      return { value: `web ${tag}`, shown: tag };
    }
    case "IP":
      return plain(r.pick(["300.1.1.1", "1.2.3", "::g", `198.51.100.${r.int(1, 9)};x`, "localhost"]));
    case "MODE":
      return plain(r.pick(["ovs", "ext", "OPENVSWITCH", "bridged;x", "open vswitch"]));
  }
}

const plain = (value: string) => ({ value, shown: value });

/** One test per suite: `count` cases from `generate` (its own seed), each
 * handed to `refuse` with its label numbered within the suite. */
export function generatedSuites<C extends { label: string }>(
  test: Test,
  suites: readonly (readonly [name: string, generate: (r: Random) => C, count: number, seed: number])[],
  refuse: (c: C) => Promise<void>,
): void {
  for (const [name, generate, count, seed] of suites) {
    test(`${name}: ${count} generated hostile calls are refused`, async () => {
      const r = seeded(seed);
      for (let i = 0; i < count; i++) {
        const c = generate(r);
        await refuse({ ...c, label: `${name} #${i}: ${c.label}` });
      }
    });
  }
}
