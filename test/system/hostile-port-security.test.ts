// Hostile port-security input at every entry point that takes it (attach's
// options, the Ganeti NIC script's TAGS/IP/NETWORK_SUBNET6, QEMU's
// variables, the node defaults), hand-written and generated from fixed
// seeds: every refusal exits non-zero without a signal, prints one line
// naming the field and the value, and leaves OVSDB, the bridge's flow table
// and the devices exactly as they were.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertRefused, generatedSuites, numberLike, quoted, type Random } from "../harness/hostile.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { must } from "../harness/proc.ts";

let ovs: OvsHandle;
let dir: string;
let cases = 0;

const MAC = "aa:00:00:00:00:31";

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hps-"));
  await ovs.addBridge("sw1");
  await ovs.addTap("tap0");
  await ovs.addTap("tap1");
  // A filtered port every refused call must leave as it is, flows included.
  const r = await runBinary(ovs, [
    "attach",
    "--bridge",
    "sw1",
    "--iface",
    "tap1",
    "--vlan",
    ".7",
    "--mac",
    "aa:00:00:00:00:32",
    "--ip",
    "198.51.100.32",
    "--port-security",
    "on",
  ]);
  assert.is(r.code, 0, r.stderr);
});

test.after(async () => {
  await ovs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  console.log(`  ${cases} refused calls checked`);
});

async function state(): Promise<string> {
  const flows = await must("ovs-ofctl", ["-O", "OpenFlow14", "--no-stats", "dump-flows", `unix:${join(ovs.dir, "sw1.mgmt")}`]);
  const links = (await ovs.inNs("ip", ["-o", "link", "show"])).stdout.replace(/^\d+: /gm, "");
  return `${await ovs.dump()}\n${flows}\n${links}`;
}

interface Case {
  label: string;
  args: string[];
  mentions: string[];
  name?: string;
  env?: Record<string, string>;
}

async function refused(c: Case): Promise<void> {
  const before = await state();
  const r = await runBinary(ovs, c.args, { ...(c.name ? { name: c.name } : {}), ...(c.env ? { env: c.env } : {}) });
  assertRefused(r, c.label, c.mentions);
  assert.is(await state(), before, `${c.label}: OVSDB, flows and devices unchanged`);
  cases++;
}

const ATTACH = ["attach", "--bridge", "sw1", "--iface", "tap0", "--vlan", ".7", "--mac", MAC];

/** The environment of the Ganeti KVM NIC script for tap0. */
const nicEnv = (more: Record<string, string>) => ({
  INTERFACE: "tap0",
  MODE: "openvswitch",
  LINK: "sw1",
  VLAN: ".7",
  MAC,
  INSTANCE: "inst1",
  INTERFACE_INDEX: "0",
  INTERFACE_UUID: "33333333-0000-4000-8000-000000000000",
  ...more,
});

test("hand-written refusals name the field and the value", async () => {
  const hand: Case[] = [
    { label: "--port-security yes", args: [...ATTACH, "--port-security", "yes"], mentions: ["--port-security", quoted("yes")] },
    { label: "--port-security on without --mac", args: ["attach", "--bridge", "sw1", "--iface", "tap0", "--port-security", "on"], mentions: ["--mac"] },
    { label: "--ip with an IPv6 address", args: [...ATTACH, "--port-security", "on", "--ip", "2001:db8::1"], mentions: ["--ip", quoted("2001:db8::1")] },
    { label: "--ip with a prefix", args: [...ATTACH, "--port-security", "on", "--ip", "198.51.100.0/24"], mentions: ["--ip", quoted("198.51.100.0/24")] },
    { label: "--ip broadcast", args: [...ATTACH, "--port-security", "on", "--ip", "255.255.255.255"], mentions: ["--ip", quoted("255.255.255.255")] },
    {
      label: "--allow-address a multicast MAC",
      args: [...ATTACH, "--port-security", "on", "--allow-address", "01:00:5e:00:00:01"],
      mentions: ["--allow-address", quoted("01:00:5e:00:00:01")],
    },
    {
      label: "--allow-address with host bits",
      args: [...ATTACH, "--port-security", "on", "--allow-address", "198.51.100.1/24"],
      mentions: ["--allow-address", quoted("198.51.100.1/24")],
    },
    {
      label: "--allow-address with port security off",
      args: [...ATTACH, "--port-security", "off", "--allow-address", "198.51.100.5"],
      mentions: ["--allow-address", quoted("198.51.100.5"), "--port-security off"],
    },
    { label: "--allow-dhcp-server=yes", args: [...ATTACH, "--allow-dhcp-server=yes"], mentions: ["--allow-dhcp-server", quoted("yes")] },
    {
      label: "17 allow-addresses",
      args: [...ATTACH, "--port-security", "on", ...Array.from({ length: 17 }, (_, i) => ["--allow-address", `198.51.100.${i + 100}`]).flat()],
      mentions: ["--allow-address", "more than 16"],
    },
    {
      label: "--port-security with --ovn-switch",
      args: ["attach", "--bridge", "br-int", "--iface", "tap0", "--ovn-switch", "ls1", "--mac", MAC, "--port-security", "on"],
      mentions: ["--port-security", quoted("on")],
    },
    {
      label: "TAGS port-security:maybe",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ TAGS: "web ovs-vif:port-security:maybe" }),
      mentions: ["instance tag", quoted("ovs-vif:port-security:maybe")],
    },
    {
      label: "TAGS on and off",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ TAGS: "ovs-vif:port-security:on ovs-vif:port-security:off" }),
      mentions: ["instance tag", "port security both on and off"],
    },
    {
      label: "TAGS off with an allowance",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ TAGS: "ovs-vif:port-security:off ovs-vif:allow-address:198.51.100.5" }),
      mentions: ["instance tag", quoted("ovs-vif:allow-address:198.51.100.5")],
    },
    {
      label: "TAGS allow-address empty",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ TAGS: "ovs-vif:port-security:on ovs-vif:allow-address:" }),
      mentions: ["instance tag", quoted("ovs-vif:allow-address:")],
    },
    {
      label: "TAGS allow-router-adv with a value",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ TAGS: "ovs-vif:port-security:on ovs-vif:allow-router-adv:yes" }),
      mentions: ["instance tag", quoted("ovs-vif:allow-router-adv:yes")],
    },
    {
      label: "a per-NIC tag on the network",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ NETWORK_NAME: "net1", NETWORK_TAGS: "ovs-vif:nic:0:port-security:on" }),
      mentions: ["network tag", quoted("ovs-vif:nic:0:port-security:on")],
    },
    {
      label: "IP in the wrong family",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ TAGS: "ovs-vif:port-security:on", IP: "2001:db8::9" }),
      mentions: ["IP", quoted("2001:db8::9")],
    },
    {
      label: "NETWORK_SUBNET6 not a prefix",
      args: ["ganeti-nic", "up"],
      env: nicEnv({ TAGS: "ovs-vif:port-security:on", NETWORK_NAME: "net1", NETWORK_SUBNET6: "2001:db8::" }),
      mentions: ["NETWORK_SUBNET6", quoted("2001:db8::")],
    },
    {
      label: "OVS_VIF_PORT_SECURITY=1",
      args: ["tap0"],
      name: "qemu-ifup",
      env: { OVS_VIF_BRIDGE: "sw1.7", OVS_VIF_MAC: MAC, OVS_VIF_PORT_SECURITY: "1" },
      mentions: ["OVS_VIF_PORT_SECURITY", quoted("1")],
    },
    {
      label: "OVS_VIF_IP not an address",
      args: ["tap0"],
      name: "qemu-ifup",
      env: { OVS_VIF_BRIDGE: "sw1.7", OVS_VIF_MAC: MAC, OVS_VIF_PORT_SECURITY: "on", OVS_VIF_IP: "198.51.100.7 x" },
      mentions: ["OVS_VIF_IP", quoted("x")],
    },
    {
      label: "OVS_VIF_PORT_SECURITY=on without OVS_VIF_MAC",
      args: ["tap0"],
      name: "qemu-ifup",
      env: { OVS_VIF_BRIDGE: "sw1.7", OVS_VIF_PORT_SECURITY: "on" },
      mentions: ["OVS_VIF_MAC"],
    },
  ];
  for (const c of hand) await refused(c);
  const defaults = join(dir, "defaults.json");
  writeFileSync(defaults, JSON.stringify({ version: 1, bridges: { sw1: { "port-security": "yes" } } }));
  await refused({
    label: "defaults.json port-security yes",
    args: ATTACH,
    env: { OVS_VIF_DEFAULTS: defaults },
    mentions: [defaults, "port-security", quoted("yes")],
  });
  writeFileSync(defaults, JSON.stringify({ version: 1, default: { "port-security": true } }));
  await refused({
    label: "defaults.json port-security true (not a string)",
    args: ATTACH,
    env: { OVS_VIF_DEFAULTS: defaults },
    mentions: [defaults, "port-security", "true"],
  });
});

/** Addresses no VM may be allowed to send from, or that are not addresses. */
function badAddress(r: Random): string {
  const o = () => r.int(1, 254);
  return r.pick([
    () => `198.51.100.${r.int(256, 999)}`,
    () => `198.51.${o()}`,
    () => `198.51.100.${o()}/${r.int(33, 99)}`,
    () => `198.51.100.${o()}/${r.int(1, 24)}`,
    () => "0.0.0.0",
    () => "255.255.255.255",
    () => `224.0.0.${o()}`,
    () => `ff02::${o().toString(16)}`,
    () => "::",
    () => `2001:db8::${o().toString(16)}/${r.int(129, 300)}`,
    () => "2001:db8::/0",
    () => "01:00:5e:00:00:01",
    () => "ff:ff:ff:ff:ff:ff",
    () => "00:00:00:00:00:00",
    () => `${numberLike(r)}`,
    () => `198.51.100.${o()};reboot`,
    () => `198.51.100.${o()} `,
    () => "fe80::1%eth0",
    () => "localhost",
  ])();
}

const badSwitch = (r: Random) => r.pick(["ON", "On", "yes", "true", "1", "enable", "", " on", "on;x", numberLike(r)]);

const attachCase = (r: Random): Case => {
  const which = r.pick(["allow-address", "ip", "port-security"] as const);
  const value = which === "port-security" ? badSwitch(r) : badAddress(r);
  if (value === "") return { label: `--${which} empty`, args: [...ATTACH, `--${which}=`], mentions: [`--${which}`] };
  const args = [...ATTACH, ...(which === "port-security" ? [] : ["--port-security", "on"]), `--${which}=${value}`];
  return { label: `--${which} ${JSON.stringify(value)}`, args, mentions: [`--${which}`, quoted(value)] };
};

const tagCase = (r: Random): Case => {
  const value = r.pick([
    () => `ovs-vif:allow-address:${badAddress(r)}`,
    () => `ovs-vif:port-security:${badSwitch(r)}`,
    () => `ovs-vif:nic:0:allow-address:${badAddress(r)}`,
    () => `ovs-vif:${r.pick(["allow-dhcp-server", "allow-router-adv"])}:${badSwitch(r) || "x"}`,
  ])();
  const tag = value.replace(/ /g, "_");
  return {
    label: `TAGS ${JSON.stringify(tag)}`,
    args: ["ganeti-nic", "up"],
    env: nicEnv({ TAGS: `web ovs-vif:port-security:on ${tag}` }),
    mentions: ["instance tag", quoted(tag)],
  };
};

const qemuCase = (r: Random): Case => {
  const which = r.pick(["OVS_VIF_IP", "OVS_VIF_ALLOW_ADDRESS", "OVS_VIF_PORT_SECURITY"] as const);
  const value = which === "OVS_VIF_PORT_SECURITY" ? badSwitch(r) || "off!" : badAddress(r).trim() || "x";
  const env: Record<string, string> = { OVS_VIF_BRIDGE: "sw1.7", OVS_VIF_MAC: MAC, OVS_VIF_PORT_SECURITY: "on", [which]: value };
  const shown = which === "OVS_VIF_PORT_SECURITY" ? value : value.split(" ").filter(Boolean)[0]!;
  return { label: `${which}=${JSON.stringify(value)}`, args: ["tap0"], name: "qemu-ifup", env, mentions: [which, quoted(shown)] };
};

generatedSuites(
  test,
  [
    ["attach's port-security options", attachCase, 70, 231],
    ["Ganeti port-security tags", tagCase, 70, 232],
    ["QEMU's port-security variables", qemuCase, 60, 233],
  ],
  refused,
);

test.run();
