// The node's defaults file (/etc/ovs-vif/defaults.json): QoS and port
// security, for the node or per bridge. Absent file: no default (port
// security off).
import { DocumentError, parseJson, readTextFile, show } from "../checker.ts";
import { InputError } from "../errors.ts";
import { parseBridgeName } from "../names.ts";
import { convertKind, QOS_KINDS, type QosKind, type QosLevel } from "../qos.ts";
import { defaultsPath } from "../paths.ts";
import { defaultLevel, parseOnOff, type PortSecurityLevel } from "../port-security/sources.ts";

/** The node's defaults, undefined without a file. A file that cannot be
 * read (a directory, no permission) is an error naming the variable and
 * the path. */
export function readNodeDefaults(env: NodeJS.ProcessEnv = process.env): { path: string; defaults?: NodeDefaults } {
  return readDefaultsAt(defaultsPath(env), env.OVS_VIF_DEFAULTS ? "OVS_VIF_DEFAULTS" : "defaults file", true);
}

/** The defaults file at `path` (`field` names it in errors). */
export function readDefaultsAt(path: string, field: string, optional: boolean): { path: string; defaults?: NodeDefaults } {
  const text = readTextFile(field, path, optional);
  return text === undefined ? { path } : { path, defaults: parseNodeDefaults(path, text) };
}

export function nodeDefaultsLevel(bridge: string, env: NodeJS.ProcessEnv = process.env): QosLevel {
  const { path, defaults } = readNodeDefaults(env);
  return defaultsLevel(path, defaults, bridge);
}

/** The node defaults file (/etc/ovs-vif/defaults.json):
 * `{"version": 1, "default": {"rate": "1G"}, "bridges": {"sw1": {"rate": "100M", "burst": "10M", "rx-rate": "200M", "port-security": "on"}}}`. */
export type DefaultsEntry = Partial<Record<QosKind | typeof PORT_SECURITY_KEY, string>>;

const PORT_SECURITY_KEY = "port-security";
const ENTRY_KEYS: readonly string[] = [...QOS_KINDS, PORT_SECURITY_KEY];

export interface NodeDefaults {
  version: 1;
  default?: DefaultsEntry;
  bridges?: Record<string, DefaultsEntry>;
}

export function parseNodeDefaults(path: string, text: string): NodeDefaults {
  let data: unknown;
  try {
    data = parseJson(text, path);
  } catch (err) {
    if (err instanceof DocumentError) throw new InputError(path, text.slice(0, 40), err.problems.join("; "));
    throw err;
  }
  const obj = data as Record<string, unknown>;
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new InputError(path, show(data), "expected an object");
  if (obj.version !== 1) throw new InputError(`${path}: version`, String(obj.version), "expected 1");
  for (const key of Object.keys(obj))
    if (!["version", "default", "bridges"].includes(key)) throw new InputError(`${path}: ${key}`, key, "unknown key (expected version, default, bridges)");
  const checkEntry = (where: string, e: unknown) => {
    if (typeof e !== "object" || e === null || Array.isArray(e))
      throw new InputError(`${path}: ${where}`, show(e), "expected an object with rate, burst, rx-rate, rx-burst and/or port-security");
    for (const [k, v] of Object.entries(e)) {
      if (!ENTRY_KEYS.includes(k)) throw new InputError(`${path}: ${where}.${k}`, k, "unknown key (expected rate, burst, rx-rate, rx-burst, port-security)");
      if (typeof v !== "string")
        throw new InputError(`${path}: ${where}.${k}`, show(v), k === PORT_SECURITY_KEY ? 'expected "on" or "off"' : 'expected a string like "100M"');
      if (k === PORT_SECURITY_KEY) parseOnOff(`${path}: ${where}.${k}`, v);
      else convertKind(k as QosKind, `${path}: ${where}.${k}`, v);
    }
  };
  if (obj.default !== undefined) checkEntry("default", obj.default);
  if (obj.bridges !== undefined) {
    if (typeof obj.bridges !== "object" || obj.bridges === null || Array.isArray(obj.bridges))
      throw new InputError(`${path}: bridges`, show(obj.bridges), "expected an object keyed by bridge name");
    for (const [name, e] of Object.entries(obj.bridges)) {
      // The same name rules as --bridge and LINK: a key no bridge can have is a mistake, not a default.
      parseBridgeName(`${path}: bridges`, name);
      checkEntry(`bridges.${name}`, e);
    }
  }
  return obj as unknown as NodeDefaults;
}

/** The node's port-security default for a bridge (the bridge's entry, else
 * the node-wide one): a level that says nothing when neither sets it. */
export function nodePortSecurityLevel(bridge: string, env: NodeJS.ProcessEnv = process.env): PortSecurityLevel {
  const { path, defaults } = readNodeDefaults(env);
  const { entry, where } = entryFor(defaults, bridge);
  const raw = entry?.[PORT_SECURITY_KEY];
  const field = `${path}: ${where}.${PORT_SECURITY_KEY}`;
  return raw === undefined ? { name: "node default", allow: [] } : defaultLevel(parseOnOff(field, raw), `${path} ${where}.${PORT_SECURITY_KEY}`);
}

/** A bridge's entry, else the node-wide default. */
function entryFor(defaults: NodeDefaults | undefined, bridge: string): { entry: DefaultsEntry | undefined; where: string } {
  const own = defaults?.bridges !== undefined && Object.hasOwn(defaults.bridges, bridge);
  return own ? { entry: defaults!.bridges![bridge], where: `bridges.${bridge}` } : { entry: defaults?.default, where: "default" };
}

/** The defaults level for a bridge: the bridge's entry, else the node-wide default. */
export function defaultsLevel(path: string, defaults: NodeDefaults | undefined, bridge: string): QosLevel {
  const level: QosLevel = { name: `node defaults ${path}` };
  if (!defaults) return level;
  const { entry, where } = entryFor(defaults, bridge);
  for (const kind of QOS_KINDS) {
    const raw = entry?.[kind];
    if (raw !== undefined) level[kind] = { raw, source: `${path} ${where}.${kind}`, field: `${path}: ${where}.${kind}` };
  }
  return level;
}
