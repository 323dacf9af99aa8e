// Plain QEMU: -netdev tap,ifname=T,script=/etc/ovs-vif/qemu-ifup,downscript=/etc/ovs-vif/qemu-ifdown
// QEMU runs the script with the tap's name as its only argument (the tap
// exists and is down); the bridge string comes from the environment QEMU
// inherited: OVS_VIF_BRIDGE=br[.N][:A:B...], optional OVS_VIF_RATE /
// OVS_VIF_BURST (policing), OVS_VIF_MAC (attached-mac), OVS_VIF_IFACE_ID.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { InputError } from "../src/errors.ts";
import { parseExternalId, parseInterfaceName, parseMac } from "../src/names.ts";
import { plug, qosFields, unplug } from "../src/plug.ts";
import type { DesiredPort } from "../src/port.ts";
import { valueLevel } from "../src/qos.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { describeVlan, parseXenBridge, vlanMode } from "../src/vlan.ts";
import { ID } from "../src/ovsdb/keys.ts";

const HELP = `usage: qemu-ifup TAP      (QEMU -netdev tap,script=/etc/ovs-vif/qemu-ifup)
       qemu-ifdown TAP    (QEMU -netdev tap,downscript=/etc/ovs-vif/qemu-ifdown)
       ovs-vif qemu-ifup|qemu-ifdown TAP [options]

Environment (inherited from QEMU's):
  OVS_VIF_BRIDGE    BR, BR.N (access N), BR:A:B (trunk), BR.N:A:B (hybrid)   [required for ifup]
  OVS_VIF_RATE      ingress policing rate, e.g. 100M (bit/s, k/M/G suffixes)
  OVS_VIF_BURST     burst, e.g. 10M (bits; default 80% of the rate)
  OVS_VIF_RX_RATE   receive limit (what the VM gets), e.g. 200M (bit/s)
  OVS_VIF_RX_BURST  its burst (bits; default OVS's)
  OVS_VIF_MAC       the guest MAC, stored as external-ids:attached-mac
  OVS_VIF_IFACE_ID  stored as external-ids:iface-id

qemu-ifup attaches TAP in one OVSDB transaction and sets it up;
qemu-ifdown removes its port (absent is fine).

${GLOBAL_HELP}`;

/** The tap, the only argument QEMU passes. */
function tapArgument({ args }: Invocation): string {
  const tap = args.required(0, "argument 1 (tap)", "missing: QEMU passes the tap's name");
  args.atMost(1, "QEMU passes only the tap's name");
  return parseInterfaceName("argument 1 (tap)", tap);
}

/** Every variable checked before anything changes. */
function desiredFromEnv(device: string, env: NodeJS.ProcessEnv): DesiredPort {
  const spec = env.OVS_VIF_BRIDGE;
  if (spec === undefined || spec === "") throw new InputError("OVS_VIF_BRIDGE", "", "not set (export it to QEMU's environment: BR, BR.N, BR:A:B or BR.N:A:B)");
  const { bridge, vlan } = parseXenBridge("OVS_VIF_BRIDGE", spec);
  const ids: Record<string, string> = {};
  if (env.OVS_VIF_MAC) ids[ID.attachedMac] = parseMac("OVS_VIF_MAC", env.OVS_VIF_MAC);
  if (env.OVS_VIF_IFACE_ID) ids[ID.ifaceId] = parseExternalId("OVS_VIF_IFACE_ID", `iface-id=${env.OVS_VIF_IFACE_ID}`)[1];
  const rx: Parameters<typeof valueLevel>[5] = { "rx-rate": [env.OVS_VIF_RX_RATE, "OVS_VIF_RX_RATE"], "rx-burst": [env.OVS_VIF_RX_BURST, "OVS_VIF_RX_BURST"] };
  const qos = [valueLevel("environment", env.OVS_VIF_RATE, env.OVS_VIF_BURST, "OVS_VIF_RATE", "OVS_VIF_BURST", rx), nodeDefaultsLevel(bridge)];
  return { bridge, bridgeField: "OVS_VIF_BRIDGE", name: device, vlan, interfaceIds: ids, owner: "qemu", qos };
}

async function ifup(inv: Invocation): Promise<number> {
  const device = tapArgument(inv);
  const started = Date.now();
  const desired = desiredFromEnv(device, inv.env);
  const res = await plug({ desired, device, deviceField: "argument 1 (tap)" }, inv.ctx);
  if (!inv.ctx.dryRun) {
    inv.log.info("up ok", {
      device,
      bridge: desired.bridge,
      vlan_mode: vlanMode(desired.vlan),
      vlan: describeVlan(desired.vlan),
      mtu: res.bridgeMtu,
      ...qosFields(res),
      ofport: res.ofport,
      ms: Date.now() - started,
    });
  }
  return 0;
}

async function ifdown(inv: Invocation): Promise<number> {
  const device = tapArgument(inv);
  const started = Date.now();
  const res = await unplug(device, inv.ctx);
  if (!inv.ctx.dryRun) inv.log.info("down ok", { device, bridge: res.bridges.join(",") || undefined, removed: res.removed, ms: Date.now() - started });
  return 0;
}

export const qemuIfup: EntryPoint = { tag: "qemu-ifup", help: HELP, run: ifup };
export const qemuIfdown: EntryPoint = { tag: "qemu-ifdown", help: HELP, run: ifdown };
