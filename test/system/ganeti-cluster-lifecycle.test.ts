// The Ganeti lifecycle on a real single-node Ganeti 3.0 cluster (its own,
// see harness/ganeti-cluster.*), with the real CLI and the post hooks that
// `install.sh --ganeti --root` links:
//   - a Ganeti network (gnt-network add/add-tags/connect, mode openvswitch,
//     no switches.json): the network-connect hook keeps the bridge, exit 0;
//   - QoS from instance, per-NIC and network tags at start; tags removed +
//     `ovs-vif reconcile`; `ovs-vif qos set`; ports updated in place;
//   - `ovs-vif vlan add` and a plain `gnt-instance modify` on the running
//     instance (the instance-modify hook): port changed in place, same QEMU;
//     a bad VLAN refused before Ganeti is called;
//   - hard reboot (one port per NIC), stop (the instance-stop hook collects
//     the ports), gnt-network disconnect (the bridge stays);
//   - every hook environment Ganeti sent (captured by a hook of our own) is
//     compared with test/fixtures/ganeti-hooks/*.env, which the unit tests
//     read; OVS_VIF_UPDATE_FIXTURES=1 rewrites those files instead.
// All checks read OVS with ovs-vsctl / ovs-appctl (the oracle).
//
// This file sets the cluster up, registers the scenarios in that order and
// tears the cluster down; the scenarios and what they share are in
// ganeti-cluster-lifecycle/ (one cluster for all of them).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startGanetiCluster, unavailable } from "../harness/ganeti-cluster.ts";
import { ganetiRelease } from "../harness/ganeti-release.ts";
import { capturedPaths } from "../harness/hook-fixtures.ts";
import type { OvsHandle } from "../harness/ovs.ts";
import { installCaptureHooks, registerHookFixtures } from "./ganeti-cluster-lifecycle/hook-environments.ts";
import { registerNetworkConnect, registerNetworkRenameAndDisconnect } from "./ganeti-cluster-lifecycle/network.ts";
import { registerQos } from "./ganeti-cluster-lifecycle/qos.ts";
import { registerRebootAndStop } from "./ganeti-cluster-lifecycle/reboot-stop.ts";
import { registerVlan } from "./ganeti-cluster-lifecycle/vlan.ts";
import { World } from "./ganeti-cluster-lifecycle/world.ts";

const why = unavailable();
const w = new World();

if (why) {
  console.log(`SKIPPED: real Ganeti cluster lifecycle test: ${why}`);
  test("real Ganeti cluster lifecycle (skipped: see SKIPPED above)", () => undefined);
} else {
  test.before(async () => {
    w.cluster = await startGanetiCluster((line) => console.log(`  ${line}`));
    w.oracle = { vsctl: w.cluster.vsctl } as unknown as OvsHandle;
    w.captureDir = installCaptureHooks(w.cluster.dir);
    const bin = (await w.cluster.must("readlink", ["-f", "/usr/sbin/ovs-vif"])).trim();
    assert.is(bin, "/usr/lib/ovs-vif/ovs-vif");
    console.log(
      `  capture hooks in /etc/ganeti/hooks/{${capturedPaths(ganetiRelease()).join(",")}}-{pre,post}.d; ovs-vif on the node's PATH: /usr/sbin/ovs-vif -> ${bin}`,
    );
  });

  test.after(async () => {
    await w.cluster?.stop();
  });

  registerNetworkConnect(w);
  registerQos(w);
  registerVlan(w);
  registerRebootAndStop(w);
  registerNetworkRenameAndDisconnect(w);
  registerHookFixtures(w);
}

test.run();
