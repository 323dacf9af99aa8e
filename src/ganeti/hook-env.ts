// What a Ganeti hook gets in its environment (GANETI_*), for instance hooks.
import type { GanetiNetworkInfo, InstanceNic } from "../nic.ts";
import type { GanetiInstance } from "./query.ts";

/** Hook paths handled by the switch code (src/switch/hook.ts), which is
 * loaded only for them. */
export const SWITCH_HOOK_PATHS = ["network-connect", "network-disconnect", "node-add"] as const;

export interface InstanceHookContext {
  path: string;
  phase: string;
  opCode: string;
  /** The instance as it is after the operation (GANETI_POST_INSTANCE_* in post hooks). */
  /** Each NIC's network (by NIC index), as the hook environment describes it. */
  instance: GanetiInstance & { networks: Map<number, GanetiNetworkInfo> };
  oldPrimary?: string;
  newPrimary?: string;
}

/** Reads GANETI_[POST_]INSTANCE_*; undefined when there is no instance. */
export function instanceFromHookEnv(env: NodeJS.ProcessEnv): InstanceHookContext | undefined {
  const phase = (env.GANETI_HOOKS_PHASE ?? "").toLowerCase();
  const post = phase === "post" && env.GANETI_POST_INSTANCE_NAME !== undefined;
  const p = post ? "GANETI_POST_INSTANCE_" : "GANETI_INSTANCE_";
  const name = env[`${p}NAME`];
  if (!name) return undefined;
  const count = Number(env[`${p}NIC_COUNT`] ?? "0");
  const nics: InstanceNic[] = [];
  const networks = new Map<number, GanetiNetworkInfo>();
  for (let i = 0; i < (Number.isInteger(count) ? count : 0); i++) {
    const k = (s: string) => env[`${p}NIC${i}_${s}`];
    const nic: InstanceNic = { index: i, uuid: k("UUID") ?? "", mac: k("MAC") ?? "", mode: k("MODE") ?? "", link: k("LINK") ?? "", vlan: k("VLAN") ?? "" };
    const nicName = k("NAME");
    if (nicName) nic.name = nicName;
    const net = k("NETWORK_NAME");
    if (net) nic.network = net;
    const ip = k("IP");
    if (ip) nic.ip = ip;
    const info: GanetiNetworkInfo = { tags: (k("NETWORK_TAGS") ?? "").split(/\s+/).filter(Boolean) };
    const subnet6 = k("NETWORK_SUBNET6");
    if (subnet6) info.subnet6 = subnet6;
    networks.set(i, info);
    nics.push(nic);
  }
  const ctx: InstanceHookContext = {
    path: env.GANETI_HOOKS_PATH ?? "",
    phase,
    opCode: env.GANETI_OP_CODE ?? "",
    instance: { name, primary: env[`${p}PRIMARY`] ?? "", tags: (env[`${p}TAGS`] ?? "").split(/\s+/).filter(Boolean), nics, networks },
  };
  const oldP = env.GANETI_OLD_PRIMARY;
  const newP = env.GANETI_NEW_PRIMARY;
  if (oldP) ctx.oldPrimary = oldP;
  if (newP) ctx.newPrimary = newP;
  return ctx;
}

export type InstanceAction = "reconcile" | "collect" | "none";

/** What this node does for a post hook: bring the instance's ports in line
 * (it runs here now) or collect its dead ports (it left or stopped). */
export function instanceAction(ctx: InstanceHookContext, localNode: string): { action: InstanceAction; why: string } {
  if (ctx.phase !== "post") return { action: "none", why: `${ctx.phase || "unknown"} phase` };
  const path = ctx.path;
  const primary = ctx.instance.primary;
  if (path === "instance-migrate" || path === "instance-failover") {
    if (ctx.newPrimary === localNode) return { action: "reconcile", why: "new primary" };
    if (ctx.oldPrimary === localNode) return { action: "collect", why: "old primary" };
    return { action: "none", why: "neither old nor new primary" };
  }
  if (primary !== localNode) return { action: "none", why: `primary is ${primary || "unknown"}` };
  if (path === "instance-start" || path === "instance-reboot" || path === "instance-modify") return { action: "reconcile", why: "primary" };
  if (path === "instance-stop" || path === "instance-remove") return { action: "collect", why: "primary" };
  return { action: "none", why: `hook path ${path || "unknown"}` };
}
