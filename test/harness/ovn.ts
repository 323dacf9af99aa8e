// A private OVN for tests: a central part (NB and SB ovsdb-servers on unix
// sockets, ovn-northd) and N chassis, each a private OVS from ovs.ts (own
// network namespace and temp dir) running ovn-controller, joined by an
// underlay namespace with a Linux bridge; Geneve tunnels between the
// chassis. "VMs" are namespaces with a veth whose host end sits in a
// chassis namespace, not yet on br-int (plugging is the product's job;
// plugWithVsctl does it with the stock tool). Addresses come from
// 198.51.100.0/24; nothing at system paths is used; everything is torn down
// at stop(), at exit and on signals (see teardown.ts).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startOvs, type OvsHandle } from "./ovs.ts";
import { must, type Result } from "./proc.ts";
import { killPidfile, onExit } from "./teardown.ts";
import { addVmNetns } from "./vm.ts";

type RunOpts = { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number };

export interface Chassis {
  /** system-id, also the Chassis name in SB and what requested-chassis names. */
  name: string;
  /** Tunnel (ovn-encap-ip) address, on br-phy. */
  ip: string;
  /** The chassis's private OVS (its env points a client at it: OVS_RUNDIR). */
  ovs: OvsHandle;
  vsctl(...args: string[]): Promise<string>;
  appctl(...args: string[]): Promise<string>;
  /** Runs a command in the chassis namespace with its OVS and OVN environment. */
  inNs(file: string, args: string[], opts?: RunOpts): Promise<Result>;
  /** ovn-controller's run directory (OVN_RUNDIR) and log. */
  ovnDir: string;
  controllerLog: string;
  /** ovs-appctl to this chassis's ovn-controller. */
  controllerAppctl(...args: string[]): Promise<string>;
}

export interface VmOptions {
  mac: string;
  ip: string;
  /** Guest MTU; Geneve over the 1500-byte underlay allows at most 1442 (the default). */
  mtu?: number;
}

export interface Vm {
  name: string;
  ns: string;
  chassis: Chassis;
  mac: string;
  ip: string;
  mtu: number;
  /** The guest's device, inside ns. */
  dev: string;
  /** The host end, in the chassis namespace: what a plug puts on br-int. */
  hostIf: string;
  exec(file: string, args: string[], opts?: RunOpts): Promise<Result>;
}

export interface Binding {
  /** Names, not uuids; null when unbound. */
  chassis: string | null;
  additional: string[];
  up: boolean;
  options: Record<string, string>;
}

export interface PingResult {
  sent: number;
  received: number;
  duplicates: number;
}

export interface PingSummary {
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  longestGapMs: number;
  intervalMs: number;
  /** First answer to each sequence number, in order; at = wall clock (Date.now() scale). */
  answers: Array<{ seq: number; at: number }>;
}

/** Longest time between consecutive answers (all of them, or those from `from` on, up to `to`). */
export function longestGap(answers: PingSummary["answers"], from = -Infinity, to = Infinity): number {
  const at = answers.map((x) => x.at).filter((t) => t >= from && t <= to);
  let gap = 0;
  for (let i = 1; i < at.length; i++) gap = Math.max(gap, at[i]! - at[i - 1]!);
  return gap;
}

export interface ContinuousPing {
  /** Stops the ping (SIGINT) and sums it up over the sequence numbers up to
   * the last one answered: lost = unanswered ones among them, longest gap =
   * longest time between two consecutive answers. */
  stop(): Promise<PingSummary>;
}

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

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const RAWFRAME = join(import.meta.dirname, "rawframe.py");
const UNDERLAY_PREFIX = "198.51.100.";
const UNDERLAY_BASE = 200;

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

/** An OVSDB <set> or single atom as a list of atoms. */
function setAtoms(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === "set") return v[1] as unknown[];
  return [v];
}
function uuidOf(atom: unknown): string {
  if (Array.isArray(atom) && atom[0] === "uuid") return String(atom[1]);
  throw new Error(`not a uuid: ${JSON.stringify(atom)}`);
}
/** A command's stdout, or an error naming it and what it said. */
function checked(what: string, r: Result): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}
function mapOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v) && v[0] === "map") for (const [k, val] of v[1] as Array<[string, string]>) out[k] = val;
  return out;
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

  const startChassis = async (i: number, name: string): Promise<Chassis> => {
    const ovs = await startOvs();
    state.ovs.push(ovs);
    const ip = `${UNDERLAY_PREFIX}${UNDERLAY_BASE + i + 1}`;
    const ovnDir = join(dir, name);
    mkdirSync(ovnDir);
    const cenv = { ...process.env, ...ovs.env, OVN_RUNDIR: ovnDir, OVN_LOGDIR: ovnDir, OVN_DBDIR: ovnDir, OVN_SYSCONFDIR: ovnDir };
    const inNs = (file: string, args: string[], opts: RunOpts = {}) => ovs.inNs(file, args, { ...opts, env: { ...cenv, ...(opts.env ?? {}) } });
    const mustNs = async (file: string, args: string[]) => checked(`chassis ${name}: ${file} ${args.join(" ")}`, await inNs(file, args));
    // The underlay link: phy0 in the chassis, its peer on the underlay bridge. Both up before OVS sees it.
    const ulPort = `ul-${name}`;
    await must("ip", ["-n", underlay, "link", "add", ulPort, "type", "veth", "peer", "name", "phy0", "netns", ovs.ns]);
    await must("ip", ["-n", underlay, "link", "set", ulPort, "master", "ul", "up"]);
    await mustNs("ip", ["link", "set", "phy0", "up"]);
    await ovs.vsctl(
      "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev", "fail-mode=secure", "other-config:disable-in-band=true",
      "--", "add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev",
      "--", "add-port", "br-phy", "phy0",
      "--", "set", "Open_vSwitch", ".", `external_ids:system-id=${name}`, `external_ids:hostname=${name}`, `external_ids:ovn-remote=${sb}`,
      "external_ids:ovn-encap-type=geneve", `external_ids:ovn-encap-ip=${ip}`, "external_ids:ovn-bridge-datapath-type=netdev",
    );
    await mustNs("ip", ["addr", "add", `${ip}/24`, "dev", "br-phy"]);
    await mustNs("ip", ["link", "set", "br-phy", "up"]);
    await daemon("ovn-controller", "ovn-controller", [`unix:${ovs.dbSock}`], cenv, ovs.ns);
    const controllerLog = join(ovnDir, "ovn-controller.log");
    const controllerAppctl = async (...args: string[]) => {
      // 23.03 has no --unixctl: the socket is $OVN_RUNDIR/ovn-controller.PID.ctl.
      const ctl = readdirSync(ovnDir).find((f) => /^ovn-controller\.\d+\.ctl$/.test(f));
      if (!ctl) throw new Error(`chassis ${name}: no ovn-controller control socket in ${ovnDir}`);
      return must("ovs-appctl", ["-t", join(ovnDir, ctl), ...args], { env: cenv });
    };
    return { name, ip, ovs, vsctl: ovs.vsctl, appctl: ovs.appctl, inNs, ovnDir, controllerLog, controllerAppctl };
  };

  const binding = async (lsp: string): Promise<Binding | null> => {
    const [pb, ch] = (await transact("sb", [
      { op: "select", table: "Port_Binding", where: [["logical_port", "==", lsp]], columns: ["chassis", "additional_chassis", "up", "options"] },
      { op: "select", table: "Chassis", where: [], columns: ["_uuid", "name"] },
    ])) as Array<{ rows?: Array<Record<string, unknown>>; error?: string }>;
    if (!pb?.rows || !ch?.rows) throw new Error(`SB select failed: ${JSON.stringify([pb, ch])}`);
    const row = pb.rows[0];
    if (!row) return null;
    const byUuid = new Map(ch.rows.map((r) => [uuidOf(r._uuid), String(r.name)]));
    const nameOf = (atom: unknown) => byUuid.get(uuidOf(atom)) ?? `?${uuidOf(atom)}`;
    const chassis = setAtoms(row.chassis).map(nameOf);
    return {
      chassis: chassis[0] ?? null,
      additional: setAtoms(row.additional_chassis).map(nameOf),
      up: setAtoms(row.up)[0] === true,
      options: mapOf(row.options),
    };
  };

  const parsePing = (out: string): PingResult => {
    const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(out);
    if (!m) throw new Error(`unexpected ping output: ${out}`);
    return { sent: Number(m[1]), received: Number(m[2]), duplicates: Number(m[3] ?? 0) };
  };

  const echoRequestsSeen = async (vm: Vm) => {
    const r = await vm.exec("cat", ["/proc/net/snmp"]);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("Icmp:"));
    const keys = lines[0]?.split(/\s+/) ?? [];
    const vals = lines[1]?.split(/\s+/) ?? [];
    const i = keys.indexOf("InEchos");
    if (i < 1 || vals[i] === undefined) throw new Error(`no Icmp InEchos in ${vm.ns}'s /proc/net/snmp`);
    return Number(vals[i]);
  };

  const handle: OvnHandle = {
    dir,
    nb,
    sb,
    underlay,
    nbctl,
    sbctl,
    transact,
    chassis: state.chassis,
    async addVm(chassis, name, opts) {
      if (!/^[a-z0-9-]{1,10}$/.test(name)) throw new Error(`VM name ${JSON.stringify(name)}: 1-10 of [a-z0-9-]`);
      const mtu = opts.mtu ?? 1442;
      const vm = await addVmNetns(chassis.ovs.ns, `vif-${name}`, { ...opts, mtu });
      state.namespaces.push(vm.ns);
      return { name, ns: vm.ns, chassis, mac: opts.mac, ip: opts.ip, mtu, dev: vm.dev, hostIf: vm.hostIf, exec: vm.exec };
    },
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
    async ping(from, ip, opts = {}) {
      const args = ["-n", "-q", "-c", String(opts.count ?? 3), "-i", String((opts.intervalMs ?? 200) / 1000), "-W", "1"];
      if (opts.size !== undefined) args.push("-s", String(opts.size));
      if (opts.dontFragment) args.push("-M", "do");
      const r = await from.exec("ping", [...args, ip], { timeoutMs: 60000 });
      return parsePing(r.stdout);
    },
    continuousPing(from, ip, intervalMs = 20) {
      const child = spawn("ip", ["netns", "exec", from.ns, "ping", "-n", "-D", "-i", String(intervalMs / 1000), "-W", "1", ip], { stdio: ["ignore", "pipe", "pipe"] });
      state.children.add(child);
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
      return {
        async stop() {
          child.kill("SIGINT");
          await closed;
          state.children.delete(child);
          const { sent, duplicates } = parsePing(out);
          const answers: PingSummary["answers"] = [];
          const seen = new Set<number>();
          for (const m of out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+)/gm)) {
            const seq = Number(m[2]);
            if (!seen.has(seq)) answers.push({ seq, at: Number(m[1]) * 1000 });
            seen.add(seq);
          }
          answers.sort((x, y) => x.at - y.at);
          const lastSeq = Math.max(0, ...seen);
          return { sent, received: seen.size, lost: lastSeq - seen.size, duplicates, longestGapMs: longestGap(answers), intervalMs, answers };
        },
      };
    },
    async sendRarp(vm, mac = vm.mac) {
      checked(`RARP from ${vm.name}`, await vm.exec(PYTHON, [RAWFRAME, "rarp", vm.dev, mac]));
    },
    async sendIcmp(vm, to, opts = {}) {
      checked(`ICMP from ${vm.name}`, await vm.exec(PYTHON, [RAWFRAME, "icmp", vm.dev, opts.srcMac ?? vm.mac, to.mac, opts.srcIp ?? vm.ip, to.ip, String(opts.count ?? 1)]));
    },
    echoRequestsSeen,
    async echoesReaching(to, send, opts) {
      const before = await echoRequestsSeen(to);
      await send();
      const t0 = performance.now();
      let got = 0;
      while ((got = (await echoRequestsSeen(to)) - before) < opts.expect && performance.now() - t0 < (opts.windowMs ?? 1000)) await sleep(20);
      return got;
    },
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
    const [central, ...chassis] = await Promise.allSettled([startCentral(), ...names.map((name, i) => startChassis(i, name))]);
    for (const r of [central, ...chassis]) if (r?.status === "rejected") throw r.reason;
    for (const r of chassis) if (r.status === "fulfilled") state.chassis.push(r.value as Chassis);
    // Ready: every chassis in SB and a Geneve port to every other chassis on each br-int.
    await waitFor("chassis registration and tunnels", async () => {
      const registered = (await sbctl("--bare", "--columns=name", "list", "Chassis")).split(/\s+/).filter(Boolean);
      if (names.some((x) => !registered.includes(x))) return false;
      for (const c of state.chassis) {
        const tunnels = (await c.vsctl("--bare", "--columns=name", "find", "Interface", "type=geneve")).split(/\s+/).filter(Boolean);
        if (tunnels.length < n - 1) return false;
      }
      return true;
    }, 30000, 50);
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
