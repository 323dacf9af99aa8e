// The guest's start on node1 (the port's columns, which every later
// placement must show again, and pings on its VLANs) and its end on node2
// (stop, start, remove while running). Apart from the scenarios between
// them, which move and change the running guest.
import * as assert from "uvu/assert";
import { OVS_BRIDGE, UPLINK } from "../../harness/ganeti-cluster.ts";
import { addInstanceArgs, instancePorts, nicTap, portColumns } from "../../harness/ganeti-instance.ts";
import { guestHvParams } from "../../harness/guest.ts";
import { waitForPing } from "../../harness/ping.ts";
import { assertHookOk, BOOT_MS, G3, GUEST_NET, INST, MAC, secs, type World } from "./world.ts";

/** The guest started on node1: the reference port (World.reference). */
export function registerStart(w: World): void {
  // ------------------------------------------------------------------ start
  w.scenario(
    "guest on node1, vlan=.3:10:20 and ovs-vif:rate:100M: the port's columns on node1, none on node2; pings on VLAN 3, 10, 20; VLAN 30 and 4 unreachable",
    async () => {
      await w.gnt(
        "gnt-instance",
        ...addInstanceArgs(INST, w.n1.name, [`0:mode=openvswitch,link=${OVS_BRIDGE},vlan=.3:10:20,mac=${MAC}`], ["-H", guestHvParams(w.image, GUEST_NET)]),
      );
      await w.gnt("gnt-instance", "add-tags", INST, "ovs-vif:rate:100M");
      const t0 = Date.now();
      assertHookOk(await w.gnt("gnt-instance", "start", INST), "instance-start");
      const started = Date.now() - t0;
      const booted = await waitForPing(w.peers.pv3!, G3, BOOT_MS);
      w.timings.push(`${secs(started + booted)}  guest boot (gnt-instance start ${secs(started)}, then first answer after ${secs(booted)})`);
      console.log(`  guest boot: gnt-instance start ${secs(started)}, first ping answer ${secs(booted)} later`);

      const tap = await nicTap(w.n1, INST);
      const [p, ...more] = await instancePorts(w.n1, INST);
      assert.ok(p, `a port on ${w.n1.name}`);
      assert.equal(more, [], "one port");
      assert.is(p!.name, tap);
      assert.is(p!.bridge, OVS_BRIDGE);
      assert.is(p!.vlan_mode, "native-untagged");
      assert.is(p!.tag, 3);
      assert.equal(p!.trunks, [10, 20]);
      assert.is(p!.portIds["ovs-vif-owner"], "ganeti");
      assert.is(p!.ifaceIds["ganeti-instance"], INST);
      assert.is(p!.ifaceIds["ganeti-nic-index"], "0");
      assert.is(p!.ifaceIds["attached-mac"], MAC);
      const uuid = (await w.gnt("gnt-instance", "list", "--no-headers", "-o", "nic.uuids", INST)).trim();
      assert.is(`['${p!.ifaceIds["ganeti-nic-uuid"]}']`, uuid, "NIC UUID from Ganeti");
      assert.is(p!.ifaceIds["iface-id"], p!.ifaceIds["ganeti-nic-uuid"]);
      assert.is(`${p!.rate}/${p!.burst}`, "100000/78125", "ingress policing from ovs-vif:rate:100M");
      assert.ok((p!.ofport ?? -1) > 0);
      w.reference = portColumns(p!);
      await w.checkPlacement(w.n1, w.n2, "after start on node1");
      await w.checkPings("after start on node1");
    },
  );
}

/** Stop, start and remove on node2, after everything else the guest went through. */
export function registerStopAndRemove(w: World): void {
  // ------------------------------------------------------------------ stop, remove on node2
  // ------------------------------------------------------------------ stop, remove on node2
  w.scenario("stop, start and remove (while running) on node2: no port of the instance remains on node2 (nor on node1)", async () => {
    assertHookOk(await w.gnt("gnt-instance", "stop", "--timeout=0", INST), "instance-stop");
    assert.equal(await w.placement(), { pnode: w.n2.name, status: "ADMIN_down" });
    assert.equal(await instancePorts(w.n2, INST), [], `after stop: no port on ${w.n2.name}`);
    assertHookOk(await w.gnt("gnt-instance", "start", INST), "instance-start");
    const tap = await nicTap(w.n2, INST);
    assert.equal(
      (await instancePorts(w.n2, INST)).map((p) => p.name),
      [tap],
      "started again: one port",
    );
    assertHookOk(await w.gnt("gnt-instance", "remove", "-f", "--shutdown-timeout=0", INST), "instance-remove");
    assert.is((await w.gnt("gnt-instance", "list", "--no-headers", "-o", "name")).trim(), "");
    for (const n of [w.n2, w.n1]) assert.equal(await instancePorts(n, INST), [], `after remove: no port on ${n.name}`);
    const left = (await w.n2.vsctl("list-ports", OVS_BRIDGE)).split("\n").filter(Boolean);
    assert.equal(left, [UPLINK]);
    console.log(`  stop: no port on ${w.n2.name}; start: ${tap}; remove: ${w.n2.name} ${OVS_BRIDGE} ports ${left.join(",")}, none on ${w.n1.name}`);
  });
}
