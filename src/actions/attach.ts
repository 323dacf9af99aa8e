// `ovs-vif attach`: one device by hand, as a plain port (one OVSDB
// transaction) or as an OVN port (its logical port in Northbound first).
import { connectOvsdb, type RunContext } from "../context.ts";
import { InputError, UsageError } from "../errors.ts";
import type { Fields } from "../log.ts";
import { loadOvnConfig } from "../ovn/config.ts";
import { ovnPlug, type OvnPort } from "../ovn/plug.ts";
import { ID } from "../ovsdb/keys.ts";
import { ovnConfigPath } from "../paths.ts";
import { plug, plugFields } from "../plug.ts";
import type { DesiredPort } from "../port.ts";
import { parseMac } from "../names.ts";

export interface OvnAttach {
  /** The logical switch (--ovn-switch). */
  ls: string;
  /** Its logical port (default: the device's name). */
  lsp: string;
  mac: string;
  ips: string[];
  /** --ovn-nb, else OVN_NB_DB, else the node's OVN settings. */
  nb?: string;
}

/** Plugs the port; the fields of its log line. */
export async function attach(desired: DesiredPort, ovn: OvnAttach | undefined, ctx: RunContext): Promise<Fields> {
  if (!ovn) {
    const mac = desired.portSecurity?.mac;
    const withMac: DesiredPort = mac ? { ...desired, interfaceIds: { ...desired.interfaceIds, [ID.attachedMac]: parseMac(mac.field, mac.value) } } : desired;
    const res = await plug({ desired: withMac, device: desired.name, deviceField: "--iface" }, ctx);
    return plugFields(withMac, res);
  }
  const config = loadOvnConfig(ovn.nb);
  if (!config) throw new UsageError("--ovn-switch", ovn.ls, `no OVN Northbound database: --ovn-nb REMOTE, OVN_NB_DB, or ${ovnConfigPath()}`);
  if (desired.bridge !== config.bridge) throw new InputError("--bridge", desired.bridge, `an OVN port goes on the integration bridge ${config.bridge}`);
  const withIds: DesiredPort = { ...desired, interfaceIds: { ...desired.interfaceIds, [ID.ifaceId]: ovn.lsp, [ID.attachedMac]: ovn.mac } };
  const port: OvnPort = {
    lsp: { name: ovn.lsp, ls: ovn.ls, address: [ovn.mac, ...ovn.ips].join(" "), externalIds: { [ID.owner]: desired.owner } },
    lsField: "--ovn-switch",
  };
  const db = connectOvsdb(ctx);
  db.catch(() => undefined);
  try {
    const res = await ovnPlug({ desired: withIds, device: desired.name, deviceField: "--iface" }, port, config, ctx, db);
    return { ...plugFields(withIds, res), lsp: ovn.lsp, ls: ovn.ls, chassis: res.placement.chassis.join(",") };
  } finally {
    await db.then(
      (c) => c.close(),
      () => undefined,
    );
  }
}
