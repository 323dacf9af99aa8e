// What status adds for OVN ports (those on the integration bridge with an
// iface-id): the logical port, its port security and requested chassis
// (NB), the chassis it is bound to (SB, at Open_vSwitch external_ids:
// ovn-remote), and whether ovn-controller installed it here.
import type { RunContext } from "../context.ts";
import { OvsdbClient, parseRemote } from "../ovsdb/client.ts";
import type { Json, Row } from "../ovsdb/json.ts";
import { checkResults } from "../ovsdb/transact.ts";
import { Deadline } from "../deadline.ts";
import { mapEntries, setItems, uuidOf } from "../ovsdb/values.ts";
import type { OvnConfig } from "../ovn/config.ts";
import { connectNb, requestedChassis } from "../ovn/nb.ts";
import type { OvnFacts, PortStatus } from "./collect.ts";
import { ID } from "../ovsdb/keys.ts";

async function readNb(config: OvnConfig, names: string[], deadline: Deadline): Promise<Map<string, Row>> {
  const nb = await connectNb(config.nb, Math.min(deadline.left(), 3000));
  try {
    const ops: Json[] = names.map((n) => ({
      op: "select",
      table: "Logical_Switch_Port",
      where: [["name", "==", n]],
      columns: ["name", "port_security", "options"],
    }));
    const r = await nb.transact(ops, deadline.left());
    checkResults(ops, r, "read logical switch ports");
    return new Map(r.flatMap((x) => x.rows ?? []).map((row) => [String(row.name), row]));
  } finally {
    nb.close();
  }
}

async function readSb(remote: string, config: OvnConfig, names: string[], deadline: Deadline): Promise<Map<string, string>> {
  const sb = await OvsdbClient.connect(
    parseRemote("Open_vSwitch external_ids:ovn-remote", remote, config.nb.ssl),
    Math.min(deadline.left(), 3000),
    "OVN_Southbound",
  );
  try {
    const ops: Json[] = [
      ...names.map((n) => ({ op: "select", table: "Port_Binding", where: [["logical_port", "==", n]], columns: ["logical_port", "chassis"] })),
      { op: "select", table: "Chassis", where: [], columns: ["_uuid", "name"] },
    ];
    const r = await sb.transact(ops, deadline.left());
    checkResults(ops, r, "read port bindings");
    const chassis = new Map((r[names.length]?.rows ?? []).map((c) => [uuidOf(c._uuid), String(c.name)]));
    const out = new Map<string, string>();
    for (const row of r.slice(0, names.length).flatMap((x) => x.rows ?? [])) {
      const c = setItems(row.chassis)[0];
      if (c !== undefined) out.set(String(row.logical_port), chassis.get(uuidOf(c)) ?? uuidOf(c));
    }
    return out;
  } finally {
    sb.close();
  }
}

/** Adds the OVN facts to the OVN ports of `ports`; `ifaces` by port name. */
export async function addOvnFacts(
  ports: PortStatus[],
  ifaceIds: Map<string, Record<string, string>>,
  sbRemote: string | undefined,
  config: OvnConfig,
  ctx: RunContext,
): Promise<void> {
  const ovnPorts = ports.filter((p) => p.bridge === config.bridge && ifaceIds.get(p.port)?.[ID.ifaceId]);
  if (ovnPorts.length === 0) return;
  const names = ovnPorts.map((p) => ifaceIds.get(p.port)![ID.ifaceId]!);
  const deadline = new Deadline(Math.min(ctx.deadline.left(), 5000));
  const nb = await readNb(config, names, deadline).catch((err: Error) => err);
  const sb = sbRemote ? await readSb(sbRemote, config, names, deadline).catch((err: Error) => err) : undefined;
  for (const p of ovnPorts) {
    const ids = ifaceIds.get(p.port)!;
    const lsp = ids[ID.ifaceId]!;
    const facts: OvnFacts = { lsp, ovn_installed: ids[ID.ovnInstalled] === "true" };
    if (nb instanceof Map) {
      const row = nb.get(lsp);
      if (row) {
        facts.port_security = setItems(row.port_security).map(String);
        facts.requested_chassis = requestedChassis(mapEntries(row.options));
      } else if (p.state === "ok") {
        p.state = "drift";
        p.drift.push(`logical port ${lsp}: missing in NB`);
      }
    } else if (p.state === "ok") {
      p.state = "unknown";
      p.note = `OVN NB not reachable: ${nb.message}`;
    }
    if (sb instanceof Map && sb.has(lsp)) facts.bound_to = sb.get(lsp)!;
    if (!facts.ovn_installed && p.state === "ok") {
      p.state = "stale";
      p.note = "ovn-controller has not installed it here (no ovn-installed)";
    }
    p.ovn = facts;
  }
}
