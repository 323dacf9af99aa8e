// A pretend VM: a network namespace whose eth0 is one end of a veth pair;
// the other end (the "host end", what a plug attaches) sits in the
// namespace of a private OVS. Addresses from 198.51.100.0/24 only. Removed
// with remove(), and at exit.
import { spawnSync } from "node:child_process";
import { must, sh, type Result } from "./proc.ts";
import { onExit } from "./teardown.ts";

export interface VmNetnsOptions {
  mac: string;
  ip: string;
  mtu?: number;
}

export interface VmNetns {
  ns: string;
  /** The guest's device, inside ns. */
  dev: string;
  /** The host end, in hostNs. */
  hostIf: string;
  exec(file: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<Result>;
  remove(): void;
}

let counter = 0;

function checked(what: string, r: Result): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** `hostIf`: the host end's name (at most 15 characters). */
export async function addVmNetns(hostNs: string, hostIf: string, opts: VmNetnsOptions): Promise<VmNetns> {
  const ns = `ovsvifvm${process.pid}n${counter++}`;
  const mtu = opts.mtu ?? 1500;
  await must("ip", ["netns", "add", ns]);
  const remove = () => spawnSync("ip", ["netns", "del", ns]);
  onExit(remove);
  const exec: VmNetns["exec"] = (file, args, o = {}) => sh("ip", ["netns", "exec", ns, file, ...args], o);
  const run = async (file: string, args: string[]) => checked(`VM ${ns}: ${file} ${args.join(" ")}`, await exec(file, args));
  // No IPv6 chatter: counters and captures see only what a test sends.
  await run("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  await must("ip", ["-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", hostIf, "netns", hostNs]);
  await run("ip", ["link", "set", "lo", "up"]);
  await run("ip", ["link", "set", "eth0", "address", opts.mac, "mtu", String(mtu), "up"]);
  await run("ip", ["addr", "add", `${opts.ip}/24`, "dev", "eth0"]);
  // TCP through the userspace datapath needs the guest's transmit checksum offload off.
  await run("ethtool", ["-K", "eth0", "tx", "off"]);
  checked(`host end ${hostIf}`, await sh("ip", ["netns", "exec", hostNs, "ip", "link", "set", hostIf, "mtu", String(mtu), "up"]));
  return { ns, dev: "eth0", hostIf, exec, remove: () => void remove() };
}
