// Port security on a bridge: one port's flows replaced in one atomic bundle
// (delete by the ofport's cookie + the adds: no moment with half a
// filter, or none), removed, compared with the policy, and the sweep of
// flows whose port is gone. The policy is built, and every input checked,
// before the bridge is contacted.
import { OpenFlowClient } from "../openflow/client.ts";
import type { Flow } from "../openflow/match.ts";
import type { FlowMod } from "../openflow/wire.ts";
import { flowDrift, staleCookies, type FlowDrift, type LivePort, type StaleCookie } from "./drift.ts";
import { ALL_PORTS_MASK, COOKIE_PREFIX, EXACT_MASK, portCookie, portFlows } from "./flows.ts";
import { buildPolicy, type PolicyInput, type PortPolicy } from "./policy.ts";

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
 * (policy undefined: port security off, so any flow of its ofport is extra). */
export async function portDrift(client: OpenFlowClient, port: PortRef, policy: PortPolicy | undefined, timeoutMs: number): Promise<FlowDrift> {
  const have = await client.dumpFlows(portCookie(port.ofport), EXACT_MASK, timeoutMs);
  return flowDrift(policy ? desiredFlows(policy, port) : [], have);
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
export async function applyPortSecurity(port: PortRef, input: PolicyInput, opts: { timeoutMs: number; mgmtPath?: string }): Promise<{ policy: PortPolicy; flows: Flow[] }> {
  const policy = buildPolicy(input);
  desiredFlows(policy, port); // the ofport is checked too, before the bridge is contacted
  const client = await OpenFlowClient.connect(port.bridge, { timeoutMs: opts.timeoutMs, ...(opts.mgmtPath !== undefined ? { path: opts.mgmtPath } : {}) });
  try {
    return { policy, flows: await replacePortFlows(client, port, policy, opts.timeoutMs) };
  } finally {
    client.close();
  }
}
