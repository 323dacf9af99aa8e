// The status of this node, as one object (`status --json` prints it): its
// ports, its switches' drift, orphaned QoS rows, and a summary.
import { existsSync } from "node:fs";
import { withOvsdb, type RunContext } from "../context.ts";

import { localNodeName } from "../ganeti/node.ts";
import { networksOf, queryInstances } from "../ganeti/query.ts";
import { readSnapshot } from "../ganeti/snapshot.ts";
import { run } from "../exec.ts";
import type { OrphanQos } from "../ovsdb/qos-orphans.ts";
import { openXenStore } from "../sources/xenstore.ts";
import { mapEntries } from "../ovsdb/values.ts";
import { everyRow, read } from "../ovsdb/select.ts";
import { collectPorts, PORT_STATES, type GanetiView, type PortState, type PortStatus } from "./collect.ts";
import { snapshotFile, specPath } from "../paths.ts";
import { ID } from "../ovsdb/keys.ts";

export const STATUS_VERSION = 1;

export interface SwitchStatus {
  name: string;
  /** What `switch apply` would change here ("+ uplink eth1", ...). */
  changes: string[];
  notes: string[];
}

export interface StatusSummary {
  ports: number;
  by_state: Record<PortState, number>;
  switch_changes: number;
  orphaned_qos: number;
  /** 0 when everything is ok, else 1 (drift, stale, unknown, switch changes, orphaned rows). */
  exit: 0 | 1;
}

export interface NodeStatus {
  version: typeof STATUS_VERSION;
  node: string;
  time: string;
  ganeti_view: { source: GanetiView["source"]; file?: string; taken?: string; why?: string };
  ports: PortStatus[];
  switches: SwitchStatus[];
  switch_note?: string;
  orphaned_qos: OrphanQos[];
  summary: StatusSummary;
}

/** Ganeti's view: a file when given; the CLI on the master; else the last
 * export copied here (`reconcile --export`/`--cluster`, `qos set`). */
export async function ganetiView(from: string | undefined, node: string): Promise<GanetiView> {
  const fromFile = (file: string): GanetiView => {
    const snap = readSnapshot(from !== undefined ? "--from" : "Ganeti view", file);
    return { source: "file", instances: snap.instances, networks: new Map(Object.entries(snap.networks)), file, ...(snap.taken ? { taken: snap.taken } : {}) };
  };
  if (from !== undefined) return fromFile(from);
  const master = await run("gnt-cluster", ["getmaster"], { timeoutMs: 30_000, reject: false }).catch(() => undefined);
  if (master && master.exitCode === 0 && master.stdout.trim() === node) {
    const instances = await queryInstances();
    return { source: "cli", instances, networks: await networksOf(instances) };
  }
  if (existsSync(snapshotFile())) return fromFile(snapshotFile());
  const why =
    master === undefined || master.exitCode !== 0
      ? "not a Ganeti node, or Ganeti is not running"
      : `not the master (${master.stdout.trim()}), and no ${snapshotFile()}: run 'ovs-vif reconcile --cluster' on the master`;
  return { source: "none", instances: [], networks: new Map(), why };
}

/** What `switch plan` would change here, for the switches the spec gives this node. */
async function switchDrift(ctx: RunContext, node: string): Promise<{ switches: SwitchStatus[]; note?: string }> {
  const { loadSpec } = await import("../switch/spec-validate.ts");
  const spec = loadSpec(specPath(undefined), true);
  if (!spec) return { switches: [], note: `no switch spec ${specPath(undefined)}` };
  const { selectSwitches } = await import("../switch/session.ts");
  const { planOnly } = await import("../switch/apply.ts");
  const { deviceExists } = await import("../netdev.ts");
  const sel = await selectSwitches(spec, [], { node });
  const switches: SwitchStatus[] = [];
  await withOvsdb(ctx, async (db) => {
    for (const sw of sel.switches) {
      const plan = await planOnly(db, sw, { deadline: ctx.deadline, deviceExists });
      switches.push({ name: plan.name, changes: plan.changes, notes: plan.notes });
    }
  });
  return sel.note !== undefined ? { switches, note: sel.note } : { switches };
}

export function summarize(ports: PortStatus[], switches: SwitchStatus[], orphans: OrphanQos[]): StatusSummary {
  const by_state = Object.fromEntries(PORT_STATES.map((s) => [s, 0])) as Record<PortState, number>;
  for (const p of ports) by_state[p.state]++;
  const switch_changes = switches.reduce((n, s) => n + s.changes.length, 0);
  const bad = by_state.drift + by_state.stale + by_state.unknown + switch_changes + orphans.length;
  return { ports: ports.length, by_state, switch_changes, orphaned_qos: orphans.length, exit: bad > 0 ? 1 : 0 };
}

export async function nodeStatus(ctx: RunContext, o: { from?: string; instance?: string; node?: string }): Promise<NodeStatus> {
  const node = await localNodeName(o.node);
  const ganeti = await ganetiView(o.from, node);
  const xs = existsSync(process.env.XENSTORED_PATH ?? "/var/run/xenstored/socket") ? await openXenStore({ timeoutMs: 2000 }).catch(() => undefined) : undefined;
  try {
    const { loadOvnConfig } = await import("../ovn/config.ts");
    const ovn = loadOvnConfig();
    const { ports, orphans } = await withOvsdb(ctx, async (db) => {
      const got = await collectPorts(db, ctx, { ganeti, ...(xs ? { xs } : {}), ...(o.instance !== undefined ? { instance: o.instance } : {}) });
      const { addPortSecurityFacts } = await import("./port-security.ts");
      await addPortSecurityFacts(got.ports, got.desired, got.flowBridges, ctx);
      if (ovn) {
        const { addOvnFacts } = await import("./ovn.ts");
        const [ovs] = await read(db, ctx.deadline, "read Open_vSwitch", [{ table: "Open_vSwitch", where: everyRow, columns: ["external_ids"] }]);
        await addOvnFacts(got.ports, got.ifaceIds, mapEntries(ovs![0]?.external_ids)[ID.ovnRemote], ovn, ctx);
      }
      return got;
    });
    const sw = o.instance === undefined ? await switchDrift(ctx, node) : { switches: [] };
    const view: NodeStatus["ganeti_view"] = { source: ganeti.source };
    if (ganeti.file) view.file = ganeti.file;
    if (ganeti.taken) view.taken = ganeti.taken;
    if (ganeti.why) view.why = ganeti.why;
    const status: NodeStatus = {
      version: STATUS_VERSION,
      node,
      time: new Date().toISOString(),
      ganeti_view: view,
      ports,
      switches: sw.switches,
      orphaned_qos: orphans,
      summary: summarize(ports, sw.switches, orphans),
    };
    if (sw.note !== undefined) status.switch_note = sw.note;
    return status;
  } finally {
    xs?.close();
  }
}
