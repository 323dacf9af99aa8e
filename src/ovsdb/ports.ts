// attachPort / detachPort: read what is needed by name (never whole tables),
// build one transaction, commit it, wait for ovs-vswitchd, verify.
import { StateError } from "../errors.ts";
import type { DesiredPort } from "../port.ts";
import type { Json, OperationResult, OvsdbClient } from "./client.ts";
import { attachOps, detachOps, where, type AttachState } from "./port-ops.ts";
import { checkInterface, checkResults, Deadline, nextCfgFrom, transactWithRetry, waitForVswitchd } from "./transact.ts";
import { optionalAtom, uuid, uuidOf } from "./values.ts";

export interface ApplyOptions {
  deadline: Deadline;
  /** Wait for ovs-vswitchd and check the device (ovs-vsctl's default). */
  wait: boolean;
  /** Print the write transaction instead of sending it. */
  dryRun?: (transaction: Json[]) => void;
}

export interface AttachResult {
  portUuid?: string;
  interfaceUuid?: string;
  ofport?: number;
  replaced: number;
  bridgeMtu?: number;
}

async function readAttachState(client: OvsdbClient, desired: DesiredPort, deadline: Deadline): Promise<AttachState> {
  const ops: Json[] = [
    { op: "select", table: "Bridge", where: where("name", desired.bridge), columns: ["_uuid"] },
    { op: "select", table: "Port", where: where("name", desired.name), columns: ["_uuid"] },
    { op: "select", table: "Interface", where: where("name", desired.bridge), columns: ["mtu"] },
  ];
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, `read bridge ${desired.bridge}`);
  const bridge = results[0]?.rows?.[0];
  if (!bridge) throw new StateError("bridge", desired.bridge, "no such bridge in OVSDB");
  const mtu = optionalAtom(results[2]?.rows?.[0]?.mtu);
  const state: AttachState = {
    bridgeUuid: uuidOf(bridge._uuid),
    sameNamePorts: (results[1]?.rows ?? []).map((r) => uuidOf(r._uuid)),
  };
  if (typeof mtu === "number") state.bridgeMtu = mtu;
  return state;
}

export function attachComment(desired: DesiredPort): string {
  return `ovs-vif: attach ${desired.name} to ${desired.bridge} (${desired.owner})`;
}

function insertedUuid(ops: Json[], results: OperationResult[], table: string): string {
  const i = ops.findIndex((op) => (op as { op?: string; table?: string }).op === "insert" && (op as { table?: string }).table === table);
  return uuidOf(results[i]?.uuid as Json);
}

export async function attachPort(client: OvsdbClient, desired: DesiredPort, opts: ApplyOptions): Promise<AttachResult> {
  const { deadline } = opts;
  if (opts.dryRun) {
    const state = await readAttachState(client, desired, deadline);
    opts.dryRun([client.database, ...attachOps(desired, state, attachComment(desired))]);
    return { replaced: state.sameNamePorts.length, ...(state.bridgeMtu !== undefined ? { bridgeMtu: state.bridgeMtu } : {}) };
  }
  const result = await transactWithRetry(client, deadline, `attach ${desired.name}`, async () => {
    const state = await readAttachState(client, desired, deadline);
    const ops = attachOps(desired, state, attachComment(desired));
    return {
      ops,
      done: (results: OperationResult[]) => ({
        portUuid: insertedUuid(ops, results, "Port"),
        interfaceUuid: insertedUuid(ops, results, "Interface"),
        nextCfg: nextCfgFrom(results),
        replaced: state.sameNamePorts.length,
        bridgeMtu: state.bridgeMtu,
      }),
    };
  });
  const out: AttachResult = { portUuid: result.portUuid, interfaceUuid: result.interfaceUuid, replaced: result.replaced };
  if (result.bridgeMtu !== undefined) out.bridgeMtu = result.bridgeMtu;
  if (!opts.wait) return out;
  await waitForVswitchd(client, result.nextCfg, deadline);
  try {
    out.ofport = await checkInterface(client, result.interfaceUuid, desired.name, deadline);
  } catch (err) {
    // Leave no port behind that vswitchd could not attach.
    await removePorts(client, desired.name, [result.portUuid], deadline).catch(() => undefined);
    throw err;
  }
  return out;
}

async function removePorts(client: OvsdbClient, name: string, portUuids: string[], deadline: Deadline): Promise<number> {
  const ops = detachOps(name, portUuids, `ovs-vif: detach ${name}`);
  const results = await client.transact(ops, deadline.left());
  checkResults(ops, results, `detach ${name}`);
  return nextCfgFrom(results);
}

export interface DetachResult {
  removed: number;
  bridges: string[];
}

/** Removes every port named `name` (absent is fine). */
export async function detachPort(client: OvsdbClient, name: string, opts: ApplyOptions): Promise<DetachResult> {
  const { deadline } = opts;
  const read = async () => {
    const ops: Json[] = [{ op: "select", table: "Port", where: where("name", name), columns: ["_uuid"] }];
    const results = await client.transact(ops, deadline.left());
    checkResults(ops, results, `read port ${name}`);
    const ports = (results[0]?.rows ?? []).map((r) => uuidOf(r._uuid));
    let bridges: string[] = [];
    if (ports.length > 0) {
      const bops: Json[] = [{ op: "select", table: "Bridge", where: [["ports", "includes", ["set", ports.map(uuid)]]], columns: ["name"] }];
      const bres = await client.transact(bops, deadline.left());
      checkResults(bops, bres, `read bridge of ${name}`);
      bridges = (bres[0]?.rows ?? []).map((r) => String(r.name));
    }
    return { ports, bridges };
  };
  if (opts.dryRun) {
    const { ports, bridges } = await read();
    if (ports.length > 0) opts.dryRun([client.database, ...detachOps(name, ports, `ovs-vif: detach ${name}`)]);
    return { removed: ports.length, bridges };
  }
  const outcome = await transactWithRetry(client, deadline, `detach ${name}`, async () => {
    const { ports, bridges } = await read();
    if (ports.length === 0) return { ops: [] as Json[], done: () => ({ removed: 0, bridges, nextCfg: undefined as number | undefined }) };
    const ops = detachOps(name, ports, `ovs-vif: detach ${name}`);
    return { ops, done: (results: OperationResult[]) => ({ removed: ports.length, bridges, nextCfg: nextCfgFrom(results) as number | undefined }) };
  });
  if (opts.wait && outcome.nextCfg !== undefined) await waitForVswitchd(client, outcome.nextCfg, deadline);
  return { removed: outcome.removed, bridges: outcome.bridges };
}
