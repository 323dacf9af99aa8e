// The desired state of one VM port (src/port.ts): the policing it gets
// (effectivePolicing: qos levels against the port's or the bridge's MTU) and its OVSDB columns (portColumns).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MTU_1500_KB, MTU_9000_KB, XEN_FIELD, envLevel, sw9Defaults, xenLevel } from "../harness/qos-levels.ts";
import { effectivePolicing, portColumns, type DesiredPort } from "../../src/port.ts";
import { explicitLevel, NO_POLICING, type Policing } from "../../src/qos.ts";
import { ID } from "../../src/ovsdb/keys.ts";

const basePort = (extra: Partial<DesiredPort>): DesiredPort => ({
  bridge: "sw1",
  name: "tap0",
  vlan: { trunks: [] },
  interfaceIds: {},
  owner: "cli",
  ...extra,
});

const effective: Array<[string, DesiredPort, number | undefined, Policing, string, string]> = [
  ["qos levels, default MTU", basePort({ qos: [envLevel("10k")] }), undefined, { rate: 10, burst: MTU_1500_KB }, "OVS_VIF_RATE=10k", "default: 80% of rate"],
  ["qos levels, the bridge's MTU", basePort({ qos: [envLevel("10k")] }), 9000, { rate: 10, burst: MTU_9000_KB }, "OVS_VIF_RATE=10k", "default: 80% of rate"],
  [
    "qos levels, the port's MTU over the bridge's",
    basePort({ qos: [envLevel("10k")], mtu: 1500 }),
    9000,
    { rate: 10, burst: MTU_1500_KB },
    "OVS_VIF_RATE=10k",
    "default: 80% of rate",
  ],
  [
    "qos levels, the port's jumbo MTU",
    basePort({ qos: [envLevel("10k")], mtu: 9000 }),
    undefined,
    { rate: 10, burst: MTU_9000_KB },
    "OVS_VIF_RATE=10k",
    "default: 80% of rate",
  ],
  ["qos levels saying nothing: no policing", basePort({ qos: [envLevel()] }), undefined, { rate: 0, burst: 0 }, "none", "none"],
  ["no qos levels: no policing", basePort({}), undefined, { rate: 0, burst: 0 }, "none", "none"],
  [
    "bare numbers are OVS units (kbps, kb)",
    basePort({ qos: [explicitLevel("1000", "100")] }),
    undefined,
    { rate: 1000, burst: 100 },
    "command line",
    "command line",
  ],
  [
    "Xen port as xenDesiredPort builds it",
    basePort({ owner: "xen", qos: [xenLevel("25000,20000"), sw9Defaults()] }),
    undefined,
    { rate: 10000, burst: 195 },
    `xenstore ${XEN_FIELD}`,
    `xenstore ${XEN_FIELD}`,
  ],
];

for (const [label, desired, bridgeMtu, policing, rateSource, burstSource] of effective) {
  test(`effectivePolicing: ${label}`, () => {
    const got = effectivePolicing(desired, bridgeMtu);
    assert.equal(got, { policing, rateSource, burstSource });
    const cols = portColumns(desired, bridgeMtu);
    assert.is(cols.iface.ingress_policing_rate, policing.rate);
    assert.is(cols.iface.ingress_policing_burst, policing.burst);
  });
}

test("effectivePolicing returns a copy: mutating it changes neither NO_POLICING nor the next answer", () => {
  const none = effectivePolicing(basePort({}));
  assert.is.not(none.policing, NO_POLICING);
  none.policing.rate = 5;
  assert.equal(NO_POLICING, { rate: 0, burst: 0 });
  const viaQos = effectivePolicing(basePort({ qos: [] }));
  viaQos.policing.burst = 9;
  assert.equal(NO_POLICING, { rate: 0, burst: 0 });
  assert.equal(effectivePolicing(basePort({})).policing, { rate: 0, burst: 0 });
});

test("portColumns: VLAN columns and the owner key on the Port, interface ids copied to the Interface", () => {
  const ids = { "iface-id": "x" };
  const cols = portColumns(basePort({ vlan: { native: 7, trunks: [8] }, interfaceIds: ids, owner: "ganeti", qos: [explicitLevel("10000", "8000")] }), 9000);
  assert.equal(cols.port, { vlan_mode: "native-untagged", tag: 7, trunks: [8], external_ids: { [ID.owner]: "ganeti" } });
  assert.equal(cols.iface, { external_ids: { "iface-id": "x" }, ingress_policing_rate: 10000, ingress_policing_burst: 8000, mtu_request: 9000 });
  cols.iface.external_ids.extra = "y";
  assert.equal(ids, { "iface-id": "x" });
});

test("portColumns leaves out tag without a native VLAN and mtu_request without any MTU", () => {
  const plain = portColumns(basePort({ qos: [explicitLevel("10000", "8000")] }));
  assert.not.ok("tag" in plain.port);
  assert.not.ok("mtu_request" in plain.iface);
});

test("portColumns: mtu_request is the port's MTU over the bridge's", () => {
  assert.is(portColumns(basePort({ mtu: 1500 }), 9000).iface.mtu_request, 1500);
  assert.is(portColumns(basePort({}), 9000).iface.mtu_request, 9000);
});

test.run();
