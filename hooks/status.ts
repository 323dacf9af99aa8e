// `ovs-vif status` and `ovs-vif doctor`: what this node's ports are and
// whether they are as they should be; whether the node is set up right.
// With --cluster (on the master), every node through Ganeti.
import { realpathSync } from "node:fs";
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { out } from "../src/context.ts";
import { UsageError } from "../src/errors.ts";
import { lastReconciled, runWithView, type NodeAnswer } from "../src/ganeti/cluster.ts";
import { localNodeName } from "../src/ganeti/node.ts";
import { readSnapshot } from "../src/ganeti/snapshot.ts";
import { parseInstanceName, parseNodeName } from "../src/names.ts";
import { doctor, doctorExit, type Check } from "../src/status/doctor.ts";
import { formatHuman, formatPrometheus, table, writeAtomically } from "../src/status/format.ts";
import { ganetiView, nodeStatus, STATUS_VERSION, type NodeStatus } from "../src/status/node.ts";

const STATUS_HELP = `usage: ovs-vif status [--instance NAME] [--json] [--prometheus FILE] [--no-headers] [--from FILE] [--node NAME]
       ovs-vif status --cluster [--json] [--no-headers]        (on the master)

One row per VM port on this node's bridges (ovs-vif's and foreign ones):
bridge, port, owner, instance or domain, NIC, VLAN, both QoS directions,
MTU, ofport, link, and a state:
  ok       as it should be
  drift    differs from its desired state (the fields are named)
  stale    its device is gone, or ovs-vswitchd cannot use it
  foreign  not ovs-vif's
  unknown  nothing here to compare it with (no Ganeti view, no xenstore)
The desired state: Ganeti's (the CLI on the master; elsewhere the view the
master exported, /var/lib/ovs-vif/ganeti.json, or --from FILE) and
xenstore's for Xen domains. Then what 'switch apply' would change, QoS rows
nothing uses, and a summary. Exit 0 when all is ok, 1 otherwise, 2 on a
usage error. --json prints one object (version ${STATUS_VERSION}; README);
--prometheus FILE also writes node_exporter textfile metrics (atomically).
--cluster runs it on every node through gnt-cluster command and prints one
summary per node and a total; a node that does not answer is reported.

${GLOBAL_HELP}`;

const DOCTOR_HELP = `usage: ovs-vif doctor [--json] [--root DIR] [--from FILE] [--node NAME]
       ovs-vif doctor --cluster [--json]                        (on the master)

Is this node set up right? One line per check, ok / warn / fail and what to
do: OVSDB reachable and ovs-vswitchd applying changes; the hook links of
Ganeti and Xen present and pointing at this binary (a stock script still
active is reported); xl's default vif script; the NIC modes of Ganeti's
instances; the switch spec and QoS defaults parse and are the master's
(sha256, from the exported view); /etc/ovs-vif and /var/lib/ovs-vif exist;
ovs-vif watch runs. Exit 1 when a check fails. --root DIR prefixes the
system paths looked at.

${GLOBAL_HELP}`;

// isatty(1), not process.stdout.isTTY: Bun's stdout stream costs ~10 ms to set up.
const colour = () => process.env.NO_COLOR === undefined && (require("node:tty") as typeof import("node:tty")).isatty(1);

/** The one JSON line a node printed (its other lines are log lines). */
function jsonOf<T>(a: NodeAnswer): T | undefined {
  const line = a.output.split("\n").find((l) => l.startsWith(`{"version":${STATUS_VERSION}`));
  if (!line) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

async function statusCluster(inv: Invocation): Promise<number> {
  const answers = (await runWithView(["ovs-vif", "status", "--json"])).answers;
  const rows: string[][] = [["NODE", "PORTS", "OK", "DRIFT", "STALE", "FOREIGN", "UNKNOWN", "SWITCH CHANGES", "ORPHANED QOS", "STATE"]];
  const total = [0, 0, 0, 0, 0, 0, 0, 0];
  const nodes: (NodeStatus | { node: string; error: string })[] = [];
  let bad = false;
  for (const a of answers) {
    const s = jsonOf<NodeStatus>(a);
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
  if (inv.args.flag("json")) out(JSON.stringify({ version: STATUS_VERSION, nodes, ok: !bad }) + "\n");
  else out(table(rows, !inv.args.flag("no-headers")));
  return bad ? 1 : 0;
}

async function status(inv: Invocation): Promise<number> {
  const { args, ctx } = inv;
  args.atMost(0, "status takes options only");
  if (args.flag("cluster")) {
    for (const o of ["instance", "from", "prometheus"]) if (args.has(o)) throw new UsageError(`--${o}`, args.string(o) ?? "", "not with --cluster");
    return statusCluster(inv);
  }
  const instance = args.string("instance");
  if (instance !== undefined) parseInstanceName("--instance", instance);
  const node = args.string("node") ?? process.env.OVS_VIF_NODE_NAME;
  if (node !== undefined) parseNodeName("--node", node);
  const s = await nodeStatus(ctx, { ...(args.has("from") ? { from: args.string("from")! } : {}), ...(instance !== undefined ? { instance } : {}), ...(node !== undefined ? { node } : {}) });
  const prom = args.string("prometheus");
  if (prom !== undefined) writeAtomically(prom, formatPrometheus(s, lastReconciled()));
  if (args.flag("json")) out(JSON.stringify(s) + "\n");
  else out(formatHuman(s, { headers: !args.flag("no-headers"), colour: colour() }));
  return s.summary.exit;
}

function showChecks(node: string, checks: Check[]): string {
  return checks.map((c) => `${node}: ${c.result.padEnd(4)} ${c.check}: ${c.detail}${c.hint && c.result !== "ok" ? ` (${c.hint})` : ""}`).join("\n") + "\n";
}

async function doctorCmd(inv: Invocation): Promise<number> {
  const { args, ctx } = inv;
  args.atMost(0, "doctor takes options only");
  if (args.flag("cluster")) {
    const answers = (await runWithView(["ovs-vif", "doctor", "--json"])).answers;
    let bad = false;
    for (const a of answers) {
      const r = jsonOf<{ node: string; checks: Check[] }>(a);
      if (!r) {
        bad = true;
        out(`${a.node}: fail  node: did not answer (exit ${a.code})\n`);
        continue;
      }
      if (doctorExit(r.checks) !== 0) bad = true;
      out(args.flag("json") ? JSON.stringify(r) + "\n" : showChecks(a.node, r.checks));
    }
    out(`doctor --cluster: ${answers.length} nodes: ${bad ? "NOT ok" : "ok"}\n`);
    return bad ? 1 : 0;
  }
  const node = await localNodeName(args.string("node") ?? process.env.OVS_VIF_NODE_NAME);
  const view = await ganetiView(args.string("from"), node);
  const from = view.file !== undefined ? readSnapshot("Ganeti view", view.file) : undefined;
  const checks = await doctor(ctx, {
    locations: inv.hookLocations,
    root: (args.string("root") ?? "").replace(/\/+$/, ""),
    binary: realpathSync(process.execPath),
    view,
    master: view.source === "cli",
    ...(from?.files ? { files: from.files } : {}),
  });
  if (args.flag("json")) out(JSON.stringify({ version: STATUS_VERSION, node, checks }) + "\n");
  else out(showChecks(node, checks) + `${node}: ${checks.filter((c) => c.result === "fail").length} failed, ${checks.filter((c) => c.result === "warn").length} warnings: ${doctorExit(checks) === 0 ? "ok" : "NOT ok"}\n`);
  return doctorExit(checks);
}

export const statusCommand: EntryPoint = {
  tag: "ovs-vif",
  help: STATUS_HELP,
  options: { instance: "string", json: "flag", prometheus: "string", "no-headers": "flag", from: "string", node: "string", cluster: "flag" },
  run: status,
};

export const doctorCommand: EntryPoint = {
  tag: "ovs-vif",
  help: DOCTOR_HELP,
  options: { json: "flag", root: "string", from: "string", node: "string", cluster: "flag" },
  run: doctorCmd,
};
