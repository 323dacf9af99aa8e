// What the tests of ovn.test.ts share: the private OVN with its two chassis,
// the VMs a (on c1) and b (on c2) and their NICs' MACs, IPs and UUIDs, the
// node's OVN settings file (set by the test file's before() and read by each
// test when it runs; a test that re-plugs a VM replaces it here), the
// environment Ganeti gives kvm-vif-bridge, running the NIC script and
// `ganeti-nic down`, and a dump of NB's switches and ports. Apart from the
// test groups so each of them reads the same state.
import { ovnNicEnv, type Chassis, type OvnHandle, type Vm } from "../../harness/ovn.ts";
import { must } from "../../harness/proc.ts";
import { runBinary } from "../../harness/ovs.ts";

export const report = (what: string) => console.log(`  ovn: ${what}`);

export const UUID = (n: string) => `55555555-0000-4000-8000-0000000000${n}`;
export const A = { mac: "02:00:00:00:01:0a", ip: "198.51.100.110", uuid: UUID("0a") };
export const B = { mac: "02:00:00:00:01:0b", ip: "198.51.100.111", uuid: UUID("0b") };

export const kvm = (ch: Chassis, env: Record<string, string>) => runBinary(ch.ovs, [], { name: "kvm-vif-bridge", env });
export const down = (ch: Chassis, env: Record<string, string>) => runBinary(ch.ovs, ["ganeti-nic", "down"], { env });

/** The OVN, its chassis, the VMs on them and the node's OVN settings file. */
export class World {
  ovn!: OvnHandle;
  c1!: Chassis;
  c2!: Chassis;
  a!: Vm;
  b!: Vm;
  config!: string;

  /** The environment Ganeti gives kvm-vif-bridge for a NIC in network net1 on br-int. */
  nicEnv(vm: Vm, nic: { mac: string; ip: string; uuid: string }, extra: Record<string, string> = {}): Record<string, string> {
    return ovnNicEnv({ instance: `inst-${vm.name}`, mac: nic.mac, ip: nic.ip, uuid: nic.uuid, device: vm.hostIf }, { OVS_VIF_OVN: this.config, ...extra });
  }

  async nbDump(): Promise<string> {
    return (
      (await must("ovsdb-client", ["dump", this.ovn.nb, "OVN_Northbound", "Logical_Switch"])) +
      (await must("ovsdb-client", ["dump", this.ovn.nb, "OVN_Northbound", "Logical_Switch_Port"]))
    );
  }
}
