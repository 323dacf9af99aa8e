// The one plug and one unplug of a VM port, whoever the caller (Xen, Ganeti
// on KVM or Xen, QEMU, the command line). Plug runs every check that can
// fail before the first change:
//   1. read by name and build the one transaction (the bridge exists, the
//      QoS values fit the port's MTU); while that read is out, the device
//      exists (and a rename target is free);
//   2. only then: prepare the device (Xen backends), commit, wait for
//      ovs-vswitchd, check the Interface, bring the link up.
// A failure after the commit rolls the port back out of OVSDB; the error
// says whether that worked (AfterCommitError).
import { AfterCommitError, OvsdbError } from "./errors.ts";
import { connectOvsdb, type RunContext, applyOf } from "./context.ts";
import { deviceExists, isLinkUp, prepareVirtualPort, requireDevice, requireFreeName, setLink } from "./netdev.ts";
import type { Json, OvsdbClient } from "./ovsdb/client.ts";
import { commitAttach, detachPort, planAttach, removePort, type DetachResult } from "./ovsdb/ports.ts";
import { checkInterface, checkResults, watchCfg } from "./ovsdb/transact.ts";
import { Deadline } from "./deadline.ts";
import { describePortSecurity, portSecurityOf, type DesiredPort } from "./port.ts";
import type { OpenFlowClient } from "./openflow/client.ts";
// Loaded only for a port with flows, or on a bridge that carries them: a plug
// without port security does not pay for the OpenFlow client.
const portFlows = () => import("./port-flows.ts");
import { checkLevels, type Policing, type Shaping } from "./qos.ts";
import { mark } from "./trace.ts";
import { ID } from "./ovsdb/keys.ts";
import { formatTransaction } from "./dry-run.ts";
import type { Fields } from "./log.ts";
import { describeVlan, vlanMode } from "./vlan.ts";

export interface PlugRequest {
  desired: DesiredPort;
  /** The device as it is now (desired.name once a Xen vifname rename is done). */
  device: string;
  /** How the caller names the device in messages (vif, INTERFACE, --iface). */
  deviceField: string;
  /** What asked for the rename to desired.name, for messages (Xen: vifname). */
  renameField?: string;
  /** A Xen backend: set down, renamed to desired.name, MAC fe:ff:ff:ff:ff:ff,
   * addresses flushed, before it joins the bridge (as Xen's scripts do). */
  xenBackend?: boolean;
  /** A Ganeti NIC: its other ports whose device is gone (a stop or migration
   * without a down script) are removed once the attach succeeded. */
  nicUuid?: string;
  /** After every check, before the first change (OVN: the logical port). */
  beforeChanges?: (db: OvsdbClient) => Promise<void>;
  /** After the link is up: the port is usable only once this resolves (OVN:
   * ovn-installed); a failure rolls the port back like any other. */
  untilReady?: (db: OvsdbClient, interfaceUuid: string) => Promise<void>;
}

export interface PlugResult {
  /** Port security: "off", or "on" and what the VM may send from. */
  portSecurity: string;
  /** Its flows on the bridge (port security on). */
  flows?: number;
  bridgeMtu?: number;
  policing: Policing;
  /** The receive limit (bit/s, bits), when there is one. */
  shaping?: Shaping;
  /** Ports of the same name that the attach replaced. */
  replaced: number;
  ofport?: number;
  /** Stale ports of the same Ganeti NIC removed after the attach. */
  stale: string[];
}

/** Ports of the same Ganeti NIC, other than `device`, whose device is gone. Read-only. */
async function findStaleNicPorts(db: OvsdbClient, nicUuid: string, device: string, deadline: Deadline): Promise<string[]> {
  const ops: Json[] = [{ op: "select", table: "Interface", where: [["external_ids", "includes", ["map", [[ID.nicUuid, nicUuid]]]]], columns: ["name"] }];
  const results = await db.transact(ops, deadline.left());
  checkResults(ops, results, `read ports of NIC ${nicUuid}`);
  return [...new Set((results[0]?.rows ?? []).map((r) => String(r.name)).filter((n) => n !== device && !deviceExists(n)))];
}

async function removeStale(db: OvsdbClient, names: string[], nicUuid: string, ctx: RunContext): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    const res = await detachPort(db, name, { ...applyOf(ctx), wait: false });
    if (res.removed > 0) removed.push(name);
  }
  if (removed.length > 0) ctx.log.info("removed stale ports of the NIC", { nic_uuid: nicUuid, ports: removed.join(",") });
  return removed;
}

/** Takes the just-committed port out again; says what OVSDB holds after. */
async function rollback(db: OvsdbClient, ctx: RunContext, desired: DesiredPort, portUuid: string, cause: Error): Promise<AfterCommitError> {
  // The run's deadline may be spent (that may be why we are here).
  const deadline = new Deadline(3000);
  try {
    await removePort(db, desired.name, portUuid, deadline).catch(async (err: unknown) => {
      if (!(err instanceof OvsdbError) || (err.kind !== "closed" && err.kind !== "socket" && err.kind !== "timeout")) throw err;
      // The connection is gone (ovsdb-server restarted): one new one.
      const again = await connectOvsdb({ opts: ctx.opts, deadline });
      try {
        await removePort(again, desired.name, portUuid, deadline);
      } finally {
        again.close();
      }
    });
    return new AfterCommitError(cause, "rolled back", `port ${desired.name} removed from ${desired.bridge} again`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return new AfterCommitError(
      cause,
      "committed",
      `port ${desired.name} stays on ${desired.bridge} with its full configuration (rollback failed: ${why}); remove it with 'ovs-vif detach --iface ${desired.name}'`,
    );
  }
}

/** Plugs one VM port. `db` lets a caller open the connection early (Xen
 * overlaps it with its xenstore reads); the caller closes what it passes. */
export async function plug(req: PlugRequest, ctx: RunContext, db?: Promise<OvsdbClient>): Promise<PlugResult> {
  const { desired } = req;
  const connecting = db ?? connectOvsdb(ctx);
  connecting.catch(() => undefined);
  if (desired.qos) checkLevels(desired.qos);
  const security = portSecurityOf(desired);
  const { policy } = security;
  const client = await connecting;
  mark("ovsdb connected");
  // The bridge's OpenFlow socket: at once when the port gets flows (its
  // latency overlaps OVSDB's); when it does not, only if the bridge
  // carries ovs-vif's flows (known from the read), to clear its ofport's.
  let flows: Promise<OpenFlowClient> | undefined;
  const openFlows = () => {
    const opening = portFlows().then((m) => m.connectFlows(desired.bridge, ctx));
    opening.catch(() => undefined);
    return opening;
  };
  try {
    const planning = planAttach(client, desired, ctx.deadline, policy !== undefined);
    planning.catch(() => undefined);
    if (policy && !ctx.dryRun) flows = openFlows();
    // While OVSDB answers the read: the device checks (the first file call
    // loads libc, ~0.7 ms). Nothing has been changed either way.
    if (!ctx.dryRun) {
      requireDevice(req.deviceField, req.device);
      requireFreeName(req.renameField ?? `${req.deviceField} rename`, req.device, desired.name);
    }
    const plan = await planning;
    if (!policy && plan.state.flows && !ctx.dryRun) flows = openFlows();
    const base = {
      portSecurity: describePortSecurity(security),
      policing: plan.policing,
      replaced: plan.state.sameNamePorts.length,
      ...(plan.state.bridgeMtu !== undefined ? { bridgeMtu: plan.state.bridgeMtu } : {}),
      ...(plan.shaping ? { shaping: plan.shaping } : {}),
    };
    // Looking for stale ports of this NIC goes out now (pipelined on the
    // same connection); they are removed only once the attach succeeded.
    const staleNames = req.nicUuid !== undefined ? findStaleNicPorts(client, req.nicUuid, desired.name, ctx.deadline) : Promise.resolve([] as string[]);
    staleNames.catch(() => undefined);
    if (ctx.dryRun) {
      const stale = req.nicUuid !== undefined ? await removeStale(client, await staleNames, req.nicUuid, ctx) : [];
      ctx.dryRun.print(formatTransaction(client.database, plan.ops));
      if (policy || plan.state.flows) ctx.dryRun.print(`port-security flows of its ofport on ${desired.bridge}: ${base.portSecurity}`);
      ctx.dryRun.print(`ip link set dev ${desired.name} up`);
      return { ...base, stale };
    }
    // Every check has passed, the OpenFlow socket included: the first change.
    const flowClient = await flows;
    await req.beforeChanges?.(client);
    if (req.xenBackend) await prepareVirtualPort(req.device, desired.name === req.device ? undefined : desired.name);
    // No frame of the VM's is forwarded before its flows are in: its device
    // stays down until then (a Xen backend is down already).
    else if (policy && isLinkUp(req.device)) await setLink(req.device, "down");
    mark("device prepared");
    // Flows need the ofport: port security waits for ovs-vswitchd even with --no-wait.
    const watch = ctx.opts.wait || flowClient ? watchCfg(client, ctx.deadline, { interfaces: true }) : undefined;
    const committed = await commitAttach(client, desired, plan, ctx.deadline);
    mark("committed");
    const result: PlugResult = { ...base, policing: committed.plan.policing, replaced: committed.plan.state.sameNamePorts.length, stale: [] };
    if (committed.plan.shaping) result.shaping = committed.plan.shaping;
    else delete result.shaping;
    try {
      if (watch) {
        await watch.until(committed.nextCfg);
        mark("vswitchd applied");
        result.ofport = await checkInterface(client, committed.interfaceUuid, desired.name, ctx.deadline, watch);
      }
      if (flowClient && result.ofport !== undefined) {
        result.flows = await (await portFlows()).settlePortFlows(
          flowClient,
          { bridge: desired.bridge, name: desired.name, ofport: result.ofport },
          policy,
          ctx,
        );
        mark("flows set");
      }
      await setLink(desired.name, "up");
      await req.untilReady?.(client, committed.interfaceUuid);
    } catch (err) {
      watch?.cancel();
      if (flowClient && policy && result.ofport !== undefined)
        await (await portFlows()).removeFlowsQuietly(flowClient, { bridge: desired.bridge, name: desired.name, ofport: result.ofport }, ctx);
      throw await rollback(client, ctx, desired, committed.portUuid, err instanceof Error ? err : new Error(String(err)));
    }
    mark("attached");
    const names = await staleNames;
    if (names.length > 0 && req.nicUuid !== undefined) result.stale = await removeStale(client, names, req.nicUuid, ctx);
    return result;
  } finally {
    if (!db) client.close();
    flows?.then(
      (c) => c.close(),
      () => undefined,
    );
  }
}

/** Removes the device's port from whatever bridge holds it (absent is fine),
 * then its port-security flows, and sets a device that still exists down. */
export async function unplug(device: string, ctx: RunContext, db?: Promise<OvsdbClient>): Promise<DetachResult> {
  const client = await (db ?? connectOvsdb(ctx));
  try {
    const res = await detachPort(client, device, applyOf(ctx));
    if (!ctx.dryRun && deviceExists(device)) await setLink(device, "down").catch(() => undefined);
    if (res.flowPorts.length > 0) await (await portFlows()).removeFlowsAfterUnplug(res.flowPorts, ctx);
    return res;
  } finally {
    if (!db) client.close();
  }
}

/** What a plug made, as the fields of its log line. */
export function plugFields(desired: DesiredPort, res: PlugResult): Fields {
  return {
    device: desired.name,
    bridge: desired.bridge,
    vlan_mode: vlanMode(desired.vlan),
    vlan: describeVlan(desired.vlan),
    mtu: desired.mtu ?? res.bridgeMtu,
    ...qosFields(res),
    ofport: res.ofport,
    port_security: res.portSecurity === "off" ? undefined : res.portSecurity,
    flows: res.flows,
  };
}

/** What an unplug removed, as the fields of its log line. */
export function unplugFields(device: string, res: DetachResult): Fields {
  return { device, bridge: res.bridges.join(",") || undefined, removed: res.removed };
}

/** The QoS a plug applied, as log fields. */
export function qosFields(res: Pick<PlugResult, "policing" | "shaping">): Record<string, number | undefined> {
  return { rate: res.policing.rate || undefined, burst: res.policing.burst || undefined, rx_rate: res.shaping?.rate, rx_burst: res.shaping?.burst };
}
