// Ganeti on Xen: one vif up or down as its Ganeti NIC says. Ganeti's
// vif-ganeti execs /etc/xen/scripts/vif-custom with Xen's arguments; the
// NIC's parameters come from Ganeti's NIC file,
// GANETI_ROOTDIR/var/run/ganeti/xen-hypervisor/nic/INSTANCE/DEVID (instance
// name from xenstore /local/domain/DOMID/name), read without a shell. When
// the file is missing (Ganeti issue 944: after a migration the target node
// may lack it), xenstore's `bridge` says where the vif goes: a Linux bridge
// (bridged) or else an OVS bridge with its VLAN suffix, so the migrated
// domain keeps its network.
import type { RunContext } from "../context.ts";
import { InputError, StateError } from "../errors.ts";
import type { Fields } from "../log.ts";
import { ganetiNicDown, ganetiNicUp } from "../modes/index.ts";
import { parseInstanceName } from "../names.ts";
import { isLinuxBridge } from "../netdev.ts";
import { plug, plugFields } from "../plug.ts";
import { nodeDefaultsLevel, nodePortSecurityLevel } from "../sources/defaults.ts";
import { fileVars, parseScriptNic, xenNicFilePath, type ScriptNic } from "../sources/ganeti.ts";
import { readNicFile } from "../sources/nicfile.ts";
import { readXenVifKeys, targetDeviceName, xenDesiredPort, xenMtu, xenRateLevel, xenVmIds, type XenInvocation, type XenVifKeys } from "../sources/xen.ts";
import { openXenStore, type XenStore } from "../sources/xenstore.ts";
import { parseXenBridge } from "../vlan.ts";
import { ID } from "../ovsdb/keys.ts";

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
    const nic: ScriptNic = {
      source: "xenstore",
      instance: found.instance ?? "",
      index: found.devid,
      mode: "bridged",
      link: bridge,
      vlan: "",
      tags: [],
      networkTags: [],
      device,
    };
    return ganetiNicUp(nic, ctx, { deviceField: deviceField(inv), currentDevice: inv.device });
  }
  const { desired } = xenDesiredPort(
    inv,
    keys,
    device,
    (b) => [nodeDefaultsLevel(b)],
    (b) => [nodePortSecurityLevel(b)],
  );
  desired.owner = "ganeti";
  if (found.instance !== undefined) desired.interfaceIds[ID.instance] = found.instance;
  desired.interfaceIds[ID.nicIndex] = String(found.devid);
  const res = await plug({ desired, device: inv.device, deviceField: deviceField(inv), renameField: "vifname", xenBackend: true }, ctx);
  return { mode: "openvswitch", ...plugFields(desired, res) };
}

async function down(found: FoundNic, ctx: RunContext): Promise<Fields> {
  const { device, keys } = found;
  if (found.vars && found.nicPath && found.instance) {
    const nic = parseScriptNic(fileVars(found.nicPath, found.vars), { device, instance: found.instance, lenient: true });
    return ganetiNicDown(nic, ctx);
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

/** The vif up or down; the fields of its log line.
 * After an up, hotplug-status is `connected` (Xen's contract). */
export async function ganetiXenVif(inv: XenInvocation, ctx: RunContext): Promise<Fields> {
  const xs = await openXenStore({ timeoutMs: Math.min(ctx.opts.timeoutMs, 5000) });
  try {
    const started = Date.now();
    const found = await findNic(inv, xs);
    const isUp = inv.command === "online" || inv.command === "add";
    const fields = isUp ? await up(inv, found, ctx) : await down(found, ctx);
    if (isUp && ctx.dryRun) ctx.dryRun.print(`xenstore-write ${inv.xenbusPath}/hotplug-status connected`);
    else if (isUp) await xs.write(`${inv.xenbusPath}/hotplug-status`, "connected");
    return { instance: found.instance, nic: found.devid, ...fields, nic_file: found.vars ? undefined : "missing", ms: Date.now() - started };
  } finally {
    xs.close();
  }
}
