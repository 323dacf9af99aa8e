// Switch spec documents shared by the spec tests: in-process validation
// (test/unit/switch-spec-validate.test.ts) and `ovs-vif switch check` with
// the compiled binary (test/system/switch-check.test.ts).
import { join } from "node:path";

/** The example spec shipped with ovs-vif. */
export const EXAMPLE_SPEC = join(import.meta.dirname, "..", "..", "examples", "switches.json");

export const bond = (extra: Record<string, unknown>) => ({ name: "bond0", members: ["eth0", "eth1"], ...extra });
export const oneSwitch = (uplinks: unknown[], extra: Record<string, unknown> = {}) => ({ version: 1, switches: [{ name: "sw1", uplinks, ...extra }] });

/** A valid spec using every uplink option: two switches, one node group. */
export const VALID_SPEC = {
  version: 1,
  defaults: { datapath_type: "netdev" },
  switches: [
    {
      name: "sw1",
      mtu: 9000,
      fail_mode: "standalone",
      managed: true,
      uplinks: [bond({ bond_mode: "balance-tcp", lacp: "active", "lacp-time": "fast", "bond-updelay": 100, "bond-downdelay": 50, vlans: [10, "20-30"] })],
    },
    { name: "sw2", uplinks: [{ name: "eth2" }], networks: ["net-b"] },
  ],
  node_groups: { default: { switches: ["sw1", "sw2"], nodes: ["node1.example.com"] } },
};

/** Bad specs and the problem lines they give (each line as `ovs-vif switch
 * check` prints it after the file name; a reason may go on after it). */
export const BAD_SPECS = {
  unknownBondMode: {
    doc: oneSwitch([{ name: "eth2" }, bond({ bond_mode: "balance-xyz" })]),
    problems: [`switches[0].uplinks[1].bond_mode "balance-xyz": expected active-backup, balance-slb or balance-tcp`],
  },
  tcpLacpOff: {
    doc: oneSwitch([bond({ bond_mode: "balance-tcp", lacp: "off" })]),
    problems: [`switches[0].uplinks[0].lacp "off": balance-tcp requires LACP`],
  },
  /** lacp left out means off: refused too, on bond_mode. */
  tcpNoLacp: {
    doc: oneSwitch([bond({ bond_mode: "balance-tcp" })]),
    problems: [`switches[0].uplinks[0].bond_mode "balance-tcp": balance-tcp requires LACP: set lacp to "active" or "passive"`],
  },
  /** A switch with eight problems at once. */
  many: {
    doc: {
      version: 1,
      switches: [
        {
          name: "sw1",
          mtu: 20,
          fail_mode: "open",
          uplinks: [
            bond({ members: ["eth0"], lacp: "sometimes", bond_mod: "balance-slb" }),
            { name: "eth2", vlans: [10, 4095, "30-20"], bond_mode: "active-backup" },
          ],
        },
      ],
    },
    problems: [
      `switches[0].mtu 20: out of range 68..65535`,
      `switches[0].fail_mode "open": expected standalone or secure`,
      `switches[0].uplinks[0].bond_mod: unknown key (did you mean bond_mode?)`,
      `switches[0].uplinks[0].members ["eth0"]: a bond needs at least two members`,
      `switches[0].uplinks[0].lacp "sometimes": expected active, passive or off`,
      `switches[0].uplinks[1].vlans[1] 4095: VLAN ids are 1..4094`,
      `switches[0].uplinks[1].vlans[2] "30-20": range start is above its end`,
      `switches[0].uplinks[1].bond_mode "active-backup": only for a bond (an uplink with members)`,
    ],
  },
};
