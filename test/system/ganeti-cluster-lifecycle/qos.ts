// QoS in the lifecycle test: instance, per-NIC and network tags at start
// (read back with `ovs-vif qos show`), tags removed and `ovs-vif reconcile`,
// `ovs-vif qos set` on the running instance; every port changed in place.
// Apart from the VLAN scenarios; it starts the two instances they use.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NODE, OVS_BRIDGE } from "../../harness/ganeti-cluster.ts";
import { assertHookOk, INST1, INST2, NET, rates, type World } from "./world.ts";
import { addInstanceArgs } from "../../harness/ganeti-instance.ts";

export function registerQos(w: World): void {
  // ------------------------------------------------------------------ QoS
  test("instance tags + network tag at start: NIC 0 100M, NIC 1 10M (per-NIC tag), network NIC 100M (instance tag beats network tag), untagged instance in the network 1G", async () => {
    await w.gnt(
      "gnt-instance",
      ...addInstanceArgs(INST1, NODE, [
        `0:mode=openvswitch,link=${OVS_BRIDGE},vlan=.3,mac=aa:00:00:00:00:01`,
        `1:mode=openvswitch,link=${OVS_BRIDGE},mac=aa:00:00:00:00:02`,
        `2:network=${NET},mac=aa:00:00:00:00:03`,
      ]),
    );
    await w.gnt("gnt-instance", "add-tags", INST1, "ovs-vif:rate:100M", "ovs-vif:nic:1:rate:10M");
    await w.gnt("gnt-instance", ...addInstanceArgs(INST2, NODE, [`0:network=${NET},mac=aa:00:00:00:00:11`]));
    // The network NICs take mode and link from the group's connection.
    assert.is(
      (await w.gnt("gnt-instance", "list", "--no-headers", "--separator=|", "-o", "nic.modes,nic.links,nic.networks.names", INST1, INST2)).trim(),
      `openvswitch,openvswitch,openvswitch|${OVS_BRIDGE},${OVS_BRIDGE},${OVS_BRIDGE}|[None, None, '${NET}']\nopenvswitch|${OVS_BRIDGE}|['${NET}']`,
    );
    assertHookOk(await w.gnt("gnt-instance", "start", INST1), "instance-start");
    assertHookOk(await w.gnt("gnt-instance", "start", INST2), "instance-start");
    assert.is(await w.status(INST1), "running");
    assert.is(await w.status(INST2), "running");
    w.t1 = await w.taps(INST1, 3);
    w.t2 = await w.taps(INST2, 1);
    const want: [string, string, string, string][] = [
      [INST1, w.t1[0]!, "100000/78125", "instance tag ovs-vif:rate:100M"],
      [INST1, w.t1[1]!, "10000/7812", "NIC tag ovs-vif:nic:1:rate:10M"],
      [INST1, w.t1[2]!, "100000/78125", "instance tag ovs-vif:rate:100M over network tag ovs-vif:rate:1G"],
      [INST2, w.t2[0]!, "1000000/781250", "network tag ovs-vif:rate:1G"],
    ];
    for (const [inst, tap, expect, from] of want) {
      const p = await w.port(tap);
      assert.is(p.ifaceIds["ganeti-instance"], inst);
      assert.is(rates(p), expect, `${inst} ${tap}: ${from}`);
      w.uuids[tap] = p.uuid;
      console.log(`  start: ${inst} NIC ${p.ifaceIds["ganeti-nic-index"]} -> ${tap} ingress_policing_rate/burst ${rates(p)} (${from})`);
    }
    // Where each value comes from, as `ovs-vif qos show` reads Ganeti.
    const show = await w.ovsVif("qos", "show");
    assert.is(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      new RegExp(
        `${INST1}\\s+2\\s+openvswitch\\s+100000\\s+78125\\s+instance tag "ovs-vif:rate:100M"\\s+default: 80% of rate\\s+0\\s+0\\s+none\\s+none\\s+${w.t1[2]}`,
      ),
    );
    assert.match(
      show.stdout,
      new RegExp(
        `${INST2}\\s+0\\s+openvswitch\\s+1000000\\s+781250\\s+network tag "ovs-vif:rate:1G"\\s+default: 80% of rate\\s+0\\s+0\\s+none\\s+none\\s+${w.t2[0]}`,
      ),
    );
    console.log(`  ovs-vif qos show: ${INST2} NIC 0 rate from network tag "ovs-vif:rate:1G" (network ${NET} found by name)`);
  });

  test("gnt-instance remove-tags + ovs-vif reconcile: NIC 0 and 1 back to 0/0, the network NIC falls back to the network's 1G, Ports not re-created", async () => {
    await w.gnt("gnt-instance", "remove-tags", INST1, "ovs-vif:rate:100M", "ovs-vif:nic:1:rate:10M");
    assert.is((await w.gnt("gnt-instance", "list-tags", INST1)).trim(), "");
    const r = await w.ovsVif("reconcile");
    assert.is(r.code, 0, r.stderr + r.stdout);
    for (const line of r.stdout.trim().split("\n")) console.log(`  ovs-vif reconcile: ${line}`);
    const want: [string, string][] = [
      [w.t1[0]!, "0/0"],
      [w.t1[1]!, "0/0"],
      [w.t1[2]!, "1000000/781250"],
      [w.t2[0]!, "1000000/781250"],
    ];
    for (const [tap, expect] of want) {
      const p = await w.port(tap);
      assert.is(rates(p), expect, tap);
      assert.is(p.uuid, w.uuids[tap], `${tap}: same Port _uuid`);
    }
    assert.match(r.stdout, new RegExp(`${INST1} ${w.t1[0]}: updated rate=0 burst=0`));
    assert.match(r.stdout, new RegExp(`${INST2} ${w.t2[0]}: unchanged rate=1000000 burst=781250`));
    console.log(`  after reconcile: ${want.map(([t, e]) => `${t} ${e}`).join(", ")}; Port _uuids unchanged`);
  });

  test("ovs-vif qos set inst1 0 --rate 50M: the tag in Ganeti, 50000/39062 on the running port, same Port", async () => {
    const r = await w.ovsVif("qos", "set", INST1, "0", "--rate", "50M");
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.is((await w.gnt("gnt-instance", "list-tags", INST1)).trim(), "ovs-vif:nic:0:rate:50M");
    const p = await w.port(w.t1[0]!);
    assert.is(rates(p), "50000/39062");
    assert.is(p.uuid, w.uuids[w.t1[0]!], "same Port _uuid");
    assert.is(rates(await w.port(w.t1[1]!)), "0/0", "NIC 1 untouched");
    console.log(
      `  ovs-vif qos set ${INST1} 0 --rate 50M: gnt-instance list-tags -> ovs-vif:nic:0:rate:50M; ${w.t1[0]} ${rates(p)}, same Port _uuid (${r.stdout.trim()})`,
    );
  });
}
