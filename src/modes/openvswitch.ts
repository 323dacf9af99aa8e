// mode=openvswitch: the port in one OVSDB transaction (attachPort: explicit
// vlan_mode, external-ids, MTU from the bridge, policing), replacing any port
// of the same name, and stale ports of the same Ganeti NIC whose device is
// gone; `down` removes it.
import { InputError } from "../errors.ts";
import { ganetiNicPort } from "../ganeti/nic-port.ts";
import { setLink } from "../netdev.ts";
import type { Json, OvsdbClient } from "../ovsdb/client.ts";
import { attachPort, detachPort, type AttachResult, type DetachResult } from "../ovsdb/ports.ts";
import { checkResults } from "../ovsdb/transact.ts";
import type { DesiredPort } from "../port.ts";
import type { QosLevel } from "../qos.ts";
import { nicField, type GanetiNic } from "../sources/ganeti.ts";
import { connectOvsdb } from "../cli/common.ts";
import { linkExists, printTxn, type ModeContext } from "./common.ts";

/** Interface external-id holding the Ganeti NIC's UUID. */
export const NIC_UUID_KEY = "ganeti-nic-uuid";

/** The desired port of a Ganeti openvswitch NIC (QoS: the NIC's and
 * instance's tags, the network's tags, then `tail`, e.g. node defaults). */
export function ganetiDesiredPort(nic: GanetiNic, device: string, tail: QosLevel[]): DesiredPort {
  const F = (k: string) => nicField(nic, k);
  if (nic.index === undefined) throw new InputError(F("INTERFACE_INDEX"), "", "not set (Ganeti always passes the NIC index)");
  if (nic.uuid === undefined) throw new InputError(F("INTERFACE_UUID"), "", "not set (Ganeti always passes the NIC UUID)");
  if (nic.mac === undefined) throw new InputError(F("MAC"), "", "not set (Ganeti always passes the NIC's MAC)");
  if (nic.link === undefined) throw new InputError(F("LINK"), "", "not set: an openvswitch NIC needs the OVS bridge in its link parameter");
  return ganetiNicPort(
    {
      instance: nic.instance,
      index: nic.index,
      uuid: nic.uuid,
      ...(nic.name !== undefined ? { name: nic.name } : {}),
      mac: nic.mac,
      link: nic.link,
      vlan: nic.vlan,
      tags: nic.tags,
      networkTags: nic.networkTags,
    },
    device,
    tail,
    { link: F("LINK"), vlan: F("VLAN") },
  );
}

/** Other ports of the same Ganeti NIC whose device no longer exists (left
 * by a stop or migration without a down script, e.g. Ganeti 3.0). A live
 * device is never among them. Read-only. */
export async function findStaleNicPorts(db: OvsdbClient, nicUuid: string, device: string, ctx: ModeContext): Promise<string[]> {
  const ops: Json[] = [{ op: "select", table: "Interface", where: [["external_ids", "includes", ["map", [[NIC_UUID_KEY, nicUuid]]]]], columns: ["name"] }];
  const results = await db.transact(ops, ctx.deadline.left());
  checkResults(ops, results, `read ports of NIC ${nicUuid}`);
  return [...new Set((results[0]?.rows ?? []).map((r) => String(r.name)).filter((n) => n !== device && !linkExists(n)))];
}

/** Removes the given stale ports (each in its own transaction; absent is fine). */
export async function removeStalePorts(db: OvsdbClient, names: string[], nicUuid: string, ctx: ModeContext): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    const res = await detachPort(db, name, { deadline: ctx.deadline, wait: false, ...(ctx.print ? { dryRun: printTxn(ctx) } : {}) });
    if (res.removed > 0) removed.push(name);
  }
  if (removed.length > 0 && !ctx.print) ctx.log.info("removed stale ports of the NIC", { nic_uuid: nicUuid, ports: removed.join(",") });
  return removed;
}

export interface OvsUpOptions {
  desired: DesiredPort;
  /** Ganeti NIC UUID: stale ports of this NIC are removed first. */
  nicUuid?: string;
  /** Runs after the checks, before the transaction (Xen: MAC, rename). */
  prepare?: () => Promise<void>;
}

export interface OvsUpResult {
  attach: AttachResult;
  stale: string[];
}

/** Attaches and brings the device up. On a failure after the commit the
 * port is removed again: nothing half-applied. Dry run: prints the
 * transaction, changes nothing. */
export async function ovsUp(o: OvsUpOptions, ctx: ModeContext): Promise<OvsUpResult> {
  const db = await connectOvsdb(ctx.opts, ctx.deadline);
  try {
    if (ctx.print) {
      const stale = o.nicUuid !== undefined ? await removeStalePorts(db, await findStaleNicPorts(db, o.nicUuid, o.desired.name, ctx), o.nicUuid, ctx) : [];
      const attach = await attachPort(db, o.desired, { deadline: ctx.deadline, wait: false, dryRun: printTxn(ctx) });
      ctx.print(`ip link set dev ${o.desired.name} up`);
      return { attach, stale };
    }
    await o.prepare?.();
    // Looking for stale ports of this NIC goes out together with the attach
    // (pipelined on one connection: no extra round trip); they are removed
    // only once the attach succeeded, so a failed attach changes nothing.
    const nicUuid = o.nicUuid;
    const staleNames = nicUuid !== undefined ? findStaleNicPorts(db, nicUuid, o.desired.name, ctx) : Promise.resolve([] as string[]);
    staleNames.catch(() => undefined);
    const attach = await attachPort(db, o.desired, { deadline: ctx.deadline, wait: ctx.opts.wait });
    try {
      await setLink(o.desired.name, "up");
    } catch (err) {
      await detachPort(db, o.desired.name, { deadline: ctx.deadline, wait: false }).catch(() => undefined);
      throw err;
    }
    const names = await staleNames;
    const stale = names.length > 0 && nicUuid !== undefined ? await removeStalePorts(db, names, nicUuid, ctx) : [];
    return { attach, stale };
  } finally {
    db.close();
  }
}

/** Removes the device's port (absent is fine) and sets a live device down. */
export async function ovsDown(device: string, ctx: ModeContext): Promise<DetachResult> {
  const db = await connectOvsdb(ctx.opts, ctx.deadline);
  try {
    const res = await detachPort(db, device, { deadline: ctx.deadline, wait: ctx.opts.wait, ...(ctx.print ? { dryRun: printTxn(ctx) } : {}) });
    if (!ctx.print && linkExists(device)) await setLink(device, "down").catch(() => undefined);
    return res;
  } finally {
    db.close();
  }
}
