// NICs hot-plugged into the running guest on node2: one hot-added (its port
// has its VLAN and the instance's QoS; the guest's eth1 answers) and
// hot-removed, and `ovs-vif vlan set` against Ganeti's own hot-modify, which
// replaces the guest's NIC. Apart from the other changes on node2: here the
// guest's devices change, not only its port.
import * as assert from "uvu/assert";
import { OVS_BRIDGE } from "../../harness/ganeti-cluster.ts";
import { instancePorts, nicTap, qemuPid } from "../../harness/ganeti-instance.ts";
import { configOnly } from "../../harness/ganeti-release.ts";
import { ping, waitForPing } from "../../harness/ping.ts";
import { assertHookOk, G3, G31, INST, type World } from "./world.ts";

export function registerHotplug(w: World): void {
  // ------------------------------------------------------------------ hotplug on node2
  /** Options that hotplug a NIC change into the running instance: Ganeti 3.0 does it when told, 3.1 by default. */
  const hotplug = () => (configOnly().length > 0 ? [] : ["--hotplug"]);

  w.scenario(
    "a NIC hot-added to the running instance on node2 (gnt-instance modify --net add, hotplugged): its port has VLAN 31 and the instance's QoS; the guest's new eth1 answers",
    async () => {
      const before = await instancePorts(w.n2, INST);
      const out = await w.gnt("gnt-instance", "modify", ...hotplug(), "--net", `add:mode=openvswitch,link=${OVS_BRIDGE},vlan=.31,mac=aa:00:00:00:00:31`, INST);
      assertHookOk(out, "instance-modify");
      const tap = await nicTap(w.n2, INST, 1);
      const added = (await instancePorts(w.n2, INST)).find((p) => p.name === tap);
      assert.ok(added, `a port for the hot-added ${tap}: ${out}`);
      assert.equal(
        [added!.vlan_mode, added!.tag, `${added!.rate}/${added!.burst}`, added!.ifaceIds["attached-mac"]],
        ["access", 31, "100000/78125", "aa:00:00:00:00:31"],
      );
      assert.equal(
        (await instancePorts(w.n2, INST)).filter((p) => p.name !== tap).map((p) => p.uuid),
        before.map((p) => p.uuid),
        "NIC 0's port untouched",
      );
      const ms = await waitForPing(w.peers.pv31!, G31, 30000);
      assert.equal(await instancePorts(w.n1, INST), []);
      console.log(
        `  hot-add on ${w.n2.name}: ${tap} access VLAN 31, policing ${added!.rate}/${added!.burst} (instance tag); eth1 ${G31} answers from VLAN 31 after ${ms} ms`,
      );
    },
  );

  w.scenario(
    "the same NIC hot-removed (gnt-instance modify --net 1:remove, hotplugged; no NIC script runs): its tap and port are gone, nothing left; NIC 0 still answers",
    async () => {
      const tap = await nicTap(w.n2, INST, 1);
      const out = await w.gnt("gnt-instance", "modify", ...hotplug(), "--net", "1:remove", INST);
      assertHookOk(out, "instance-modify");
      assert.is((await w.n2.run("ip", ["link", "show", "dev", tap])).code, 1, `${tap} gone`);
      assert.equal(
        (await instancePorts(w.n2, INST)).map((p) => p.name),
        [await nicTap(w.n2, INST, 0)],
        "only NIC 0's port",
      );
      assert.ok(!(await w.n2.vsctl("list-ports", OVS_BRIDGE)).split("\n").includes(tap), `${tap} not on ${OVS_BRIDGE}`);
      assert.is(await ping(w.peers.pv31!, G31), false, "eth1 gone");
      await w.assertReach("pv9", G3, true, "NIC 0 (access VLAN 9) after the hot-remove");
      console.log(
        `  hot-remove on ${w.n2.name}: ${tap} and its port gone (the instance-modify post hook removed the port of the vanished tap); NIC 0 answers on VLAN 9`,
      );
    },
  );

  w.scenario(
    "ovs-vif vlan set (--no-hotplug, the port changed in place) against Ganeti's own hot-modify (-f): the first keeps the guest's NIC, which answers on the new VLAN at once; the second removes the guest's NIC and adds a new one, whose eth0 has no address",
    async () => {
      const [before] = await instancePorts(w.n2, INST);
      const pid = await qemuPid(w.n2, INST);
      const r = await w.n1.run("ovs-vif", ["vlan", "set", INST, "0", ".3"], 120000);
      assert.is(r.code, 0, r.stderr);
      const ours = await waitForPing(w.peers.pv3!, G3, 10000);
      const [mid] = await instancePorts(w.n2, INST);
      assert.equal([mid!.uuid, mid!.tag, await qemuPid(w.n2, INST)], [before!.uuid, 3, pid], "same port row, same QEMU");
      console.log(`  ovs-vif vlan set .9 -> .3: Port _uuid ${before!.uuid} kept, tag ${mid!.tag}; VLAN 3 answers ${ours} ms after it returned`);
      const out = await w.gnt("gnt-instance", "modify", ...hotplug(), "-f", "--net", "0:modify,vlan=.4", INST);
      assertHookOk(out, "instance-modify");
      const after = await instancePorts(w.n2, INST);
      const answered = await waitForPing(w.peers.pv4!, G3, 10000).then(
        () => true,
        () => false,
      );
      console.log(
        `  Ganeti hot-modify .3 -> .4: port ${mid!.name} ${mid!.uuid} -> ${after.map((p) => `${p.name} ${p.uuid} tag ${p.tag}`).join(", ")}; QEMU ${await qemuPid(w.n2, INST)}; 10 s later VLAN 4 ${answered ? "answers" : "gets no answer (the guest's new NIC has no address)"}`,
      );
      assert.is(after.length, 1, "one port: the removed NIC's went");
      assert.is(after[0]!.tag, 4, "the new NIC's port has the new VLAN");
      assert.not.equal(after[0]!.uuid, mid!.uuid, "a new port for a new device");
      assert.not.ok(answered, "the guest lost its interface configuration");
    },
  );
}
