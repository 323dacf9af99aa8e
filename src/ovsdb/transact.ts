// Running a transaction: result checking, retry on guard conflicts, and
// waiting until ovs-vswitchd has applied it.
import { AfterCommitError, DeviceError, OvsdbError } from "../errors.ts";
import type { Json, OperationResult, OvsdbClient, Row } from "./client.ts";
import { optionalAtom, setItems, uuid } from "./values.ts";
import type { Deadline } from "../deadline.ts";
import { formatTransaction, type DryRun } from "../dry-run.ts";

/** A `wait` guard failed: something changed since the read (retry). */
export class GuardConflict extends Error {
  override readonly name = "GuardConflict";
}

/** Throws on any failed operation or trailing commit error. A failed `wait`
 * guard means something changed since the read: GuardConflict (retry). */
export function checkResults(ops: Json[], results: OperationResult[], what: string): void {
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (!r || !r.error) continue;
    const op = ops[i] as { op?: string; table?: string } | undefined;
    if (op?.op === "wait" && r.error === "timed out") throw new GuardConflict(`${op.table} changed concurrently`);
    const where = op ? `operation ${i + 1} (${op.op} ${op.table ?? ""})`.replace(/ \)$/, ")") : "commit";
    throw new OvsdbError("transaction", `${what}: OVSDB refused ${where}: ${r.error}${r.details ? `: ${r.details}` : ""}`, { details: r });
  }
  if (results.length < ops.length) throw new OvsdbError("transaction", `${what}: OVSDB answered ${results.length} of ${ops.length} operations`);
}

/** What a write needs of its run: its time budget and, in a dry run, where
 * the transaction goes instead of OVSDB. */
export interface WriteRun {
  deadline: Deadline;
  dryRun?: DryRun;
}

/** A write: read what it depends on and build its one transaction; `done`
 * turns the results into the outcome (results undefined: a dry run). */
export type Build<T> = () => Promise<{ ops: Json[]; done: (results: OperationResult[] | undefined) => T }>;

/** The one way ovs-vif writes to OVSDB: build, commit, and when a guard
 * shows a concurrent change, build again and retry. In a dry run the
 * transaction is built once and printed instead. An empty one is not sent. */
export async function commit<T>(client: OvsdbClient, what: string, build: Build<T>, run: WriteRun & { tries?: number }): Promise<T> {
  if (run.dryRun) {
    const { ops, done } = await build();
    if (ops.length > 0) run.dryRun.print(formatTransaction(client.database, ops));
    return done(undefined);
  }
  return transactWithRetry(client, run.deadline, what, build, run.tries);
}

/** Runs read+build+commit, retrying when a guard shows a concurrent change. */
export async function transactWithRetry<T>(
  client: OvsdbClient,
  deadline: Deadline,
  what: string,
  attempt: Build<T>,
  /** How many builds at most; 1: a conflict is the caller's to handle (it re-reads). */
  maxTries = 20,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    const { ops, done } = await attempt();
    if (ops.length === 0) return done([]);
    const results = await client.transact(ops, deadline.left());
    try {
      checkResults(ops, results, what);
      return done(results);
    } catch (err) {
      if (!(err instanceof GuardConflict) || tries >= maxTries || deadline.left() < 5) throw err;
      await new Promise((r) => setTimeout(r, Math.min(deadline.left(), 2 + Math.random() * 10 * tries)));
    }
  }
}

/** The next_cfg value selected by bumpNextCfg's select (last select of Open_vSwitch). */
export function nextCfgFrom(results: OperationResult[]): number {
  for (let i = results.length - 1; i >= 0; i--) {
    const row = results[i]?.rows?.[0];
    if (row && typeof row.next_cfg === "number") return row.next_cfg;
  }
  throw new OvsdbError("protocol", "transaction did not report next_cfg");
}

/** Waits until ovs-vswitchd reports cur_cfg >= target (it has reconfigured
 * with our change), watching Open_vSwitch through a monitor. */
let monitors = 0;

export interface CfgWatch {
  /** Resolves once ovs-vswitchd reports cur_cfg >= target. */
  until(target: number): Promise<void>;
  /** With `interfaces`: an Interface row's ofport and error as the monitor
   * last saw them (rows inserted or changed since the watch began). */
  interfaceRow(uuid: string): Row | undefined;
  cancel(): void;
}

type Updates = Record<string, Record<string, { new?: Row }>> | null;

/** Starts watching Open_vSwitch cur_cfg (a monitor) right away, so its
 * round trip overlaps the transaction it will wait for. With `interfaces`
 * it also watches the Interface rows inserted or changed from then on
 * (ofport, error; no initial rows, however many ports the node has): the
 * update that brings cur_cfg carries the ofport ovs-vswitchd gave a new
 * port in the same transaction, which saves a read afterwards. */
export function watchCfg(client: OvsdbClient, deadline: Deadline, o: { interfaces?: boolean } = {}): CfgWatch {
  const id = `cur_cfg-${++monitors}`;
  let seen = -Infinity;
  let target = Infinity;
  let wake: (() => void) | undefined;
  const interfaces = new Map<string, Row>();
  const observe = (updates: Json) => {
    for (const row of Object.values((updates as Updates)?.Open_vSwitch ?? {})) {
      const cur = row.new?.cur_cfg;
      // Never let the observed value go backwards (e.g. a restarting daemon).
      if (typeof cur === "number" && cur > seen) seen = cur;
    }
    for (const [uuid, row] of Object.entries((updates as Updates)?.Interface ?? {})) if (row.new) interfaces.set(uuid, row.new);
    if (seen >= target) wake?.();
  };
  client.onUpdate = (monitorId, update) => {
    if (monitorId === id) observe(update);
  };
  const tables: Record<string, Json> = { Open_vSwitch: { columns: ["cur_cfg"] } };
  if (o.interfaces) tables.Interface = { columns: ["ofport", "error"], select: { initial: false, insert: true, modify: true, delete: false } };
  const initial = client.request("monitor", [client.database, id, tables], deadline.left()).then(observe);
  initial.catch(() => undefined);
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    // One-shot: stop the updates (the answer is not awaited).
    void client.request("monitor_cancel", [id], deadline.left()).catch(() => undefined);
  };
  return {
    cancel,
    interfaceRow: (uuid) => interfaces.get(uuid),
    async until(t: number) {
      target = t;
      await initial;
      if (seen < target) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            reject(
              new OvsdbError(
                "vswitchd",
                `ovs-vswitchd did not apply the change within ${deadline.totalMs / 1000} s (cur_cfg ${seen === -Infinity ? "unknown" : seen} < ${target}; is ovs-vswitchd running?)`,
              ),
            );
          }, deadline.left());
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      cancel();
    },
  };
}

export async function waitForVswitchd(client: OvsdbClient, target: number, deadline: Deadline): Promise<void> {
  await watchCfg(client, deadline).until(target);
}

/** Waits for ovs-vswitchd after a change that stays committed whatever
 * happens (reconcile, detach, switch apply): a failure says so. */
export async function waitCommitted(client: OvsdbClient, target: number, deadline: Deadline, what: string): Promise<void> {
  try {
    await waitForVswitchd(client, target, deadline);
  } catch (err) {
    if (err instanceof OvsdbError) throw new AfterCommitError(err, "committed", `${what} is in OVSDB; ovs-vswitchd applies it when it catches up`);
    throw err;
  }
}

/** The OpenFlow port of an Interface row ovs-vswitchd attached, else undefined. */
function attachedOfport(row: Row | undefined): number | undefined {
  const error = optionalAtom(row?.error);
  const ofport = optionalAtom(row?.ofport);
  return (error === undefined || error === "") && typeof ofport === "number" && ofport > 0 ? ofport : undefined;
}

/** After vswitchd applied the change: did the Interface get an OpenFlow
 * port? What a watch saw answers when it shows the port attached; anything
 * else is read again (and explained) from OVSDB. */
export async function checkInterface(client: OvsdbClient, ifaceUuid: string, device: string, deadline: Deadline, watch?: CfgWatch): Promise<number> {
  const seen = attachedOfport(watch?.interfaceRow(ifaceUuid));
  if (seen !== undefined) return seen;
  const ops: Json[] = [{ op: "select", table: "Interface", where: [["_uuid", "==", uuid(ifaceUuid)]], columns: ["ofport", "error"] }];
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, `check ${device}`);
  const row = results[0]?.rows?.[0];
  if (!row) throw new DeviceError(device, "the Interface row vanished (removed concurrently)");
  const error = optionalAtom(row.error);
  const ofport = optionalAtom(row.ofport);
  if (typeof error === "string" && error !== "") throw new DeviceError(device, `ovs-vswitchd could not attach it: ${error}`);
  if (typeof ofport !== "number" || ofport < 0)
    throw new DeviceError(device, `ovs-vswitchd could not attach it (ofport ${JSON.stringify(setItems(row.ofport))})`);
  return ofport;
}
