// `ovs-vif switch`: node-group vSwitches and bonds from the declarative
// spec (src/switch/): plan, apply, show, remove, check.
import { out, withOvsdb, type RunContext, applyOf } from "../context.ts";
import { StateError } from "../errors.ts";
import { deviceExists } from "../netdev.ts";
import { resolveEndpoint } from "../ovsdb/client.ts";
import { specPath } from "../paths.ts";
import { applySwitches, planOnly, removeSwitch } from "../switch/apply.ts";
import { outcomeLines, planLines, selectSwitches } from "../switch/session.ts";
import { markedBridges, showSwitch, vswitchdTarget } from "../switch/show.ts";
import { loadSpec } from "../switch/spec-validate.ts";

export interface Where {
  spec?: string;
  node?: string;
  group?: string;
}

export async function planOrApply(action: "plan" | "apply", names: string[], w: Where, ctx: RunContext): Promise<number> {
  const spec = loadSpec(specPath(w.spec))!;
  const sel = await selectSwitches(spec, names, { ...(w.node !== undefined ? { node: w.node } : {}), ...(w.group !== undefined ? { group: w.group } : {}) });
  if (sel.note) out(`${sel.note}\n`);
  if (sel.switches.length === 0) return 0;
  return withOvsdb(ctx, async (db) => {
    if (action === "plan") {
      for (const sw of sel.switches) out(planLines(await planOnly(db, sw, { deadline: ctx.deadline, deviceExists })).join("\n") + "\n");
      return 0;
    }
    const outcomes = await applySwitches(db, sel.switches, { ...applyOf(ctx), deviceExists });
    if (ctx.dryRun) return 0;
    let failed = false;
    for (const o of outcomes) {
      out(outcomeLines(o).join("\n") + "\n");
      if (o.plan.changes.length > 0) ctx.log.info(`switch apply ${o.plan.name}: ${o.plan.changes.join("; ")}`);
      for (const f of o.failures) ctx.log.error(`switch apply ${o.plan.name}: ${f}`);
      if (o.failures.length > 0) failed = true;
    }
    return failed ? 1 : 0;
  });
}

export async function showSwitches(names: string[], w: Where, ctx: RunContext): Promise<number> {
  // The spec is optional here: show works on what OVSDB holds.
  const spec = loadSpec(specPath(w.spec), true);
  return withOvsdb(ctx, async (db) => {
    let list = names;
    if (list.length === 0) list = [...new Set([...(spec?.switches.map((s) => s.name) ?? []), ...(await markedBridges(db, ctx.deadline))])];
    if (list.length === 0) {
      out("no switches (none in the spec, none applied by ovs-vif on this node)\n");
      return 0;
    }
    const endpoint = resolveEndpoint(ctx.opts.db);
    const target = vswitchdTarget(process.env, endpoint.kind === "unix" ? endpoint.path : undefined);
    for (const n of list) {
      const s = spec?.switches.find((x) => x.name === n);
      const note = spec ? (s ? (s.managed ? "in spec (managed)" : "in spec") : "not in spec") : undefined;
      out(await showSwitch(db, n, target, ctx.deadline, note));
    }
    return 0;
  });
}

export async function removeSwitchNamed(name: string, w: Where, ctx: RunContext): Promise<number> {
  const spec = loadSpec(specPath(w.spec), true);
  const managed = spec?.switches.find((s) => s.name === name)?.managed === true;
  return withOvsdb(ctx, async (db) => {
    const r = await removeSwitch(db, name, { ...applyOf(ctx), requireMarker: !managed });
    if (ctx.dryRun && r.remaining.length === 0) return 0;
    if (!r.present) {
      out(`${name}: not present on this node\n`);
      return 0;
    }
    if (r.remaining.length > 0) {
      const list = r.remaining.map((p) => `${p.name} (${p.kind === "instance" ? "VM port" : "foreign port"})`).join(", ");
      throw new StateError("switch", name, `not removed: ports remain on it that ovs-vif does not own: ${list}`);
    }
    out(`${name}: removed\n`);
    ctx.log.info(`switch remove ${name}: removed`);
    return 0;
  });
}

/** The spec file checked; its switches named. */
export function checkSpec(w: Where): number {
  const s = loadSpec(specPath(w.spec))!;
  out(`${s.file}: ok (${s.switches.length} switch${s.switches.length === 1 ? "" : "es"}: ${s.switches.map((x) => x.name).join(", ") || "none"})\n`);
  return 0;
}
