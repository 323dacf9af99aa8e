// A real Ganeti 3.0 single-node cluster (KVM under TCG, diskless) with
// ovs-vif installed by install.sh --ganeti: gnt-instance add/start/stop/start
// of an instance with three openvswitch NICs (access, trunk, hybrid) and one
// bridged NIC, checked with ovs-vsctl (the oracle) and ofproto/trace; then a
// VLAN that Ganeti accepts but OVS cannot carry makes `gnt-instance start`
// fail with our message in the job error. Everything runs in private
// namespaces (test/harness/ganeti-cluster.*); nothing of the host changes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GanetiCluster, LINUX_BRIDGE, NODE, OVS_BRIDGE, UPLINK, startGanetiCluster, unavailable } from "../harness/ganeti-cluster.ts";
import { configOnly } from "../harness/ganeti-release.ts";
import { listRows, portView, type PortView } from "../harness/oracle.ts";
import type { OvsHandle } from "../harness/ovs.ts";
import { addInstanceArgs } from "../harness/ganeti-instance.ts";

const INSTANCE = "inst1.ovsvif.test";
const why = unavailable();
let cluster: GanetiCluster | undefined;
/** The oracle helpers only need vsctl. */
let oracle: OvsHandle;

if (why) {
  console.log(`SKIPPED: real Ganeti cluster test: ${why}`);
  test("real Ganeti cluster (skipped: see SKIPPED above)", () => undefined);
} else {
  test.before(async () => {
    cluster = await startGanetiCluster((line) => console.log(`  ${line}`));
    oracle = { vsctl: cluster.vsctl } as unknown as OvsHandle;
  });

  test.after(async () => {
    await cluster?.stop();
  });

  const gnt = (cmd: string, ...args: string[]) => cluster!.must(cmd, args, 180000);

  /** Ganeti 3.0 records each NIC's tap under kvm-hypervisor/nic/INSTANCE/INDEX. */
  async function taps(): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < 4; i++) out.push((await cluster!.must("cat", [`/run/ganeti/kvm-hypervisor/nic/${INSTANCE}/${i}`])).trim());
    return out;
  }

  async function status(): Promise<string> {
    return (await gnt("gnt-instance", "list", "--no-headers", "-o", "status", INSTANCE)).trim();
  }

  /** Ports on the OVS bridge that ovs-vif attached for this instance. */
  async function instancePorts(): Promise<string[]> {
    const ifaces = await listRows(oracle, "Interface");
    return ifaces
      .filter((i) => (i.external_ids as Record<string, string>)["ganeti-instance"] === INSTANCE)
      .map((i) => String(i.name))
      .sort();
  }

  const NICS: [string, string, number | null, number[]][] = [
    [".3", "access", 3, []],
    [":10:20", "trunk", null, [10, 20]],
    [".3:10:20", "native-untagged", 3, [10, 20]],
  ];

  async function checkPorts(round: string): Promise<string[]> {
    const t = await taps();
    for (let i = 0; i < 3; i++) {
      const [vlan, mode, tag, trunks] = NICS[i]!;
      const p = (await portView(oracle, t[i]!)) as PortView;
      assert.ok(p, `${round}: NIC ${i} (${t[i]}) has a port`);
      assert.is(p.bridge, OVS_BRIDGE);
      assert.is(p.vlan_mode, mode, `${round}: NIC ${i} vlan ${vlan}`);
      assert.is(p.tag, tag);
      assert.equal(p.trunks, trunks);
      assert.is(p.portIds["ovs-vif-owner"], "ganeti");
      assert.is(p.ifaceIds["ganeti-instance"], INSTANCE);
      assert.is(p.ifaceIds["ganeti-nic-index"], String(i));
      assert.ok(/^[0-9a-f-]{36}$/.test(p.ifaceIds["ganeti-nic-uuid"] ?? ""), "NIC UUID from Ganeti");
      assert.is(p.ifaceIds["iface-id"], p.ifaceIds["ganeti-nic-uuid"]);
      assert.match(p.ifaceIds["attached-mac"] ?? "", /^aa:00:00:/);
      assert.ok((p.ofport ?? -1) > 0, "vswitchd attached the tap");
      console.log(
        `  ${round}: NIC ${i} vlan=${vlan} -> port ${t[i]} vlan_mode=${p.vlan_mode} tag=${p.tag ?? "[]"} trunks=[${p.trunks.join(",")}] ofport=${p.ofport} ids ok`,
      );
    }
    // The bridged NIC: on the Linux bridge, MAC fe:..., no OVS port.
    const link = await cluster!.must("ip", ["-d", "-o", "link", "show", t[3]!]);
    assert.match(link, new RegExp(`master ${LINUX_BRIDGE}`), "bridged NIC on the Linux bridge");
    assert.match(link, /link\/ether fe:/, "bridged tap MAC starts with fe");
    assert.is(await portView(oracle, t[3]!), undefined, "bridged NIC has no OVS port");
    console.log(`  ${round}: NIC 3 bridged -> ${t[3]} master ${LINUX_BRIDGE}, MAC fe:..., no OVS port`);
    return t;
  }

  test("gnt-instance add + start: instance running, one OVS port per openvswitch NIC with explicit VLAN settings", async () => {
    await gnt(
      "gnt-instance",
      ...addInstanceArgs(INSTANCE, NODE, [
        `0:mode=openvswitch,link=${OVS_BRIDGE},vlan=.3,mac=aa:00:00:00:00:01`,
        `1:mode=openvswitch,link=${OVS_BRIDGE},vlan=:10:20,mac=aa:00:00:00:00:02`,
        `2:mode=openvswitch,link=${OVS_BRIDGE},vlan=.3:10:20,mac=aa:00:00:00:00:03`,
        `3:mode=bridged,link=${LINUX_BRIDGE},mac=aa:00:00:00:00:04`,
      ]),
    );
    await gnt("gnt-instance", "start", INSTANCE);
    assert.is(await status(), "running");
    console.log(`  instance ${INSTANCE} reached state running`);
    await checkPorts("start 1");
  });

  test("ofproto/trace on the running instance's ports: access, trunk and hybrid carry exactly their VLANs", async () => {
    const [access, trunk, hybrid] = await taps();
    const trace = async (port: string, vlan?: number) => {
      const text = await cluster!.must("ovs-appctl", [
        "ofproto/trace",
        OVS_BRIDGE,
        `in_port=${port},dl_src=aa:00:00:00:00:99,dl_dst=ff:ff:ff:ff:ff:ff${vlan ? `,dl_vlan=${vlan}` : ""}`,
      ]);
      return /Datapath actions: (.*)/.exec(text)?.[1]?.trim() ?? "";
    };
    const cases: [string, string, number | undefined, RegExp | "drop"][] = [
      ["access untagged -> VLAN 3 on the uplink", access!, undefined, /push_vlan\(vid=3/],
      ["access tagged 10 -> dropped", access!, 10, "drop"],
      ["trunk untagged -> dropped", trunk!, undefined, "drop"],
      ["trunk tagged 10 -> carried", trunk!, 10, /vid=10|[0-9]/],
      ["trunk tagged 30 -> dropped", trunk!, 30, "drop"],
      ["hybrid untagged -> VLAN 3", hybrid!, undefined, /push_vlan\(vid=3/],
      ["hybrid tagged 20 -> carried", hybrid!, 20, /[0-9]/],
      ["hybrid tagged 30 -> dropped", hybrid!, 30, "drop"],
    ];
    for (const [what, port, vlan, expect] of cases) {
      const actions = await trace(port, vlan);
      if (expect === "drop") assert.is(actions, "drop", `${what}: ${actions}`);
      else {
        assert.ok(actions !== "drop" && actions !== "", `${what}: ${actions}`);
        assert.match(actions, expect, `${what}: ${actions}`);
      }
      console.log(`  trace ${what}: ${actions}`);
    }
    void UPLINK;
  });

  test("gnt-instance stop + start (Ganeti 3.0, no down script): exactly one port per NIC afterwards, no stale or duplicate ports", async () => {
    await gnt("gnt-instance", "stop", "--timeout=0", INSTANCE);
    assert.is(await status(), "ADMIN_down");
    const stale = await instancePorts();
    // Ganeti 3.0 runs no down script; what is left here depends on whether
    // the instance-stop hook swept them. Either way the next start must end
    // with exactly one port per NIC.
    console.log(`  after stop: ${stale.length} port rows left for the vanished taps${stale.length ? `: ${stale.join(",")}` : ""}`);
    await gnt("gnt-instance", "start", INSTANCE);
    assert.is(await status(), "running");
    console.log(`  instance ${INSTANCE} reached state running again`);
    const t = await checkPorts("start 2");
    assert.equal(await instancePorts(), t.slice(0, 3).sort(), "exactly the three live taps, nothing stale");
    const all = (await cluster!.vsctl("list-ports", OVS_BRIDGE)).split("\n").filter(Boolean).sort();
    assert.equal(all, [...t.slice(0, 3), UPLINK].sort(), "no duplicates or leftovers on the bridge");
    console.log(`  ports on ${OVS_BRIDGE}: ${all.join(",")} (one per openvswitch NIC + uplink)`);
  });

  test("a VLAN Ganeti accepts but OVS cannot carry (.5000): gnt-instance start fails with our one line in the job error", async () => {
    await gnt("gnt-instance", "stop", "--timeout=0", INSTANCE);
    await gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.5000", INSTANCE);
    const r = await cluster!.run("gnt-instance", ["start", INSTANCE], 180000);
    assert.ok(r.code !== 0, "start must fail");
    const text = r.stdout + r.stderr;
    assert.ok(text.includes('kvm-vif-bridge: error: VLAN ".5000": VLAN id 5000 out of range 1..4094'), `job error: ${text}`);
    // Ganeti marks it as wanted up but not running.
    assert.is(await status(), "ERROR_down");
    console.log(
      `  gnt-instance start failed as it should: ${text
        .trim()
        .split("\n")
        .filter((l) => l.includes("kvm-vif-bridge"))
        .pop()
        ?.trim()}`,
    );
    // Back to a good VLAN: starts again.
    await gnt("gnt-instance", "modify", ...configOnly(), "--net", "0:modify,vlan=.4", INSTANCE);
    await gnt("gnt-instance", "start", INSTANCE);
    assert.is(await status(), "running");
    const t = await taps();
    assert.is((await portView(oracle, t[0]!))!.tag, 4);
    console.log(`  after fixing the VLAN: running, NIC 0 tag 4`);
  });

  test("gnt-instance remove: the instance goes; teardown follows", async () => {
    await gnt("gnt-instance", "remove", "-f", "--shutdown-timeout=0", INSTANCE);
    assert.is((await gnt("gnt-instance", "list", "--no-headers", "-o", "name")).trim(), "");
  });
}

test.run();
