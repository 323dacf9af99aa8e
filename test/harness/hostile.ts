// Hostile input for the entry points, generated from a fixed seed (the same
// cases every run; OVS_VIF_HOSTILE_SEED picks another set), and the one
// contract every refusal must meet: a non-zero exit without a signal,
// exactly one line on stderr, no stack trace, naming the field and the value.
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import type { Result } from "./proc.ts";

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
  return r.pick([`0x${n.toString(16)}`, `${r.int(1, 9)}e${r.int(1, 3)}`, `+${n}`, `-${n}`, ` ${n}`, `${n} `, `${n}.0`, `${n}_0`, `0b${n.toString(2)}`, `${"9".repeat(r.int(16, 24))}`, `Infinity`, `NaN`, `${n}\t`]);
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
  return r.pick([`${h()}:${h()}:${h()}:${h()}:${h()}`, `${h()}-${h()}-${h()}-${h()}-${h()}-${h()}`, `${h()}:${h()}:${h()}:${h()}:${h()}:${h()}:${h()}`, `zz:${h()}:${h()}:${h()}:${h()}:${h()}`, `${h()}${h()}${h()}${h()}${h()}${h()}`, `${h()}:${h()}:${h()}:${h()}:${h()}:${h()};x`]);
}

export function badMtu(r: Random): string {
  return r.pick([String(r.int(0, 67)), String(r.int(65536, 999999)), numberLike(r), "", "jumbo", `${r.int(68, 9000)}k`]);
}

/** Rates and bursts (SI values) that must be refused. */
export function badRate(r: Random): string {
  return r.pick([`${r.int(1, 99)}Q`, `-${r.int(1, 99)}M`, `${r.int(1, 9)}e${r.int(3, 9)}`, `0x${r.int(16, 255).toString(16)}`, `${r.int(1, 99)}MB`, `${r.int(1, 99)} M`, `${r.int(1, 9)}.${"5".repeat(r.int(10, 12))}M`, `${"9".repeat(r.int(16, 20))}G`, "fast", `${r.int(1, 99)}m`, `${r.pick([".", ".."])}${r.int(1, 999)}`, "1T"]);
}

/** The one contract of a refusal. `mentions` are strings the line must
 * contain (the field, the value as typed, quoted). */
export function assertRefused(r: Result, label: string, mentions: string[]): string {
  assert.ok(r.code === 1 || r.code === 2, `${label}: exit ${r.code} (want 1 or 2, no signal); stderr ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.is(lines.length, 1, `${label}: one stderr line, got ${JSON.stringify(r.stderr)}`);
  const line = lines[0]!;
  assert.not.match(line, /^\s+at |Error: .*\n\s+at /, `${label}: no stack trace`);
  for (const m of mentions) assert.ok(line.includes(m), `${label}: ${JSON.stringify(line)} should name ${JSON.stringify(m)}`);
  return line;
}

/** How a value appears in an error line: JSON-quoted, as the errors print it. */
export const quoted = (value: string): string => JSON.stringify(value);

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
export function generatedSuites<C extends { label: string }>(test: Test, suites: readonly (readonly [name: string, generate: (r: Random) => C, count: number, seed: number])[], refuse: (c: C) => Promise<void>): void {
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
