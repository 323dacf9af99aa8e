// The Xen hotplug contract: arguments and environment of a vif script, the
// backend's xenstore keys, and the desired port they describe.
import { InputError } from "../errors.ts";
import { parseInterfaceName, parseMac, parseMtu } from "../names.ts";
import type { DesiredPort } from "../port.ts";
import { parseXenRate, type QosLevel } from "../qos.ts";
import { parseXenBridge, parseXlVlan, type VlanSpec } from "../vlan.ts";
import type { XenStore } from "./xenstore.ts";

export type XenCommand = "online" | "offline" | "add" | "remove";

export interface XenInvocation {
  command: XenCommand;
  typeIf: "vif" | "tap";
  /** The device as the toolstack named it (before any vifname rename). */
  device: string;
  xenbusPath: string;
  /** key=value arguments (bridge=, type_if=, ...). */
  vars: Record<string, string>;
}

const COMMANDS = new Set(["online", "offline", "add", "remove"]);

/** Parses `SCRIPT COMMAND [key=value...]` and the environment. Returns
 * undefined for the pairs Xen runs but that have nothing to do (online/offline
 * of a tap twin, add/remove of a PV vif). */
export function parseXenInvocation(argv: string[], env: NodeJS.ProcessEnv): XenInvocation | undefined {
  const [command, ...rest] = argv;
  if (command === undefined || !COMMANDS.has(command)) throw new InputError("command", command ?? "", "expected online, offline, add or remove");
  const vars: Record<string, string> = {};
  for (const arg of rest) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new InputError("argument", arg, "expected key=value");
    vars[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  const typeIf = vars.type_if ?? "vif";
  if (typeIf !== "vif" && typeIf !== "tap") throw new InputError("type_if", typeIf, "expected vif or tap");
  if ((command === "online" || command === "offline") && typeIf !== "vif") return undefined;
  if ((command === "add" || command === "remove") && typeIf !== "tap") return undefined;

  if (typeIf === "vif") {
    const device = parseInterfaceName("vif", env.vif ?? "");
    const xenbusPath = env.XENBUS_PATH ?? "";
    if (!xenbusPath.startsWith("/")) throw new InputError("XENBUS_PATH", xenbusPath, "missing or not a xenstore path");
    return { command: command as XenCommand, typeIf, device, xenbusPath, vars };
  }
  // The emulated twin: vifDOMID.DEVID-emu; its backend path follows from the name.
  const device = parseInterfaceName("INTERFACE", env.INTERFACE ?? "");
  const m = /^vif([0-9]+)\.([0-9]+)-emu$/.exec(device);
  const xenbusPath = m ? `/local/domain/0/backend/vif/${m[1]}/${m[2]}` : (env.XENBUS_PATH ?? "");
  if (!xenbusPath.startsWith("/")) throw new InputError("INTERFACE", device, "cannot derive the backend path (expected vifDOMID.DEVID-emu or XENBUS_PATH)");
  return { command: command as XenCommand, typeIf, device, xenbusPath, vars };
}

/** What the backend's xenstore directory says about the vif. */
export interface XenVifKeys {
  bridge?: string;
  vifname?: string;
  mac?: string;
  mtu?: string;
  vlan?: string;
  rate?: string;
  frontendId?: string;
  vmName?: string;
  vmUuid?: string;
}

/** Reads every key in two pipelined round trips. The frontend's domain id is
 * normally the one in the backend path (.../backend/vif/DOMID/DEVID), so its
 * vm path is asked for in the first batch; frontend-id decides. */
export async function readXenVifKeys(xs: XenStore, xenbusPath: string, withVm: boolean): Promise<XenVifKeys> {
  const keys = ["bridge", "vifname", "mac", "mtu", "vlan", "rate", "frontend-id"] as const;
  const guess = withVm ? /\/backend\/vif\/([0-9]+)\/[0-9]+$/.exec(xenbusPath)?.[1] : undefined;
  const reads = keys.map((k) => xs.read(`${xenbusPath}/${k}`));
  const guessed = guess !== undefined ? [xs.read(`/local/domain/${guess}/vm`), xs.read(`/local/domain/${guess}/name`)] : [];
  const [bridge, vifname, mac, mtu, vlan, rate, frontendId] = await Promise.all(reads);
  const out: XenVifKeys = {};
  const set = <K extends keyof XenVifKeys>(k: K, v: string | undefined) => {
    if (v !== undefined && v !== "") out[k] = v;
  };
  set("bridge", bridge);
  set("vifname", vifname);
  set("mac", mac);
  set("mtu", mtu);
  set("vlan", vlan);
  set("rate", rate);
  set("frontendId", frontendId);
  if (withVm && out.frontendId && /^[0-9]+$/.test(out.frontendId)) {
    const dom = `/local/domain/${out.frontendId}`;
    const [vmPath, domName] = out.frontendId === guess ? await Promise.all(guessed) : await Promise.all([xs.read(`${dom}/vm`), xs.read(`${dom}/name`)]);
    // libxl's vm path is /vm/UUID: the uuid needs no extra round trip then.
    const fromPath = vmPath ? /^\/vm\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(vmPath)?.[1] : undefined;
    if (domName && fromPath) {
      set("vmName", domName);
      set("vmUuid", fromPath);
    } else if (vmPath && vmPath.startsWith("/")) {
      const [name, uuid] = await Promise.all([xs.read(`${vmPath}/name`), xs.read(`${vmPath}/uuid`)]);
      set("vmName", name ?? domName);
      set("vmUuid", uuid);
    } else {
      set("vmName", domName);
    }
  } else {
    await Promise.all(guessed).catch(() => undefined);
  }
  return out;
}

/** The name the device ends up with: `vifname` (plus `-emu` for the tap twin). */
export function targetDeviceName(inv: XenInvocation, keys: XenVifKeys): string {
  if (!keys.vifname) return inv.device;
  const name = inv.typeIf === "tap" ? `${keys.vifname}-emu` : keys.vifname;
  return parseInterfaceName(`${inv.xenbusPath}/vifname`, name);
}

export interface XenPort {
  desired: DesiredPort;
  vlanSource: "bridge" | "vlan";
}

/** Builds the desired port: `bridge` from xenstore, else the bridge=
 * argument; the backend's `vlan` key, when present, wins over the bridge
 * string's VLAN suffix. */
export function xenDesiredPort(inv: XenInvocation, keys: XenVifKeys, device: string, extraLevels: (bridge: string) => QosLevel[] = () => []): XenPort {
  const bridgeField = keys.bridge !== undefined ? `${inv.xenbusPath}/bridge` : "bridge";
  const bridgeRaw = keys.bridge ?? inv.vars.bridge;
  if (bridgeRaw === undefined || bridgeRaw === "") throw new InputError(bridgeField, "", "no bridge given (xenstore bridge key or bridge= argument)");
  const parsed = parseXenBridge(bridgeField, bridgeRaw);
  let vlan: VlanSpec = parsed.vlan;
  let vlanSource: XenPort["vlanSource"] = "bridge";
  if (keys.vlan !== undefined) {
    vlan = parseXlVlan(`${inv.xenbusPath}/vlan`, keys.vlan);
    vlanSource = "vlan";
  }
  const ids: Record<string, string> = {};
  if (keys.vmName !== undefined) ids["xen-vm-name"] = keys.vmName;
  if (keys.vmUuid !== undefined) ids["xen-vm-uuid"] = keys.vmUuid;
  if (keys.mac !== undefined) ids["attached-mac"] = parseMac(`${inv.xenbusPath}/mac`, keys.mac);
  const xenRate: QosLevel = { name: `xenstore ${inv.xenbusPath}/rate` };
  if (keys.rate !== undefined) xenRate.ovs = parseXenRate(`${inv.xenbusPath}/rate`, keys.rate);
  const desired: DesiredPort = { bridge: parsed.bridge, name: device, vlan, interfaceIds: ids, owner: "xen", qos: [xenRate, ...extraLevels(parsed.bridge)] };
  if (keys.mtu !== undefined) desired.mtu = parseMtu(`${inv.xenbusPath}/mtu`, keys.mtu);
  return { desired, vlanSource };
}

/** What the toolstack shows the operator: hotplug-error, then hotplug-status=error. */
export async function reportHotplugError(xs: XenStore, xenbusPath: string, message: string): Promise<void> {
  await xs.write(`${xenbusPath}/hotplug-error`, message).catch(() => undefined);
  await xs.write(`${xenbusPath}/hotplug-status`, "error").catch(() => undefined);
}
