// Plain QEMU: -netdev tap,ifname=T,script=/etc/ovs-vif/qemu-ifup,downscript=/etc/ovs-vif/qemu-ifdown
// (the inputs: src/sources/qemu.ts).
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { parseInterfaceName } from "../src/names.ts";
import { plug, plugFields, unplug, unplugFields } from "../src/plug.ts";
import { qemuDesiredPort } from "../src/sources/qemu.ts";
import { vlanFormsHelp } from "../src/vlan.ts";

const HELP = `usage: qemu-ifup TAP      (QEMU -netdev tap,script=/etc/ovs-vif/qemu-ifup)
       qemu-ifdown TAP    (QEMU -netdev tap,downscript=/etc/ovs-vif/qemu-ifdown)
       ovs-vif qemu-ifup|qemu-ifdown TAP [options]

Environment (inherited from QEMU's):
  OVS_VIF_BRIDGE    the bridge and its VLAN part   [required for ifup]:
${vlanFormsHelp("BR")}
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

async function ifup(inv: Invocation): Promise<number> {
  const device = tapArgument(inv);
  const started = Date.now();
  const desired = qemuDesiredPort(device, inv.env);
  const res = await plug({ desired, device, deviceField: "argument 1 (tap)" }, inv.ctx);
  inv.log.info("up ok", { ...plugFields(desired, res), ms: Date.now() - started });
  return 0;
}

async function ifdown(inv: Invocation): Promise<number> {
  const device = tapArgument(inv);
  const started = Date.now();
  const res = await unplug(device, inv.ctx);
  inv.log.info("down ok", { ...unplugFields(device, res), ms: Date.now() - started });
  return 0;
}

export const qemuIfup: EntryPoint = { tag: "qemu-ifup", help: HELP, run: ifup };
export const qemuIfdown: EntryPoint = { tag: "qemu-ifdown", help: HELP, run: ifdown };
