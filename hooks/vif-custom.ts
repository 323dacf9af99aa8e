// Ganeti on Xen: Ganeti's vif-ganeti execs /etc/xen/scripts/vif-custom with
// Xen's arguments (`online|offline|add|remove [type_if=..]`, vif and
// XENBUS_PATH in the environment). The NIC's parameters come from Ganeti's
// NIC file, GANETI_ROOTDIR/var/run/ganeti/xen-hypervisor/nic/INSTANCE/DEVID
// (instance name from xenstore /local/domain/DOMID/name), read without a
// shell. When the file is missing (Ganeti issue 944: after a migration the
// target node may lack it), xenstore's `bridge` says where the vif goes: a
// Linux bridge (bridged) or else an OVS bridge with its VLAN suffix, so the
// migrated domain keeps its network.
// Xen contract: hotplug-status `connected` after online; on failure
// hotplug-error + hotplug-status `error` and exit 1.
import { formatError, InputError, StateError } from "../src/errors.ts";
import type { Fields, Log } from "../src/log.ts";
import { ganetiNicDown, ganetiNicUp } from "../src/modes/index.ts";
import { isLinuxBridge, linkExists, makeContext, type ModeContext } from "../src/modes/common.ts";
import { ovsUp } from "../src/modes/openvswitch.ts";
import { prepareVirtualPort } from "../src/netdev.ts";
import { parseMtu } from "../src/names.ts";
import { parseXenRate, type QosLevel } from "../src/qos.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { fileVars, parseGanetiNic, parseInstanceName, xenNicFilePath, type GanetiNic } from "../src/sources/ganeti.ts";
import { readNicFile } from "../src/sources/nicfile.ts";
import { parseXenInvocation, readXenVifKeys, reportHotplugError, targetDeviceName, xenDesiredPort, type XenInvocation, type XenVifKeys } from "../src/sources/xen.ts";
import { openXenStore, type XenStore } from "../src/sources/xenstore.ts";
import { describeVlan, parseXenBridge, vlanMode } from "../src/vlan.ts";
import { globalOptions, GLOBAL_HELP, makeLog, parseArgs, out } from "../src/cli/common.ts";
import { run } from "../src/exec.ts";

export const VIF_CUSTOM_HELP = `usage: vif-custom online|offline|add|remove [type_if=vif|tap] [bridge=..] [options]
       ovs-vif vif-custom ...

Ganeti's Xen NIC script (vif-ganeti execs /etc/xen/scripts/vif-custom).
Reads the NIC file $GANETI_ROOTDIR/var/run/ganeti/xen-hypervisor/nic/INSTANCE/DEVID
(MODE, LINK, VLAN, IP, MAC, INTERFACE_*, TAGS, NETWORK_*) and sets the vif
up as openvswitch (one OVSDB transaction), bridged or routed, like the KVM
scripts. Without the NIC file (Ganeti issue 944, after migration), xenstore's
bridge key is used. offline/remove undo it. Writes hotplug-status/-error.

${GLOBAL_HELP}`;

const XEN_LOG = "/var/log/xen/xen-hotplug.log";

export async function vifCustom(argv: string[], tag: string): Promise<number> {
  const args = parseArgs(argv, {});
  if (args.help) {
    out(VIF_CUSTOM_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const log = makeLog(tag, opts.verbose, process.env.OVS_VIF_XEN_LOG ?? XEN_LOG);
  let inv: XenInvocation | undefined;
  let xs: XenStore | undefined;
  try {
    inv = parseXenInvocation(args._.map(String), process.env);
    if (!inv) return 0;
    xs = await openXenStore({ timeoutMs: Math.min(opts.timeoutMs, 5000) });
    const ctx = makeContext(opts, log);
    const started = Date.now();
    const found = await findNic(inv, xs);
    const up = inv.command === "online" || inv.command === "add";
    const fields = up ? await plug(inv, found, ctx, log) : await unplug(found, ctx);
    if (!opts.dryRun) {
      if (up) await xs.write(`${inv.xenbusPath}/hotplug-status`, "connected");
      log.info(`${inv.command} ok`, { instance: found.instance, nic: found.devid, ...fields, nic_file: found.vars ? undefined : "missing", ms: Date.now() - started });
    }
    return 0;
  } catch (err) {
    const message = formatError(err);
    log.error(`${inv?.command ?? "hotplug"} failed: ${message}`, { device: inv?.device });
    if (inv && xs && !opts.dryRun) await reportHotplugError(xs, inv.xenbusPath, message);
    return 1;
  } finally {
    xs?.close();
    await log.close();
  }
}

interface FoundNic {
  keys: XenVifKeys;
  /** The device's final name (vifname rename applied). */
  device: string;
  domid: number;
  devid: number;
  instance?: string;
  nicPath?: string;
  /** The NIC file's variables; undefined when it is missing. */
  vars?: Record<string, string>;
}

async function findNic(inv: XenInvocation, xs: XenStore): Promise<FoundNic> {
  const m = /\/backend\/vif\/([0-9]+)\/([0-9]+)$/.exec(inv.xenbusPath);
  if (!m) throw new InputError("XENBUS_PATH", inv.xenbusPath, "expected /local/domain/0/backend/vif/DOMID/DEVID");
  const domid = Number(m[1]);
  const devid = Number(m[2]);
  const namePath = `/local/domain/${domid}/name`;
  const [keys, domName] = await Promise.all([readXenVifKeys(xs, inv.xenbusPath, true), xs.read(namePath)]);
  const found: FoundNic = { keys, device: targetDeviceName(inv, keys), domid, devid };
  if (domName === undefined || domName === "") return found;
  found.instance = parseInstanceName(namePath, domName);
  found.nicPath = xenNicFilePath(found.instance, devid);
  const vars = readNicFile(found.nicPath);
  if (vars) found.vars = vars;
  return found;
}

function xenRateLevel(inv: XenInvocation, keys: XenVifKeys): QosLevel {
  const level: QosLevel = { name: `xenstore ${inv.xenbusPath}/rate` };
  if (keys.rate !== undefined) level.ovs = parseXenRate(`${inv.xenbusPath}/rate`, keys.rate);
  return level;
}

/** Xen's external-ids, kept next to Ganeti's. */
function xenIds(keys: XenVifKeys): Record<string, string> {
  const ids: Record<string, string> = {};
  if (keys.vmName !== undefined) ids["xen-vm-name"] = keys.vmName;
  if (keys.vmUuid !== undefined) ids["xen-vm-uuid"] = keys.vmUuid;
  return ids;
}

async function renameIfNeeded(inv: XenInvocation, device: string): Promise<void> {
  if (device === inv.device) return;
  await run("ip", ["link", "set", "dev", inv.device, "down"]);
  await run("ip", ["link", "set", "dev", inv.device, "name", device]);
}

async function plug(inv: XenInvocation, found: FoundNic, ctx: ModeContext, log: Log): Promise<Fields> {
  const { keys, device } = found;
  const deviceField = inv.typeIf === "tap" ? "INTERFACE" : "vif";
  if (found.vars && found.nicPath && found.instance) {
    const nic: GanetiNic = parseGanetiNic(fileVars(found.nicPath, found.vars), { device, instance: found.instance });
    if (nic.mode === "openvswitch") {
      return ganetiNicUp(nic, ctx, {
        deviceField,
        currentDevice: inv.device,
        tail: (bridge) => [xenRateLevel(inv, keys), nodeDefaultsLevel(bridge)],
        extraIds: xenIds(keys),
        prepare: async () => void (await prepareVirtualPort(inv.device, device === inv.device ? undefined : device)),
        ...(keys.mtu !== undefined ? { mtu: parseMtu(`${inv.xenbusPath}/mtu`, keys.mtu) } : {}),
      });
    }
    if (!ctx.print) await renameIfNeeded(inv, device);
    return ganetiNicUp(nic, ctx, { deviceField });
  }

  // No NIC file: xenstore's bridge decides.
  const bridgeRaw = keys.bridge ?? inv.vars.bridge;
  const where = found.nicPath ?? `NIC file of domain ${found.domid} (no /local/domain/${found.domid}/name)`;
  if (bridgeRaw === undefined || bridgeRaw === "") {
    throw new StateError(where, "", "missing, and xenstore has no bridge for the vif (a routed NIC needs its NIC file)");
  }
  log.info("NIC file missing, using xenstore's bridge (Ganeti issue 944)", { nic_file: found.nicPath, bridge: bridgeRaw });
  const { bridge } = parseXenBridge(keys.bridge !== undefined ? `${inv.xenbusPath}/bridge` : "bridge", bridgeRaw);
  if (isLinuxBridge(bridge)) {
    if (!ctx.print) await renameIfNeeded(inv, device);
    const nic: GanetiNic = { source: "xenstore", instance: found.instance ?? "", index: found.devid, mode: "bridged", link: bridge, vlan: "", tags: [], networkTags: [], device };
    return ganetiNicUp(nic, ctx, { deviceField });
  }
  const { desired } = xenDesiredPort(inv, keys, device, (b) => [nodeDefaultsLevel(b)]);
  if (!ctx.print && !linkExists(inv.device)) throw new StateError(deviceField, inv.device, "no such network device");
  desired.owner = "ganeti";
  if (found.instance !== undefined) desired.interfaceIds["ganeti-instance"] = found.instance;
  desired.interfaceIds["ganeti-nic-index"] = String(found.devid);
  const res = await ovsUp({ desired, prepare: async () => void (await prepareVirtualPort(inv.device, device === inv.device ? undefined : device)) }, ctx);
  return {
    mode: "openvswitch",
    device,
    link: desired.bridge,
    vlan_mode: vlanMode(desired.vlan),
    vlan: describeVlan(desired.vlan),
    mtu: desired.mtu ?? res.attach.bridgeMtu,
    ofport: res.attach.ofport,
  };
}

async function unplug(found: FoundNic, ctx: ModeContext): Promise<Fields> {
  const { device, keys } = found;
  if (found.vars && found.nicPath && found.instance) {
    const nic = parseGanetiNic(fileVars(found.nicPath, found.vars), { device, instance: found.instance, lenient: true });
    return ganetiNicDown({ device, mode: nic.mode, ...(nic.link ? { link: nic.link } : {}), ...(nic.ip ? { ip: nic.ip } : {}) }, ctx);
  }
  // Without the file: a Linux bridge from xenstore says bridged; otherwise
  // undo whatever any mode may have left (OVS port, bridge port, rules).
  let bridge: string | undefined;
  try {
    if (keys.bridge) bridge = parseXenBridge("bridge", keys.bridge).bridge;
  } catch {
    bridge = undefined;
  }
  if (bridge !== undefined && isLinuxBridge(bridge)) return ganetiNicDown({ device, mode: "bridged", link: bridge }, ctx);
  return ganetiNicDown({ device }, ctx);
}
