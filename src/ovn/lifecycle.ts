// OVN's part of the Ganeti lifecycle, next to the OVS ports': the logical
// port follows the instance. After a start, migration or failover to here
// this chassis alone is requested; when a port leaves this node (stop,
// migration source, a device deleted) this chassis is dropped from it; when
// the instance is removed, or a NIC leaves OVN, its logical port goes. A
// failure here is reported, never fatal: the OVS side is already done.
import type { RunContext } from "../context.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import type { ManagedPort } from "../ovsdb/ports.ts";
import type { Json } from "../ovsdb/json.ts";
import { checkResults } from "../ovsdb/transact.ts";
import { loadOvnConfig, type OvnConfig } from "./config.ts";
import { connectNb, deleteLsps } from "./nb.ts";
import { ovnPromote, ovnRelease } from "./plug.ts";
import { ID } from "../ovsdb/keys.ts";

/** The logical port of an OVS port on the integration bridge, if it is one. */
export function lspOf(p: Pick<ManagedPort, "bridge" | "ifaceIds">, config: OvnConfig): string | undefined {
  return p.bridge === config.bridge ? p.ifaceIds[ID.ifaceId] : undefined;
}

async function each(what: string, names: string[], ctx: RunContext, fn: (name: string) => Promise<string | undefined>): Promise<string[]> {
  const lines: string[] = [];
  for (const n of names) {
    try {
      const line = await fn(n);
      if (line) lines.push(line);
    } catch (err) {
      ctx.log.warn(`${what} ${n}: ${(err as Error).message}`);
    }
  }
  return lines;
}

/** Ports just removed from this node: this chassis leaves their logical ports. */
export async function releasePorts(ports: ManagedPort[], ctx: RunContext, db: OvsdbClient): Promise<string[]> {
  const config = loadOvnConfig();
  if (!config) return [];
  const lsps = ports.map((p) => lspOf(p, config)).filter((n): n is string => n !== undefined);
  return each("release", lsps, ctx, (n) => ovnRelease(n, config, ctx, db));
}

/** The instance runs here now: these logical ports are requested on this chassis alone. */
export async function promotePorts(ports: ManagedPort[], ctx: RunContext, db: OvsdbClient): Promise<string[]> {
  const config = loadOvnConfig();
  if (!config) return [];
  const lsps = ports.map((p) => lspOf(p, config)).filter((n): n is string => n !== undefined);
  return each("promote", lsps, ctx, (n) => ovnPromote(n, config, ctx, db));
}

/** The instance's logical ports (ovs-vif made, external_ids ganeti-instance)
 * other than `keep`: those of NICs that left OVN, or all when it is removed. */
export async function dropLsps(instance: string, keep: string[], ctx: RunContext): Promise<string[]> {
  const config = loadOvnConfig();
  if (!config) return [];
  const nb = await connectNb(config.nb, Math.min(ctx.deadline.left(), 5000));
  try {
    const ops: Json[] = [
      {
        op: "select",
        table: "Logical_Switch_Port",
        where: [
          [
            "external_ids",
            "includes",
            [
              "map",
              [
                [ID.instance, instance],
                [ID.owner, "ganeti"],
              ],
            ],
          ],
        ],
        columns: ["name"],
      },
    ];
    const r = await nb.transact(ops, ctx.deadline.left());
    checkResults(ops, r, `read the logical ports of ${instance}`);
    const gone = (r[0]?.rows ?? []).map((row) => String(row.name)).filter((n) => !keep.includes(n));
    if (ctx.dryRun) return gone.map((n) => `would remove logical port ${n} of ${instance}`);
    return (await deleteLsps(nb, gone, ctx.deadline)).map((n) => `removed logical port ${n} of ${instance}`);
  } finally {
    nb.close();
  }
}
