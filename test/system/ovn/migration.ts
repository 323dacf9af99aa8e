// A live migration of b from c2 to c1: the target plugged with
// requested-chassis "c2,c1" and RARP activation, the RARP activating it, the
// instance-migrate post hook on the new primary moving the binding to c1
// alone and on the old primary removing its port, under a ping every 20 ms.
// Apart from the plug tests: the one test on both chassis at once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { longestGap } from "../../harness/ovn.ts";
import { must } from "../../harness/proc.ts";
import { runBinary } from "../../harness/ovs.ts";
import { B, kvm, report, type World } from "./world.ts";

export function registerMigration(w: World): void {
  test("live migration c2 -> c1: both chassis while it moves, the RARP activates the target, the post hook moves the binding", async () => {
    // The migrated guest: the same MAC and IP, on c1.
    const b2 = await w.ovn.addVm(w.c1, "b2", B);
    const ping = w.ovn.continuousPing(w.a, B.ip, 20);
    await new Promise((r) => setTimeout(r, 300));
    // Ganeti 3.0 runs the NIC script on the target before QEMU starts there.
    const t1 = performance.now();
    const pre = await kvm(w.c1, w.nicEnv(b2, B, { INSTANCE: "inst-b" }));
    assert.is(pre.code, 0, pre.stderr);
    assert.match(pre.stderr, /chassis=c2,c1 activation=rarp/);
    await w.ovn.waitBinding(B.uuid, (x) => x?.chassis === "c2" && x.additional.includes("c1"));
    report(
      `migration target plugged: requested-chassis c2,c1 + rarp, SB additional_chassis=[c1] ${(performance.now() - t1).toFixed(0)} ms after the script started`,
    );
    // The source stops (its last frames), the target announces itself.
    await must("ip", ["-n", w.b.ns, "link", "set", w.b.dev, "down"]);
    const switchAt = Date.now();
    await w.ovn.sendRarp(b2);
    const activated = await w.ovn.waitBinding(B.uuid, (x) => x?.options["additional-chassis-activated"] === "c1");
    // The instance-migrate post hook on the new primary: c1 alone.
    const hook = {
      OVS_VIF_OVN: w.config,
      GANETI_HOOKS_VERSION: "2",
      GANETI_HOOKS_PHASE: "post",
      GANETI_HOOKS_PATH: "instance-migrate",
      GANETI_OBJECT_TYPE: "INSTANCE",
      GANETI_POST_INSTANCE_NAME: "inst-b",
      GANETI_POST_INSTANCE_PRIMARY: "n2",
      GANETI_POST_INSTANCE_NIC_COUNT: "1",
      GANETI_POST_INSTANCE_NIC0_UUID: B.uuid,
      GANETI_POST_INSTANCE_NIC0_MAC: B.mac,
      GANETI_POST_INSTANCE_NIC0_MODE: "openvswitch",
      GANETI_POST_INSTANCE_NIC0_LINK: "br-int",
      GANETI_POST_INSTANCE_NIC0_VLAN: "",
      GANETI_POST_INSTANCE_NIC0_IP: B.ip,
      GANETI_POST_INSTANCE_NIC0_NETWORK_NAME: "net1",
      GANETI_OLD_PRIMARY: "n2",
      GANETI_NEW_PRIMARY: "n1",
      OVS_VIF_NODE_NAME: "n1",
    };
    const t2 = performance.now();
    const post = await runBinary(w.c1.ovs, [], { env: hook });
    assert.is(post.code, 0, post.stderr + post.stdout);
    assert.match(post.stdout, new RegExp(`${B.uuid}: requested-chassis c2,c1 -> c1`));
    const moved = await w.ovn.waitBinding(B.uuid, (x) => x?.chassis === "c1" && x.additional.length === 0);
    report(
      `RARP to additional-chassis-activated: ${activated.toFixed(0)} ms; post hook to SB chassis=c1 alone: ${(performance.now() - t2).toFixed(0)} ms (binding moved ${moved.toFixed(0)} ms after the hook returned)`,
    );
    await new Promise((r) => setTimeout(r, 300));
    const summary = await ping.stop();
    const gap = longestGap(summary.answers, switchAt - 2000);
    report(`ping every 20 ms across the migration: ${summary.sent} sent, ${summary.lost} lost, longest gap ${gap.toFixed(0)} ms`);
    assert.ok(summary.lost <= 10, `lost ${summary.lost}`);
    assert.ok(gap < 1000, `longest gap ${gap} ms`);
    // The old primary's hook: its port goes (the device is gone there), c2 is not requested any more.
    await must("ip", ["netns", "exec", w.c2.ovs.ns, "ip", "link", "del", w.b.hostIf]);
    const old = await runBinary(w.c2.ovs, [], { env: { ...hook, OVS_VIF_NODE_NAME: "n2" } });
    assert.is(old.code, 0, old.stderr + old.stdout);
    assert.match(old.stdout, new RegExp(`removed ${w.b.hostIf}`));
    assert.is((await w.ovn.nbctl("get", "Logical_Switch_Port", B.uuid, "options:requested-chassis")).trim(), "c1");
    assert.is((await w.ovn.ping(w.a, B.ip, { count: 3 })).received, 3, "b answers from c1");
  });
}
