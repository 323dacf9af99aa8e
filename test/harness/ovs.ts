// A private Open vSwitch for tests: ovsdb-server + ovs-vswitchd (userspace
// datapath) in their own network namespace and temp dir. Nothing at system
// paths is used; everything is torn down at stop(), at exit and on signals.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { must, sh, type Result } from "./proc.ts";
import { killPidfile, onExit } from "./teardown.ts";
import { selectColumns } from "../../src/ovsdb/port-columns.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
/** The binary under test; OVS_VIF_BINARY points elsewhere (e.g. a private build). */
export const BINARY = process.env.OVS_VIF_BINARY ?? join(ROOT, "dist", "ovs-vif");

export interface OvsHandle {
  dir: string;
  ns: string;
  dbSock: string;
  /** Environment pointing ovs-vif at this OVS (OVS_RUNDIR). */
  env: Record<string, string>;
  /** Runs a command inside the namespace. */
  inNs(file: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<Result>;
  vsctl(...args: string[]): Promise<string>;
  appctl(...args: string[]): Promise<string>;
  addBridge(name: string): Promise<void>;
  addTap(name: string): Promise<void>;
  /** The VM-port state of the database (volatile status columns excluded), for before/after comparison. */
  dump(): Promise<string>;
  /** ofproto/trace of one flow: the "Datapath actions" line and the full text. */
  trace(bridge: string, flow: string): Promise<{ actions: string; text: string }>;
  stop(): Promise<void>;
}

let counter = 0;
const live = new Set<OvsHandle>();

function cleanupAllSync(): void {
  for (const h of live) stopSync(h);
}
onExit(cleanupAllSync);

function stopSync(h: OvsHandle): void {
  live.delete(h);
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  for (const name of ["ovs-vswitchd.pid", "ovsdb-server.pid"]) killPidfile(join(h.dir, name));
  if (h.ns) spawnSync("ip", ["netns", "del", h.ns]);
  rmSync(h.dir, { recursive: true, force: true });
}

// Every column ovs-vif sets on a VM port (one list: src/ovsdb/port-columns.ts), and what ties them together.
const DUMP_COLUMNS: Record<string, string[]> = {
  Open_vSwitch: ["next_cfg", "bridges"],
  Bridge: ["_uuid", "name", "ports"],
  Port: selectColumns("Port", ["name", "interfaces", "qos"]),
  Interface: selectColumns("Interface", ["name", "type"]),
};

export interface StartOptions {
  /** "current": run in this process's network namespace, which must be a
   * private one (e.g. after `unshare --net`); commands then need no
   * `ip netns exec`. Default "own": a new namespace. */
  netns?: "own" | "current";
}

export async function startOvs(options: StartOptions = {}): Promise<OvsHandle> {
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-ovs-"));
  const current = options.netns === "current";
  const ns = current ? "" : `ovsvif${process.pid}n${counter++}`;
  const dbSock = join(dir, "db.sock");
  const env: Record<string, string> = { OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir, OVS_PKGDATADIR: "/usr/share/openvswitch" };
  const penv = { ...process.env, ...env };
  const inNs = (file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}) =>
    current
      ? sh(file, args, { ...opts, env: { ...penv, ...(opts.env ?? {}) } })
      : sh("ip", ["netns", "exec", ns, file, ...args], { ...opts, env: { ...penv, ...(opts.env ?? {}) } });
  const mustNs = async (file: string, args: string[]) => {
    const r = await inNs(file, args);
    if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  const vsctl = (...args: string[]) => must("ovs-vsctl", [`--db=unix:${dbSock}`, "--timeout=20", ...args], { env: penv });
  const appctl = (...args: string[]) => must("ovs-appctl", ["-t", join(dir, "ovs-vswitchd.ctl"), ...args], { env: penv });

  const handle: OvsHandle = {
    dir,
    ns,
    dbSock,
    env,
    inNs,
    vsctl,
    appctl,
    async addBridge(name) {
      await vsctl("add-br", name, "--", "set", "bridge", name, "datapath_type=netdev");
    },
    async addTap(name) {
      await mustNs("ip", ["tuntap", "add", "dev", name, "mode", "tap"]);
    },
    async dump() {
      const parts: string[] = [];
      for (const [table, cols] of Object.entries(DUMP_COLUMNS)) {
        parts.push(await must("ovsdb-client", ["dump", "-f", "list", `unix:${dbSock}`, "Open_vSwitch", table, ...cols], { env: penv }));
      }
      return parts.join("\n");
    },
    async trace(bridge, flow) {
      const text = await appctl("ofproto/trace", bridge, flow);
      const actions = /Datapath actions: (.*)/.exec(text)?.[1]?.trim() ?? "";
      return { actions, text };
    },
    async stop() {
      if (!live.has(handle)) return;
      stopSync(handle);
    },
  };
  live.add(handle);
  try {
    if (!current) await must("ip", ["netns", "add", ns]);
    await mustNs("ip", ["link", "set", "lo", "up"]);
    await must("ovsdb-tool", ["create", join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
    await mustNs("ovsdb-server", [
      join(dir, "conf.db"),
      `--remote=punix:${dbSock}`,
      `--pidfile=${join(dir, "ovsdb-server.pid")}`,
      `--unixctl=${join(dir, "ovsdb-server.ctl")}`,
      `--log-file=${join(dir, "ovsdb-server.log")}`,
      "--no-chdir",
      "--detach",
    ]);
    await vsctl("--no-wait", "init");
    await mustNs("ovs-vswitchd", [
      `unix:${dbSock}`,
      `--pidfile=${join(dir, "ovs-vswitchd.pid")}`,
      `--unixctl=${join(dir, "ovs-vswitchd.ctl")}`,
      `--log-file=${join(dir, "ovs-vswitchd.log")}`,
      "--no-chdir",
      "--detach",
      "--disable-system",
    ]);
  } catch (err) {
    stopSync(handle);
    throw err;
  }
  return handle;
}

/** Runs the compiled binary inside the namespace, as `name` (via a symlink
 * when name is not ovs-vif), with this OVS's environment plus `env`. */
export async function runBinary(
  ovs: OvsHandle,
  args: string[],
  opts: { name?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Result> {
  let file = BINARY;
  if (opts.name && opts.name !== "ovs-vif") {
    file = join(ovs.dir, "bin", opts.name);
    if (!existsSync(file)) {
      await must("mkdir", ["-p", join(ovs.dir, "bin")]);
      await must("ln", ["-sf", BINARY, file]);
    }
  }
  return ovs.inNs(file, args, {
    env: { OVS_VIF_SYSLOG: "0", OVS_VIF_XEN_LOG: join(ovs.dir, "xen-hotplug.log"), OVS_VIF_STATE_DIR: join(ovs.dir, "state"), ...(opts.env ?? {}) },
    timeoutMs: opts.timeoutMs ?? 60000,
  });
}
