// VLANs of the running instance in the lifecycle test: `ovs-vif vlan add`
// (Ganeti's configuration, then the port in place, same QEMU; checked with
// ofproto/trace), a VLAN out of range refused before Ganeti is called, and
// a plain gnt-instance modify applied by the instance-modify hook. Apart
// from QoS: here the port's VLAN columns change, its policing stays.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { configOnly } from "../../harness/ganeti-release.ts";
import { assertHookOk, INST1, rates, type World } from "./world.ts";

export function registerVlan(w: World): void {
  // ------------------------------------------------------------------ VLAN
  test("ovs-vif vlan add inst1 0 20 on the running instance (vlan=.3): Ganeti has .3:20, port native-untagged tag 3 trunks [20] in place, same QEMU, VLAN 20 now forwarded", async () => {
    const tap = w.t1[0]!;
    assert.is(await w.vlans(INST1), "['.3', '', '']");
    const pid = await w.qemuPid(INST1);
    const before = await w.port(tap);
    assert.is(before.vlan_mode, "access");
    assert.is(before.tag, 3);
    const dropped = await w.trace(tap, 20);
    assert.is(dropped, "drop", "VLAN 20 from the access port is dropped before");
    console.log(`  before: ${tap} vlan_mode=access tag=3 trunks=[]; trace VLAN 20 from ${tap}: ${dropped}; QEMU pid ${pid}`);

    const r = await w.ovsVif("vlan", "add", INST1, "0", "20");
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`${INST1} nic 0: vlan "\\.3" -> "\\.3:20"`));
    for (const line of r.stdout.trim().split("\n")) console.log(`  ovs-vif vlan add ${INST1} 0 20: ${line}`);
    assert.is(await w.vlans(INST1), "['.3:20', '', '']");
    const after = await w.port(tap);
    assert.is(after.vlan_mode, "native-untagged");
    assert.is(after.tag, 3);
    assert.equal(after.trunks, [20]);
    assert.is(after.uuid, before.uuid, "same Port _uuid: not re-created");
    assert.is(after.ofport, before.ofport, "same OpenFlow port");
    assert.is(rates(after), "50000/39062", "QoS kept");
    assert.is(await w.qemuPid(INST1), pid, "same QEMU process: no reboot");
    assert.is(await w.status(INST1), "running");
    const forwarded = await w.trace(tap, 20);
    assert.ok(forwarded !== "drop" && forwarded !== "", `VLAN 20 forwarded now: ${forwarded}`);
    const untagged = await w.trace(tap);
    assert.match(untagged, /push_vlan\(vid=3/, `untagged still into VLAN 3: ${untagged}`);
    console.log(
      `  gnt-instance list -o nic.vlans: ['.3:20', '', '']; ${tap} vlan_mode=native-untagged tag=3 trunks=[20], same Port _uuid and ofport ${after.ofport}, QEMU pid ${pid} unchanged`,
    );
    console.log(`  trace VLAN 20 from ${tap}: ${forwarded}; untagged: ${untagged}`);
  });

  test("ovs-vif vlan add inst1 0 5000 is refused before Ganeti is called: no job, config unchanged", async () => {
    const jobs = await w.jobCount();
    const r = await w.ovsVif("vlan", "add", INST1, "0", "5000");
    assert.is(r.code, 1);
    assert.match(r.stderr, /VLAN "5000": VLAN id 5000 out of range 1\.\.4094/);
    assert.is(await w.jobCount(), jobs, "no Ganeti job submitted");
    assert.is(await w.vlans(INST1), "['.3:20', '', '']");
    assert.is((await w.port(w.t1[0]!)).tag, 3);
    console.log(`  ovs-vif vlan add ${INST1} 0 5000: exit 1, ${r.stderr.trim()}; no new job, nic.vlans still ['.3:20', '', '']`);
  });

  test("gnt-instance modify --net 0:modify,vlan=.4 alone: the installed instance-modify hook applies it to the running port in place", async () => {
    const tap = w.t1[0]!;
    const pid = await w.qemuPid(INST1);
    const before = await w.port(tap);
    const out = await w.gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.4", INST1);
    assertHookOk(out, "instance-modify");
    assert.is(await w.vlans(INST1), "['.4', '', '']");
    const after = await w.port(tap);
    assert.is(after.vlan_mode, "access");
    assert.is(after.tag, 4);
    assert.equal(after.trunks, []);
    assert.is(after.uuid, before.uuid, "same Port _uuid");
    assert.is(rates(after), "50000/39062", "QoS kept");
    assert.is(await w.qemuPid(INST1), pid, "same QEMU process");
    console.log(
      `  gnt-instance modify --net 0:modify,vlan=.4: ${tap} vlan_mode=access tag=4 trunks=[] (by the instance-modify post hook), same Port _uuid, QEMU pid ${pid} unchanged`,
    );
  });
}
