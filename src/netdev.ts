// All kernel link work: reading /sys/class/net, link up/down, rename, MAC,
// and the planned `ip`/`bridge`/sysctl steps of the bridged and routed
// modes. Names reaching here are validated device names (names.ts).
//
// Link changes are ioctl(2) calls on a datagram socket through bun:ffi:
// ~0.05 ms per call, where each `ip` process costs 1-5 ms on a hook that runs
// while the domain is paused. Where libc cannot be loaded, iproute2 does them.
import { exists, listDir, readFile, readLink, writeFile } from "./files.ts";
import { run } from "./exec.ts";
import { StateError } from "./errors.ts";
import { openLibc } from "./libc.ts";
import type { DryRun } from "./dry-run.ts";

const SYSFS = "/sys/class/net";

export function deviceExists(name: string): boolean {
  return exists(`${SYSFS}/${name}`);
}

export function requireDevice(field: string, name: string): void {
  if (!deviceExists(name)) throw new StateError(field, name, "no such network device");
}

/** A rename target must be free before anything is changed. */
export function requireFreeName(field: string, current: string, name: string): void {
  if (name !== current && deviceExists(name)) throw new StateError(field, name, `cannot rename ${current}: a device with that name already exists`);
}

export function readSys(path: string): string | undefined {
  try {
    return readFile(path).trim();
  } catch {
    return undefined;
  }
}

export function isLinuxBridge(dev: string): boolean {
  return exists(`${SYSFS}/${dev}/bridge`);
}

export function linkAttr(dev: string, attr: string): string | undefined {
  return readSys(`${SYSFS}/${dev}/${attr}`);
}

/** Is the device administratively up (IFF_UP in its flags)? */
export function isLinkUp(dev: string): boolean {
  const flags = linkAttr(dev, "flags");
  return flags !== undefined && (Number.parseInt(flags, 16) & 1) === 1;
}

/** The bridge (or other master) a device is enslaved to, if any. */
export function masterOf(dev: string): string | undefined {
  try {
    const target = readLink(`${SYSFS}/${dev}/master`);
    return target.slice(target.lastIndexOf("/") + 1);
  } catch {
    return undefined;
  }
}

/** A bridge's ports (its lower_* links). */
export function bridgePorts(bridge: string): string[] {
  try {
    return listDir(`${SYSFS}/${bridge}`)
      .filter((e) => e.startsWith("lower_"))
      .map((e) => e.slice("lower_".length))
      .sort();
  } catch {
    return [];
  }
}

export async function isVeth(dev: string): Promise<boolean> {
  const r = await run("ip", ["-o", "link", "show", "dev", dev, "type", "veth"], { reject: false });
  return r.exitCode === 0 && r.stdout.trim().split("\n").filter(Boolean).length === 1;
}

/** A physical NIC (an uplink): a device behind it; taps, veths and Xen vifs
 * (xen-backend devices, but named vif*) have none. */
export function isHardwareNic(dev: string): boolean {
  return exists(`${SYSFS}/${dev}/device`) && !/^vif[0-9]/.test(dev);
}

/** How many policy rules match `iif dev` (IPv4 or IPv6). */
export async function iifRuleCount(dev: string, family: 4 | 6): Promise<number> {
  const r = await run("ip", [`-${family}`, "-j", "rule", "show", "iif", dev], { reject: false });
  if (r.exitCode !== 0) return 0;
  try {
    const rules = JSON.parse(r.stdout || "[]") as { iif?: string }[];
    return rules.filter((x) => x.iif === dev).length;
  } catch {
    return 0;
  }
}

/** The device holding a local address, with its MTU (doctor's Geneve check). */
export async function deviceOfAddress(ip: string): Promise<{ dev: string; mtu: number } | undefined> {
  const r = await run("ip", ["-j", "addr", "show"], { reject: false });
  try {
    const links = JSON.parse(r.stdout) as { ifname: string; mtu: number; addr_info?: { local: string }[] }[];
    const l = links.find((x) => x.addr_info?.some((a) => a.local === ip));
    return l ? { dev: l.ifname, mtu: l.mtu } : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's link deletions as they happen (`ip -o monitor link`):
 * `deleted` gets each deleted device's name; `ended` when the monitor exits
 * (not after stop()). */
export function monitorLinkDeletions(deleted: (name: string) => void, ended: () => void): { stop(): void } {
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const child = spawn("ip", ["-o", "monitor", "link"], { stdio: ["ignore", "pipe", "ignore"] });
  let stopped = false;
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      const name = deletedLink(line);
      if (name !== undefined) deleted(name);
    }
  });
  child.on("exit", () => {
    if (!stopped) ended();
  });
  return {
    stop() {
      stopped = true;
      child.kill();
    },
  };
}

/** A link's name from an `ip -o monitor link` deletion line, e.g.
 * "Deleted 7: tap0: <BROADCAST,MULTICAST> mtu 1500 ..." (and "tap0@if3"). */
export function deletedLink(line: string): string | undefined {
  const m = /^Deleted (?:\d+: )?([^:@\s]+)(?:@[^:\s]*)?:/.exec(line.trim());
  return m?.[1];
}

const SIOCSIFNAME = 0x8923;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCGIFADDR = 0x8915;
const SIOCSIFHWADDR = 0x8924;
const SIOCGIFHWADDR = 0x8927;
const IFF_UP = 0x1;
const ARPHRD_ETHER = 1;
const IFREQ_SIZE = 40;

interface Ioctl {
  call(request: number, ifr: Uint8Array): number;
  errno(): number;
}

let ioctlBackend: Ioctl | null | undefined;

function loadIoctl(): Ioctl | null {
  if (ioctlBackend !== undefined) return ioctlBackend;
  ioctlBackend = null;
  const access = openLibc();
  if (!access) return null;
  const { libc, ptr, readI32 } = access;
  const fd = libc.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
  if (fd < 0) return null;
  ioctlBackend = {
    call: (request, ifr) => libc.ioctl(fd, request, ptr(ifr)),
    errno: () => readI32(libc.__errno_location()),
  };
  return ioctlBackend;
}

/** Loads libc and opens the ioctl socket now (~0.7 ms), so a caller can do
 * it while a daemon answers rather than on the way to the commit. */
export function loadDeviceCalls(): void {
  loadIoctl();
}

const ERRNO: Record<number, string> = { 1: "EPERM", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL", 95: "EOPNOTSUPP", 99: "EADDRNOTAVAIL" };

function ifreq(name: string): Uint8Array {
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(new TextEncoder().encode(name));
  return ifr;
}

function check(io: Ioctl, what: string, dev: string, rc: number): void {
  if (rc >= 0) return;
  const e = io.errno();
  throw new StateError("device", dev, `${what} failed: ${ERRNO[e] ?? `errno ${e}`}`);
}

function setUp(io: Ioctl, dev: string, up: boolean): void {
  const ifr = ifreq(dev);
  check(io, "SIOCGIFFLAGS", dev, io.call(SIOCGIFFLAGS, ifr));
  const flags = ifr[16]! | (ifr[17]! << 8);
  const next = up ? flags | IFF_UP : flags & ~IFF_UP;
  if (next === flags) return;
  ifr[16] = next & 0xff;
  ifr[17] = (next >> 8) & 0xff;
  check(io, "SIOCSIFFLAGS", dev, io.call(SIOCSIFFLAGS, ifr));
}

/** True when the device has an IPv4 address or any IPv6 address. */
function hasAddresses(io: Ioctl, dev: string): boolean {
  const ifr = ifreq(dev);
  ifr[16] = 2; // AF_INET
  if (io.call(SIOCGIFADDR, ifr) >= 0) return true;
  try {
    return readFile("/proc/net/if_inet6")
      .split("\n")
      .some((l) => l.trim().split(/\s+/)[5] === dev);
  } catch {
    return false;
  }
}

const PORT_MAC = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff];

/** Sets fe:ff:ff:ff:ff:ff unless the device has it already (xen-netback
 * creates its vifs so): setting it anyway still runs the kernel's
 * address-change notifiers, ~0.8 ms on the way to the commit. Like the stock
 * scripts, a device that refuses a MAC is not fatal. */
function setPortMac(io: Ioctl, dev: string): void {
  const ifr = ifreq(dev);
  if (io.call(SIOCGIFHWADDR, ifr) >= 0 && PORT_MAC.every((b, i) => ifr[18 + i] === b)) return;
  const mac = ifreq(dev);
  mac[16] = ARPHRD_ETHER;
  mac.set(PORT_MAC, 18);
  io.call(SIOCSIFHWADDR, mac);
}

/** Prepares a VM backend device as a pure switch port, as Xen's scripts do:
 * down, optionally renamed, MAC fe:ff:ff:ff:ff:ff (the highest non-broadcast
 * address: neither OVS nor a Linux bridge adopts it as its own), addresses
 * flushed. Returns the device's (new) name. */
export async function prepareVirtualPort(dev: string, rename?: string): Promise<string> {
  const name = rename ?? dev;
  requireFreeName("vifname", dev, name);
  const io = loadIoctl();
  if (!io) return prepareWithIp(dev, name);
  setUp(io, dev, false);
  if (name !== dev) {
    const ifr = ifreq(dev);
    ifr.set(new TextEncoder().encode(name), 16);
    check(io, "rename (SIOCSIFNAME)", dev, io.call(SIOCSIFNAME, ifr));
  }
  setPortMac(io, name);
  if (hasAddresses(io, name)) await run("ip", ["address", "flush", "dev", name], { reject: false });
  return name;
}

async function prepareWithIp(dev: string, name: string): Promise<string> {
  await run("ip", ["link", "set", "dev", dev, "down"]);
  if (name !== dev) await run("ip", ["link", "set", "dev", dev, "name", name]);
  await run("ip", ["-force", "-batch", "-"], { input: `link set dev ${name} address fe:ff:ff:ff:ff:ff\naddress flush dev ${name}\n`, reject: false });
  return name;
}

export async function setLink(dev: string, state: "up" | "down"): Promise<void> {
  const io = loadIoctl();
  if (io) setUp(io, dev, state === "up");
  else await run("ip", ["link", "set", "dev", dev, state]);
}

// ----------------------------------------------------------------- planned steps

/** One link-level change of the bridged and routed modes: an `ip` or
 * `bridge` batch, or a sysctl write. Planned first (so every check runs
 * before the first change, and a dry run can print them), then run. */
export type Step =
  | {
      kind: "ip" | "bridge";
      /** Global options (e.g. -6), before the batch. */
      options?: string[];
      lines: string[];
      /** Failure is not an error (stock: `|| true`). */
      tolerate?: boolean;
    }
  | { kind: "sysctl"; path: string; value: string };

/** Down, then renamed: the first step of a Xen vif with a vifname. */
export function renameStep(from: string, to: string): Step {
  return { kind: "ip", lines: [`link set dev ${from} down`, `link set dev ${from} name ${to}`] };
}

export function describeStep(step: Step): string[] {
  if (step.kind === "sysctl") return [`echo ${step.value} > ${step.path}`];
  const prefix = [step.kind, ...(step.options ?? [])].join(" ");
  return step.lines.map((l) => `${prefix} ${l}${step.tolerate ? " || true" : ""}`);
}

/** Runs steps in order; each ip/bridge step is one process (-batch). With
 * `dryRun` they are only printed. */
export async function runSteps(steps: Step[], o: { timeoutMs: number; dryRun?: DryRun }): Promise<void> {
  if (o.dryRun) {
    for (const s of steps) for (const line of describeStep(s)) o.dryRun.print(line);
    return;
  }
  for (const step of steps) {
    if (step.kind === "sysctl") {
      writeFile(step.path, step.value + "\n");
      continue;
    }
    if (step.lines.length === 0) continue;
    const timeoutMs = Math.max(1000, o.timeoutMs);
    if (step.lines.length === 1) {
      await run(step.kind, [...(step.options ?? []), ...step.lines[0]!.split(" ")], { timeoutMs, reject: !step.tolerate });
    } else {
      await run(step.kind, [...(step.options ?? []), "-batch", "-"], { input: step.lines.join("\n") + "\n", timeoutMs, reject: !step.tolerate });
    }
  }
}
