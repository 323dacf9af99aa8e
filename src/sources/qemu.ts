// Plain QEMU's inputs: QEMU runs its ifup script with the tap's name as the
// only argument (the tap exists and is down); the rest comes from the
// environment QEMU inherited: OVS_VIF_BRIDGE=br[.N][:A:B...], optional
// OVS_VIF_RATE / OVS_VIF_BURST (policing), OVS_VIF_RX_RATE /
// OVS_VIF_RX_BURST (receive limit), OVS_VIF_MAC (attached-mac),
// OVS_VIF_IFACE_ID; port security: OVS_VIF_PORT_SECURITY=on|off,
// OVS_VIF_IP and OVS_VIF_ALLOW_ADDRESS (space-separated lists).
import { InputError } from "../errors.ts";
import { parseExternalId, parseMac } from "../names.ts";
import { ID } from "../ovsdb/keys.ts";
import type { DesiredPort, PortSecurityInput } from "../port.ts";
import { explicitLevel, type ExplicitNames } from "../port-security/sources.ts";
import { valueLevel } from "../qos.ts";
import { parseXenBridge, VLAN_FORMS } from "../vlan.ts";
import { nodeDefaultsLevel, nodePortSecurityLevel } from "./defaults.ts";

const ENV_NAMES: ExplicitNames = {
  level: "environment",
  portSecurity: "OVS_VIF_PORT_SECURITY",
  allowAddress: "OVS_VIF_ALLOW_ADDRESS",
  allowDhcpServer: "",
  allowRouterAdv: "",
};

/** The tap's port, every variable checked before anything changes. */
export function qemuDesiredPort(device: string, env: NodeJS.ProcessEnv): DesiredPort {
  const spec = env.OVS_VIF_BRIDGE;
  if (spec === undefined || spec === "")
    throw new InputError("OVS_VIF_BRIDGE", "", `not set (export it to QEMU's environment: BR, or BR followed by ${VLAN_FORMS})`);
  const { bridge, vlan } = parseXenBridge("OVS_VIF_BRIDGE", spec);
  const ids: Record<string, string> = {};
  if (env.OVS_VIF_MAC) ids[ID.attachedMac] = parseMac("OVS_VIF_MAC", env.OVS_VIF_MAC);
  if (env.OVS_VIF_IFACE_ID) ids[ID.ifaceId] = parseExternalId("OVS_VIF_IFACE_ID", `iface-id=${env.OVS_VIF_IFACE_ID}`)[1];
  const rx: Parameters<typeof valueLevel>[5] = { "rx-rate": [env.OVS_VIF_RX_RATE, "OVS_VIF_RX_RATE"], "rx-burst": [env.OVS_VIF_RX_BURST, "OVS_VIF_RX_BURST"] };
  const qos = [valueLevel("environment", env.OVS_VIF_RATE, env.OVS_VIF_BURST, "OVS_VIF_RATE", "OVS_VIF_BURST", rx), nodeDefaultsLevel(bridge)];
  const words = (v: string | undefined) => (v ?? "").split(" ").filter((w) => w !== "");
  const explicit = explicitLevel(
    { ...(env.OVS_VIF_PORT_SECURITY ? { portSecurity: env.OVS_VIF_PORT_SECURITY } : {}), allowAddresses: words(env.OVS_VIF_ALLOW_ADDRESS) },
    ENV_NAMES,
  );
  const portSecurity: PortSecurityInput = {
    levels: [explicit, nodePortSecurityLevel(bridge)],
    macField: "OVS_VIF_MAC",
    ipv4: words(env.OVS_VIF_IP).map((value) => ({ field: "OVS_VIF_IP", value })),
    ...(env.OVS_VIF_MAC ? { mac: { field: "OVS_VIF_MAC", value: env.OVS_VIF_MAC } } : {}),
  };
  return { bridge, bridgeField: "OVS_VIF_BRIDGE", name: device, vlan, interfaceIds: ids, owner: "qemu", qos, portSecurity };
}
