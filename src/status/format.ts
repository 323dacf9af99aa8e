// How status is shown: aligned columns for people (colour only on a
// terminal), the node_exporter textfile format for Prometheus.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { StateError } from "../errors.ts";
import type { PortState, PortStatus } from "./collect.ts";
import type { NodeStatus } from "./node.ts";

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: string[][], headers: boolean): string {
  const body = headers ? rows : rows.slice(1);
  if (body.length === 0) return "";
  const widths = rows[0]!.map((_, c) => Math.max(...body.map((r) => (r[c] ?? "").length)));
  return (
    body
      .map((r) =>
        r
          .map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

const COLOUR: Record<PortState, string> = { ok: "32", drift: "33", stale: "31", foreign: "36", unknown: "35" };

export function colourState(state: PortState, on: boolean): string {
  return on ? `\u001b[${COLOUR[state]}m${state}\u001b[0m` : state;
}

function vlan(p: PortStatus): string {
  // No vlan_mode: OVS makes a tagged port access (trunks ignored) and an untagged one a trunk of every VLAN.
  if (p.vlan_mode === "")
    return p.tag === undefined ? (p.trunks.length ? `trunk ${p.trunks.join(",")} (implicit)` : "all VLANs (no vlan_mode)") : `access ${p.tag} (implicit)`;
  if (p.vlan_mode === "access") return p.tag === undefined ? "untagged" : `access ${p.tag}`;
  if (p.vlan_mode === "trunk") return `trunk ${p.trunks.join(",")}`;
  return `${p.vlan_mode} ${p.tag ?? "-"}+${p.trunks.join(",")}`;
}

function ovnDetail(o: NonNullable<PortStatus["ovn"]>): string {
  return `lsp ${o.lsp} bound to ${o.bound_to ?? "none"} (requested ${o.requested_chassis?.join(",") || "none"})${o.ovn_installed ? ", ovn-installed" : ""}${o.port_security?.length ? `, port security ${o.port_security.join(" ")}` : ""}`;
}

function qos(rate: number | undefined, unit: string): string {
  return rate ? `${rate}${unit}` : "-";
}

export function formatHuman(s: NodeStatus, o: { headers: boolean; colour: boolean }): string {
  const rows: string[][] = [
    ["BRIDGE", "PORT", "OWNER", "INSTANCE/DOMAIN", "NIC", "VLAN", "SEND", "RECEIVE", "MTU", "OFPORT", "FILTER", "LINK", "STATE", "DETAIL"],
  ];
  for (const p of s.ports) {
    rows.push([
      p.bridge,
      p.port,
      p.owner ?? "-",
      p.instance ?? p.domain ?? "-",
      p.nic_index === undefined ? "-" : `${p.nic_index}${p.nic_name ? `(${p.nic_name})` : ""}`,
      vlan(p),
      qos(p.rate_kbps, "k"),
      qos(p.rx_rate, ""),
      p.mtu === undefined ? "-" : String(p.mtu),
      p.ofport === undefined ? "-" : String(p.ofport),
      p.port_security ?? (p.flows ? `${p.flows} flows` : "-"),
      p.link,
      colourState(p.state, o.colour),
      [...p.drift, ...(p.note ? [p.note] : []), ...(p.filter ? [`sends from ${p.filter}`] : []), ...(p.ovn ? [ovnDetail(p.ovn)] : [])].join("; "),
    ]);
  }
  let text = s.ports.length > 0 ? table(rows, o.headers) : "no VM ports\n";
  for (const sw of s.switches) {
    text += sw.changes.length === 0 ? `switch ${sw.name}: as the spec says\n` : sw.changes.map((c) => `switch ${sw.name}: drift: ${c}\n`).join("");
    for (const n of sw.notes) text += `switch ${sw.name}: ${n}\n`;
  }
  if (s.switch_note) text += `switches: ${s.switch_note}\n`;
  for (const q of s.orphaned_qos) text += `orphaned ${q.table} row ${q.uuid} (made for port ${q.port}): 'ovs-vif gc' removes it\n`;
  const v = s.ganeti_view;
  if (v.source === "file") text += `Ganeti view: ${v.file}${v.taken ? `, taken ${v.taken}` : ""}\n`;
  else if (v.source === "none" && s.ports.some((p) => p.owner === "ganeti")) text += `Ganeti view: none (${v.why})\n`;
  text += summaryLine(s) + "\n";
  return text;
}

export function summaryLine(s: NodeStatus): string {
  const b = s.summary.by_state;
  const parts = [`${s.summary.ports} ports: ${b.ok} ok, ${b.drift} drift, ${b.stale} stale, ${b.foreign} foreign`];
  if (b.unknown) parts[0] += `, ${b.unknown} unknown`;
  parts.push(
    `${s.summary.switch_changes} switch change${s.summary.switch_changes === 1 ? "" : "s"}`,
    `${s.summary.orphaned_qos} orphaned QoS row${s.summary.orphaned_qos === 1 ? "" : "s"}`,
  );
  return `${s.node}: ${parts.join("; ")}: ${s.summary.exit === 0 ? "ok" : "NOT ok"}`;
}

/** Prometheus text exposition (node_exporter textfile collector). */
export function formatPrometheus(s: NodeStatus, lastReconcile?: number): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
  };
  metric(
    "ovs_vif_ports",
    "VM ports on this node's bridges, by state.",
    Object.entries(s.summary.by_state).map(([state, n]) => [`{state="${state}"}`, n]),
  );
  metric("ovs_vif_drift_fields", "Fields of ovs-vif's ports that differ from their desired state.", [["", s.ports.reduce((n, p) => n + p.drift.length, 0)]]);
  metric("ovs_vif_switch_changes", "Changes 'ovs-vif switch apply' would make on this node.", [["", s.summary.switch_changes]]);
  metric("ovs_vif_orphaned_qos_rows", "QoS and Queue rows ovs-vif made that no port uses.", [["", s.summary.orphaned_qos]]);
  metric("ovs_vif_status_ok", "1 when everything on this node is as it should be.", [["", s.summary.exit === 0 ? 1 : 0]]);
  metric("ovs_vif_status_timestamp_seconds", "When this status was taken.", [["", Math.floor(Date.parse(s.time) / 1000)]]);
  if (lastReconcile !== undefined) metric("ovs_vif_last_reconcile_timestamp_seconds", "When a reconcile last succeeded on this node.", [["", lastReconcile]]);
  if (s.ganeti_view.taken)
    metric("ovs_vif_ganeti_view_timestamp_seconds", "When the Ganeti view used here was exported.", [["", Math.floor(Date.parse(s.ganeti_view.taken) / 1000)]]);
  return lines.join("\n") + "\n";
}

/** Written beside the target and renamed over it: the collector reads the
 * old file or the new one; a failure leaves neither a temporary file nor a
 * changed target, and names the file. */
export function writeAtomically(field: string, path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // not ours to remove (a directory of that name)
    }
    const e = err as NodeJS.ErrnoException;
    throw new StateError(field, path, `cannot be written (${e.code ?? e.message})`);
  }
}
