// What the lifecycle scenarios of ganeti-cluster-lifecycle.test.ts share:
// the instances' and the network's names, the cluster and its OVS oracle
// (set by the test file's before()), what one scenario leaves for the next
// (the bridge's _uuid, the instances' taps, their Port _uuids), and the
// reads every group makes (taps, ports, Ganeti's view, QEMU's pid, a trace,
// the captured hook environments). Apart from the scenario groups so each
// of them reads the same state.
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OVS_BRIDGE, type GanetiCluster } from "../../harness/ganeti-cluster.ts";
import { parseEnvFile } from "../../harness/hook-fixtures.ts";
import { listRows, portView, type PortView } from "../../harness/oracle.ts";
import type { OvsHandle } from "../../harness/ovs.ts";

export const INST1 = "inst1.ovsvif.test";
export const INST2 = "inst2.ovsvif.test";
export const NET = "net1";

/** A post hook's failure is shown by Ganeti as a job warning naming the script. */
export function assertHookOk(output: string, path: string): void {
  assert.not.match(output, new RegExp(`script ${path}-post\\.d/ovs-vif failed`), `the ${path} post hook failed:\n${output}`);
  assert.not.match(output, /00-capture-env failed/, output);
}

export const rates = (p: PortView) => `${p.rate}/${p.burst}`;

/** The cluster, what the scenarios leave for each other, and how they read the node. */
export class World {
  cluster: GanetiCluster | undefined;
  oracle!: OvsHandle;
  /** Where the capture hook writes, seen from the host (= /var/log/ganeti/hook-env in the node). */
  captureDir!: string;
  /** gntbr's Bridge _uuid before the network was connected. */
  bridgeUuid = "";
  /** The taps of inst1's three NICs and inst2's one, and their Port _uuids at start. */
  t1: string[] = [];
  t2: string[] = [];
  uuids: Record<string, string> = {};

  gnt(cmd: string, ...args: string[]): Promise<string> {
    return this.cluster!.must(cmd, args, 180000);
  }

  /** The installed ovs-vif, run on the node as root (as an operator would). */
  ovsVif(...args: string[]) {
    return this.cluster!.run("ovs-vif", args, 120000);
  }

  async taps(instance: string, count: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push((await this.cluster!.must("cat", [`/run/ganeti/kvm-hypervisor/nic/${instance}/${i}`])).trim());
    return out;
  }

  async port(name: string): Promise<PortView> {
    const p = await portView(this.oracle, name);
    assert.ok(p, `port ${name} exists`);
    return p!;
  }

  /** Names of the ports whose Interface says it belongs to the instance. */
  async instancePorts(instance: string): Promise<string[]> {
    const ifaces = await listRows(this.oracle, "Interface");
    return ifaces
      .filter((i) => (i.external_ids as Record<string, string>)["ganeti-instance"] === instance)
      .map((i) => String(i.name))
      .sort();
  }

  async bridgePorts(): Promise<string[]> {
    return (await this.cluster!.vsctl("list-ports", OVS_BRIDGE)).split("\n").filter(Boolean).sort();
  }

  async vlans(instance: string): Promise<string> {
    return (await this.gnt("gnt-instance", "list", "--no-headers", "-o", "nic.vlans", instance)).trim();
  }

  async status(instance: string): Promise<string> {
    return (await this.gnt("gnt-instance", "list", "--no-headers", "-o", "status", instance)).trim();
  }

  /** QEMU's pid as Ganeti's KVM runtime records it, checked to be a live QEMU of this instance. */
  async qemuPid(instance: string): Promise<number> {
    const pid = Number((await this.cluster!.must("cat", [`/run/ganeti/kvm-hypervisor/pid/${instance}`])).trim());
    const cmdline = (await this.cluster!.must("cat", [`/proc/${pid}/cmdline`])).split("\0");
    assert.ok(cmdline[0]!.endsWith("qemu-system-x86_64"), `pid ${pid} is QEMU: ${cmdline[0]}`);
    assert.ok(cmdline.includes(instance), `pid ${pid} runs ${instance}`);
    return pid;
  }

  async trace(inPort: string, vlan?: number): Promise<string> {
    const text = await this.cluster!.appctl(
      "ofproto/trace",
      OVS_BRIDGE,
      `in_port=${inPort},dl_src=aa:00:00:00:00:99,dl_dst=ff:ff:ff:ff:ff:ff${vlan ? `,dl_vlan=${vlan}` : ""}`,
    );
    return /Datapath actions: (.*)/.exec(text)?.[1]?.trim() ?? "";
  }

  async jobCount(): Promise<number> {
    return (await this.gnt("gnt-job", "list", "--no-headers", "-o", "id")).split("\n").filter(Boolean).length;
  }

  /** The captured environments of one path+phase, oldest first. */
  captured(path: string, phase: string): Record<string, string>[] {
    const prefix = `${path}-${phase}.`;
    return readdirSync(this.captureDir)
      .filter((f) => f.startsWith(prefix) && f.endsWith(".env"))
      .sort()
      .map((f) => parseEnvFile(readFileSync(join(this.captureDir, f), "utf8"), f));
  }
}
