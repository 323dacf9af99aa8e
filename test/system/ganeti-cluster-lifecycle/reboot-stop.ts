// The instance's hard reboot (a new QEMU, one port per NIC, VLAN and QoS
// kept) and its stop (the instance-stop hook removes its ports) in the
// lifecycle test. Apart from the VLAN and QoS changes: here QEMU goes away.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OVS_BRIDGE, UPLINK } from "../../harness/ganeti-cluster.ts";
import { assertHookOk, INST1, rates, type World } from "./world.ts";

export function registerRebootAndStop(w: World): void {
  // ------------------------------------------------------------------ reboot, stop
  test("gnt-instance reboot --shutdown-timeout=0 (hard): new QEMU, exactly one port per openvswitch NIC, VLAN .4 and 50M kept", async () => {
    const pid = await w.qemuPid(INST1);
    assertHookOk(await w.gnt("gnt-instance", "reboot", "--shutdown-timeout=0", INST1), "instance-reboot");
    assert.is(await w.status(INST1), "running");
    const newPid = await w.qemuPid(INST1);
    assert.ok(newPid !== pid, "a new QEMU process (hard reboot)");
    w.t1 = await w.taps(INST1, 3);
    assert.equal(await w.instancePorts(INST1), [...w.t1].sort(), "one port per NIC, nothing stale");
    const all = await w.bridgePorts();
    assert.equal(all, [...w.t1, w.t2[0]!, UPLINK].sort(), "each tap once on the bridge");
    const p0 = await w.port(w.t1[0]!);
    assert.is(p0.tag, 4);
    assert.is(p0.vlan_mode, "access");
    assert.is(rates(p0), "50000/39062");
    assert.is(rates(await w.port(w.t1[2]!)), "1000000/781250");
    console.log(
      `  after reboot: QEMU pid ${pid} -> ${newPid}; ports on ${OVS_BRIDGE}: ${all.join(",")} (${INST1}: ${w.t1.join(",")}, one per NIC); ${w.t1[0]} tag=4 ${rates(p0)}`,
    );
  });

  test("gnt-instance stop --timeout=0: the instance-stop post hook removes the instance's ports (Ganeti 3.0 has no down script)", async () => {
    assertHookOk(await w.gnt("gnt-instance", "stop", "--timeout=0", INST1), "instance-stop");
    assert.is(await w.status(INST1), "ADMIN_down");
    assert.equal(await w.instancePorts(INST1), [], "no Interface of the instance left");
    const all = await w.bridgePorts();
    assert.equal(all, [w.t2[0]!, UPLINK].sort(), "only the other instance's port and the uplink");
    console.log(`  after stop: ovs-vsctl list-ports ${OVS_BRIDGE}: ${all.join(",")} (no port of ${INST1})`);
  });
}
