// A VM plugged into OVN by Ganeti's KVM NIC script: the logical port made
// in NB, the tap on br-int, bound and installed when the script returns; the
// two VMs pinging across Geneve; port security dropping forged frames;
// `ganeti-nic down` keeping the port while the device exists and releasing
// the chassis once it is gone, then a re-plug; and a missing switch, a dead
// NB and ambiguous NICs failing with one line and changing nothing. Apart
// from the later tests: these plug and unplug on one chassis at a time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { must } from "../../harness/proc.ts";
import { A, B, down, kvm, report, UUID, type World } from "./world.ts";

export function registerPlug(w: World): void {
  test("the KVM NIC script plugs a VM into OVN: logical port in NB, tap on br-int, bound and installed when it returns", async () => {
    const t = performance.now();
    const r = await kvm(w.c1, w.nicEnv(w.a, A));
    const took = performance.now() - t;
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`up ok .* lsp=${A.uuid} ls=net1 chassis=c1`));
    assert.ok(await w.ovn.installed(w.a), "ovn-installed when the script returns");
    assert.is((await w.ovn.nbctl("lsp-get-addresses", A.uuid)).trim(), `${A.mac} ${A.ip}`);
    assert.is((await w.ovn.nbctl("lsp-get-port-security", A.uuid)).trim(), `${A.mac} ${A.ip}`);
    assert.is((await w.ovn.nbctl("get", "Logical_Switch_Port", A.uuid, "options:requested-chassis")).trim(), "c1");
    assert.match(await w.ovn.nbctl("get", "Logical_Switch_Port", A.uuid, "external_ids"), /ganeti-instance=inst-a/);
    assert.is((await w.c1.vsctl("get", "Interface", w.a.hostIf, "external_ids:iface-id")).trim(), `"${A.uuid}"`);
    const bound = await w.ovn.binding(A.uuid);
    assert.is(bound?.chassis, "c1");
    const r2 = await kvm(w.c2, w.nicEnv(w.b, B));
    assert.is(r2.code, 0, r2.stderr);
    report(`plug on c1, NB to ovn-installed: ${took.toFixed(0)} ms (the whole NIC script)`);
  });

  test("the two VMs ping across Geneve", async () => {
    // The first packet to a new tunnel endpoint may be lost (neighbour cache).
    const p = await w.ovn.ping(w.a, B.ip, { count: 5 });
    assert.ok(p.received >= 4, `${p.received}/5`);
    const q = await w.ovn.ping(w.b, A.ip, { count: 3 });
    assert.is(q.received, 3);
  });

  test("port security drops a forged source MAC and a forged source IP; real frames pass", async () => {
    const real = await w.ovn.echoesReaching(w.b, () => w.ovn.sendIcmp(w.a, B, { count: 10 }), { expect: 10 });
    const mac = await w.ovn.echoesReaching(w.b, () => w.ovn.sendIcmp(w.a, B, { srcMac: "02:00:00:00:01:ee", count: 10 }), { expect: 10, windowMs: 800 });
    const ip = await w.ovn.echoesReaching(w.b, () => w.ovn.sendIcmp(w.a, B, { srcIp: "198.51.100.199", count: 10 }), { expect: 10, windowMs: 800 });
    assert.is(real, 10);
    assert.is(mac, 0, "forged MAC dropped");
    assert.is(ip, 0, "forged IP dropped");
    report(`port security: real 10/10, forged MAC ${mac}/10, forged IP ${ip}/10 reached the peer`);
  });

  test("down while the device exists (a guest asked to power off) keeps the port and the binding; once it is gone, down removes the OVS port and releases the chassis (the logical port stays); re-plug binds again", async () => {
    const nb = await w.nbDump();
    const ovs = await w.c1.ovs.dump();
    let r = await down(w.c1, w.nicEnv(w.a, A));
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /kept="the device still exists/);
    assert.equal([await w.nbDump(), await w.c1.ovs.dump()], [nb, ovs], "NB and OVS unchanged");
    assert.is((await w.ovn.ping(w.a, B.ip, { count: 3 })).received, 3, "the guest still has its network");
    // QEMU exits: the device goes; the next down (Ganeti's retry, a forced stop) cleans up.
    await must("ip", ["netns", "exec", w.c1.ovs.ns, "ip", "link", "del", w.a.hostIf]);
    r = await down(w.c1, w.nicEnv(w.a, A));
    assert.is(r.code, 0, r.stderr);
    assert.is((await w.c1.vsctl("--if-exists", "get", "Interface", w.a.hostIf, "name")).trim(), "", "OVS port gone");
    assert.match(await w.ovn.nbctl("lsp-list", "net1"), new RegExp(A.uuid), "the logical port stays");
    assert.is((await w.ovn.nbctl("--if-exists", "get", "Logical_Switch_Port", A.uuid, "options:requested-chassis")).trim(), "", "c1 released");
    // The guest starts again (a new device, the same NIC).
    w.a = await w.ovn.addVm(w.c1, "a", A);
    const again = await kvm(w.c1, w.nicEnv(w.a, A));
    assert.is(again.code, 0, again.stderr);
    assert.is((await w.ovn.ping(w.a, B.ip, { count: 3 })).received, 3);
  });

  test("a missing logical switch, a dead NB and ambiguous NICs: one line each, OVS and NB unchanged", async () => {
    const vm = await w.ovn.addVm(w.c1, "c", { mac: "02:00:00:00:01:0c", ip: "198.51.100.112" });
    const env = w.nicEnv(vm, { mac: "02:00:00:00:01:0c", ip: "198.51.100.112", uuid: UUID("0c") });
    const nb = await w.nbDump();
    const ovs = await w.c1.ovs.dump();
    const dead = join(w.ovn.dir, "dead.json");
    writeFileSync(dead, JSON.stringify({ version: 1, nb: `unix:${join(w.ovn.dir, "no-nb.sock")}` }));
    for (const [label, extra, pattern] of [
      ["missing switch", { NETWORK_NAME: "nosuch" }, /^kvm-vif-bridge: error: NETWORK_NAME "nosuch": no such logical switch in OVN's Northbound database/],
      ["dead NB", { OVS_VIF_OVN: dead }, /^kvm-vif-bridge: error: OVSDB unix:.*no-nb\.sock: ENOENT/],
      [
        "no network",
        { NETWORK_NAME: "" },
        /^kvm-vif-bridge: error: NETWORK_NAME "": not set: a NIC on the OVN integration bridge br-int needs a Ganeti network/,
      ],
      ["a VLAN", { VLAN: ".3" }, /^kvm-vif-bridge: error: VLAN "\.3": a NIC on the OVN integration bridge br-int carries no VLAN/],
      [
        "the switch tag off OVN",
        { LINK: "br-phy", NETWORK_TAGS: "ovs-vif:ovn-switch:net1" },
        /^kvm-vif-bridge: error: network tag "ovs-vif:ovn-switch:net1": names an OVN logical switch, but LINK "br-phy" is not the OVN integration bridge br-int/,
      ],
    ] as const) {
      const r = await kvm(w.c1, { ...env, ...extra });
      assert.is(r.code, 1, `${label}: ${r.stderr}`);
      assert.is(r.stderr.trim().split("\n").length, 1, `${label}: one line: ${r.stderr}`);
      assert.match(r.stderr.trim(), pattern, label);
      assert.is(await w.nbDump(), nb, `${label}: NB unchanged`);
      assert.is(await w.c1.ovs.dump(), ovs, `${label}: OVS unchanged`);
    }
  });
}
