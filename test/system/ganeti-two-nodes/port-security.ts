// Port security of the guest's NIC, turned on from the master with Ganeti
// tags (ovs-vif:port-security:on and an allow-address per address the guest
// sends from) and applied where the guest runs by `ovs-vif reconcile
// --cluster`; a live migration takes it to the new primary, whose flows are
// in before the guest runs there, and leaves none on the old one; the tags
// removed, the flows go. Apart from the other changes: what it checks is
// the flow tables of both nodes and the guest's traffic through them.
import * as assert from "uvu/assert";
import { OVS_BRIDGE, type GanetiNode } from "../../harness/ganeti-cluster.ts";
import { assertHookOk, describe, G10, G20, G3, INST, MAX_GAP_MS, MAX_LOST, secs, type World } from "./world.ts";

const TAGS = ["ovs-vif:port-security:on", `ovs-vif:allow-address:${G3}`, `ovs-vif:allow-address:${G10}`, `ovs-vif:allow-address:${G20}`];

/** ovs-vif's port-security flows on a node's bridge. */
async function ownFlows(node: GanetiNode): Promise<number> {
  const out = await node.must("ovs-ofctl", ["-O", "OpenFlow14", "--no-stats", "dump-flows", OVS_BRIDGE, "cookie=0x6f76737600000000/0xffffffff00000000"]);
  return out.split("\n").filter((l) => l.includes("cookie=")).length;
}

export function registerPortSecurity(w: World): void {
  w.scenario(
    "port security from Ganeti tags (on, and the guest's addresses allowed): reconcile --cluster puts the flows where the guest runs; a live migration moves them under a ping (none left on the old primary); the tags removed, they go",
    async () => {
      const reconcile = async () => {
        const r = await w.n1.run("ovs-vif", ["reconcile", "--cluster"], 180000);
        assert.is(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /2 of 2 nodes in line/);
      };
      const { pnode } = await w.placement();
      const here = pnode === w.n1.name ? w.n1 : w.n2;
      const there = here === w.n1 ? w.n2 : w.n1;
      await w.gnt("gnt-instance", "add-tags", INST, ...TAGS);
      await reconcile();
      const flows = await ownFlows(here);
      assert.ok(flows > 0, `flows on ${here.name}`);
      assert.is(await ownFlows(there), 0, `none on ${there.name}`);
      await w.checkPings(`port security on, on ${here.name}`);
      const status = JSON.parse(await here.must("ovs-vif", ["status", "--json", "--instance", INST])) as {
        ports: { port_security?: string; state: string; flows?: number }[];
      };
      assert.equal(
        status.ports.map((p) => [p.port_security, p.state, p.flows]),
        [["on", "ok", flows]],
        "status on the primary: on, ok, its flows",
      );
      const moved = async (from: GanetiNode, to: GanetiNode) => {
        const { result, v3, v10 } = await w.underPing(async () => {
          const t0 = Date.now();
          return { out: await w.gnt("gnt-instance", "migrate", "-f", "-n", to.name, INST), ms: Date.now() - t0 };
        });
        assertHookOk(result.out, "instance-migrate");
        console.log(`  migration with port security ${from.name} -> ${to.name}: ${secs(result.ms)}; VLAN 3 ${describe(v3)}; VLAN 10 ${describe(v10)}`);
        for (const s of [v3, v10]) {
          assert.ok(s.lost <= MAX_LOST, `${s.lost} lost (bound ${MAX_LOST})`);
          assert.ok(s.longestGapMs < MAX_GAP_MS, `longest gap ${s.longestGapMs} ms (bound ${MAX_GAP_MS})`);
        }
        assert.is(await ownFlows(to), flows, `the same ${flows} flows on ${to.name}`);
        assert.is(await ownFlows(from), 0, `none left on ${from.name}`);
        await w.checkPings(`port security on, after migration to ${to.name}`);
      };
      await moved(here, there);
      await moved(there, here);
      await w.gnt("gnt-instance", "remove-tags", INST, ...TAGS);
      await reconcile();
      assert.equal([await ownFlows(w.n1), await ownFlows(w.n2)], [0, 0], "the tags removed: no flows on either node");
      await w.checkPings("port security off again");
    },
  );
}
