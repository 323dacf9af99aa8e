// A port's port-security flows on its bridge, over the bridge's management
// socket (src/openflow/): one port's flows replaced in one atomic bundle
// (delete by the ofport's cookie + the adds: no moment with half a filter,
// or none), removed, compared with the policy, and the sweep of flows whose
// port is gone; what the plug, every unplug path, the collection of stale
// ports and reconcile call. The policy and its flows are built (and every
// input checked) in src/port-security/ before the bridge is contacted. Only
// bridges that carry ovs-vif's flows (their external_ids mark,
// src/ovsdb/keys.ts) are ever contacted for a port whose port security is off.
import type { RunContext } from "./context.ts";
import { AfterCommitError } from "./errors.ts";
import { OpenFlowClient } from "./openflow/client.ts";
import type { Flow } from "./openflow/match.ts";
import type { FlowMod } from "./openflow/wire.ts";
import type { FlowPort } from "./ovsdb/ports.ts";
import type { Outcome } from "./outcome.ts";
import { flowDrift, staleCookies, type FlowDrift, type LivePort, type StaleCookie } from "./port-security/drift.ts";
import { ALL_PORTS_MASK, COOKIE_PREFIX, EXACT_MASK, portCookie, portFlows } from "./port-security/flows.ts";
import { buildPolicy, type PolicyInput, type PortPolicy } from "./port-security/policy.ts";

export interface PortRef {
  bridge: string;
  /** The port's (and its interface's) name. */
  name: string;
  /** Interface.ofport, as ovs-vswitchd gave it. */
  ofport: number;
}

/** The flows a port should have. */
export function desiredFlows(policy: PortPolicy, port: PortRef): Flow[] {
  return portFlows(policy, port.ofport, portCookie(port.ofport));
}

/** The delete of every flow of the ofport (exact cookie: OVS's index). */
export function deleteMod(ofport: number): FlowMod {
  return { command: "delete", cookie: portCookie(ofport), cookieMask: EXACT_MASK };
}

/** Delete-by-cookie followed by the adds: what one bundle carries. */
export function replaceMods(port: Pick<PortRef, "ofport">, flows: Flow[]): FlowMod[] {
  const mods: FlowMod[] = [deleteMod(port.ofport)];
  for (const flow of flows) mods.push({ command: "add", flow });
  return mods;
}

/** Replaces the port's flows with the policy's, atomically. */
export async function replacePortFlows(client: OpenFlowClient, port: PortRef, policy: PortPolicy, timeoutMs: number): Promise<Flow[]> {
  const flows = desiredFlows(policy, port);
  await client.commitBundle(replaceMods(port, flows), `replace the port-security flows of port ${port.name} (ofport ${port.ofport})`, timeoutMs);
  return flows;
}

/** Removes every port-security flow of the ofport. */
export async function removePortFlows(client: OpenFlowClient, port: Pick<PortRef, "name" | "ofport">, timeoutMs: number): Promise<void> {
  await client.commitBundle([deleteMod(port.ofport)], `remove the port-security flows of port ${port.name} (ofport ${port.ofport})`, timeoutMs);
}

/** What differs between the port's flows in the table and the policy's
 * (policy undefined: port security off, so any flow of its ofport is extra),
 * and how many flows its ofport has. */
export async function portDrift(
  client: OpenFlowClient,
  port: PortRef,
  policy: PortPolicy | undefined,
  timeoutMs: number,
): Promise<FlowDrift & { held: number }> {
  const have = await client.dumpFlows(portCookie(port.ofport), EXACT_MASK, timeoutMs);
  return { ...flowDrift(policy ? desiredFlows(policy, port) : [], have), held: have.length };
}

/** ovs-vif's flows on the bridge that belong to no ovs-vif port (`ports`:
 * the bridge's ovs-vif ports and their ofports); removed unless dryRun. */
export async function sweepStaleFlows(client: OpenFlowClient, ports: LivePort[], opts: { dryRun?: boolean; timeoutMs: number }): Promise<StaleCookie[]> {
  const all = await client.dumpFlows(COOKIE_PREFIX, ALL_PORTS_MASK, opts.timeoutMs);
  const stale = staleCookies(all, ports);
  if (stale.length > 0 && !opts.dryRun) {
    const mods: FlowMod[] = stale.map((s) => ({ command: "delete", cookie: s.cookie, cookieMask: EXACT_MASK }));
    await client.commitBundle(mods, `remove ${stale.length} stale port-security cookie(s)`, opts.timeoutMs);
  }
  return stale;
}

/** Checks the input, then connects to the bridge and replaces the port's
 * flows; bad input fails before anything is contacted. */
export async function applyPortSecurity(
  port: PortRef,
  input: PolicyInput,
  opts: { timeoutMs: number; mgmtPath?: string },
): Promise<{ policy: PortPolicy; flows: Flow[] }> {
  const policy = buildPolicy(input);
  desiredFlows(policy, port); // the ofport is checked too, before the bridge is contacted
  const client = await OpenFlowClient.connect(port.bridge, { timeoutMs: opts.timeoutMs, ...(opts.mgmtPath !== undefined ? { path: opts.mgmtPath } : {}) });
  try {
    return { policy, flows: await replacePortFlows(client, port, policy, opts.timeoutMs) };
  } finally {
    client.close();
  }
}

/** The bridge's management socket (OVS_RUNDIR/BRIDGE.mgmt). */
export function connectFlows(bridge: string, ctx: Pick<RunContext, "deadline">): Promise<OpenFlowClient> {
  return OpenFlowClient.connect(bridge, { timeoutMs: Math.min(ctx.deadline.left(), 5000) });
}

/** Runs `fn` on the bridge's OpenFlow connection, closed afterwards. */
export async function withFlows<T>(bridge: string, ctx: Pick<RunContext, "deadline">, fn: (client: OpenFlowClient) => Promise<T>): Promise<T> {
  const client = await connectFlows(bridge, ctx);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** The port's flows as its policy says, in one atomic bundle: the policy's
 * in place of whatever its ofport had (on), or none (off). The number of
 * flows it has now. */
export async function settlePortFlows(
  client: OpenFlowClient,
  port: FlowPort,
  policy: PortPolicy | undefined,
  ctx: Pick<RunContext, "deadline">,
): Promise<number> {
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
      await withFlows(bridge, ctx, (client) =>
        client.commitBundle(
          list.map((p) => deleteMod(p.ofport)),
          `remove the port-security flows of ${what}`,
          ctx.deadline.left(),
        ),
      );
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
