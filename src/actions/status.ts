// `ovs-vif status` and `ovs-vif doctor`: this node's ports and whether they
// are as they should be; whether the node is set up right. On the master,
// --cluster asks every node through Ganeti and adds up their answers.
import { realpathSync } from "node:fs";
import { out, type RunContext } from "../context.ts";
import { jsonAnswer, lastReconciled, runWithView } from "../ganeti/cluster.ts";
import { localNodeName } from "../ganeti/node.ts";
import { readSnapshot } from "../ganeti/snapshot.ts";
import { doctor, doctorExit, type Check, type Location } from "../status/doctor.ts";
import { formatHuman, formatPrometheus, table, writeAtomically } from "../status/format.ts";
import { ganetiView, nodeStatus, STATUS_VERSION, type NodeStatus } from "../status/node.ts";

export interface Shown {
  json: boolean;
  headers: boolean;
}

export interface StatusRequest extends Shown {
  instance?: string | undefined;
  from?: string | undefined;
  node?: string | undefined;
  /** Also written as node_exporter textfile metrics. */
  prometheus?: string | undefined;
}

// isatty(1), not process.stdout.isTTY: Bun's stdout stream costs ~10 ms to set up.
const colour = () => process.env.NO_COLOR === undefined && (require("node:tty") as typeof import("node:tty")).isatty(1);

const JSON_PREFIX = `{"version":${STATUS_VERSION}`;

/** This node's status; exit 0 when all is ok. */
export async function showStatus(req: StatusRequest, ctx: RunContext): Promise<number> {
  const s = await nodeStatus(ctx, req);
  if (req.prometheus !== undefined) writeAtomically("--prometheus", req.prometheus, formatPrometheus(s, lastReconciled()));
  out(req.json ? JSON.stringify(s) + "\n" : formatHuman(s, { headers: req.headers, colour: colour() }));
  return s.summary.exit;
}

/** Every node's status summary and the total, from the master. */
export async function showClusterStatus(o: Shown): Promise<number> {
  const answers = (await runWithView(["ovs-vif", "status", "--json"])).answers;
  const rows: string[][] = [["NODE", "PORTS", "OK", "DRIFT", "STALE", "FOREIGN", "UNKNOWN", "SWITCH CHANGES", "ORPHANED QOS", "STATE"]];
  const total = [0, 0, 0, 0, 0, 0, 0, 0];
  const nodes: (NodeStatus | { node: string; error: string })[] = [];
  let bad = false;
  for (const a of answers) {
    const s = jsonAnswer<NodeStatus>(a, JSON_PREFIX);
    if (!s) {
      bad = true;
      nodes.push({ node: a.node, error: `no status (exit ${a.code}): ${a.output.split("\n").slice(-2).join(" ")}` });
      rows.push([a.node, "-", "-", "-", "-", "-", "-", "-", "-", `did not answer (exit ${a.code})`]);
      continue;
    }
    nodes.push(s);
    const b = s.summary.by_state;
    const v = [s.summary.ports, b.ok, b.drift, b.stale, b.foreign, b.unknown, s.summary.switch_changes, s.summary.orphaned_qos];
    v.forEach((x, i) => (total[i]! += x));
    if (s.summary.exit !== 0) bad = true;
    rows.push([a.node, ...v.map(String), s.summary.exit === 0 ? "ok" : "NOT ok"]);
  }
  rows.push(["total", ...total.map(String), bad ? "NOT ok" : "ok"]);
  out(o.json ? JSON.stringify({ version: STATUS_VERSION, nodes, ok: !bad }) + "\n" : table(rows, o.headers));
  return bad ? 1 : 0;
}

function showChecks(node: string, checks: Check[]): string {
  return checks.map((c) => `${node}: ${c.result.padEnd(4)} ${c.check}: ${c.detail}${c.hint && c.result !== "ok" ? ` (${c.hint})` : ""}`).join("\n") + "\n";
}

export interface DoctorRequest {
  json: boolean;
  /** Prefixes the system paths looked at. */
  root: string;
  from?: string | undefined;
  node?: string | undefined;
  /** Every hook location (the role registry's). */
  locations: readonly Location[];
}

/** This node's checks; exit 1 when one fails. */
export async function runDoctor(req: DoctorRequest, ctx: RunContext): Promise<number> {
  const node = await localNodeName(req.node);
  const view = await ganetiView(req.from, node);
  const from = view.file !== undefined ? readSnapshot("Ganeti view", view.file) : undefined;
  const checks = await doctor(ctx, {
    locations: req.locations,
    root: req.root,
    binary: realpathSync(process.execPath),
    view,
    master: view.source === "cli",
    ...(from?.files ? { files: from.files } : {}),
  });
  const failed = checks.filter((c) => c.result === "fail").length;
  const warned = checks.filter((c) => c.result === "warn").length;
  if (req.json) out(JSON.stringify({ version: STATUS_VERSION, node, checks }) + "\n");
  else out(showChecks(node, checks) + `${node}: ${failed} failed, ${warned} warnings: ${doctorExit(checks) === 0 ? "ok" : "NOT ok"}\n`);
  return doctorExit(checks);
}

/** Every node's checks, from the master. */
export async function runClusterDoctor(json: boolean): Promise<number> {
  const answers = (await runWithView(["ovs-vif", "doctor", "--json"])).answers;
  let bad = false;
  for (const a of answers) {
    const r = jsonAnswer<{ node: string; checks: Check[] }>(a, JSON_PREFIX);
    if (!r) {
      bad = true;
      out(`${a.node}: fail  node: did not answer (exit ${a.code})\n`);
      continue;
    }
    if (doctorExit(r.checks) !== 0) bad = true;
    out(json ? JSON.stringify(r) + "\n" : showChecks(a.node, r.checks));
  }
  out(`doctor --cluster: ${answers.length} nodes: ${bad ? "NOT ok" : "ok"}\n`);
  return bad ? 1 : 0;
}
