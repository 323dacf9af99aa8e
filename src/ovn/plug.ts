// Plugging a VM into OVN, in this order: every check (the device, the
// integration bridge, QoS, the logical switch in NB, this node's chassis),
// then the Logical_Switch_Port created or updated in NB with its addresses,
// port security and requested-chassis (both chassis while a live migration
// comes in), then the tap on br-int with iface-id in one OVS transaction
// (src/plug.ts), then a wait until ovn-controller says ovn-installed. And
// the reverse: the OVS port goes; the logical port stays (the instance may
// run elsewhere) but this chassis leaves its requested-chassis.
import { type RunContext } from "../context.ts";
import { AfterCommitError, OvsdbError, StateError } from "../errors.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import type { Json } from "../ovsdb/json.ts";
import { checkResults, transactWithRetry } from "../ovsdb/transact.ts";
import { Deadline } from "../deadline.ts";
import { mapEntries, uuid, uuidOf } from "../ovsdb/values.ts";
import { plug, unplug, type PlugRequest, type PlugResult } from "../plug.ts";
import type { OvnConfig } from "./config.ts";
import {
  connectNb,
  lspOptions,
  place,
  placementFor,
  readLsp,
  requestedChassis,
  undoLspOps,
  upsertLspOps,
  type DesiredLsp,
  type LspState,
  type Placement,
} from "./nb.ts";
import { ID, LSP_OPTION } from "../ovsdb/keys.ts";
import { formatTransaction } from "../dry-run.ts";
import { parseLogicalPortName, parseLogicalSwitchName } from "../names.ts";

export interface OvnPort {
  lsp: DesiredLsp;
  /** How the caller names the switch in messages (NETWORK_NAME, --ovn-switch). */
  lsField: string;
  /** How the caller names the logical port (INTERFACE_UUID; default --lsp). */
  lspField?: string;
}

/** This node's OVN chassis name (Open_vSwitch external_ids:system-id). */
export async function chassisName(db: OvsdbClient, deadline: Deadline): Promise<string> {
  const ops: Json[] = [{ op: "select", table: "Open_vSwitch", where: [], columns: ["external_ids"] }];
  const r = await db.transact(ops, deadline.left());
  checkResults(ops, r, "read Open_vSwitch");
  const id = mapEntries(r[0]?.rows?.[0]?.external_ids)[ID.systemId];
  if (!id) throw new StateError("Open_vSwitch external_ids:system-id", "", "not set: this node is no OVN chassis (ovn-controller reads its name there)");
  return id;
}

/** Until ovn-controller marks the Interface ovn-installed (its flows are in place). */
async function untilInstalled(db: OvsdbClient, ifaceUuid: string, name: string, deadline: Deadline): Promise<void> {
  const ops: Json[] = [{ op: "select", table: "Interface", where: [["_uuid", "==", uuid(ifaceUuid)]], columns: ["external_ids"] }];
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    const r = await db.transact(ops, deadline.left());
    checkResults(ops, r, `check ${name}`);
    if (mapEntries(r[0]?.rows?.[0]?.external_ids)[ID.ovnInstalled] === "true") return;
    if (deadline.left() <= wait)
      throw new OvsdbError(
        "vswitchd",
        `ovn-controller did not install ${name} within ${deadline.totalMs / 1000} s (no external_ids:ovn-installed; is ovn-controller running and the logical port's chassis this one?)`,
      );
    await new Promise((r2) => setTimeout(r2, wait));
  }
}

export interface OvnPlugResult extends PlugResult {
  chassis: string;
  placement: Placement;
}

/** Plugs `req` (a port on the integration bridge, iface-id = the logical port).
 * A failure after the logical port was written undoes that too: a port it
 * created goes again, a port that was there gets back what it held; the
 * error says which (or that the logical port stays, if even that failed). */
export async function ovnPlug(req: PlugRequest, port: OvnPort, config: OvnConfig, ctx: RunContext, db: Promise<OvsdbClient>): Promise<OvnPlugResult> {
  const lspField = port.lspField ?? "--lsp";
  parseLogicalSwitchName(port.lsField, port.lsp.ls);
  parseLogicalPortName(lspField, port.lsp.name);
  const client = await db;
  const chassis = await chassisName(client, ctx.deadline);
  const nb = await connectNb(config.nb, Math.min(ctx.deadline.left(), 5000));
  try {
    // Read and checked now (a missing or ambiguous switch, a port that is not
    // ovs-vif's VM port fail here), committed after the OVS checks.
    let state = await readLsp(nb, port.lsp.name, port.lsp.ls, ctx.deadline, port.lsField, lspField);
    let placement = placementFor(chassis, state.lsp?.options);
    ctx.dryRun?.print(formatTransaction(nb.database, upsertLspOps(port.lsp, state, placement)));
    let fresh = true;
    /** Set once the logical port is written: what it was before, and the uuid of a new one. */
    let written: { before: LspState; created?: string } | undefined;
    const commitNb = () =>
      transactWithRetry(nb, ctx.deadline, `logical switch port ${port.lsp.name}`, async () => {
        // A guard that failed (a concurrent change): read again.
        if (!fresh) {
          state = await readLsp(nb, port.lsp.name, port.lsp.ls, ctx.deadline, port.lsField, lspField);
          placement = placementFor(chassis, state.lsp?.options);
        }
        fresh = false;
        const ops = upsertLspOps(port.lsp, state, placement);
        const insertAt = ops.findIndex((o) => (o as { op?: string }).op === "insert");
        return {
          ops,
          done: (results) => {
            const created = insertAt >= 0 ? results?.[insertAt]?.uuid : undefined;
            written = { before: state, ...(created !== undefined ? { created: uuidOf(created) } : {}) };
          },
        };
      });
    try {
      const res = await plug({ ...req, beforeChanges: commitNb, untilReady: (c, iface) => untilInstalled(c, iface, req.desired.name, ctx.deadline) }, ctx, db);
      return { ...res, chassis, placement };
    } catch (err) {
      if (!written) throw err;
      throw await undoLsp(nb, port, written, err instanceof Error ? err : new Error(String(err)));
    }
  } finally {
    nb.close();
  }
}

/** Takes back the logical port write of a failed attach; the error to throw. */
async function undoLsp(nb: OvsdbClient, port: OvnPort, written: { before: LspState; created?: string }, cause: Error): Promise<AfterCommitError> {
  const name = port.lsp.name;
  const ops = undoLspOps(port.lsp, written.before, written.created);
  let detail: string;
  let failed = false;
  try {
    // The run's deadline may be spent (that may be why we are here).
    const deadline = new Deadline(3000);
    if (ops.length > 0) checkResults(ops, await nb.transact(ops, deadline.left()), `undo logical switch port ${name}`);
    detail = written.before.lsp
      ? `logical port ${name} put back as it was in ${nb.endpoint.text}`
      : `logical port ${name} removed from ${nb.endpoint.text} again`;
  } catch (err) {
    failed = true;
    const why = `its undo failed: ${(err as Error).message}`;
    detail = written.before.lsp
      ? `logical port ${name} keeps in ${nb.endpoint.text} what this attach wrote (${why})`
      : `logical port ${name} stays in ${nb.endpoint.text} (${why}); remove it with ovn-nbctl lsp-del ${name}`;
  }
  if (cause instanceof AfterCommitError) return new AfterCommitError(cause.cause, failed ? "committed" : cause.state, `${cause.detail}; ${detail}`);
  return new AfterCommitError(cause, failed ? "committed" : "rolled back", detail);
}

/** After a migration or failover to here: this chassis alone. */
export async function ovnPromote(lsp: string, config: OvnConfig, ctx: RunContext, db: OvsdbClient): Promise<string | undefined> {
  const chassis = await chassisName(db, ctx.deadline);
  const nb = await connectNb(config.nb, Math.min(ctx.deadline.left(), 5000));
  try {
    const options = await lspOptions(nb, lsp, ctx.deadline);
    if (!options) return undefined;
    const now = requestedChassis(options);
    if (now.length === 1 && now[0] === chassis && options[LSP_OPTION.activationStrategy] === undefined) return undefined;
    if (!ctx.dryRun) await place(nb, lsp, { chassis: [chassis] }, ctx.deadline);
    return `${lsp}: requested-chassis ${now.join(",") || "none"} -> ${chassis}`;
  } finally {
    nb.close();
  }
}

/** After the port left this node: this chassis leaves requested-chassis. */
export async function ovnRelease(lsp: string, config: OvnConfig, ctx: RunContext, db: OvsdbClient): Promise<string | undefined> {
  const chassis = await chassisName(db, new Deadline(Math.max(ctx.deadline.left(), 2000)));
  const nb = await connectNb(config.nb, Math.min(Math.max(ctx.deadline.left(), 2000), 5000));
  try {
    const options = await lspOptions(nb, lsp, ctx.deadline);
    const now = requestedChassis(options);
    if (!now.includes(chassis)) return undefined;
    const rest = now.filter((c) => c !== chassis);
    if (!ctx.dryRun) await place(nb, lsp, { chassis: rest }, ctx.deadline);
    return `${lsp}: requested-chassis ${now.join(",")} -> ${rest.join(",") || "none"}`;
  } finally {
    nb.close();
  }
}

/** Unplugs an OVN port: the OVS port goes, then this chassis leaves the logical port. */
export async function ovnUnplug(
  device: string,
  lsp: string,
  config: OvnConfig,
  ctx: RunContext,
): Promise<{ removed: number; bridges: string[]; released?: string }> {
  const { connectOvsdb } = await import("../context.ts");
  const db = await connectOvsdb(ctx);
  try {
    const res = await unplug(device, ctx, Promise.resolve(db));
    const released = await ovnRelease(lsp, config, ctx, db);
    return released ? { ...res, released } : res;
  } finally {
    db.close();
  }
}
