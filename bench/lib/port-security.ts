// Port security on a bench's bridge, as on a node where it is on: every
// other port carries its own flows (installed once, through
// src/port-flows.ts), the bridge carries ovs-vif's mark; and the
// oracle of a measured port: its flows counted by ovs-ofctl under its
// ofport's cookie, removed with the port in the reset.
import { join } from "node:path";
import { OpenFlowClient } from "../../src/openflow/client.ts";
import { ID } from "../../src/ovsdb/keys.ts";
import { desiredFlows, replacePortFlows } from "../../src/port-flows.ts";
import { portCookie } from "../../src/port-security/flows.ts";
import { buildPolicy, type PolicyInput } from "../../src/port-security/policy.ts";
import type { OvsHandle } from "../../test/harness/ovs.ts";
import { must } from "../../test/harness/proc.ts";

/** Every flow of ovs-vif's (its cookie prefix, src/port-security/flows.ts). */
const ALL_OWN = "cookie=0x6f76737600000000/0xffffffff00000000";

/** The policy of the other port pN: a MAC and an IPv4 address from its number, a network's /64. */
export function otherPortPolicy(n: number): PolicyInput {
  const mac = `aa:00:00:00:${((n >> 8) & 0xff).toString(16).padStart(2, "0")}:${(n & 0xff).toString(16).padStart(2, "0")}`;
  return {
    mac: { field: "mac", value: mac },
    ipv4: [{ field: "ip", value: `198.51.100.${(n % 250) + 1}` }],
    ipv6Prefixes: [{ field: "subnet6", value: "2001:db8:1::/64" }],
  };
}

/** How many flows a port with this policy gets. */
export function expectedFlows(input: PolicyInput): number {
  return desiredFlows(buildPolicy(input), { bridge: "-", name: "-", ofport: 1 }).length;
}

/** Each interface's ofport on the bridge's OVS, in one call. */
async function ofports(ovs: OvsHandle): Promise<Map<string, number>> {
  const out = await ovs.vsctl("--no-wait", "--format=csv", "--no-headings", "--columns=name,ofport", "list", "interface");
  return new Map(
    out
      .trim()
      .split("\n")
      .map((l) => l.split(",") as [string, string])
      .map(([name, ofport]) => [name.replace(/"/g, ""), Number(ofport)]),
  );
}

/** Installs the flows of the other ports p{from}..p{to} (one bundle each, as a plug does); returns how many. */
export async function installOtherPortFlows(ovs: OvsHandle, bridge: string, from: number, to: number): Promise<number> {
  const byName = await ofports(ovs);
  const client = await OpenFlowClient.connect(bridge, { path: mgmt(ovs, bridge), timeoutMs: 30000 });
  let n = 0;
  try {
    for (let i = from; i <= to; i++) {
      const ofport = byName.get(`p${i}`);
      if (!(ofport! > 0)) throw new Error(`port p${i} has no ofport (${ofport})`);
      n += (await replacePortFlows(client, { bridge, name: `p${i}`, ofport: ofport! }, buildPolicy(otherPortPolicy(i)), 30000)).length;
    }
  } finally {
    client.close();
  }
  return n;
}

/** The bridge's management socket. */
export function mgmt(ovs: OvsHandle, bridge: string): string {
  return join(ovs.dir, `${bridge}.mgmt`);
}

function flowLines(out: string): number {
  return out.split("\n").filter((l) => l.includes("cookie=")).length;
}

/** ovs-vif's flows of the port at OFPORT, as ovs-ofctl sees them. */
export async function portFlowCount(ovs: OvsHandle, bridge: string, ofport: number): Promise<number> {
  const cookie = `cookie=0x${portCookie(ofport).toString(16)}/-1`;
  return flowLines(await must("ovs-ofctl", ["-O", "OpenFlow14", "--no-stats", "dump-flows", `unix:${mgmt(ovs, bridge)}`, cookie]));
}

/** Every flow of ovs-vif's on the bridge. */
export async function allOwnFlowCount(ovs: OvsHandle, bridge: string): Promise<number> {
  return flowLines(await must("ovs-ofctl", ["-O", "OpenFlow14", "--no-stats", "dump-flows", `unix:${mgmt(ovs, bridge)}`, ALL_OWN]));
}

/** The reset's part: the flows of the port at OFPORT go with it (OVS keeps in_port flows of a removed port). */
export async function removeOfportFlows(ovs: OvsHandle, bridge: string, ofport: number): Promise<void> {
  await must("ovs-ofctl", ["-O", "OpenFlow14", "del-flows", `unix:${mgmt(ovs, bridge)}`, `cookie=0x${portCookie(ofport).toString(16)}/-1`]);
}

/** The bridge's mark (ovs-vif carries flows there) as each contender's node
 * has it: set where port security is on, cleared where the port's is off
 * (a node that never turned it on: no OpenFlow connection for its plug).
 * The other ports' flows stay in the table either way. Changed only when
 * it differs. */
export class BridgeMark {
  private marked: boolean | undefined;
  constructor(
    private readonly ovs: OvsHandle,
    private readonly bridge: string,
  ) {}

  async set(on: boolean): Promise<void> {
    if (this.marked === on) return;
    if (on) await this.ovs.vsctl("--no-wait", "set", "bridge", this.bridge, `external_ids:${ID.portSecurity}=true`);
    else await this.ovs.vsctl("--no-wait", "remove", "bridge", this.bridge, "external_ids", ID.portSecurity);
    this.marked = on;
  }
}
