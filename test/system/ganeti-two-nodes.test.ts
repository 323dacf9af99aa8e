// A real two-node Ganeti cluster (3.0 on Debian 12, 3.1 on Debian 13) (KVM under TCG, diskless; see
// harness/ganeti-cluster.*) with ovs-vif installed on both nodes by
// install.sh --ganeti, one real guest (harness/guest.*) with one NIC
// vlan=.3:10:20, and ping peers on node1 (harness/ping.ts) as access ports of
// VLANs 3, 4, 10, 20 and 30, reaching node2 through the trunk between the
// nodes' bridges. node2 joins with `gnt-node add` after the master got a
// switch spec and QoS defaults: the master's node-add hook gives node2 both
// and its group's switch. Scenarios, in order, on the one guest:
//   - start on node1: the port's columns, pings on VLAN 3 and 10, not 30;
//   - live migration node1 -> node2 -> node1 under a ping every 50 ms;
//   - a migration whose target QEMU is killed right after it starts with
//     -incoming (without and with `ovs-vif watch` on the target), and one
//     whose target lacks the bridge: all fail, the source keeps working;
//   - gnt-instance failover to node2;
//   - port security from Ganeti tags, applied by reconcile --cluster, moved
//     by live migrations under a ping (flows on the new primary only) and
//     taken away again;
//   - gnt-instance modify --net 0:modify,vlan=.4, `ovs-vif vlan add` (under
//     a ping on the native VLAN), `ovs-vif qos set/unset` and `reconcile
//     --cluster` from the master for the instance on node2;
//   - status and doctor --cluster: ok; a hook link removed on node2 and a
//     VLAN changed without it: doctor fails naming the link, status shows
//     the drift naming tag; link restored and reconcile --cluster: ok;
//   - a NIC hot-added (VLAN 31, the instance's QoS; the guest's eth1
//     answers) and hot-removed (nothing left); `ovs-vif vlan set` against
//     Ganeti's own hot-modify (-f), which replaces the guest's NIC;
//   - stop and remove on node2;
//   - gnt-network connect/disconnect of a new switch on the two-node group.
// ovs-vsctl on each node is the oracle; pings are the data plane.
//
// Addresses (all in 198.51.100.0/24): management 198.51.100.0/28 (harness);
// the guest's untagged subnet 198.51.100.16/28 (guest .20; peers .17 on
// VLAN 3 and .18 on VLAN 4), VLAN 10 198.51.100.32/28 (guest .36, peer .33),
// VLAN 20 198.51.100.48/28 (guest .52, peer .49), VLAN 30 198.51.100.64/28
// (guest .68, peer .65); the Ganeti network of the last scenario 198.51.100.96/28.
//
// This file sets the cluster up, registers the scenarios in that order and
// tears the cluster down; the scenarios and what they share are in
// ganeti-two-nodes/ (one cluster for all of them: it takes minutes to start).
import { test } from "uvu";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startGanetiCluster, unavailable } from "../harness/ganeti-cluster.ts";
import { GUEST_CLUSTER_HV, guestImage } from "../harness/guest.ts";
import { addPingPeer } from "../harness/ping.ts";
import { registerHotplug } from "./ganeti-two-nodes/hotplug.ts";
import { registerStart, registerStopAndRemove } from "./ganeti-two-nodes/instance.ts";
import { registerMigrations } from "./ganeti-two-nodes/migration.ts";
import { registerNode2Changes } from "./ganeti-two-nodes/node2-changes.ts";
import { registerPortSecurity } from "./ganeti-two-nodes/port-security.ts";
import { registerNetworks, registerNodeAdd } from "./ganeti-two-nodes/switches.ts";
import { secs, World } from "./ganeti-two-nodes/world.ts";

/** On the master before node2 joins: the node-add hook hands both to node2. */
const NODE_SPEC = {
  version: 1,
  defaults: { datapath_type: "netdev" },
  switches: [{ name: "gntnode", managed: true }],
  node_groups: { default: { switches: ["gntnode"] } },
};
const NODE_DEFAULTS = { version: 1, bridges: { gntnode: { rate: "10M" } } };

const why = unavailable();
const w = new World();

if (why) {
  console.log(`SKIPPED: real two-node Ganeti cluster test: ${why}`);
  test("real two-node Ganeti cluster (skipped: see SKIPPED above)", () => undefined);
} else {
  test.before(async () => {
    try {
      const t0 = Date.now();
      const img = guestImage();
      img.catch(() => undefined); // awaited below; a failure while the cluster starts must not go unhandled
      w.cluster = await startGanetiCluster((line) => console.log(`  ${line}`), {
        nodes: 2,
        beforeNodeAdd: async (master) => {
          writeFileSync(join(master.dir, "root/etc/ovs-vif/switches.json"), `${JSON.stringify(NODE_SPEC, null, 2)}\n`);
          writeFileSync(join(master.dir, "root/etc/ovs-vif/defaults.json"), `${JSON.stringify(NODE_DEFAULTS, null, 2)}\n`);
        },
      });
      w.n1 = w.cluster.node(1);
      w.n2 = w.cluster.node(2);
      await w.cluster.must("gnt-cluster", ["modify", "-H", GUEST_CLUSTER_HV], 120000);
      w.timings.push(`${secs(Date.now() - t0)}  cluster set-up (2 nodes)`);
      console.log(`  cluster of ${w.cluster.nodes.map((n) => n.name).join(", ")} up: ${secs(Date.now() - t0)}`);
      const t1 = Date.now();
      w.image = await img;
      console.log(
        `  guest image ${w.image.built ? "built" : "from the cache"} (${w.image.packages}): ${w.image.kernel}, ${w.image.initrd} (${secs(Date.now() - t1)} more)`,
      );
      for (const [ns, vlan, address] of [
        ["pv3", 3, "198.51.100.17/28"],
        ["pv4", 4, "198.51.100.18/28"],
        ["pv10", 10, "198.51.100.33/28"],
        ["pv20", 20, "198.51.100.49/28"],
        ["pv30", 30, "198.51.100.65/28"],
        ["pv31", 31, "198.51.100.81/28"],
        ["pv9", 9, "198.51.100.19/28"],
      ] as const) {
        w.peers[ns] = await addPingPeer(w.n1, ns, vlan, address);
      }
      console.log(
        `  ping peers on ${w.n1.name}: ${Object.values(w.peers)
          .map((p) => `${p.ns} VLAN ${p.vlan} ${p.address}`)
          .join(", ")}`,
      );
    } catch (err) {
      // uvu drops an error of a before hook: say it.
      console.log(`  set-up failed: ${(err as Error).stack ?? err}`);
      throw err;
    }
  });

  test.after(async () => {
    const t0 = Date.now();
    await w.cluster?.stop();
    w.timings.push(`${secs(Date.now() - t0)}  teardown`);
    console.log(`  timings:\n${w.timings.map((l) => `    ${l}`).join("\n")}`);
  });

  registerNodeAdd(w);
  registerStart(w);
  registerMigrations(w);
  registerPortSecurity(w);
  registerNode2Changes(w);
  registerHotplug(w);
  registerStopAndRemove(w);
  registerNetworks(w);
}

test.run();
