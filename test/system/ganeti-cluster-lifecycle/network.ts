// The Ganeti network of the lifecycle test: gnt-network add/add-tags/connect
// (mode openvswitch, no switches.json; the network-connect hook keeps the
// bridge), gnt-network rename (3.1's network-rename hooks leave every port)
// and disconnect (the network-disconnect hook leaves the bridge), each hook
// also run again by hand with the environment Ganeti gave it. Apart from
// the instances' scenarios, which run between connect and rename.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OVS_BRIDGE, UPLINK } from "../../harness/ganeti-cluster.ts";
import { ganetiRelease } from "../../harness/ganeti-release.ts";
import { listRows } from "../../harness/oracle.ts";
import { assertHookOk, INST1, INST2, NET, type World } from "./world.ts";

/** The first scenario: the network connected to the default group. */
export function registerNetworkConnect(w: World): void {
  // ------------------------------------------------------------------ network
  test("gnt-network add + add-tags + connect (mode openvswitch, link gntbr, no switches.json): the network-connect hook keeps the bridge and exits 0", async () => {
    const before = (await listRows(w.oracle, "Bridge", OVS_BRIDGE))[0]!;
    w.bridgeUuid = String(before._uuid);
    const portsBefore = await w.bridgePorts();
    assert.is((await w.cluster!.run("test", ["-e", "/etc/ovs-vif/switches.json"])).code, 1, "no switches.json on the node");
    await w.gnt("gnt-network", "add", "--network=198.51.100.0/28", NET);
    await w.gnt("gnt-network", "add-tags", NET, "ovs-vif:rate:1G");
    const out = await w.gnt("gnt-network", "connect", "--nic-parameters", `mode=openvswitch,link=${OVS_BRIDGE}`, NET, "default");
    assertHookOk(out, "network-connect");
    assert.is(
      (await w.gnt("gnt-network", "list", "--no-headers", "--separator=|", "-o", "name,tags,group_list", NET)).trim(),
      `${NET}|ovs-vif:rate:1G|default (openvswitch, ${OVS_BRIDGE}, )`,
    );
    const after = (await listRows(w.oracle, "Bridge", OVS_BRIDGE))[0]!;
    assert.is(String(after._uuid), w.bridgeUuid, "same Bridge row");
    assert.is(after.datapath_type, "netdev", "datapath_type untouched (no spec: a bare bridge keeps its settings)");
    assert.equal(await w.bridgePorts(), portsBefore, "ports untouched");
    console.log(
      `  gnt-network connect ${NET} default (openvswitch, ${OVS_BRIDGE}): no hook failure in the job; bridge ${OVS_BRIDGE} kept (same _uuid, datapath_type netdev, ports ${portsBefore.join(",")})`,
    );
    // What the installed hook did with that environment: the same
    // environment Ganeti gave it (captured above), run again by hand.
    const [env] = w.captured("network-connect", "post");
    assert.ok(env, "network-connect post hook ran");
    const r = await w.cluster!.run("env", ["-i", ...Object.entries(env!).map(([k, v]) => `${k}=${v}`), "/etc/ganeti/hooks/network-connect-post.d/ovs-vif"]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /network-connect: group default link gntbr: switch gntbr \(no spec file \/etc\/ovs-vif\/switches\.json: bare bridge\)/);
    assert.match(r.stderr, /network-connect: gntbr: no changes/);
    for (const line of r.stderr.trim().split("\n")) console.log(`  network-connect hook, Ganeti's environment again: exit 0: ${line}`);
  });
}

/** After the instances' scenarios: the network renamed and back, then the instances removed and the network disconnected. */
export function registerNetworkRenameAndDisconnect(w: World): void {
  test("gnt-network rename (Ganeti 3.1): the network-rename hooks (pre and post) exit 0 without OVN here, every VLAN port stays as it is, the NIC's network follows the name", async () => {
    if (ganetiRelease() === "3.0") {
      console.log("  Ganeti 3.0 has no gnt-network rename: nothing to try");
      return;
    }
    const before = await w.cluster!.vsctl("--format=json", "--columns=_uuid,name,tag,trunks,vlan_mode,external_ids", "list", "Port");
    const renamed = `${NET}-renamed`;
    const out = await w.gnt("gnt-network", "rename", NET, renamed);
    for (const phase of ["pre", "post"]) assert.not.match(out, new RegExp(`script network-rename-${phase}\\.d/ovs-vif failed`), out);
    assert.match(await w.gnt("gnt-instance", "list", "--no-headers", "-o", "nic.networks.names", INST2), new RegExp(renamed));
    assert.is(
      await w.cluster!.vsctl("--format=json", "--columns=_uuid,name,tag,trunks,vlan_mode,external_ids", "list", "Port"),
      before,
      "every port unchanged",
    );
    const env = w.captured("network-rename", "post")[0]!;
    assert.equal([env.GANETI_OLD_NAME, env.GANETI_NEW_NAME], [NET, renamed]);
    await w.gnt("gnt-network", "rename", renamed, NET);
    console.log(`  gnt-network rename ${NET} ${renamed} and back: hooks exit 0 (GANETI_OLD_NAME, GANETI_NEW_NAME), ports unchanged`);
  });

  test("instances removed, gnt-network disconnect: the network-disconnect hook leaves the bridge (not managed, no spec) and exits 0", async () => {
    await w.gnt("gnt-instance", "remove", "-f", "--shutdown-timeout=0", INST1);
    await w.gnt("gnt-instance", "remove", "-f", "--shutdown-timeout=0", INST2);
    const out = await w.gnt("gnt-network", "disconnect", NET, "default");
    assertHookOk(out, "network-disconnect");
    const after = (await listRows(w.oracle, "Bridge", OVS_BRIDGE))[0]!;
    assert.is(String(after._uuid), w.bridgeUuid, "same Bridge row");
    assert.equal(await w.bridgePorts(), [UPLINK]);
    const [env] = w.captured("network-disconnect", "post");
    assert.ok(env, "network-disconnect post hook ran");
    const r = await w.cluster!.run("env", ["-i", ...Object.entries(env!).map(([k, v]) => `${k}=${v}`), "/etc/ganeti/hooks/network-disconnect-post.d/ovs-vif"]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /network-disconnect: gntbr: not marked managed in \/etc\/ovs-vif\/switches\.json: left in place/);
    console.log(`  gnt-network disconnect ${NET} default: no hook failure; ${OVS_BRIDGE} kept (same _uuid), ports ${UPLINK}`);
    console.log(`  network-disconnect hook, Ganeti's environment again: exit 0: ${r.stderr.trim()}`);
  });
}
