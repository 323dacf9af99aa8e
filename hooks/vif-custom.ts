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
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import type { RunContext } from "../src/context.ts";
import { InputError, StateError } from "../src/errors.ts";
import type { Fields } from "../src/log.ts";
import { ganetiNicDown, ganetiNicUp } from "../src/modes/index.ts";
import { parseInstanceName } from "../src/names.ts";
import { isLinuxBridge } from "../src/netdev.ts";
import { plug } from "../src/plug.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { fileVars, parseScriptNic, xenNicFilePath, type ScriptNic } from "../src/sources/ganeti.ts";
import { readNicFile } from "../src/sources/nicfile.ts";
import { parseXenInvocation, readXenVifKeys, reportXenFailure, targetDeviceName, xenDesiredPort, xenLogFile, xenMtu, xenRateLevel, xenVmIds, type XenInvocation, type XenVifKeys } from "../src/sources/xen.ts";
import { openXenStore, type XenStore } from "../src/sources/xenstore.ts";
import { describeVlan, parseXenBridge, vlanMode } from "../src/vlan.ts";
import { ID } from "../src/ovsdb/keys.ts";

const HELP = `usage: vif-custom online|offline|add|remove [type_if=vif|tap] [bridge=..] [options]
       ovs-vif vif-custom ...

Ganeti's Xen NIC script (vif-ganeti execs /etc/xen/scripts/vif-custom).
Reads the NIC file $GANETI_ROOTDIR/var/run/ganeti/xen-hypervisor/nic/INSTANCE/DEVID
(MODE, LINK, VLAN, IP, MAC, INTERFACE_*, TAGS, NETWORK_*) and sets the vif
up as openvswitch (one OVSDB transaction), bridged or routed, like the KVM
scripts. Without the NIC file (Ganeti issue 944, after migration), xenstore's
bridge key is used. offline/remove undo it. Writes hotplug-status/-error.

${GLOBAL_HELP}`;

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

function deviceField(inv: XenInvocation): string {
  return inv.typeIf === "tap" ? "INTERFACE" : "vif";
}

async function up(inv: XenInvocation, found: FoundNic, ctx: RunContext): Promise<Fields> {
  const { keys, device } = found;
  if (found.vars && found.nicPath && found.instance) {
    const nic: ScriptNic = parseScriptNic(fileVars(found.nicPath, found.vars), { device, instance: found.instance });
    if (nic.mode === "openvswitch") {
      const mtu = xenMtu(inv, keys);
      return ganetiNicUp(nic, ctx, {
        deviceField: deviceField(inv),
        currentDevice: inv.device,
        xenBackend: true,
        tail: (bridge) => [xenRateLevel(inv, keys), nodeDefaultsLevel(bridge)],
        extraIds: xenVmIds(keys),
        ...(mtu !== undefined ? { mtu } : {}),
      });
    }
    return ganetiNicUp(nic, ctx, { deviceField: deviceField(inv), currentDevice: inv.device });
  }

  // No NIC file: xenstore's bridge decides.
  const bridgeRaw = keys.bridge ?? inv.vars.bridge;
  const where = found.nicPath ?? `NIC file of domain ${found.domid} (no /local/domain/${found.domid}/name)`;
  if (bridgeRaw === undefined || bridgeRaw === "") {
    throw new StateError(where, "", "missing, and xenstore has no bridge for the vif (a routed NIC needs its NIC file)");
  }
  ctx.log.info("NIC file missing, using xenstore's bridge (Ganeti issue 944)", { nic_file: found.nicPath, bridge: bridgeRaw });
  const { bridge } = parseXenBridge(keys.bridge !== undefined ? `${inv.xenbusPath}/bridge` : "bridge", bridgeRaw);
  if (isLinuxBridge(bridge)) {
    const nic: ScriptNic = { source: "xenstore", instance: found.instance ?? "", index: found.devid, mode: "bridged", link: bridge, vlan: "", tags: [], networkTags: [], device };
    return ganetiNicUp(nic, ctx, { deviceField: deviceField(inv), currentDevice: inv.device });
  }
  const { desired } = xenDesiredPort(inv, keys, device, (b) => [nodeDefaultsLevel(b)]);
  desired.owner = "ganeti";
  if (found.instance !== undefined) desired.interfaceIds[ID.instance] = found.instance;
  desired.interfaceIds[ID.nicIndex] = String(found.devid);
  const res = await plug({ desired, device: inv.device, deviceField: deviceField(inv), renameField: "vifname", xenBackend: true }, ctx);
  return {
    mode: "openvswitch",
    device,
    link: desired.bridge,
    vlan_mode: vlanMode(desired.vlan),
    vlan: describeVlan(desired.vlan),
    mtu: desired.mtu ?? res.bridgeMtu,
    ofport: res.ofport,
  };
}

async function down(found: FoundNic, ctx: RunContext): Promise<Fields> {
  const { device, keys } = found;
  if (found.vars && found.nicPath && found.instance) {
    const nic = parseScriptNic(fileVars(found.nicPath, found.vars), { device, instance: found.instance, lenient: true });
    return ganetiNicDown({ device, mode: nic.mode, ...(nic.link ? { link: nic.link } : {}), ...(nic.ip ? { ip: nic.ip } : {}), ...(nic.uuid ? { uuid: nic.uuid } : {}) }, ctx);
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

async function run({ args, ctx, env, failure }: Invocation): Promise<number> {
  failure.prefix = `${args.positionals[0] ?? "hotplug"} failed`;
  const inv = parseXenInvocation(args.positionals, env);
  if (!inv) return 0;
  failure.fields = { device: inv.device };
  const xs = await openXenStore({ timeoutMs: Math.min(ctx.opts.timeoutMs, 5000) });
  try {
    const started = Date.now();
    const found = await findNic(inv, xs);
    const isUp = inv.command === "online" || inv.command === "add";
    const fields = isUp ? await up(inv, found, ctx) : await down(found, ctx);
    if (!ctx.dryRun) {
      if (isUp) await xs.write(`${inv.xenbusPath}/hotplug-status`, "connected");
      ctx.log.info(`${inv.command} ok`, { instance: found.instance, nic: found.devid, ...fields, nic_file: found.vars ? undefined : "missing", ms: Date.now() - started });
    }
    return 0;
  } finally {
    xs.close();
  }
}

export const vifCustom: EntryPoint = { tag: "vif-custom", help: HELP, logFile: xenLogFile, run, reportFailure: reportXenFailure };
