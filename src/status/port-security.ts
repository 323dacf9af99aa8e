// Port security in status: each of ovs-vif's ports' filter (off, or on and
// what the VM may send from) as its desired state says, and the flows its
// ofport has on the bridge; missing, extra or different flows are drift.
// Bridges are asked over OpenFlow only when a port there is to have flows
// or the bridge carries ovs-vif's (its mark).
import type { RunContext } from "../context.ts";
import type { OpenFlowClient } from "../openflow/client.ts";
import { portSecurityOf, type DesiredPort } from "../port.ts";
import { connectFlows, portDrift } from "../port-flows.ts";
import { driftCount } from "../port-security/drift.ts";
import { describePolicy } from "../port-security/policy.ts";
import type { PortStatus } from "./collect.ts";

/** Adds each ovs-vif port's filter and flow count to its row; drift when
 * its flows are not what its policy says. */
export async function addPortSecurityFacts(
  rows: PortStatus[],
  desired: ReadonlyMap<string, DesiredPort>,
  flowBridges: ReadonlySet<string>,
  ctx: RunContext,
): Promise<void> {
  const clients = new Map<string, Promise<OpenFlowClient>>();
  const client = (bridge: string) => {
    let c = clients.get(bridge);
    if (!c) {
      c = connectFlows(bridge, ctx);
      c.catch(() => undefined);
      clients.set(bridge, c);
    }
    return c;
  };
  try {
    for (const row of rows) {
      if (row.owner === undefined || row.state === "stale" || row.ofport === undefined || row.ofport < 1) continue;
      const want = desired.get(row.port);
      let policy;
      try {
        policy = want ? portSecurityOf(want).policy : undefined;
      } catch (err) {
        row.port_security = "unknown";
        row.drift.push(`port security cannot be applied: ${(err as Error).message}`);
        row.state = "drift";
        continue;
      }
      if (want) row.port_security = policy ? "on" : "off";
      if (policy) row.filter = describePolicy(policy);
      if (!policy && !flowBridges.has(row.bridge)) continue;
      let drift;
      try {
        drift = await portDrift(await client(row.bridge), { bridge: row.bridge, name: row.port, ofport: row.ofport }, policy, ctx.deadline.left());
      } catch (err) {
        row.drift.push(`port-security flows not read: ${(err as Error).message}`);
        if (row.state === "ok") row.state = "drift";
        continue;
      }
      row.flows = drift.held;
      if (!want || driftCount(drift) === 0) continue;
      row.drift.push(`port-security flows: ${drift.missing.length} missing, ${drift.extra.length} extra, ${drift.different.length} different`);
      if (row.state === "ok") row.state = "drift";
    }
  } finally {
    for (const c of clients.values())
      c.then(
        (x) => x.close(),
        () => undefined,
      );
  }
}
