// Ganeti's hooks on OVN networks and instances: network-rename (pre hook
// refusing a name another logical switch has, post hook renaming the
// network's switch on the master only, NICs plugging by the new name, a
// tagged network's switch left alone) against a fake Ganeti, and
// instance-remove taking the instance's logical port. Apart from the
// migration hook, which is part of the migration test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installFakeGaneti } from "../../harness/fake-ganeti.ts";
import { must } from "../../harness/proc.ts";
import { runBinary } from "../../harness/ovs.ts";
import { A, B, kvm, report, type World } from "./world.ts";

export function registerHooks(w: World): void {
  test("network-rename (Ganeti 3.1) on the master: the pre hook refuses a name another logical switch has; the post hook renames the network's switch, and NICs plug by the new name; a tagged network's switch and every OVS port stay; other nodes do nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovs-vif-ovn-rename-"));
    const gnt = installFakeGaneti(dir, {
      instances: [],
      networks: [
        { name: "net1", tags: [] },
        { name: "net9", tags: [] },
      ],
    });
    const hook = (phase: string, oldName: string, newName: string, node = "n1") =>
      runBinary(w.c1.ovs, [], {
        env: {
          ...gnt.env,
          OVS_VIF_OVN: w.config,
          OVS_VIF_NODE_NAME: node,
          GANETI_HOOKS_VERSION: "2",
          GANETI_HOOKS_PHASE: phase,
          GANETI_HOOKS_PATH: "network-rename",
          GANETI_OBJECT_TYPE: "NETWORK",
          GANETI_MASTER: "n1",
          GANETI_OLD_NAME: oldName,
          GANETI_NEW_NAME: newName,
        },
      });
    try {
      const ovsBefore = await w.c1.ovs.dump();
      // Another switch has the new name: the rename would move net1's NICs onto it.
      await w.ovn.nbctl("ls-add", "net8");
      let nb = await w.nbDump();
      let r = await hook("pre", "net1", "net8");
      assert.is(r.code, 1, r.stderr);
      assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(
        r.stderr.trim(),
        /^ovs-vif: error: network-rename: GANETI_NEW_NAME "net8": a logical switch of that name exists already in unix:.*: the network's OVN NICs \(on logical switch net1\) would move onto it/,
      );
      assert.is(await w.nbDump(), nb, "NB unchanged");
      await w.ovn.nbctl("ls-del", "net8");
      nb = await w.nbDump();
      // Not the master: nothing; the pre phase only checks.
      for (const [phase, node] of [
        ["post", "n2"],
        ["pre", "n1"],
      ] as const) {
        r = await hook(phase, "net1", "net9", node);
        assert.is(r.code, 0, r.stderr);
        assert.is(await w.nbDump(), nb, `${phase} on ${node}: NB unchanged`);
      }
      r = await hook("post", "net1", "net9");
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stderr, /network-rename post: renamed logical switch net1 to net9/);
      assert.match(await w.ovn.nbctl("lsp-list", "net9"), new RegExp(A.uuid), "the network's logical ports moved with the name");
      assert.is(await w.c1.ovs.dump(), ovsBefore, "no OVS port changed by the hooks");
      const replug = await kvm(w.c1, w.nicEnv(w.a, A, { NETWORK_NAME: "net9" }));
      assert.is(replug.code, 0, replug.stderr);
      assert.match(replug.stderr, new RegExp(`lsp=${A.uuid} ls=net9`));
      assert.is((await w.ovn.ping(w.a, B.ip, { count: 3 })).received, 3, "a answers after the rename");
      const ovsReplugged = await w.c1.ovs.dump();
      // A network whose tag names its switch: the switch keeps its name.
      gnt.setState({ ...gnt.state(), networks: [{ name: "net1", tags: ["ovs-vif:ovn-switch:net9"] }] });
      nb = await w.nbDump();
      r = await hook("post", "net9", "net1");
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stderr, /its logical switch is net9 \(tag ovs-vif:ovn-switch:net9\): nothing to rename/);
      assert.is(await w.nbDump(), nb, "tagged: NB unchanged");
      // Back to net1 for the tests after this one.
      gnt.setState({ ...gnt.state(), networks: [{ name: "net1", tags: [] }] });
      assert.is((await hook("post", "net9", "net1")).code, 0);
      assert.match(await w.ovn.nbctl("lsp-list", "net1"), new RegExp(A.uuid));
      assert.is(await w.c1.ovs.dump(), ovsReplugged, "no OVS port changed by the hooks");
      report(
        "network-rename: refused onto an existing switch (NB unchanged), renamed net1 -> net9 on the master, re-plugged by the new name, tagged network left alone",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("instance-remove: its logical port goes with it", async () => {
    const hook = {
      OVS_VIF_OVN: w.config,
      GANETI_HOOKS_VERSION: "2",
      GANETI_HOOKS_PHASE: "post",
      GANETI_HOOKS_PATH: "instance-remove",
      GANETI_OBJECT_TYPE: "INSTANCE",
      GANETI_INSTANCE_NAME: "inst-a",
      GANETI_INSTANCE_PRIMARY: "n1",
      GANETI_INSTANCE_NIC_COUNT: "1",
      GANETI_INSTANCE_NIC0_UUID: A.uuid,
      GANETI_INSTANCE_NIC0_MODE: "openvswitch",
      GANETI_INSTANCE_NIC0_LINK: "br-int",
      OVS_VIF_NODE_NAME: "n1",
    };
    await must("ip", ["netns", "exec", w.c1.ovs.ns, "ip", "link", "del", w.a.hostIf]);
    const r = await runBinary(w.c1.ovs, [], { env: hook });
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`removed logical port ${A.uuid} of inst-a`), r.stdout + r.stderr);
    assert.not.match(await w.ovn.nbctl("lsp-list", "net1"), new RegExp(A.uuid));
  });
}
