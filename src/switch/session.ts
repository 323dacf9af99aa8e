// What the CLI and the Ganeti hook share: which switches a command is
// about, and the lines that report an outcome.
import { InputError } from "../errors.ts";
import { localNodeName } from "../ganeti/node.ts";
import type { SwitchOutcome } from "./apply.ts";
import type { SwitchPlan } from "./plan.ts";
import { checkDisjoint, groupOfNode, resolveSwitch, type DesiredSwitch } from "./spec-resolve.ts";
import type { Spec } from "./spec-types.ts";

/** Does the spec need the node name to resolve these switches (per-node
 * overrides, or node_groups membership to find the group)? */
export function needsNodeName(spec: Spec | undefined, groupKnown: boolean): boolean {
  if (!spec) return false;
  if (spec.switches.some((s) => Object.keys(s.nodeOverrides).length > 0)) return true;
  return !groupKnown && Object.values(spec.nodeGroups).some((g) => g.nodes.length > 0);
}

export interface Selection {
  switches: DesiredSwitch[];
  node?: string;
  group?: string;
  /** Why nothing was selected, when nothing was. */
  note?: string;
}

/**
 * The switches a plan/apply is about, resolved for this node:
 * named ones (must be in the spec); else the group's list (node_groups) when
 * the group is known; else every switch of the spec.
 */
export async function selectSwitches(spec: Spec, names: string[], opts: { node?: string; group?: string }): Promise<Selection> {
  const node = opts.node ?? (needsNodeName(spec, opts.group !== undefined) ? await localNodeName() : undefined);
  const group = opts.group ?? (node !== undefined ? groupOfNode(spec, node) : undefined);
  const where = { ...(node !== undefined ? { node } : {}), ...(group !== undefined ? { group } : {}) };
  let list: string[];
  let note: string | undefined;
  if (names.length > 0) {
    for (const n of names) {
      if (!spec.switches.some((s) => s.name === n))
        throw new InputError("switch", n, `not in the spec ${spec.file} (defined: ${spec.switches.map((s) => s.name).join(", ") || "none"})`);
    }
    list = names;
  } else if (group !== undefined && spec.nodeGroups[group]) {
    list = spec.nodeGroups[group]!.switches;
  } else if (group !== undefined && opts.group !== undefined && Object.keys(spec.nodeGroups).length > 0) {
    list = [];
    note = `node group ${group} has no entry in node_groups of ${spec.file}: nothing to do`;
  } else {
    list = spec.switches.map((s) => s.name);
    if (list.length === 0) note = `${spec.file} defines no switches`;
  }
  const switches = list.map((n) => resolveSwitch(spec, n, where));
  checkDisjoint(switches, node);
  const sel: Selection = { switches, ...where };
  if (note !== undefined) sel.note = note;
  return sel;
}

/** "sw1: + uplink ..." lines for a plan (and notes), or "sw1: no changes". */
export function planLines(plan: SwitchPlan): string[] {
  const lines = plan.notes.map((n) => `${plan.name}: ${n}`);
  if (plan.changes.length === 0) lines.push(`${plan.name}: no changes`);
  else lines.push(...plan.changes.map((c) => `${plan.name}: ${c}`));
  return lines;
}

export function outcomeLines(o: SwitchOutcome): string[] {
  const lines = planLines(o.plan);
  if (o.plan.changes.length > 0) lines.push(`${o.plan.name}: applied (${o.plan.changes.length} change${o.plan.changes.length === 1 ? "" : "s"})`);
  for (const f of o.failures) lines.push(`${o.plan.name}: error: ${f}`);
  return lines;
}
