// Plain QEMU: -netdev tap,ifname=T,script=/etc/ovs-vif/qemu-ifup,downscript=/etc/ovs-vif/qemu-ifdown
// QEMU runs the script with the tap's name as its only argument (the tap
// exists and is down); the bridge string comes from the environment QEMU
// inherited: OVS_VIF_BRIDGE=br[.N][:A:B...], optional OVS_VIF_RATE /
// OVS_VIF_BURST (policing), OVS_VIF_MAC (attached-mac), OVS_VIF_IFACE_ID.
import { formatError, InputError, StateError } from "../src/errors.ts";
import { linkExists, makeContext } from "../src/modes/common.ts";
import { ovsDown, ovsUp } from "../src/modes/openvswitch.ts";
import { parseInterfaceName, parseMac, parseExternalId } from "../src/names.ts";
import type { DesiredPort } from "../src/port.ts";
import { burstToKb, rateToKbps, valueLevel } from "../src/qos.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { describeVlan, parseXenBridge, vlanMode } from "../src/vlan.ts";
import { globalOptions, GLOBAL_HELP, makeLog, parseArgs, out, err } from "../src/cli/common.ts";

export const QEMU_HELP = `usage: qemu-ifup TAP      (QEMU -netdev tap,script=/etc/ovs-vif/qemu-ifup)
       qemu-ifdown TAP    (QEMU -netdev tap,downscript=/etc/ovs-vif/qemu-ifdown)
       ovs-vif qemu-ifup|qemu-ifdown TAP [options]

Environment (inherited from QEMU's):
  OVS_VIF_BRIDGE    BR, BR.N (access N), BR:A:B (trunk), BR.N:A:B (hybrid)   [required for ifup]
  OVS_VIF_RATE      ingress policing rate, e.g. 100M (bit/s, k/M/G suffixes)
  OVS_VIF_BURST     burst, e.g. 10M (bits; default 80% of the rate)
  OVS_VIF_MAC       the guest MAC, stored as external-ids:attached-mac
  OVS_VIF_IFACE_ID  stored as external-ids:iface-id

qemu-ifup attaches TAP in one OVSDB transaction and sets it up;
qemu-ifdown removes its port (absent is fine).

${GLOBAL_HELP}`;

export async function qemuIfup(argv: string[], tag: string): Promise<number> {
  return runQemu(argv, tag, "up");
}

export async function qemuIfdown(argv: string[], tag: string): Promise<number> {
  return runQemu(argv, tag, "down");
}

async function runQemu(argv: string[], tag: string, action: "up" | "down"): Promise<number> {
  const args = parseArgs(argv, {});
  if (args.help) {
    out(QEMU_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const log = makeLog(tag, opts.verbose);
  const env = process.env;
  const started = Date.now();
  try {
    const [tap, ...extra] = args._.map(String);
    if (tap === undefined) throw new InputError("argument 1", "", "missing: QEMU passes the tap's name");
    if (extra.length > 0) throw new InputError("argument 2", extra[0]!, "unexpected argument (QEMU passes only the tap's name)");
    const device = parseInterfaceName("argument 1 (tap)", tap);
    const ctx = makeContext(opts, log);
    if (action === "down") {
      const res = await ovsDown(device, ctx);
      if (!opts.dryRun) log.info("down ok", { device, bridge: res.bridges.join(",") || undefined, removed: res.removed, ms: Date.now() - started });
      return 0;
    }
    const spec = env.OVS_VIF_BRIDGE;
    if (spec === undefined || spec === "") throw new InputError("OVS_VIF_BRIDGE", "", "not set (export it to QEMU's environment: BR, BR.N, BR:A:B or BR.N:A:B)");
    const { bridge, vlan } = parseXenBridge("OVS_VIF_BRIDGE", spec);
    // Checked now, so a bad value fails before anything is touched.
    if (env.OVS_VIF_RATE) rateToKbps("OVS_VIF_RATE", env.OVS_VIF_RATE);
    if (env.OVS_VIF_BURST) burstToKb("OVS_VIF_BURST", env.OVS_VIF_BURST);
    const ids: Record<string, string> = {};
    if (env.OVS_VIF_MAC) ids["attached-mac"] = parseMac("OVS_VIF_MAC", env.OVS_VIF_MAC);
    if (env.OVS_VIF_IFACE_ID) ids["iface-id"] = parseExternalId("OVS_VIF_IFACE_ID", `iface-id=${env.OVS_VIF_IFACE_ID}`)[1];
    const desired: DesiredPort = {
      bridge,
      name: device,
      vlan,
      interfaceIds: ids,
      owner: "qemu",
      qos: [valueLevel("environment", env.OVS_VIF_RATE, env.OVS_VIF_BURST, "OVS_VIF_RATE", "OVS_VIF_BURST"), nodeDefaultsLevel(bridge)],
    };
    if (!opts.dryRun && !linkExists(device)) throw new StateError("argument 1 (tap)", device, "no such network device");
    const res = await ovsUp({ desired }, ctx);
    if (!opts.dryRun) {
      log.info("up ok", {
        device,
        bridge,
        vlan_mode: vlanMode(vlan),
        vlan: describeVlan(vlan),
        mtu: res.attach.bridgeMtu,
        rate: res.attach.policing.rate || undefined,
        burst: res.attach.policing.burst || undefined,
        ofport: res.attach.ofport,
        ms: Date.now() - started,
      });
    }
    return 0;
  } catch (e) {
    err(`${tag}: ${formatError(e)}\n`);
    return 1;
  } finally {
    await log.close();
  }
}
