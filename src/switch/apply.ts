// Committing switch plans: one transaction per switch (guarded, retried on
// conflict), one wait for ovs-vswitchd for all of them, then a check that
// every uplink device got attached. And removing a whole switch, which only
// happens when nothing but ovs-vif's own ports remain on it.
import { StateError } from "../errors.ts";
import type { Json, OvsdbClient } from "../ovsdb/client.ts";
import { bumpNextCfg, guard, where } from "../ovsdb/port-ops.ts";
import { checkResults, commit, nextCfgFrom, waitCommitted } from "../ovsdb/transact.ts";
import type { ApplyOptions } from "../ovsdb/ports.ts";
import type { Deadline } from "../deadline.ts";
import { optionalAtom, set, uuid } from "../ovsdb/values.ts";
import { namesToRead, planSwitch, type SwitchPlan } from "./plan.ts";
import type { DesiredSwitch } from "./spec-resolve.ts";
import { BRIDGE_COLUMNS, classifyPort, readSwitch, SWITCH_KEY, type PortKind, type SwitchState } from "./state.ts";

/** The write options (wait: for ovs-vswitchd, then check the uplink devices). */
export interface RunOptions extends ApplyOptions {
  deviceExists?: (name: string) => boolean;
}

export interface SwitchOutcome {
  plan: SwitchPlan;
  /** Problems ovs-vswitchd reported for uplink devices after the change. */
  failures: string[];
}

/** Reads and plans without changing anything. */
export async function planOnly(client: OvsdbClient, desired: DesiredSwitch, opts: Pick<RunOptions, "deadline" | "deviceExists">): Promise<SwitchPlan> {
  const names = namesToRead(desired);
  const state = await readSwitch(client, desired.name, names.ports, names.devices, opts.deadline);
  return planSwitch(desired, state, opts.deviceExists);
}

/** Applies each switch in its own transaction; waits once for ovs-vswitchd. */
export async function applySwitches(client: OvsdbClient, switches: DesiredSwitch[], opts: RunOptions): Promise<SwitchOutcome[]> {
  const outcomes: SwitchOutcome[] = [];
  let target: number | undefined;
  for (const desired of switches) {
    const { plan, nextCfg } = await commit(
      client,
      `apply switch ${desired.name}`,
      async () => {
        const plan = await planOnly(client, desired, opts);
        return { ops: plan.ops, done: (results) => ({ plan, nextCfg: results && plan.ops.length > 0 ? nextCfgFrom(results) : undefined }) };
      },
      opts,
    );
    if (nextCfg !== undefined) target = Math.max(target ?? nextCfg, nextCfg);
    outcomes.push({ plan, failures: [] });
  }
  if (opts.dryRun || !opts.wait) return outcomes;
  if (target !== undefined) await waitCommitted(client, target, opts.deadline, "the switch change");
  // The bridge's own interface too: a bridge ovs-vswitchd could not open
  // has no OpenFlow port.
  for (const o of outcomes)
    o.failures = await checkDevices(client, o.plan.name, o.plan.ops.length > 0 ? [o.plan.name, ...o.plan.devices] : o.plan.devices, opts.deadline);
  return outcomes;
}

/** Interfaces ovs-vswitchd could not attach (error set, or no OpenFlow port). */
async function checkDevices(client: OvsdbClient, sw: string, devices: string[], deadline: Deadline): Promise<string[]> {
  if (devices.length === 0) return [];
  const ops: Json[] = devices.map((d) => ({ op: "select", table: "Interface", where: where("name", d), columns: ["ofport", "error"] }));
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, `check switch ${sw}`);
  const out: string[] = [];
  devices.forEach((d, i) => {
    const row = results[i]?.rows?.[0];
    if (!row) return;
    const error = optionalAtom(row.error);
    const ofport = optionalAtom(row.ofport);
    const what = d === sw ? `bridge ${sw}` : `device ${d}`;
    if (typeof error === "string" && error !== "") out.push(`${what}: ovs-vswitchd could not attach it: ${error}`);
    else if (typeof ofport === "number" && ofport < 0) out.push(`${what}: ovs-vswitchd could not attach it (ofport -1)`);
    else if (d === sw && ofport === undefined) out.push(`${what}: ovs-vswitchd did not open it (no OpenFlow port)`);
  });
  return out;
}

export interface RemoveOutcome {
  removed: boolean;
  /** Why not: ports that are not ovs-vif's (VM ports, foreign ports). */
  remaining: { name: string; kind: PortKind }[];
  present: boolean;
}

/** Removes the bridge when only its internal port and ovs-vif's uplinks
 * remain; otherwise reports the remaining ports and changes nothing.
 * `requireMarker`: refuse bridges ovs-vif never applied a spec to. */
export async function removeSwitch(client: OvsdbClient, name: string, opts: RunOptions & { requireMarker: boolean }): Promise<RemoveOutcome> {
  const attempt = async () => {
    const state = await readSwitch(client, name, [], [], opts.deadline);
    if (!state.bridge) return { state, ops: [] as Json[], remaining: [] };
    if (opts.requireMarker && state.bridge.externalIds[SWITCH_KEY] === undefined) {
      throw new StateError("switch", name, `bridge was not created or applied by ovs-vif (no external_ids:${SWITCH_KEY}); not removing it`);
    }
    const remaining = [...state.ports.values()]
      .map((p) => ({ name: p.name, kind: classifyPort(state, p) }))
      .filter((p) => p.kind === "instance" || p.kind === "foreign")
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (remaining.length > 0) return { state, ops: [] as Json[], remaining };
    return { state, ops: removeOps(state), remaining };
  };
  const r = await commit(
    client,
    `remove switch ${name}`,
    async () => {
      const r = await attempt();
      return { ops: r.ops, done: (results) => ({ ...r, nextCfg: results && r.ops.length > 0 ? nextCfgFrom(results) : undefined }) };
    },
    opts,
  );
  if (r.nextCfg !== undefined && opts.wait) await waitCommitted(client, r.nextCfg, opts.deadline, `the removal of ${name}`);
  return { removed: r.nextCfg !== undefined, remaining: r.remaining, present: r.state.bridge !== undefined };
}

function removeOps(state: SwitchState): Json[] {
  const b = state.bridge!;
  const row: Record<string, Json> = {};
  for (const c of BRIDGE_COLUMNS) if (b.raw[c] !== undefined) row[c] = b.raw[c]!;
  return [
    guard("Bridge", where("name", state.name), [b.uuid]),
    // Nothing was added to the bridge since we looked.
    { op: "wait", table: "Bridge", where: where("_uuid", uuid(b.uuid)), columns: Object.keys(row), until: "==", rows: [row], timeout: 0 },
    // The unreferenced Bridge, its Ports and Interfaces are garbage-collected.
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "delete", set([uuid(b.uuid)])]] },
    ...bumpNextCfg(),
    { op: "comment", comment: `ovs-vif: switch remove ${state.name}` },
  ];
}
