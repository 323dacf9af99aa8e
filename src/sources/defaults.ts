// The node's QoS defaults file. Absent file: no default.
import { readFileSync } from "node:fs";
import { defaultsLevel, parseNodeDefaults, type QosLevel } from "../qos.ts";

export const DEFAULTS_PATH = "/etc/ovs-vif/defaults.json";

export function defaultsPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_VIF_DEFAULTS || DEFAULTS_PATH;
}

export function nodeDefaultsLevel(bridge: string, env: NodeJS.ProcessEnv = process.env): QosLevel {
  const path = defaultsPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return defaultsLevel(path, undefined, bridge);
    throw err;
  }
  return defaultsLevel(path, parseNodeDefaults(path, text), bridge);
}
