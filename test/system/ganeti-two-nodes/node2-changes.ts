// Changes made from the master to the instance once it runs on node2: its
// VLANs (gnt-instance modify, `ovs-vif vlan add`), its QoS (`ovs-vif qos
// set/unset`, `reconcile --cluster`), and what status and doctor --cluster
// say when node2's instance-modify hook is missing and a change goes by it.
// Apart from the moves: each change is applied in place on node2 by a hook
// or by ovs-vif reaching node2 from the master.
import * as assert from "uvu/assert";
import type { GanetiNode } from "../../harness/ganeti-cluster.ts";
import { instancePorts, qemuPid } from "../../harness/ganeti-instance.ts";
import { configOnly } from "../../harness/ganeti-release.ts";
import { startWatch } from "../../harness/ganeti-watch.ts";
import { ping } from "../../harness/ping.ts";
import { assertHookOk, describe, G10, G20, G3, INST, type World } from "./world.ts";

export function registerNode2Changes(w: World): void {
  // ------------------------------------------------------------------ VLAN changes for an instance on node2
  async function vlans(): Promise<string> {
    return (await w.gnt("gnt-instance", "list", "--no-headers", "-o", "nic.vlans", INST)).trim();
  }

  w.scenario(
    "from the master, gnt-instance modify --net 0:modify,vlan=.4 for the instance on node2: applied in place on node2 by the instance-modify hook (same Port row, same QEMU); untagged now in VLAN 4",
    async () => {
      const pid = await qemuPid(w.n2, INST);
      const [before] = await instancePorts(w.n2, INST);
      const out = await w.gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.4", INST);
      assertHookOk(out, "instance-modify");
      assert.is(await vlans(), "['.4']");
      const [after, ...more] = await instancePorts(w.n2, INST);
      assert.equal(more, []);
      assert.is(after!.vlan_mode, "access");
      assert.is(after!.tag, 4);
      assert.equal(after!.trunks, []);
      assert.is(after!.uuid, before!.uuid, "same Port _uuid");
      assert.is(after!.ofport, before!.ofport, "same OpenFlow port");
      assert.is(`${after!.rate}/${after!.burst}`, "100000/78125", "QoS kept");
      assert.is(await qemuPid(w.n2, INST), pid, "same QEMU");
      assert.equal(await instancePorts(w.n1, INST), [], `nothing on ${w.n1.name}`);
      await Promise.all([w.assertReach("pv4", G3, true, "vlan .4"), w.assertReach("pv3", G3, false, "vlan .4"), w.assertReach("pv10", G10, false, "vlan .4")]);
      console.log(
        `  ${w.n2.name}: ${after!.name} vlan_mode access tag 4 trunks [], same Port _uuid, ofport ${after!.ofport}, QEMU ${pid}; pings: VLAN 4 -> ${G3} ok, VLAN 3 and VLAN 10 unreachable`,
      );
    },
  );

  w.scenario(
    "from the master, ovs-vif vlan add INST 0 20 for the instance on node2: Ganeti has .4:20; node2's port changed in place by the hook; VLAN 20 answers",
    async () => {
      const [before] = await instancePorts(w.n2, INST);
      const pid = await qemuPid(w.n2, INST);
      // The native VLAN 4 under a ping every 50 ms while the trunk VLAN is added.
      const { result: r, v3: v4 } = await w.underPing(() => w.n1.run("ovs-vif", ["vlan", "add", INST, "0", "20"], 120000), w.peers.pv4!);
      console.log(
        `  ovs-vif vlan add ${INST} 0 20 on ${w.n1.name}: exit ${r.code}; stdout: ${r.stdout.trim().split("\n").join(" | ") || "-"}; stderr: ${r.stderr.trim().split("\n").join(" | ") || "-"}`,
      );
      assert.is(r.code, 0, r.stderr);
      console.log(
        `  vlan add on the running guest: Port _uuid ${before!.uuid} before, ${(await instancePorts(w.n2, INST))[0]?.uuid} after; QEMU ${pid}; ping every 50 ms on VLAN 4 during it: ${describe(v4)}`,
      );
      assert.ok(v4.lost <= 1, `VLAN 4 during vlan add: ${describe(v4)}`);
      assert.is(await qemuPid(w.n2, INST), pid, "same QEMU");
      assert.is(await vlans(), "['.4:20']");
      const [after, ...more] = await instancePorts(w.n2, INST);
      assert.equal(more, []);
      assert.is(after!.vlan_mode, "native-untagged");
      assert.is(after!.tag, 4);
      assert.equal(after!.trunks, [20]);
      assert.is(after!.uuid, before!.uuid, "same Port _uuid");
      assert.equal(await instancePorts(w.n1, INST), [], `nothing on ${w.n1.name}`);
      await Promise.all([
        w.assertReach("pv20", G20, true, "vlan .4:20"),
        w.assertReach("pv4", G3, true, "vlan .4:20"),
        w.assertReach("pv10", G10, false, "vlan .4:20"),
      ]);
      console.log(
        `  ${w.n2.name}: ${after!.name} vlan_mode native-untagged tag 4 trunks [20], same Port _uuid; pings: VLAN 20 -> ${G20} ok, VLAN 4 ok, VLAN 10 unreachable`,
      );
    },
  );

  // ------------------------------------------------------------------ QoS for an instance on node2
  const policing = async (node: GanetiNode) => {
    const [p, ...more] = await instancePorts(node, INST);
    assert.equal(more, [], `one port on ${node.name}`);
    return p ? { uuid: p.uuid, rates: `${p.rate}/${p.burst}` } : undefined;
  };

  w.scenario(
    "from the master, ovs-vif qos set / unset for the instance on node2 change node2's port in place; ovs-vif reconcile --cluster finds both nodes in line",
    async () => {
      const before = await policing(w.n2);
      assert.is(before?.rates, "100000/78125");
      const attempt = async (...args: string[]) => {
        const r = await w.n1.run("ovs-vif", args, 180000);
        console.log(`  ovs-vif ${args.join(" ")} on ${w.n1.name}: exit ${r.code}; ${(r.stdout + r.stderr).trim().split("\n").join(" | ")}`);
        return r;
      };
      const run = async (...args: string[]) => {
        const r = await attempt(...args);
        assert.is(r.code, 0, r.stderr);
        return r.stdout;
      };
      assert.match(await run("qos", "set", INST, "0", "--rate", "50M"), `applied on ${w.n2.name}`);
      assert.equal((await w.gnt("gnt-instance", "list-tags", INST)).trim().split("\n").sort(), ["ovs-vif:nic:0:rate:50M", "ovs-vif:rate:100M"]);
      assert.equal(await policing(w.n2), { uuid: before!.uuid, rates: "50000/39062" }, "node2's port has the NIC tag's rate, same Port row");
      await run("qos", "unset", INST, "0");
      assert.equal(await policing(w.n2), { uuid: before!.uuid, rates: "100000/78125" }, "back to the instance tag's rate");
      assert.match(await run("reconcile", "--cluster"), /reconcile --cluster: 1 instances, 2 of 2 nodes in line/);
      assert.equal(await policing(w.n2), { uuid: before!.uuid, rates: "100000/78125" }, "unchanged by reconcile");
      assert.is(await policing(w.n1), undefined, `nothing on ${w.n1.name}`);
      assert.ok(await ping(w.peers.pv4!, G3), "the guest still answers");
    },
  );

  // ------------------------------------------------------------------ status and doctor
  const MODIFY_LINK = "/etc/ganeti/hooks/instance-modify-post.d/ovs-vif";

  w.scenario(
    "status --cluster and doctor --cluster from the master: ok; instance-modify link removed on node2: doctor fails naming it, a VLAN change then leaves node2's port in drift naming tag; link restored, reconcile --cluster: ok",
    async () => {
      const watches = [await startWatch(w.n1), await startWatch(w.n2)];
      try {
        const show = async (what: string, args: string[], expect: number) => {
          const r = await w.n1.run("ovs-vif", args, 180000);
          console.log(`  ${what}: ovs-vif ${args.join(" ")} (exit ${r.code}):\n${(r.stdout + r.stderr).trimEnd().replace(/^/gm, "    ")}`);
          assert.is(r.code, expect, `${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
          return r.stdout;
        };
        const totalRow = (text: string) => text.split("\n").find((l) => l.startsWith("total"));
        await show("in line", ["status", "--cluster"], 0);
        const doctorOk = await show("in line", ["doctor", "--cluster"], 0);
        // node2's copies (from the node-add hook) are the master's.
        for (const what of ["switch spec", "QoS defaults"]) assert.match(doctorOk, new RegExp(`^${w.n2.name}: ok   ${what} = master's`, "m"), what);
        assert.match(
          doctorOk,
          new RegExp(`^${w.n2.name}: ok   ganeti kvm-vif-bridge: /etc/ganeti/kvm-vif-bridge runs /usr/lib/ovs-vif/kvm-vif-bridge -> ovs-vif$`, "m"),
        );

        const [before] = await instancePorts(w.n2, INST);
        await w.n2.must("rm", [MODIFY_LINK]);
        try {
          const doc = await show("link removed on node2", ["doctor", "--cluster"], 1);
          assert.match(doc, new RegExp(`${w.n2.name}: fail .*${MODIFY_LINK.replace(/[.]/g, "\\.")}`));
          assert.not.match(doc, new RegExp(`${w.n1.name}: fail`));
          assertHookOk(await w.gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.9", INST), "instance-modify");
          const [stale] = await instancePorts(w.n2, INST);
          assert.is(stale!.tag, 4, "without the hook the running port keeps VLAN 4");
          const st = await show("VLAN changed without the hook", ["status", "--cluster"], 1);
          assert.match(st, new RegExp(`${w.n2.name}\\s+\\d+\\s+\\d+\\s+1\\s`), "node2: one port in drift");
          assert.match(totalRow(st) ?? "", /NOT ok/);
          const local = await w.n2.run("ovs-vif", ["status", "--instance", INST]);
          console.log(`  on ${w.n2.name}: ovs-vif status --instance ${INST} (exit ${local.code}):\n${local.stdout.trimEnd().replace(/^/gm, "    ")}`);
          assert.is(local.code, 1);
          assert.match(local.stdout, new RegExp(`${before!.name}.*drift.*tag`));
        } finally {
          await w.n2.must("ln", ["-sfn", "/usr/lib/ovs-vif/ovs-vif", MODIFY_LINK]);
        }
        assert.match(await show("link restored", ["reconcile", "--cluster"], 0), /2 of 2 nodes in line/);
        const [after] = await instancePorts(w.n2, INST);
        assert.equal([after!.uuid, after!.vlan_mode, after!.tag], [before!.uuid, "access", 9], "reconciled in place to access VLAN 9");
        await show("reconciled", ["status", "--cluster"], 0);
        await show("reconciled", ["doctor", "--cluster"], 0);
      } finally {
        for (const watch of watches) await watch.stop();
      }
    },
  );
}
