// The namespaces a Ganeti test cluster (ganeti-cluster.ts) lives in: each
// node, and the hub of its management network, is the init of new
// namespaces running ganeti-cluster.sh (under `setpriv --pdeathsig KILL` +
// `unshare --kill-child`); commands enter them with nsenter in a clean
// environment. Apart from ganeti-cluster.ts, which builds the cluster in
// them: this is how they are made, entered and killed (at stop(), at exit
// and on signals).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./ovs.ts";
import { sh } from "./proc.ts";
import { onExit } from "./teardown.ts";

const CLEAN_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LC_ALL: "C.UTF-8" };
const SCRIPT = join(ROOT, "test/harness/ganeti-cluster.sh");

export interface Holder {
  child: ChildProcess;
  initPid?: number;
  exited: Promise<void>;
}
let live: { holders: Holder[]; dir: string } | undefined;

function kill(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

function killNow(): void {
  if (!live) return;
  for (const h of live.holders) {
    kill(h.initPid);
    kill(h.child.pid);
  }
  rmSync(live.dir, { recursive: true, force: true });
  live = undefined;
}
onExit(killNow);

/** Takes the one cluster a test process may have: its temp dir, made here,
 * removed with its namespaces. */
export function claimCluster(): string {
  if (live) throw new Error("one Ganeti cluster per test process");
  const top = mkdtempSync(join(tmpdir(), "ovs-vif-ganeti-cluster-"));
  live = { holders: [], dir: top };
  return top;
}

/** Kills the inits (the kernel kills whatever is left in their namespaces
 * and drops them), waits for them at most 10 s, then removes the temp dir. */
export async function stopNamespaces(): Promise<void> {
  const holders = live?.holders ?? [];
  for (const h of holders) kill(h.initPid);
  await Promise.race([Promise.all(holders.map((h) => h.exited)), new Promise((r) => setTimeout(r, 10000))]);
  killNow();
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Starts `ganeti-cluster.sh ARGS` as the init of new namespaces; resolves once it printed READY. */
export async function startHolder(what: string, unshareFlags: string[], args: string[]): Promise<Holder> {
  const child = spawn(
    "setpriv",
    ["--pdeathsig", "KILL", "unshare", ...unshareFlags, "--fork", "--kill-child=SIGKILL", "--mount-proc", "--propagation", "private", "bash", SCRIPT, ...args],
    {
      env: CLEAN_ENV,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const holder: Holder = { child, exited: new Promise<void>((resolve) => child.on("exit", () => resolve())) };
  live!.holders.push(holder);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const end = Date.now() + 60000;
  while (!out.includes("READY")) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: namespace setup failed: ${out}`);
    if (Date.now() > end) throw new Error(`${what}: namespace setup timed out: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // setpriv execs unshare (same pid); unshare's child is the namespaces' init.
  holder.initPid = childrenOf(child.pid!)[0];
  if (!holder.initPid) throw new Error(`${what}: cannot find the namespace init process`);
  return holder;
}

/** run and must for commands inside `namespaces` of the holder whose init is `initPid`. */
export function nsRunner(initPid: number, namespaces: string[]) {
  const enter = ["--target", String(initPid), ...namespaces, "--wd=/", "--"];
  const run = (file: string, args: string[], timeoutMs = 120000) => sh("nsenter", [...enter, file, ...args], { env: CLEAN_ENV, timeoutMs });
  const must = async (file: string, args: string[], timeoutMs?: number) => {
    const r = await run(file, args, timeoutMs);
    if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  };
  return { run, must };
}
