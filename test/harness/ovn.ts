// A private OVN for tests: a central part (NB and SB ovsdb-servers on unix
// sockets, ovn-northd) and N chassis, each a private OVS from ovs.ts (own
// network namespace and temp dir) running ovn-controller, joined by an
// underlay namespace with a Linux bridge; Geneve tunnels between the
// chassis. "VMs" are namespaces with a veth whose host end sits in a
// chassis namespace, not yet on br-int (plugging is the product's job;
// plugWithVsctl does it with the stock tool). Addresses come from
// 198.51.100.0/24; nothing at system paths is used; everything is torn down
// at stop(), at exit and on signals (see teardown.ts).
//
// This file starts and stops it and is what a test imports; a chassis is
// made in ovn-chassis.ts, a VM and its traffic in ovn-vm.ts, a port binding
// is read in ovn-southbound.ts (their types and longestGap are exported here too).
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startChassis, type Chassis } from "./ovn-chassis.ts";
import { readBinding, type Binding } from "./ovn-southbound.ts";
import * as vms from "./ovn-vm.ts";
import type { ContinuousPing, PingResult, Vm, VmOptions } from "./ovn-vm.ts";
import type { OvsHandle } from "./ovs.ts";
import { must } from "./proc.ts";
import { killPidfile, onExit } from "./teardown.ts";

export type { Chassis } from "./ovn-chassis.ts";
export type { Binding } from "./ovn-southbound.ts";
export { longestGap, type ContinuousPing, type PingResult, type PingSummary, type Vm, type VmOptions } from "./ovn-vm.ts";

export interface OvnHandle {
  dir: string;
  /** "unix:..." remotes of the Northbound and Southbound databases. */
  nb: string;
  sb: string;
  /** The underlay namespace (a Linux bridge "ul" joining the chassis' phy0). */
  underlay: string;
  nbctl(...args: string[]): Promise<string>;
  sbctl(...args: string[]): Promise<string>;
  /** One raw JSON-RPC transact (the params after the database name) with
   * ovsdb-client; the parsed reply, whether the transaction failed or not. */
  transact(db: "nb" | "sb", ops: unknown[]): Promise<unknown[]>;
  chassis: Chassis[];
  addVm(chassis: Chassis, name: string, opts: VmOptions): Promise<Vm>;
  /** What a plug does, with ovs-vsctl: add-port br-int + external_ids:iface-id. */
  plugWithVsctl(vm: Vm, lsp: string): Promise<void>;
  /** Waits until the VM's Interface has ovn-installed="true" (or, with
   * want=false, no longer has it); the time it took. */
  waitInstalled(vm: Vm, want?: boolean, timeoutMs?: number): Promise<number>;
  /** Interface external_ids:ovn-installed of the VM's host end. */
  installed(vm: Vm): Promise<boolean>;
  /** SB Port_Binding of a logical port (null when there is none). */
  binding(lsp: string): Promise<Binding | null>;
  /** Polls binding(lsp) until `ok`; the time it took. Throws with the last state on timeout. */
  waitBinding(lsp: string, ok: (b: Binding | null) => boolean, timeoutMs?: number): Promise<number>;
  ping(from: Vm, ip: string, opts?: { count?: number; intervalMs?: number; size?: number; dontFragment?: boolean }): Promise<PingResult>;
  continuousPing(from: Vm, ip: string, intervalMs?: number): ContinuousPing;
  /** One RARP request from the VM (as QEMU announces a migrated guest). */
  sendRarp(vm: Vm, mac?: string): Promise<void>;
  /** Hand-made ICMP echo requests from the VM's device with any source addresses. */
  sendIcmp(vm: Vm, to: { mac: string; ip: string }, opts?: { srcMac?: string; srcIp?: string; count?: number }): Promise<void>;
  /** ICMP echo requests the VM's kernel has received (Icmp InEchos). */
  echoRequestsSeen(vm: Vm): Promise<number>;
  /** How many echo requests reach `to` while `send` runs: waits until
   * `expect` arrived or `windowMs` passed since send returned. */
  echoesReaching(to: Vm, send: () => Promise<void>, opts: { expect: number; windowMs?: number }): Promise<number>;
  stop(): Promise<void>;
}

export interface StartOvnOptions {
  chassis?: number;
  /** Chassis names (system-ids); default c1, c2, ... */
  names?: string[];
}

let counter = 0;

interface Internal {
  dir: string;
  namespaces: string[];
  children: Set<ChildProcess>;
  /** ovn-controllers (stopped first), then the central daemons. */
  controllers: string[];
  pidfiles: string[];
  ovs: OvsHandle[];
  chassis: Chassis[];
  stopped: boolean;
}
const live = new Set<Internal>();

/** Everything of this OVN but the chassis OVS instances (ovs.ts stops those),
 * ovn-controllers first. */
function stopOwnSync(s: Internal): void {
  live.delete(s);
  s.stopped = true;
  for (const c of s.children) c.kill("SIGKILL");
  for (const p of [...s.controllers, ...s.pidfiles]) killPidfile(p);
  for (const ns of s.namespaces) spawnSync("ip", ["netns", "del", ns]);
  rmSync(s.dir, { recursive: true, force: true });
}
onExit(() => {
  for (const s of live) stopOwnSync(s);
});

/** Polls `probe` until it says true; the time it took. */
async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<number> {
  const t0 = performance.now();
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return performance.now() - t0;
    } catch (err) {
      last = err;
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(intervalMs);
  }
}

export async function startOvn(options: StartOvnOptions = {}): Promise<OvnHandle> {
  const n = options.names?.length ?? options.chassis ?? 2;
  const names = options.names ?? Array.from({ length: n }, (_, i) => `c${i + 1}`);
  for (const x of names) if (!/^[a-z0-9-]{1,12}$/.test(x)) throw new Error(`chassis name ${JSON.stringify(x)}: 1-12 of [a-z0-9-]`);
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-ovn-"));
  const state: Internal = { dir, namespaces: [], children: new Set(), controllers: [], pidfiles: [], ovs: [], chassis: [], stopped: false };
  live.add(state);
  const tag = `${process.pid}n${counter++}`;
  const underlay = `ovnul${tag}`;
  const nb = `unix:${join(dir, "nb.sock")}`;
  const sb = `unix:${join(dir, "sb.sock")}`;
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVN_RUNDIR: dir, OVN_LOGDIR: dir, OVN_DBDIR: dir, OVN_SYSCONFDIR: dir };
  const nbctl = (...args: string[]) => must("ovn-nbctl", [`--db=${nb}`, "--timeout=20", ...args], { env });
  const sbctl = (...args: string[]) => must("ovn-sbctl", [`--db=${sb}`, "--timeout=20", ...args], { env });
  const transact = async (db: "nb" | "sb", ops: unknown[]) => {
    const params = [db === "nb" ? "OVN_Northbound" : "OVN_Southbound", ...ops];
    return JSON.parse(await must("ovsdb-client", ["transact", db === "nb" ? nb : sb, JSON.stringify(params)], { env })) as unknown[];
  };
  const daemon = async (file: string, name: string, args: string[], denv: NodeJS.ProcessEnv, ns?: string) => {
    const pidfile = join(denv.OVN_RUNDIR ?? dir, `${name}.pid`);
    (name === "ovn-controller" ? state.controllers : state.pidfiles).push(pidfile);
    const all = [...args, `--pidfile=${pidfile}`, `--log-file=${join(denv.OVN_RUNDIR ?? dir, `${name}.log`)}`, "--no-chdir", "--detach"];
    await (ns ? must("ip", ["netns", "exec", ns, file, ...all], { env: denv }) : must(file, all, { env: denv }));
  };

  const startCentral = async () => {
    for (const db of ["nb", "sb"] as const) {
      const file = join(dir, `${db}.db`);
      await must("ovsdb-tool", ["create", file, `/usr/share/ovn/ovn-${db}.ovsschema`]);
      await daemon("ovsdb-server", `ovsdb-${db}`, [file, `--remote=punix:${join(dir, `${db}.sock`)}`, `--unixctl=${join(dir, `ovsdb-${db}.ctl`)}`], env);
    }
    await nbctl("--no-wait", "init");
    await sbctl("init");
    await daemon("ovn-northd", "ovn-northd", [`--ovnnb-db=${nb}`, `--ovnsb-db=${sb}`, `--unixctl=${join(dir, "ovn-northd.ctl")}`], env);
  };

  const site = { dir, underlay, sb, daemon, keep: (ovs: OvsHandle) => state.ovs.push(ovs) };
  const binding = (lsp: string) => readBinding(transact, lsp);

  const handle: OvnHandle = {
    dir,
    nb,
    sb,
    underlay,
    nbctl,
    sbctl,
    transact,
    chassis: state.chassis,
    addVm: (chassis, name, opts) => vms.addVm(chassis, name, opts, state.namespaces),
    async plugWithVsctl(vm, lsp) {
      await vm.chassis.vsctl("add-port", "br-int", vm.hostIf, "--", "set", "Interface", vm.hostIf, `external_ids:iface-id=${lsp}`);
    },
    async waitInstalled(vm, want = true, timeoutMs = 10000) {
      const t0 = performance.now();
      if (want) await vm.chassis.vsctl(`--timeout=${Math.ceil(timeoutMs / 1000)}`, "wait-until", "Interface", vm.hostIf, "external_ids:ovn-installed=true");
      else await waitFor(`ovn-installed removed from ${vm.hostIf} on ${vm.chassis.name}`, async () => !(await handle.installed(vm)), timeoutMs);
      return performance.now() - t0;
    },
    async installed(vm) {
      const v = await vm.chassis.vsctl("--if-exists", "get", "Interface", vm.hostIf, "external_ids:ovn-installed");
      return v.trim() === '"true"';
    },
    binding,
    async waitBinding(lsp, ok, timeoutMs = 10000) {
      let last: Binding | null | undefined;
      try {
        return await waitFor(`binding of ${lsp}`, async () => ok((last = await binding(lsp))), timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}; last: ${JSON.stringify(last)}`);
      }
    },
    ping: vms.ping,
    continuousPing: (from, ip, intervalMs) => vms.continuousPing(state.children, from, ip, intervalMs),
    sendRarp: vms.sendRarp,
    sendIcmp: vms.sendIcmp,
    echoRequestsSeen: vms.echoRequestsSeen,
    echoesReaching: vms.echoesReaching,
    async stop() {
      if (state.stopped) return;
      // ovn-controllers go before the OVS they program; then everything else.
      for (const p of state.controllers) killPidfile(p);
      for (const ovs of state.ovs) await ovs.stop();
      stopOwnSync(state);
    },
  };

  try {
    await must("ip", ["netns", "add", underlay]);
    state.namespaces.push(underlay);
    await must("ip", ["-n", underlay, "link", "add", "ul", "type", "bridge"]);
    await must("ip", ["-n", underlay, "link", "set", "ul", "up"]);
    // Central and chassis in parallel; all settle before a failure is reported, so stop() races nothing.
    const [central, ...chassis] = await Promise.allSettled([startCentral(), ...names.map((name, i) => startChassis(site, i, name))]);
    for (const r of [central, ...chassis]) if (r?.status === "rejected") throw r.reason;
    for (const r of chassis) if (r.status === "fulfilled") state.chassis.push(r.value as Chassis);
    // Ready: every chassis in SB and a Geneve port to every other chassis on each br-int.
    await waitFor(
      "chassis registration and tunnels",
      async () => {
        const registered = (await sbctl("--bare", "--columns=name", "list", "Chassis")).split(/\s+/).filter(Boolean);
        if (names.some((x) => !registered.includes(x))) return false;
        for (const c of state.chassis) {
          const tunnels = (await c.vsctl("--bare", "--columns=name", "find", "Interface", "type=geneve")).split(/\s+/).filter(Boolean);
          if (tunnels.length < n - 1) return false;
        }
        return true;
      },
      30000,
      50,
    );
    // Fill the tunnel neighbour caches (ARP across the underlay), or the first
    // packet to each tunnel endpoint is lost.
    for (const a of state.chassis) {
      for (const b of state.chassis) if (a !== b) await a.inNs("ping", ["-n", "-q", "-c", "1", "-W", "2", b.ip]);
    }
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

/** The environment Ganeti gives a NIC script for a NIC in network net1 on
 * the integration bridge br-int (NIC 0, no tags, no VLAN). */
export function ovnNicEnv(
  nic: { instance: string; mac: string; uuid: string; device: string; ip?: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    INSTANCE: nic.instance,
    MAC: nic.mac,
    ...(nic.ip !== undefined ? { IP: nic.ip } : {}),
    MODE: "openvswitch",
    INTERFACE: nic.device,
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: nic.uuid,
    TAGS: "",
    LINK: "br-int",
    VLAN: "",
    NETWORK_NAME: "net1",
    NETWORK_TAGS: "",
    ...extra,
  };
}
