// A VM of the private OVN (ovn.ts) and its traffic: a namespace with a veth
// (vm.ts) whose host end sits in a chassis namespace, not yet on br-int;
// pings, one-off or continuous (summed up by sequence number, with the
// longest gap between answers); RARP and hand-made ICMP frames
// (rawframe.py); the ICMP echo requests its kernel has seen. Apart from
// ovn.ts, which runs OVN: this is what a VM is and what it sends and sees.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Chassis, RunOpts } from "./ovn-chassis.ts";
import { checked, type Result } from "./proc.ts";
import { addVmNetns } from "./vm.ts";

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

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const RAWFRAME = join(import.meta.dirname, "rawframe.py");

/** A VM called `name` on `chassis`; its namespace goes into `namespaces` (deleted at stop()). */
export async function addVm(chassis: Chassis, name: string, opts: VmOptions, namespaces: string[]): Promise<Vm> {
  if (!/^[a-z0-9-]{1,10}$/.test(name)) throw new Error(`VM name ${JSON.stringify(name)}: 1-10 of [a-z0-9-]`);
  const mtu = opts.mtu ?? 1442;
  const vm = await addVmNetns(chassis.ovs.ns, `vif-${name}`, { ...opts, mtu });
  namespaces.push(vm.ns);
  return { name, ns: vm.ns, chassis, mac: opts.mac, ip: opts.ip, mtu, dev: vm.dev, hostIf: vm.hostIf, exec: vm.exec };
}

function parsePing(out: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(out);
  if (!m) throw new Error(`unexpected ping output: ${out}`);
  return { sent: Number(m[1]), received: Number(m[2]), duplicates: Number(m[3] ?? 0) };
}

export async function ping(
  from: Vm,
  ip: string,
  opts: { count?: number; intervalMs?: number; size?: number; dontFragment?: boolean } = {},
): Promise<PingResult> {
  const args = ["-n", "-q", "-c", String(opts.count ?? 3), "-i", String((opts.intervalMs ?? 200) / 1000), "-W", "1"];
  if (opts.size !== undefined) args.push("-s", String(opts.size));
  if (opts.dontFragment) args.push("-M", "do");
  const r = await from.exec("ping", [...args, ip], { timeoutMs: 60000 });
  return parsePing(r.stdout);
}

/** A ping every `intervalMs` until stop(); the running ping is in `children` (killed at stop()) meanwhile. */
export function continuousPing(children: Set<ChildProcess>, from: Vm, ip: string, intervalMs = 20): ContinuousPing {
  const child = spawn("ip", ["netns", "exec", from.ns, "ping", "-n", "-D", "-i", String(intervalMs / 1000), "-W", "1", ip], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    async stop() {
      child.kill("SIGINT");
      await closed;
      children.delete(child);
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
}

/** One RARP request from the VM (as QEMU announces a migrated guest). */
export async function sendRarp(vm: Vm, mac = vm.mac): Promise<void> {
  checked(`RARP from ${vm.name}`, await vm.exec(PYTHON, [RAWFRAME, "rarp", vm.dev, mac]));
}

/** Hand-made ICMP echo requests from the VM's device with any source addresses. */
export async function sendIcmp(vm: Vm, to: { mac: string; ip: string }, opts: { srcMac?: string; srcIp?: string; count?: number } = {}): Promise<void> {
  checked(
    `ICMP from ${vm.name}`,
    await vm.exec(PYTHON, [RAWFRAME, "icmp", vm.dev, opts.srcMac ?? vm.mac, to.mac, opts.srcIp ?? vm.ip, to.ip, String(opts.count ?? 1)]),
  );
}

/** ICMP echo requests the VM's kernel has received (Icmp InEchos). */
export async function echoRequestsSeen(vm: Vm): Promise<number> {
  const r = await vm.exec("cat", ["/proc/net/snmp"]);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("Icmp:"));
  const keys = lines[0]?.split(/\s+/) ?? [];
  const vals = lines[1]?.split(/\s+/) ?? [];
  const i = keys.indexOf("InEchos");
  if (i < 1 || vals[i] === undefined) throw new Error(`no Icmp InEchos in ${vm.ns}'s /proc/net/snmp`);
  return Number(vals[i]);
}

/** How many echo requests reach `to` while `send` runs: waits until
 * `expect` arrived or `windowMs` passed since send returned. */
export async function echoesReaching(to: Vm, send: () => Promise<void>, opts: { expect: number; windowMs?: number }): Promise<number> {
  const before = await echoRequestsSeen(to);
  await send();
  const t0 = performance.now();
  let got = 0;
  while ((got = (await echoRequestsSeen(to)) - before) < opts.expect && performance.now() - t0 < (opts.windowMs ?? 1000)) await sleep(20);
  return got;
}
