// The two-node test's switches (ganeti-two-nodes.test.ts): what node2 got
// from the master's node-add hook (switch spec, QoS defaults, its group's
// switch), and switches made and removed by gnt-network connect/disconnect
// on the two-node group. Apart from the guest's scenarios: these look at
// bridges on the nodes, not at the instance.
import * as assert from "uvu/assert";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { oracleOf, type GanetiNode } from "../../harness/ganeti-cluster.ts";
import { listRows } from "../../harness/oracle.ts";
import { assertHookOk, type World } from "./world.ts";

async function bridgeRow(node: GanetiNode, name: string): Promise<Record<string, unknown> | undefined> {
  return (await listRows(oracleOf(node), "Bridge")).find((b) => b.name === name);
}

async function internalOfport(node: GanetiNode, name: string): Promise<unknown> {
  return (await listRows(oracleOf(node), "Interface")).find((i) => i.name === name)?.ofport;
}

/** The first scenario: the node-add hook's work, done in the set-up. */
export function registerNodeAdd(w: World): void {
  // ------------------------------------------------------------------ node-add
  w.scenario(
    "gnt-node add node2 (in the set-up, nothing else run): node2 got the master's switch spec and QoS defaults and its group's switch gntnode, running",
    async () => {
      const out = w.cluster!.nodeAddOutput[w.n2.name] ?? "";
      assertHookOk(out, "node-add");
      for (const file of ["switches.json", "defaults.json"]) {
        const theirs = await w.n2.must("cat", [`/etc/ovs-vif/${file}`]);
        assert.is(theirs, readFileSync(join(w.n1.dir, "root/etc/ovs-vif", file), "utf8"), `node2's /etc/ovs-vif/${file} is the master's`);
      }
      // Ganeti copied the master's /etc/ganeti/kvm-vif-bridge to node2 (its
      // ancillary files): ovs-vif's small script, the same everywhere.
      assert.is(await w.n2.must("cat", ["/etc/ganeti/kvm-vif-bridge"]), await w.n1.must("cat", ["/etc/ganeti/kvm-vif-bridge"]));
      assert.match(await w.n2.must("cat", ["/etc/ganeti/kvm-vif-bridge"]), /^#!\/bin\/sh\n.*\nexec \/usr\/lib\/ovs-vif\/kvm-vif-bridge "\$@"\n$/s);
      const b = await bridgeRow(w.n2, "gntnode");
      assert.ok(b, `gntnode on ${w.n2.name}`);
      assert.is(b!.datapath_type, "netdev");
      assert.equal(b!.external_ids, { "ovs-vif-switch": "managed" });
      assert.is(await internalOfport(w.n2, "gntnode"), 65534, `ovs-vswitchd runs gntnode on ${w.n2.name}`);
      // Whether the copies are the master's is doctor --cluster's part (it
      // hands the nodes the master's digests); here: they parse.
      const doctor = await w.n2.run("ovs-vif", ["doctor"]);
      const parsed = doctor.stdout.split("\n").filter((l) => /switch spec parses|QoS defaults parse/.test(l));
      assert.is(parsed.length, 2, doctor.stdout);
      for (const l of parsed) assert.match(l, /: ok /, l);
      // The master had the spec first: the operator applies it there once.
      const applied = await w.n1.must("ovs-vif", ["switch", "apply", "--group", "default"]);
      assert.match(applied, /gntnode: applied/);
      console.log(
        `  gnt-node add ${w.n2.name}: spec and defaults copied from the master, gntnode (netdev, managed) running there; its doctor: ${parsed.join(" | ")}; on the master: ${applied.trim().split("\n").join(" | ")}`,
      );
    },
  );
}

/** The last scenarios: gnt-network connect and disconnect on the two-node group. */
export function registerNetworks(w: World): void {
  // ------------------------------------------------------------------ networks

  w.scenario(
    "gnt-network connect mode=openvswitch,link=gntnet with no switches.json on the nodes: a bare switch on the default datapath, which ovs-vswitchd here cannot run: each node's hook refuses in one line naming datapath_type, nothing is created",
    async () => {
      for (const n of [w.n1, w.n2]) rmSync(join(n.dir, "root/etc/ovs-vif/switches.json"), { force: true });
      const types = (await w.n1.vsctl("get", "Open_vSwitch", ".", "datapath_types")).trim();
      await w.gnt("gnt-network", "add", "--network=198.51.100.96/28", "net2");
      const out = await w.gnt("gnt-network", "connect", "--nic-parameters", "mode=openvswitch,link=gntnet", "net2", "default");
      if (/\bsystem\b/.test(types)) {
        // Nodes with the kernel datapath: the bare switch works there.
        assertHookOk(out, "network-connect");
        for (const n of [w.n1, w.n2]) assert.is(await internalOfport(n, "gntnet"), 65534, `gntnet runs on ${n.name}`);
      } else {
        for (const n of [w.n1, w.n2]) {
          assert.is(await bridgeRow(n, "gntnet"), undefined, `no gntnet on ${n.name}`);
        }
        // Ganeti names the nodes by UUID here, one line per node.
        const refusals = out
          .split("\n")
          .filter((l) =>
            /On \S+ script network-connect-post\.d\/ovs-vif failed, output: .*gntnet datapath_type "system": ovs-vswitchd on this node runs only netdev/.test(
              l,
            ),
          );
        assert.is(refusals.length, 2, out);
        console.log(`  connect: refused on both nodes (ovs-vswitchd datapath_types ${types}): ${refusals[0]!.trim()}`);
      }
      assertHookOk(await w.gnt("gnt-network", "disconnect", "net2", "default"), "network-disconnect");
    },
  );

  w.scenario(
    "a managed switch in switches.json (gnt-cluster copyfile to node2): gnt-network connect creates it on both nodes, disconnect removes it from both",
    async () => {
      const spec = {
        version: 1,
        defaults: { datapath_type: "netdev" },
        switches: [{ name: "gntsw", managed: true, networks: ["net3"] }],
        node_groups: { default: { switches: [] } },
      };
      writeFileSync(join(w.n1.dir, "root/etc/ovs-vif/switches.json"), `${JSON.stringify(spec, null, 2)}\n`);
      await w.gnt("gnt-cluster", "copyfile", "/etc/ovs-vif/switches.json");
      assert.equal(JSON.parse(await w.n2.must("cat", ["/etc/ovs-vif/switches.json"])), spec, "the spec on node2");
      await w.gnt("gnt-network", "add", "--network=198.51.100.112/28", "net3");
      assertHookOk(await w.gnt("gnt-network", "connect", "--nic-parameters", "mode=openvswitch,link=gntsw", "net3", "default"), "network-connect");
      for (const n of [w.n1, w.n2]) {
        const b = await bridgeRow(n, "gntsw");
        assert.ok(b, `gntsw on ${n.name}`);
        assert.is(b!.datapath_type, "netdev");
        assert.equal(b!.external_ids, { "ovs-vif-switch": "managed" });
        assert.is(await internalOfport(n, "gntsw"), 65534, `vswitchd runs gntsw on ${n.name}`);
      }
      console.log(`  connect: gntsw on both nodes (datapath_type netdev, ovs-vif-switch=managed, running)`);
      assertHookOk(await w.gnt("gnt-network", "disconnect", "net3", "default"), "network-disconnect");
      for (const n of [w.n1, w.n2]) assert.is(await bridgeRow(n, "gntsw"), undefined, `disconnect: gntsw gone from ${n.name}`);
      console.log(`  disconnect: gntsw removed from both nodes`);
    },
  );
}
