// Port security on a VM port's bridge, for the plug, every unplug path, the
// collection of stale ports and reconcile: a port's flows set as its policy
// says once ovs-vswitchd gave it its ofport, and the flows of removed ports
// taken out after them. Only bridges that carry ovs-vif's flows (their
// external_ids mark, src/ovsdb/keys.ts) are ever contacted for a port whose
// port security is off.
import type { RunContext } from "../context.ts";
import { AfterCommitError } from "../errors.ts";
import { OpenFlowClient } from "../openflow/client.ts";
import type { FlowPort } from "../ovsdb/ports.ts";
import type { Outcome } from "../outcome.ts";
import { deleteMod, removePortFlows, replacePortFlows } from "./apply.ts";
import type { PortPolicy } from "./policy.ts";

/** The bridge's management socket (OVS_RUNDIR/BRIDGE.mgmt). */
export function connectFlows(bridge: string, ctx: Pick<RunContext, "deadline">): Promise<OpenFlowClient> {
  return OpenFlowClient.connect(bridge, { timeoutMs: Math.min(ctx.deadline.left(), 5000) });
}

/** The port's flows as its policy says, in one atomic bundle: the policy's
 * in place of whatever its ofport had (on), or none (off). The number of
 * flows it has now. */
export async function settlePortFlows(client: OpenFlowClient, port: FlowPort, policy: PortPolicy | undefined, ctx: Pick<RunContext, "deadline">): Promise<number> {
  if (policy) return (await replacePortFlows(client, port, policy, ctx.deadline.left())).length;
  await removePortFlows(client, port, ctx.deadline.left());
  return 0;
}

/** After ports were removed: their ofports' flows, one bundle per bridge.
 * One outcome line per bridge; a failure is a failed line (the ports are
 * gone already; `ovs-vif gc` sweeps what is left). */
export async function removeFlowsOf(ports: FlowPort[], ctx: RunContext): Promise<Outcome[]> {
  const byBridge = new Map<string, FlowPort[]>();
  for (const p of ports) byBridge.set(p.bridge, [...(byBridge.get(p.bridge) ?? []), p]);
  const out: Outcome[] = [];
  for (const [bridge, list] of byBridge) {
    const what = list.map((p) => `${p.name} (ofport ${p.ofport})`).join(", ");
    if (ctx.dryRun) {
      out.push({ line: `would remove the port-security flows of ${what} from ${bridge}`, failed: false });
      continue;
    }
    try {
      const client = await connectFlows(bridge, ctx);
      try {
        await client.commitBundle(list.map((p) => deleteMod(p.ofport)), `remove the port-security flows of ${what}`, ctx.deadline.left());
      } finally {
        client.close();
      }
      out.push({ line: `removed the port-security flows of ${what} from ${bridge}`, failed: false });
    } catch (err) {
      out.push({ line: `the port-security flows of ${what} stay on ${bridge} (${(err as Error).message}); ovs-vif gc removes them`, failed: true });
    }
  }
  return out;
}

/** For an unplug: the removed port's flows go too; if they cannot, the
 * error says the port is gone and its flows stay. */
export async function removeFlowsAfterUnplug(ports: FlowPort[], ctx: RunContext): Promise<void> {
  if (ports.length === 0) return;
  const failed = (await removeFlowsOf(ports, ctx)).find((o) => o.failed);
  if (failed) throw new AfterCommitError(new Error(failed.line), "committed", `port ${ports[0]!.name} is removed`);
}

/** For a plug that failed after its flows went in: they go again (best effort). */
export async function removeFlowsQuietly(client: OpenFlowClient, port: FlowPort, ctx: Pick<RunContext, "deadline">): Promise<void> {
  await removePortFlows(client, port, Math.max(ctx.deadline.left(), 1000)).catch(() => undefined);
}
