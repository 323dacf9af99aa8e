// Drift of a port's flows: the flows the switch holds (dumped by cookie)
// against the flows the policy asks for. A flow is identified as OpenFlow
// identifies it, by priority and match (flowKey); one present on both
// sides with another cookie or other actions is "different". And the
// sweep: which of ovs-vif's flows belong to no ovs-vif port any more.
import { actionsText, cookieText, flowKey, flowText, type Flow } from "../openflow/match.ts";
import { cookieOfport } from "./flows.ts";

export interface FlowDrift {
  /** Desired, not in the table. */
  missing: Flow[];
  /** In the table under the port's cookie, not desired. */
  extra: Flow[];
  /** Same priority and match, another cookie or other actions. */
  different: { want: Flow; have: Flow }[];
}

export function flowDrift(desired: Flow[], dumped: Flow[]): FlowDrift {
  const have = new Map<string, Flow>();
  for (const f of dumped) have.set(flowKey(f), f);
  const want = new Map<string, Flow>();
  for (const f of desired) want.set(flowKey(f), f);
  const drift: FlowDrift = { missing: [], extra: [], different: [] };
  for (const [key, w] of want) {
    const h = have.get(key);
    if (!h) drift.missing.push(w);
    else if (h.cookie !== w.cookie || actionsText(h.actions) !== actionsText(w.actions)) drift.different.push({ want: w, have: h });
  }
  for (const [key, h] of have) if (!want.has(key)) drift.extra.push(h);
  return drift;
}

export function driftCount(d: FlowDrift): number {
  return d.missing.length + d.extra.length + d.different.length;
}

/** One line per drifting flow, as status would show them. */
export function driftLines(d: FlowDrift): string[] {
  return [
    ...d.missing.map((f) => `missing: ${flowText(f)}`),
    ...d.extra.map((f) => `extra: ${flowText(f)}`),
    ...d.different.map(
      ({ want, have }) =>
        `different: ${flowKey(want)}: ${cookieText(have.cookie)} ${actionsText(have.actions)} -> ${cookieText(want.cookie)} ${actionsText(want.actions)}`,
    ),
  ];
}

export interface LivePort {
  name: string;
  ofport: number;
}

export interface StaleCookie {
  cookie: bigint;
  ofport: number;
  flows: number;
}

/** ovs-vif's flows (dumped with ALL_PORTS_MASK) whose ofport is no
 * ovs-vif port's (`ports`: the bridge's ovs-vif ports with their ofports).
 * Another owner's flow is never listed. */
export function staleCookies(dumped: Flow[], ports: LivePort[]): StaleCookie[] {
  const live = new Set(ports.map((p) => p.ofport));
  const counts = new Map<bigint, number>();
  for (const f of dumped) if (cookieOfport(f.cookie) !== undefined) counts.set(f.cookie, (counts.get(f.cookie) ?? 0) + 1);
  const stale: StaleCookie[] = [];
  for (const [cookie, flows] of counts) {
    const ofport = cookieOfport(cookie)!;
    if (!live.has(ofport)) stale.push({ cookie, ofport, flows });
  }
  return stale.sort((a, b) => a.ofport - b.ofport);
}
