// The Xen hotplug contract: arguments and environment of a vif script, the
// backend's xenstore keys, and the desired port they describe.
import { escapeControls, InputError } from "../errors.ts";
import { parseInterfaceName, parseMac, parseMtu } from "../names.ts";
import type { DesiredPort } from "../port.ts";
import { parseXenRate, type QosLevel } from "../qos.ts";
import { parseXenBridge, parseXlVlan, type VlanSpec } from "../vlan.ts";
import { openXenStore, type XenStore } from "./xenstore.ts";
import { ID } from "../ovsdb/keys.ts";
import { xenIpLevel, type PortSecurityLevel } from "../port-security/sources.ts";

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

/** Where Xen's hotplug scripts append their stderr (OVS_VIF_XEN_LOG for tests). */
export function xenLogFile(env: NodeJS.ProcessEnv): string {
  return env.OVS_VIF_XEN_LOG ?? "/var/log/xen/xen-hotplug.log";
}

// A vif backend directory: /local/domain/BACKEND/backend/vif/DOMID/DEVID.
const BACKEND_PATH = /^\/local\/domain\/[0-9]{1,10}\/backend\/vif\/([0-9]{1,10})\/([0-9]{1,10})$/;
const EMU_DEVICE = /^vif([0-9]{1,10})\.([0-9]{1,10})-emu$/;

/** The backend directory of this call, from what Xen passes (XENBUS_PATH,
 * or the tap twin's name), when that is well-formed. */
export function backendPathFromEnv(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const tap = argv.includes("type_if=tap");
  if (tap) {
    const m = EMU_DEVICE.exec(env.INTERFACE ?? "");
    if (m) return `/local/domain/0/backend/vif/${m[1]}/${m[2]}`;
  }
  const path = env.XENBUS_PATH ?? "";
  return BACKEND_PATH.test(path) ? path : undefined;
}

/** Parses `SCRIPT COMMAND [key=value...]` and the environment. Returns
 * undefined for the pairs Xen runs but that have nothing to do (online/offline
 * of a tap twin, add/remove of a PV vif). */
export function parseXenInvocation(argv: string[], env: NodeJS.ProcessEnv): XenInvocation | undefined {
  const [command, ...rest] = argv;
  if (command === undefined || !COMMANDS.has(command)) throw new InputError("command", command ?? "", "expected online, offline, add or remove");
  const vars: Record<string, string> = {};
  for (const arg of rest) {
    const m = /^([A-Za-z_][A-Za-z0-9_]{0,63})=(.*)$/s.exec(arg);
    if (!m) throw new InputError("argument", arg, "expected key=value");
    if (m[1]! in vars) throw new InputError("argument", arg, `${m[1]} given twice`);
    vars[m[1]!] = m[2]!;
  }
  const typeIf = vars.type_if ?? "vif";
  if (typeIf !== "vif" && typeIf !== "tap") throw new InputError("type_if", typeIf, "expected vif or tap");
  if ((command === "online" || command === "offline") && typeIf !== "vif") return undefined;
  if ((command === "add" || command === "remove") && typeIf !== "tap") return undefined;

  if (typeIf === "vif") {
    const xenbusPath = env.XENBUS_PATH ?? "";
    if (!BACKEND_PATH.test(xenbusPath))
      throw new InputError("XENBUS_PATH", xenbusPath, "missing or not a vif backend path (/local/domain/N/backend/vif/DOMID/DEVID)");
    const device = parseInterfaceName("vif", env.vif ?? "");
    return { command: command as XenCommand, typeIf, device, xenbusPath, vars };
  }
  // The emulated twin: vifDOMID.DEVID-emu; its backend path follows from the name.
  const device = parseInterfaceName("INTERFACE", env.INTERFACE ?? "");
  const xenbusPath = backendPathFromEnv(["type_if=tap"], env);
  if (xenbusPath === undefined) throw new InputError("INTERFACE", device, "cannot derive the backend path (expected vifDOMID.DEVID-emu or XENBUS_PATH)");
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
  /** xl's ip=: the vif's addresses, space-separated (port security). */
  ip?: string;
  frontendId?: string;
  vmName?: string;
  vmUuid?: string;
}

/** Reads every key in two pipelined round trips. The frontend's domain id is
 * normally the one in the backend path (.../backend/vif/DOMID/DEVID), so its
 * vm path is asked for in the first batch; frontend-id decides. */
export async function readXenVifKeys(xs: XenStore, xenbusPath: string, withVm: boolean): Promise<XenVifKeys> {
  const keys = ["bridge", "vifname", "mac", "mtu", "vlan", "rate", "ip", "frontend-id"] as const;
  const guess = withVm ? /\/backend\/vif\/([0-9]+)\/[0-9]+$/.exec(xenbusPath)?.[1] : undefined;
  const reads = keys.map((k) => xs.read(`${xenbusPath}/${k}`));
  const guessed = guess !== undefined ? [xs.read(`/local/domain/${guess}/vm`), xs.read(`/local/domain/${guess}/name`)] : [];
  const [bridge, vifname, mac, mtu, vlan, rate, ip, frontendId] = await Promise.all(reads);
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
  set("ip", ip);
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
 * string's VLAN suffix. Port security is on when the vif has an `ip` key
 * (as Xen's vif-bridge restricts such a vif), else as `tail` says (the
 * node default). */
export function xenDesiredPort(
  inv: XenInvocation,
  keys: XenVifKeys,
  device: string,
  extraLevels: (bridge: string) => QosLevel[] = () => [],
  portSecurityTail: (bridge: string) => PortSecurityLevel[] = () => [],
): XenPort {
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
  const ids = xenVmIds(keys);
  if (keys.mac !== undefined) ids[ID.attachedMac] = parseMac(`${inv.xenbusPath}/mac`, keys.mac);
  const ipField = `${inv.xenbusPath}/ip`;
  const xenIp = xenIpLevel(ipField, keys.ip);
  const macField = `${inv.xenbusPath}/mac`;
  const desired: DesiredPort = {
    bridge: parsed.bridge,
    bridgeField,
    name: device,
    vlan,
    interfaceIds: ids,
    owner: "xen",
    qos: [xenRateLevel(inv, keys), ...extraLevels(parsed.bridge)],
    portSecurity: {
      levels: [xenIp.level, ...portSecurityTail(parsed.bridge)],
      macField,
      ipv4: xenIp.ipv4,
      ...(keys.mac !== undefined ? { mac: { field: macField, value: keys.mac } } : {}),
    },
  };
  const mtu = xenMtu(inv, keys);
  if (mtu !== undefined) desired.mtu = mtu;
  return { desired, vlanSource };
}

/** The backend's `rate` key as a QoS level (xl rate=). */
export function xenRateLevel(inv: XenInvocation, keys: XenVifKeys): QosLevel {
  const level: QosLevel = { name: `xenstore ${inv.xenbusPath}/rate` };
  if (keys.rate !== undefined) level.ovs = parseXenRate(`${inv.xenbusPath}/rate`, keys.rate);
  return level;
}

/** The domain's name and uuid, as Interface external-ids. */
export function xenVmIds(keys: XenVifKeys): Record<string, string> {
  const ids: Record<string, string> = {};
  if (keys.vmName !== undefined) ids[ID.xenVmName] = keys.vmName;
  if (keys.vmUuid !== undefined) ids[ID.xenVmUuid] = keys.vmUuid;
  return ids;
}

/** The backend's `mtu` key (xl mtu=). */
export function xenMtu(inv: XenInvocation, keys: XenVifKeys): number | undefined {
  return keys.mtu === undefined ? undefined : parseMtu(`${inv.xenbusPath}/mtu`, keys.mtu);
}

/** What the toolstack shows the operator: hotplug-error (one line, its
 * control characters escaped, as on stderr), then hotplug-status=error. */
export async function reportHotplugError(xs: XenStore, xenbusPath: string, message: string): Promise<void> {
  await xs.write(`${xenbusPath}/hotplug-error`, escapeControls(message)).catch(() => undefined);
  await xs.write(`${xenbusPath}/hotplug-status`, "error").catch(() => undefined);
}

/** A failed hook call, reported where the toolstack waits for it, whenever
 * the backend path is known; never throws. */
export async function reportXenFailure(message: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const path = backendPathFromEnv(argv, env);
  if (path === undefined) return;
  const xs = await openXenStore({ timeoutMs: 2000 }).catch(() => undefined);
  if (!xs) return;
  try {
    await reportHotplugError(xs, path, message);
  } finally {
    xs.close();
  }
}
