// The bridged mode's plan (src/modes/bridged.ts): the ip and bridge steps
// for a Linux bridge NIC, from a fake view of the system; refusals come
// before any step.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { planBridgedDown, planBridgedUp, type BridgeSys } from "../../src/modes/bridged.ts";

function fakeBridgeSys(over: Partial<BridgeSys> = {}): BridgeSys {
  return {
    exists: (d) => ["vif9.0", "br0", "tap0"].includes(d),
    isBridge: (d) => d === "br0",
    address: () => "00:16:3e:00:00:09",
    mtu: () => "9000",
    vlanFiltering: () => "1",
    ports: () => ["eth0", "bond0", "tap5", "vif3.0", "vif9.0", "gnt.com.1"],
    vlanConfig: () => undefined,
    isVeth: async () => false,
    master: () => undefined,
    ...over,
  };
}

const bridgedNic = {
  device: "vif9.0",
  link: "br0",
  vlan: { native: 3, trunks: [10] },
  vlanRaw: ".3:10",
  fields: { device: "vif", link: "LINK", vlan: "VLAN" },
  instance: "i",
};

test("bridged up follows the stock order (MAC fe, up, MTU, master; pvid untagged first) and adds VLANs to uplinks only, not to VM ports or the NIC", async () => {
  const steps = await planBridgedUp(bridgedNic, fakeBridgeSys());
  assert.equal(steps, [
    { kind: "ip", lines: ["link set dev vif9.0 address fe:16:3e:00:00:09"], tolerate: true },
    { kind: "ip", lines: ["link set dev vif9.0 up", "link set dev vif9.0 mtu 9000", "link set dev vif9.0 master br0"] },
    {
      kind: "bridge",
      lines: [
        "vlan add dev vif9.0 vid 3 pvid untagged master",
        "vlan add dev eth0 vid 3 master",
        "vlan add dev bond0 vid 3 master",
        "vlan add dev vif9.0 vid 10 master",
        "vlan add dev eth0 vid 10 master",
        "vlan add dev bond0 vid 10 master",
      ],
    },
  ]);
});

test("bridged up refuses before any step: VLAN filtering off or unsupported, a VID used by a VLAN device, a link that is not a bridge", async () => {
  const cases: [Partial<BridgeSys>, RegExp][] = [
    [{ vlanFiltering: () => "0" }, /VLAN "\.3:10": bridge br0 has VLAN filtering disabled/],
    [{ vlanFiltering: () => undefined }, /no VLAN filtering support/],
    [
      { vlanConfig: () => "VLAN Dev name | VLAN ID\nName-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD\neth0.10        | 10  | eth0\n" },
      /VLAN 10 is in use by VLAN interface eth0\.10 on eth0/,
    ],
    [{ isBridge: () => false }, /LINK "br0": not a Linux bridge/],
  ];
  for (const [over, pattern] of cases) {
    let message = "";
    await planBridgedUp(bridgedNic, fakeBridgeSys(over)).then(
      () => undefined,
      (e: Error) => (message = e.message),
    );
    assert.match(message, pattern);
  }
  // A veth lower device is allowed (bridge stacking), as in stock.
  const ok = await planBridgedUp(bridgedNic, fakeBridgeSys({ vlanConfig: () => "h\nh\nveth0.10 | 10 | veth0\n", isVeth: async () => true }));
  assert.is(ok.length, 3);
});

test("bridged down releases the NIC from its bridge only: no device, no master or another bridge is no step", () => {
  assert.equal(planBridgedDown("vif9.0", "br0", fakeBridgeSys({ master: () => "br0" })), [{ kind: "ip", lines: ["link set dev vif9.0 nomaster"] }]);
  assert.equal(planBridgedDown("vif9.0", undefined, fakeBridgeSys({ master: () => "br0" })), [{ kind: "ip", lines: ["link set dev vif9.0 nomaster"] }]);
  assert.equal(planBridgedDown("vif7.0", "br0", fakeBridgeSys({ master: () => "br0" })), [], "no such device");
  assert.equal(planBridgedDown("vif9.0", "br0", fakeBridgeSys()), [], "no master");
  assert.equal(planBridgedDown("vif9.0", "br1", fakeBridgeSys({ master: () => "br0" })), [], "another bridge");
  assert.equal(planBridgedDown("vif9.0", undefined, fakeBridgeSys({ master: () => "ovs-system" })), [], "master is not a Linux bridge");
});

test.run();
