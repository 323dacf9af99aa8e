// An instance's traces on one node of ganeti-cluster.ts, read with
// ovs-vsctl (the oracle) and Ganeti's KVM runtime files.
import { oracleOf, type GanetiNode } from "./ganeti-cluster.ts";
import { listRows, portView, type PortView } from "./oracle.ts";

/** The ports on the node whose Interface names the instance (external_ids:ganeti-instance). */
export async function instancePorts(node: GanetiNode, instance: string): Promise<PortView[]> {
  const oracle = oracleOf(node);
  const names = (await listRows(oracle, "Interface"))
    .filter((i) => (i.external_ids as Record<string, string>)["ganeti-instance"] === instance)
    .map((i) => String(i.name))
    .sort();
  const out: PortView[] = [];
  for (const name of names) {
    const p = await portView(oracle, name);
    if (p) out.push(p);
  }
  return out;
}

export interface LeftPort {
  name: string;
  /** Whether the node has a network device of that name. */
  deviceExists: boolean;
  ofport: number | null;
}

/** The instance's ports on a node it does not run on, e.g. the target of a
 * failed migration: what is left there, and whether the tap still exists. */
export async function instancePortsLeftOn(node: GanetiNode, instance: string): Promise<LeftPort[]> {
  const out: LeftPort[] = [];
  for (const p of await instancePorts(node, instance)) {
    const dev = await node.run("ip", ["link", "show", "dev", p.name], 10000);
    out.push({ name: p.name, deviceExists: dev.code === 0, ofport: p.ofport });
  }
  return out;
}

/** The port's settings that must survive a move to another node (not its
 * name, row UUID or OpenFlow port number, which are the node's). */
export function portColumns(p: PortView): Omit<PortView, "name" | "uuid" | "ofport"> {
  const { name: _n, uuid: _u, ofport: _o, ...rest } = p;
  return rest;
}

/** Ganeti 3.0 records each NIC's tap in kvm-hypervisor/nic/INSTANCE/INDEX on the primary. */
export async function nicTap(node: GanetiNode, instance: string, index = 0): Promise<string> {
  return (await node.must("cat", [`/run/ganeti/kvm-hypervisor/nic/${instance}/${index}`])).trim();
}

/** QEMU's pid as the node's KVM runtime records it, checked to be a live QEMU of this instance. */
export async function qemuPid(node: GanetiNode, instance: string): Promise<number> {
  const pid = Number((await node.must("cat", [`/run/ganeti/kvm-hypervisor/pid/${instance}`])).trim());
  const cmdline = (await node.must("cat", [`/proc/${pid}/cmdline`])).split("\0");
  if (!cmdline[0]!.endsWith("qemu-system-x86_64") || !cmdline.includes(instance))
    throw new Error(`pid ${pid} on ${node.name} is not QEMU of ${instance}: ${cmdline.join(" ")}`);
  return pid;
}

/** `gnt-instance add` of a test instance on `node`: diskless, no OS
 * install, no name or IP check, 128 MB and one vCPU; `nics` as --net's
 * values in order; `more` (e.g. -H for a real guest) before the name. */
export function addInstanceArgs(name: string, node: string, nics: string[], more: string[] = []): string[] {
  return [
    "add",
    ...["-t", "diskless", "--no-install", "-o", "noop", "--no-name-check", "--no-ip-check"],
    ...["-n", node, "-B", "memory=128M,vcpus=1"],
    ...more,
    ...nics.flatMap((nic) => ["--net", nic]),
    name,
  ];
}
