// What the newer hostile suites share: a private OVN Northbound database
// beside a private OVS (no northd, no ovn-controller: refusals never get
// that far, and an attach then waits for ovn-installed in vain), and a
// refuser that runs a batch of calls against them, each checked by the one
// contract (assertRefused) and against a state that must not move: OVSDB,
// NB and the namespace's links byte for byte. Cases are counted by class,
// and the counts printed when the suite ends.
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { assertRefused } from "./hostile.ts";
import { BINARY, runBinary, type OvsHandle } from "./ovs.ts";
import { must, type Result } from "./proc.ts";
import { killPidfile, onExit } from "./teardown.ts";

export interface NbHandle {
  /** unix:PATH of the Northbound database. */
  remote: string;
  nbctl(...args: string[]): Promise<string>;
  /** One raw transact (the operations after the database name). */
  transact(ops: unknown[]): Promise<unknown[]>;
  /** The whole database, for before/after comparison. */
  dump(): Promise<string>;
  stop(): void;
}

/** An OVN Northbound ovsdb-server in the OVS's namespace and directory. */
export async function startNb(ovs: OvsHandle, name = "nb"): Promise<NbHandle> {
  const dir = join(ovs.dir, name);
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, "nb.sock");
  const pid = join(dir, "nb.pid");
  const stop = () => killPidfile(pid);
  onExit(stop);
  await must("ovsdb-tool", ["create", join(dir, "nb.db"), "/usr/share/ovn/ovn-nb.ovsschema"]);
  const r = await ovs.inNs("ovsdb-server", [
    join(dir, "nb.db"),
    `--remote=punix:${sock}`,
    `--pidfile=${pid}`,
    `--unixctl=${join(dir, "nb.ctl")}`,
    `--log-file=${join(dir, "nb.log")}`,
    "--no-chdir",
    "--detach",
  ]);
  if (r.code !== 0) throw new Error(`NB ovsdb-server: ${r.stderr}`);
  const remote = `unix:${sock}`;
  const nbctl = (...args: string[]) => must("ovn-nbctl", [`--db=${remote}`, "--timeout=20", ...args]);
  await nbctl("--no-wait", "init");
  return {
    remote,
    nbctl,
    transact: async (ops) => JSON.parse(await must("ovsdb-client", ["transact", remote, JSON.stringify(["OVN_Northbound", ...ops])])) as unknown[],
    dump: () => must("ovsdb-client", ["dump", "-f", "list", remote, "OVN_Northbound"]),
    stop,
  };
}

/** One hostile call. `cls` is the class of bad input it belongs to. */
export interface HostileCall {
  cls: string;
  label: string;
  args: string[];
  mentions: string[];
  /** Run as this name (a link to the binary: kvm-vif-bridge, qemu-ifup). */
  name?: string;
  env?: Record<string, string>;
  /** Run this file instead (a link to the binary Ganeti 3.2 execs). */
  exec?: string;
  /** Bound on the call; a refusal comes at once. */
  timeoutMs?: number;
  /** What the line must also say, beyond `mentions`. */
  says?: RegExp;
  /** Lines of the kept state this call may change (a failure after a
   * commit rolled back: next_cfg moved on, the device was set up). */
  ignore?: RegExp[];
}

export interface Refuser {
  refused(c: HostileCall): Promise<Result>;
  /** After a deliberate change: take the current state as the one to keep. */
  settle(): Promise<void>;
  /** Cases per class. */
  readonly classes: Map<string, number>;
  readonly total: number;
  /** "N refused calls checked" and the count of each class. */
  report(suite: string): void;
}

export function makeRefuser(ovs: OvsHandle, nb?: NbHandle): Refuser {
  let expected: string | undefined;
  let total = 0;
  const classes = new Map<string, number>();
  const state = async () => {
    const [o, n, l] = await Promise.all([ovs.dump(), nb ? nb.dump() : Promise.resolve(""), ovs.inNs("ip", ["-o", "link", "show"])]);
    return `${o}\n== NB ==\n${n}\n== links ==\n${l.stdout.replace(/^\d+: /gm, "")}`;
  };
  // OVS_VIF_HOSTILE_SOFT=1 (measuring a binary, e.g. an older one): a failed
  // check is counted under its class and the batch goes on; the report says
  // how many of each class failed. Not for CI: the batch itself passes.
  const soft = process.env.OVS_VIF_HOSTILE_SOFT === "1";
  const failed = new Map<string, number>();
  let firstFailure: unknown;
  const checked = async (c: HostileCall, fn: () => Promise<Result>): Promise<Result> => {
    if (!soft) return fn();
    try {
      return await fn();
    } catch (err) {
      failed.set(c.cls, (failed.get(c.cls) ?? 0) + 1);
      firstFailure ??= err;
      if (process.env.OVS_VIF_HOSTILE_SHOW === "1") console.log(`    FAILED: ${(err as Error).message.split("\n")[0]}`);
      return { code: -1, stdout: "", stderr: "" };
    }
  };
  const one = async (c: HostileCall): Promise<Result> => {
    total++;
    classes.set(c.cls, (classes.get(c.cls) ?? 0) + 1);
    expected ??= await state();
    const base = { OVS_VIF_SYSLOG: "0", ...(c.env ?? {}) };
    const r = c.exec
      ? await ovs.inNs(c.exec, c.args, { env: { ...ovs.env, ...base }, timeoutMs: c.timeoutMs ?? 60000 })
      : await runBinary(ovs, c.args, { ...(c.name ? { name: c.name } : {}), env: base, timeoutMs: c.timeoutMs ?? 60000 });
    // OVS_VIF_HOSTILE_SHOW=1 prints every refusal's line (reviewing what the operator sees).
    if (process.env.OVS_VIF_HOSTILE_SHOW === "1") console.log(`    [${c.cls}] ${c.label}\n      ${r.stderr.trim()}`);
    try {
      assertRefused(r, c.label, c.mentions);
      if (c.says) assert.match(r.stderr, c.says, `${c.label}: ${JSON.stringify(r.stderr)}`);
    } finally {
      const now = await state();
      if (now !== expected) {
        const was = expected;
        expected = now;
        const strip = (text: string) => (c.ignore ?? []).reduce((t, re) => t.replace(new RegExp(re.source, "gm"), "(ignored)"), text);
        assert.fixture(strip(now), strip(was), `${c.label}: OVSDB, NB and links unchanged`);
      }
    }
    return r;
  };
  return {
    refused: (c) => checked(c, () => one(c)),
    async settle() {
      expected = await state();
    },
    classes,
    get total() {
      return total;
    },
    report(suite) {
      console.log(`  ${suite}: ${total} refused calls checked`);
      for (const [cls, n] of [...classes].sort((a, b) => b[1] - a[1]))
        console.log(`    ${String(n).padStart(4)}  ${cls}${soft ? `  (${failed.get(cls) ?? 0} failed)` : ""}`);
      if (soft && firstFailure)
        console.log(
          `  ${suite}: ${[...failed.values()].reduce((a, b) => a + b, 0)} of ${total} failed; the first: ${(firstFailure as Error).message.split("\n")[0]}`,
        );
    },
  };
}

/** A link to the binary under `name` in the OVS's directory (as Ganeti 3.2 execs network/MODE/ACTION). */
export async function binaryLink(ovs: OvsHandle, rel: string): Promise<string> {
  const file = join(ovs.dir, rel);
  if (!existsSync(file)) {
    await must("mkdir", ["-p", join(file, "..")]);
    await must("ln", ["-sf", BINARY, file]);
  }
  return file;
}

/** The end of a hostile suite, failed or not: its counts per class and its
 * time, then its Northbound database, its OVS and its temporary directory gone. */
export async function endSuite(name: string, t0: number, o: { run?: Refuser; ovs?: OvsHandle; nb?: NbHandle; dir?: string }): Promise<void> {
  o.run?.report(name);
  console.log(`  ${name}: whole file ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  o.nb?.stop();
  await o.ovs?.stop();
  if (o.dir) rmSync(o.dir, { recursive: true, force: true });
}
