// doctor's checks of the switch side: OVSDB answers and ovs-vswitchd applies
// changes; bridges that carry port-security flows and a controller or
// fail_mode=secure; OVN's Northbound database, chassis settings and the MTU
// a VM port gets against the tunnel's underlay.
import { connectOvsdb, type RunContext } from "../context.ts";
import { Deadline } from "../deadline.ts";
import { deviceOfAddress } from "../netdev.ts";
import type { OvsdbClient } from "../ovsdb/client.ts";
import { ID } from "../ovsdb/keys.ts";
import { hasFlows } from "../ovsdb/ports.ts";
import { bridgeMtuOf, bridgeMtuSelect, everyRow, read } from "../ovsdb/select.ts";
import { watchCfg } from "../ovsdb/transact.ts";
import { mapEntries, optionalAtom, setItems } from "../ovsdb/values.ts";
import type { Check } from "./check.ts";

export async function ovsChecks(ctx: RunContext): Promise<Check[]> {
  let db;
  try {
    db = await connectOvsdb({ opts: ctx.opts, deadline: new Deadline(3000) });
  } catch (err) {
    return [{ check: "ovsdb", result: "fail", detail: (err as Error).message, hint: "start Open vSwitch (systemctl start openvswitch-switch)" }];
  }
  try {
    const [ovs] = await read(db, new Deadline(3000), "read Open_vSwitch", [
      { table: "Open_vSwitch", where: everyRow, columns: ["cur_cfg", "next_cfg", "ovs_version"] },
    ]);
    const row = ovs![0] ?? {};
    const cur = Number(row.cur_cfg ?? 0);
    const next = Number(row.next_cfg ?? 0);
    const version = optionalAtom(row.ovs_version);
    const checks: Check[] = [
      { check: "ovsdb", result: "ok", detail: `${db.endpoint.text} answers${typeof version === "string" ? ` (Open vSwitch ${version})` : ""}` },
    ];
    if (cur >= next) checks.push({ check: "ovs-vswitchd", result: "ok", detail: `applies changes (cur_cfg ${cur} = next_cfg ${next})` });
    else {
      try {
        await watchCfg(db, new Deadline(2000)).until(next);
        checks.push({ check: "ovs-vswitchd", result: "ok", detail: `caught up with next_cfg ${next}` });
      } catch {
        checks.push({
          check: "ovs-vswitchd",
          result: "fail",
          detail: `not applying changes (cur_cfg ${cur} < next_cfg ${next} for 2 s)`,
          hint: "is ovs-vswitchd running? (systemctl status ovs-vswitchd)",
        });
      }
    }
    checks.push(...(await flowBridgeChecks(db)));
    return checks;
  } finally {
    db.close();
  }
}

/** Bridges that carry ovs-vif's port-security flows and another owner of
 * their flow table: an OpenFlow controller may replace the flows, and
 * fail_mode=secure means the table is someone else's to fill. */
async function flowBridgeChecks(db: OvsdbClient): Promise<Check[]> {
  const [bridges] = await read(db, new Deadline(3000), "read bridges", [
    { table: "Bridge", where: everyRow, columns: ["name", "external_ids", "fail_mode", "controller"] },
  ]);
  return bridges!.filter(hasFlows).map((b) => {
    const name = String(b.name);
    const controllers = setItems(b.controller).length;
    const failMode = optionalAtom(b.fail_mode);
    const check = `port security on ${name}`;
    if (controllers > 0)
      return {
        check,
        result: "warn" as const,
        detail: `${name} has ${controllers} OpenFlow controller(s), which may replace ovs-vif's port-security flows`,
        hint: `take its VMs' port security off, or the controller off ${name}`,
      };
    if (failMode === "secure")
      return {
        check,
        result: "warn" as const,
        detail: `${name} has fail_mode=secure: its flow table is another owner's (no NORMAL flow for unprotected ports)`,
        hint: `ovs-vsctl del-fail-mode ${name}, if nothing else manages it`,
      };
    return {
      check,
      result: "ok" as const,
      detail: `${name} carries ovs-vif's port-security flows, no controller, fail_mode ${typeof failMode === "string" ? failMode : "standalone (default)"}`,
    };
  });
}

/** OVN: NB reachable, this node a chassis, and a VM's MTU that fits Geneve (58 bytes) on the underlay. */
export async function ovnChecks(ctx: RunContext): Promise<Check[]> {
  const { loadOvnConfig } = await import("../ovn/config.ts");
  let config;
  try {
    config = loadOvnConfig();
  } catch (err) {
    return [{ check: "ovn settings", result: "fail", detail: (err as Error).message, hint: "fix the file (or OVN_NB_DB)" }];
  }
  if (!config) return [];
  const checks: Check[] = [];
  const { connectNb } = await import("../ovn/nb.ts");
  try {
    const nb = await connectNb(config.nb, 3000);
    nb.close();
    checks.push({ check: "ovn nb", result: "ok", detail: `${config.nb.text} answers` });
  } catch (err) {
    checks.push({ check: "ovn nb", result: "fail", detail: (err as Error).message, hint: `fix "nb" in ${config.file ?? "OVN_NB_DB"}` });
  }
  let db;
  try {
    db = await connectOvsdb({ opts: ctx.opts, deadline: new Deadline(3000) });
  } catch {
    return checks; // reported by the ovsdb check
  }
  try {
    const [ovs, bridgeIface] = await read(db, new Deadline(3000), "read Open_vSwitch", [
      { table: "Open_vSwitch", where: everyRow, columns: ["external_ids"] },
      bridgeMtuSelect(config.bridge),
    ]);
    const ids = mapEntries(ovs![0]?.external_ids);
    const missing = [ID.systemId, ID.ovnRemote, ID.ovnEncapIp].filter((k) => !ids[k]);
    checks.push(
      missing.length === 0
        ? {
            check: "ovn chassis",
            result: "ok",
            detail: `chassis ${ids[ID.systemId]}, SB ${ids[ID.ovnRemote]}, encap ${ids[ID.ovnEncapType] ?? "geneve"} ${ids[ID.ovnEncapIp]}`,
          }
        : {
            check: "ovn chassis",
            result: "fail",
            detail: `Open_vSwitch external_ids lacks ${missing.join(", ")}`,
            hint: "set them for ovn-controller (ovs-vsctl set open . external_ids:...)",
          },
    );
    const vmMtu = bridgeMtuOf(bridgeIface!);
    const encap = ids[ID.ovnEncapIp];
    if (vmMtu === undefined)
      checks.push({ check: "ovn bridge", result: "fail", detail: `no integration bridge ${config.bridge}`, hint: "ovn-controller creates it; is it running?" });
    else if (encap) {
      const under = await deviceOfAddress(encap);
      const overhead = 58;
      if (under === undefined)
        checks.push({ check: "ovn mtu", result: "warn", detail: `no device with the encap address ${encap} here: cannot check the MTU` });
      else if (vmMtu + overhead > under.mtu)
        checks.push({
          check: "ovn mtu",
          result: "warn",
          detail: `VM ports get ${config.bridge}'s MTU ${vmMtu}; with Geneve (${overhead} bytes) that needs ${vmMtu + overhead} on ${under.dev}, which has ${under.mtu}: full-size frames are lost`,
          hint: `ovs-vsctl set interface ${config.bridge} mtu_request=${under.mtu - overhead} (or raise ${under.dev}'s MTU)`,
        });
      else checks.push({ check: "ovn mtu", result: "ok", detail: `VM MTU ${vmMtu} + ${overhead} (Geneve) fits ${under.dev}'s ${under.mtu}` });
    }
  } finally {
    db.close();
  }
  return checks;
}
