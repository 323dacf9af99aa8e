// Port security in the data plane: pretend VMs (network namespaces) on a
// private OVS (userspace datapath), plugged by the binary on an access, a
// trunk and a hybrid port; their flows installed and removed by the
// library through the bridge's management socket. Each attack is sent N
// times and counted where it lands (test/harness/frames.ts: a counter
// bound before sending, closed by a fence frame from the same port): all N
// arrive with the filter off (the attack works), none with it on.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { OpenFlowClient } from "../../src/openflow/client.ts";
import { formatIpv6 } from "../../src/openflow/match.ts";
import { removePortFlows, replacePortFlows, type PortRef } from "../../src/port-flows.ts";
import { eui64Address, LINK_LOCAL_PREFIX, ipv6Bytes, macBytes } from "../../src/port-security/addresses.ts";
import { buildPolicy, type PolicyInput } from "../../src/port-security/policy.ts";
import { countDuring, delivered, type FrameSpec } from "../harness/frames.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { addVmNetns, type VmNetns } from "../harness/vm.ts";

const N = 20;
const T = 10000;
const PREFIX = "2001:db8:1::/64";

interface Vm {
  net: VmNetns;
  mac: string;
  ip: string;
  ll: string;
  global: string;
  port: PortRef;
}

let ovs: OvsHandle;
let client: OpenFlowClient;
const vms: Vm[] = [];

async function vm(dev: string, mac: string, ip: string, vlan: string): Promise<Vm> {
  const net = await addVmNetns(ovs.ns, dev, { mac, ip });
  const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", dev, "--vlan", vlan]);
  if (r.code !== 0) throw new Error(`attach ${dev}: ${r.stderr}`);
  const m = macBytes(mac);
  const v: Vm = {
    net,
    mac,
    ip,
    ll: formatIpv6(eui64Address(LINK_LOCAL_PREFIX, m)),
    global: formatIpv6(eui64Address(ipv6Bytes("2001:db8:1::")!, m)),
    port: { bridge: "sw1", name: dev, ofport: Number((await ovs.vsctl("get", "interface", dev, "ofport")).trim()) },
  };
  vms.push(v);
  return v;
}

const policyOf = (v: Vm, more: Partial<PolicyInput> = {}) =>
  buildPolicy({ mac: { field: "MAC", value: v.mac }, ipv4: [{ field: "IP", value: v.ip }], ipv6Prefixes: [{ field: "SUBNET6", value: PREFIX }], ...more });
const ep = (v: Vm) => ({ ns: v.net.ns, dev: v.net.dev });

/** A port type: the VM that sends, the neighbour in the VLAN it sends into, the tag it puts on. */
interface Column {
  label: string;
  from: Vm;
  to: Vm;
  vlan?: number;
}
let columns: Column[];

function spec(c: Column, kind: string): FrameSpec {
  const s: FrameSpec = {
    kind,
    src_mac: c.from.mac,
    src_ip: c.from.ip,
    src_ip6: c.from.ll,
    spoof_mac: "02:00:00:00:0c:0c",
    spoof_ip: "198.51.100.99",
    spoof_ip6: "2001:db8:1::99",
    victim_ip: c.to.ip,
    victim_mac: c.to.mac,
    victim_ip6: c.to.global,
  };
  if (c.vlan !== undefined) s.vlan = c.vlan;
  return s;
}

const FORGED: [string, string][] = [
  ["mac", "source MAC (a third host's)"],
  ["ipv4", "IPv4 source (a third host's)"],
  ["garp", "gratuitous ARP for the neighbour's IP"],
  ["arp-reply", "ARP reply poisoning the neighbour"],
  ["ipv6", "IPv6 source (a third host's)"],
  ["na", "NA for the neighbour's address"],
  ["ra", "router advertisement"],
  ["dhcp-offer", "DHCPv4 offer"],
];

const LEGIT: [string, string, (c: Column) => Partial<FrameSpec>][] = [
  ["udp4", "IPv4 from its address", () => ({})],
  ["udp6", "IPv6 from its link-local address", () => ({})],
  ["udp6", "IPv6 from its /64 EUI-64 address", (c) => ({ src_ip6: c.from.global })],
  ["arp", "ARP request", () => ({})],
  ["arp-probe", "ARP probe (sender 0.0.0.0)", () => ({})],
  ["dhcp-discover", "DHCP discover from 0.0.0.0", () => ({})],
  ["dad", "DAD (NS from ::) for its address", (c) => ({ src_ip6: c.from.global })],
  ["ns", "NS with its link-layer address", () => ({})],
];

function printTable(title: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
  console.log(
    `\n  ${title}\n  ${lines[0]}\n  ${"-".repeat(lines[0]!.length)}\n${lines
      .slice(1)
      .map((l) => `  ${l}`)
      .join("\n")}\n`,
  );
}

test.before(async () => {
  ovs = await startOvs();
  await ovs.addBridge("sw1");
  const b10 = await vm("b10", "aa:00:00:00:10:0b", "198.51.100.110", "10");
  const b20 = await vm("b20", "aa:00:00:00:20:0b", "198.51.100.120", "20");
  const access = await vm("acc0", "aa:00:00:00:a1:0a", "198.51.100.11", ".10");
  const trunk = await vm("trk0", "aa:00:00:00:a2:0a", "198.51.100.21", ":20:30");
  const hybrid = await vm("hyb0", "aa:00:00:00:a3:0a", "198.51.100.31", ".10:20:30");
  columns = [
    { label: "access .10", from: access, to: b10 },
    { label: "trunk :20:30 (tagged 20)", from: trunk, to: b20, vlan: 20 },
    { label: "hybrid .10:20:30 (tagged 20)", from: hybrid, to: b20, vlan: 20 },
    { label: "hybrid (untagged, 10)", from: hybrid, to: b10 },
  ];
  client = await OpenFlowClient.connect("sw1", { path: join(ovs.dir, "sw1.mgmt"), timeoutMs: T });
});

test.after(async () => {
  client?.close();
  for (const v of vms) v.net.remove();
  await ovs?.stop();
});

test("forged frames: all N reach the neighbour with the filter off, none with it on, on access, trunk and hybrid ports", async () => {
  const result = new Map<string, { off: number; on: number }>();
  for (const c of columns) {
    await removePortFlows(client, c.from.port, T);
    for (const [kind] of FORGED) result.set(`${kind}|${c.label}`, { off: (await delivered(ep(c.from), ep(c.to), spec(c, kind), N)).delivered, on: -1 });
    await replacePortFlows(client, c.from.port, policyOf(c.from), T);
    for (const [kind] of FORGED) result.get(`${kind}|${c.label}`)!.on = (await delivered(ep(c.from), ep(c.to), spec(c, kind), N)).delivered;
  }
  const rows = [["forged class (N=" + N + ")", ...columns.map((c) => `${c.label}: off / on`)]];
  for (const [kind, label] of FORGED)
    rows.push([label, ...columns.map((c) => `${result.get(`${kind}|${c.label}`)!.off} / ${result.get(`${kind}|${c.label}`)!.on}`)]);
  printTable("forged frames delivered to the neighbour's namespace, filter off / on", rows);
  for (const [key, r] of result) {
    assert.is(r.off, N, `${key}: with the filter off the attack must get through (else this test proves nothing)`);
    assert.is(r.on, 0, `${key}: with the filter on nothing may get through`);
  }
});

test("legitimate frames pass with the filter on, tagged and untagged", async () => {
  const rows = [["legitimate class (N=" + N + ")", ...columns.map((c) => c.label)]];
  const wrong: string[] = [];
  for (const c of columns) await replacePortFlows(client, c.from.port, policyOf(c.from), T);
  for (const [kind, label, more] of LEGIT) {
    const row = [label];
    for (const c of columns) {
      const d = await delivered(ep(c.from), ep(c.to), { ...spec(c, kind), ...more(c) }, N);
      row.push(`${d.delivered}`);
      if (d.delivered !== N) wrong.push(`${label} on ${c.label}: ${d.delivered} of ${N}`);
    }
    rows.push(row);
  }
  printTable("legitimate frames delivered with the filter on", rows);
  assert.equal(wrong, []);
});

test("the kernel's own traffic on a filtered access port: ARP and ping over IPv4, DAD and ping over IPv6", async () => {
  const [a, b] = [columns[0]!.from, columns[0]!.to];
  await replacePortFlows(client, a.port, policyOf(a), T);
  for (const v of [a, b])
    await v.net.exec("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0", "net.ipv6.conf.eth0.disable_ipv6=0"]);
  await b.net.exec("ip", ["-6", "addr", "add", `${b.global}/64`, "dev", "eth0", "nodad"]);
  const fence = spec(columns[0]!, "udp4");
  const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  // DAD: the kernel's NS from :: for the new address, then the address is usable.
  const dad = await countDuring(ep(a), ep(b), hexOf(ipv6Bytes(a.global)!), fence, async () => {
    const r = await a.net.exec("ip", ["-6", "addr", "add", `${a.global}/64`, "dev", "eth0"]);
    assert.is(r.code, 0, r.stderr);
    for (let i = 0; i < 50 && (await a.net.exec("ip", ["-6", "addr", "show", "dev", "eth0", "tentative"])).stdout.trim() !== ""; i++)
      await new Promise((res) => setTimeout(res, 100));
  });
  const state = (await a.net.exec("ip", ["-6", "addr", "show", "dev", "eth0"])).stdout;
  assert.ok(dad >= 1, `DAD NS seen at the neighbour: ${dad}`);
  assert.not.match(state, /tentative|dadfailed/, state);
  // IPv4: ARP from A (its MAC then its address, as in the ARP payload) and 5 echo requests.
  await a.net.exec("ip", ["neigh", "flush", "all"]);
  const pattern = "6f76737669662d7073";
  let ping = { code: -1, stdout: "", stderr: "" };
  const arps = await countDuring(ep(a), ep(b), a.mac.replace(/:/g, "") + hexOf(Uint8Array.from(a.ip.split(".").map(Number))), fence, async () => {
    ping = await a.net.exec("ping", ["-n", "-c", "5", "-i", "0.2", "-W", "2", "-p", pattern, b.ip]);
  });
  assert.is(ping.code, 0, ping.stdout + ping.stderr);
  assert.match(ping.stdout, /5 packets transmitted, 5 received/);
  assert.ok(arps >= 1, `ARP requests from A seen at B: ${arps}`);
  const echo4 = await countDuring(ep(a), ep(b), pattern, fence, async () => {
    ping = await a.net.exec("ping", ["-n", "-c", "5", "-i", "0.2", "-W", "2", "-p", pattern, b.ip]);
  });
  assert.is(echo4, 5, "IPv4 echo requests counted at the neighbour");
  const echo6 = await countDuring(ep(a), ep(b), pattern, fence, async () => {
    ping = await a.net.exec("ping", ["-6", "-n", "-c", "5", "-i", "0.2", "-W", "2", "-p", pattern, b.global]);
  });
  assert.is(ping.code, 0, ping.stdout + ping.stderr);
  assert.is(echo6, 5, "IPv6 echo requests counted at the neighbour");
  console.log(`  kernel traffic through the filter: DAD NS ${dad}, ARP requests ${arps}, IPv4 echo ${echo4}/5, IPv6 echo ${echo6}/5`);
});

test("traffic to the VM and the neighbour's own traffic are untouched by the VM's filter", async () => {
  const c = columns[0]!;
  await replacePortFlows(client, c.from.port, policyOf(c.from), T);
  const back: Column = { label: "back", from: c.to, to: c.from };
  const got: string[] = [];
  for (const kind of ["mac", "dhcp-offer", "ra", "udp4"]) {
    const d = await delivered(ep(back.from), ep(back.to), spec(back, kind), N);
    got.push(`${kind} ${d.delivered}/${N}`);
    assert.is(d.delivered, N, `${kind} from the unfiltered neighbour to the filtered VM`);
  }
  console.log(`  from the neighbour to the filtered VM: ${got.join(", ")}`);
});

test("an allowed extra address works (VRRP-style: an address, its MAC, an IPv6 address); others stay blocked", async () => {
  const c = columns[0]!;
  const extra = ["198.51.100.50", "00:00:5e:00:01:01", "2001:db8:1::50"].map((value) => ({ field: "--allow-address", value }));
  await replacePortFlows(client, c.from.port, policyOf(c.from, { allowAddresses: extra }), T);
  const cases: [string, Partial<FrameSpec>, number][] = [
    ["udp4", { src_ip: "198.51.100.50" }, N],
    ["udp4", { src_ip: "198.51.100.51" }, 0],
    ["garp", { src_mac: "00:00:5e:00:01:01", victim_ip: "198.51.100.50" }, N],
    ["garp", { src_mac: "00:00:5e:00:01:02", victim_ip: "198.51.100.50" }, 0],
    ["udp6", { src_ip6: "2001:db8:1::50" }, N],
    ["udp6", { src_ip6: "2001:db8:1::51" }, 0],
  ];
  const got: string[] = [];
  for (const [kind, more, want] of cases) {
    const d = await delivered(ep(c.from), ep(c.to), { ...spec(c, kind), ...more }, N, { mac: c.from.mac, ip: c.from.ip });
    got.push(`${kind} ${JSON.stringify(more)} ${d.delivered}/${N}`);
    assert.is(d.delivered, want, `${kind} ${JSON.stringify(more)}`);
  }
  console.log(`  allow-address:\n${got.map((g) => `    ${g}`).join("\n")}`);
});

test("a NIC with no IPv4 address sends no IPv4 but DHCP client traffic from 0.0.0.0 (and ARP probes), tagged too", async () => {
  const c = columns[1]!;
  await replacePortFlows(client, c.from.port, policyOf(c.from, { ipv4: [] }), T);
  // The fence must pass this filter too: a DHCP discover.
  const got: string[] = [];
  for (const [kind, want] of [
    ["udp4", 0],
    ["arp", 0],
    ["dhcp-discover", N],
    ["arp-probe", N],
  ] as const) {
    const s = spec(c, kind);
    const d = await delivered(ep(c.from), ep(c.to), s, N, { mac: c.from.mac, ip: "0.0.0.0", kind: "dhcp-discover" });
    got.push(`${kind} ${d.delivered}/${N}`);
    assert.is(d.delivered, want, kind);
  }
  console.log(`  no IPv4 address: ${got.join(", ")}`);
});

test("after removal the port's flows are gone and forged frames pass again; only the bridge's NORMAL flow is left", async () => {
  for (const c of columns) await removePortFlows(client, c.from.port, T);
  const c = columns[1]!;
  assert.is((await delivered(ep(c.from), ep(c.to), spec(c, "ipv4"), N)).delivered, N);
  const flows = await client.dumpFlows(0n, 0n, T);
  assert.equal(
    flows.map((f) => `${f.priority} ${f.cookie}`),
    ["0 0"],
  );
});

test.run();
