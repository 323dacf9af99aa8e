// Reaching the other nodes of the cluster through Ganeti itself, from the
// master: `gnt-cluster copyfile` (a file to the same path on nodes) and
// `gnt-cluster command` (a command on nodes, over Ganeti's own SSH). No
// fan-out of our own: the nodes, their SSH keys and ports are Ganeti's.
import { out, type RunContext } from "../context.ts";
import { GanetiOutputError, InputError } from "../errors.ts";
import { run } from "../exec.ts";
import { localNodeName } from "./node.ts";
import { exportGanetiView, type GanetiSnapshot } from "./snapshot.ts";
import { stateDir, snapshotFile } from "../paths.ts";

/** Records when a reconcile last succeeded here (for status' metrics); best effort. */
export function noteReconciled(env: NodeJS.ProcessEnv = process.env): void {
  try {
    const { mkdirSync, writeFileSync } = require("node:fs") as typeof import("node:fs");
    mkdirSync(stateDir(env), { recursive: true, mode: 0o755 });
    writeFileSync(`${stateDir(env)}/last-reconcile`, new Date().toISOString() + "\n");
  } catch {
    // a read-only or missing state directory costs only the metric
  }
}

/** When a reconcile last succeeded here, in seconds since the epoch. */
export function lastReconciled(env: NodeJS.ProcessEnv = process.env): number | undefined {
  try {
    const { readFileSync } = require("node:fs") as typeof import("node:fs");
    const t = Date.parse(readFileSync(`${stateDir(env)}/last-reconcile`, "utf8").trim());
    return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
  } catch {
    return undefined;
  }
}

export interface NodeAnswer {
  node: string;
  /** The command's output (stdout and stderr, as Ganeti collects them). */
  output: string;
  /** Its exit code; 255 when ssh itself failed. */
  code: number;
}

/** `gnt-cluster command` joins its arguments into one remote shell line:
 * only words that no shell would change get there. */
const SHELL_SAFE = /^[A-Za-z0-9_./:=@+,-]+$/;

export function shellLine(argv: string[]): string {
  for (const a of argv) if (!SHELL_SAFE.test(a)) throw new InputError("remote command", a, "not a plain word (letters, digits and _ . / : = @ + , -)");
  return argv.join(" ");
}

/** Parses `gnt-cluster command` output: per node "node: NAME", the output,
 * "return code = N", blocks separated by dashes. */
export function parseCommandOutput(text: string): NodeAnswer[] {
  const out: NodeAnswer[] = [];
  for (const block of text.split(/^-{48}$/m)) {
    const body = block.replace(/^\n+/, "");
    if (body.trim() === "") continue;
    const head = /^node: (\S+)\n/.exec(body);
    const tail = /\nreturn code = (-?[0-9]+)\s*$/.exec(body);
    if (!head || !tail) throw new GanetiOutputError("gnt-cluster command output", body, 'expected "node: NAME", the output, "return code = N"');
    out.push({ node: head[1]!, output: body.slice(head[0].length, tail.index).replace(/\n$/, ""), code: Number(tail[1]) });
  }
  return out;
}

function nodeOptions(nodes: string[] | undefined): string[] {
  return (nodes ?? []).flatMap((n) => ["-n", n]);
}

/** Runs argv on the given nodes (default: every online node), one answer
 * per node asked; a node Ganeti skipped (offline) answers code 255. */
export async function runOnNodes(argv: string[], nodes?: string[], timeoutMs = 300_000): Promise<NodeAnswer[]> {
  const line = shellLine(argv);
  const r = await run("gnt-cluster", ["command", ...nodeOptions(nodes), line], { timeoutMs });
  const answers = parseCommandOutput(r.stdout);
  for (const n of nodes ?? []) {
    if (!answers.some((a) => a.node === n)) answers.push({ node: n, output: "no answer (offline, or not a node of this cluster?)", code: 255 });
  }
  return answers;
}

/** Copies a file to the same path on the given nodes (default: every online
 * node but the master). Returns the nodes the copy failed for. */
export async function copyToNodes(file: string, nodes?: string[], timeoutMs = 300_000): Promise<string[]> {
  const r = await run("gnt-cluster", ["copyfile", ...nodeOptions(nodes), file], { timeoutMs });
  return [...(r.stderr + "\n" + r.stdout).matchAll(/Copy of file .* to node (\S+?):?\d* failed/g)].map((m) => m[1]!);
}

/** The online nodes, from `gnt-node list`. */
export async function onlineNodes(): Promise<string[]> {
  const r = await run("gnt-node", ["list", "--no-headers", "--separator=|", "-o", "name,offline"], { timeoutMs: 60_000 });
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split("|"))
    .filter(([, offline]) => offline !== "Y" && offline !== "True")
    .map(([name]) => name!);
}

/** The node group of a node. */
export async function nodeGroupOf(node: string): Promise<string> {
  const r = await run("gnt-node", ["list", "--no-headers", "-o", "group", node], { timeoutMs: 60_000 });
  const group = r.stdout.trim();
  if (group === "") throw new GanetiOutputError("gnt-node list -o group", r.stdout, `no group for node ${node}`);
  return group;
}

/** Is this node the one the instance runs on? (`hostname --fqdn` against
 * Ganeti's node name, as the hooks decide it.) */
export async function isLocalNode(node: string, option?: string): Promise<boolean> {
  return (await localNodeName(option)) === node;
}

/** The one fan-out, on the master: Ganeti's view exported, copied to the
 * given nodes (default: every online node), then `argv --from VIEW` run on
 * each. A node the copy did not reach answers 255 saying so; it is not run
 * on a stale copy. */
export async function runWithView(argv: string[], only?: string[]): Promise<{ snapshot: GanetiSnapshot; answers: NodeAnswer[] }> {
  const file = snapshotFile();
  const snapshot = await exportGanetiView(file);
  const nodes = only ?? (await onlineNodes());
  const missed = new Set(await copyToNodes(file, only));
  const answers = await runOnNodes(
    [...argv, "--from", file],
    nodes.filter((n) => !missed.has(n)),
  );
  for (const node of missed) answers.push({ node, output: `copying ${file} there failed (is ovs-vif installed there, with ${stateDir()}?)`, code: 255 });
  return { snapshot, answers };
}

/** The one JSON line a node printed (its other lines are log lines), or
 * undefined when it printed none. */
export function jsonAnswer<T>(a: NodeAnswer, prefix: string): T | undefined {
  const line = a.output.split("\n").find((l) => l.startsWith(prefix));
  if (!line) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

/** Node answers on stdout, each line prefixed by its node; a failed node
 * logged. True when one failed. */
export function reportAnswers(answers: NodeAnswer[], ctx: RunContext, what: string): boolean {
  for (const a of answers) {
    for (const line of a.output.split("\n").filter(Boolean)) out(`${a.node}: ${line}\n`);
    if (a.code !== 0) ctx.log.error(`${what}: ${a.node}: exit ${a.code}`);
  }
  return answers.some((a) => a.code !== 0);
}
