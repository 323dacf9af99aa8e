// ovs-vif demo: a throw-away Open vSwitch and xenstored, four pretend Xen
// domains plugged exactly as Xen plugs them (tap device named like netback's
// vifDOMID.DEVID, backend keys in xenstore, `vif-openvswitch online
// type_if=vif` with $vif and $XENBUS_PATH), one plain QEMU-style tap attached
// with `ovs-vif attach`. Everything shown afterwards is read back with the
// stock tools (ovs-vsctl, ovs-appctl ofproto/trace, xenstore-read), not taken
// from ovs-vif's own output. Exits non-zero if any step or check fails.
//
// Run: `npm run demo` (builds dist/ovs-vif first) or `bash demo/demo.sh`
// (installs what is missing, then the same). OVS_VIF_BINARY=PATH runs
// another build of the binary.
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary, startOvs, type OvsHandle } from "../test/harness/ovs.ts";
import { startXenstored, type XenstoredHandle } from "../test/harness/xenstore.ts";
import type { Result } from "../test/harness/proc.ts";
import { formatTable, parseVsctlJson, traceVerdict } from "./lib.ts";

const BRIDGE = "sw1";

interface XenDomain {
  domid: number;
  name: string;
  /** The vif's bridge= string, as xl writes it to the backend's `bridge` key. */
  bridge: string;
  /** xl's rate= (e.g. rate=100Mb/s@20ms), as it writes the backend's `rate` key: BYTES,USECS. */
  rate?: string;
}

const DOMAINS: XenDomain[] = [
  { domid: 11, name: "web1", bridge: "sw1" },
  { domid: 12, name: "db1", bridge: "sw1.10" },
  { domid: 13, name: "router1", bridge: "sw1:20:30" },
  { domid: 14, name: "fw1", bridge: "sw1.10:20:30", rate: "250000,20000" },
];

/** The fifth NIC: a plain tap, as QEMU or any other VMM would create it. */
const QEMU_TAP = { name: "tap15", vlan: ".10:20:30", rate: "100000", burst: "80000", mac: "52:54:00:00:00:0f" };

const vifName = (d: XenDomain) => `vif${d.domid}.0`;
const backendPath = (d: XenDomain) => `/local/domain/0/backend/vif/${d.domid}/0`;
const mac = (d: XenDomain) => `00:16:3e:00:00:${d.domid.toString(16).padStart(2, "0")}`;
const uuidOf = (d: XenDomain) => `6a1e00${d.domid}-0000-4000-8000-0000000000${d.domid}`;

class DemoFailure extends Error {}

function fail(step: string, detail: string): never {
  throw new DemoFailure(`${step}: ${detail}`);
}

function say(line = ""): void {
  process.stdout.write(line + "\n");
}

function heading(text: string): void {
  say();
  say(`== ${text}`);
}

/** Fails with the command's own words when it did not exit 0. */
function expectOk(step: string, r: Result): Result {
  if (r.code !== 0) fail(step, `exit ${r.code}: ${(r.stderr.trim() || r.stdout.trim() || "(no output)").split("\n").slice(-3).join(" | ")}`);
  return r;
}

function preflight(): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push("must run as root (network namespaces, tap devices)");
  try {
    accessSync(BINARY, constants.X_OK);
  } catch {
    problems.push(`binary ${BINARY} not found or not executable (run 'npm run build', or set OVS_VIF_BINARY)`);
  }
  const path = (process.env.PATH ?? "").split(":");
  const tools: Record<string, string> = {
    ip: "iproute2",
    "ovs-vsctl": "openvswitch-switch",
    "ovs-appctl": "openvswitch-switch",
    "ovsdb-server": "openvswitch-switch",
    "ovs-vswitchd": "openvswitch-switch",
    "xenstore-read": "xenstore-utils",
    gcc: "gcc",
  };
  for (const [tool, pkg] of Object.entries(tools)) {
    if (!path.some((dir) => dir && existsSync(join(dir, tool)))) problems.push(`${tool} not found (package ${pkg})`);
  }
  if (problems.length > 0) {
    throw new DemoFailure(`cannot start:\n  - ${problems.join("\n  - ")}\n  'bash demo/demo.sh' installs what is missing and runs the demo`);
  }
}

/** What Xen's toolstack does before it runs the hotplug script. */
async function createXenDomain(ovs: OvsHandle, xs: XenstoredHandle, d: XenDomain): Promise<void> {
  await ovs.addTap(vifName(d)); // netback's backend device
  const vm = `/vm/${uuidOf(d)}`;
  await xs.write(`${vm}/name`, d.name);
  await xs.write(`${vm}/uuid`, uuidOf(d));
  await xs.write(`/local/domain/${d.domid}/vm`, vm);
  await xs.write(`/local/domain/${d.domid}/name`, d.name);
  const be = backendPath(d);
  await xs.write(`${be}/bridge`, d.bridge);
  await xs.write(`${be}/mac`, mac(d));
  await xs.write(`${be}/frontend-id`, String(d.domid));
  if (d.rate) await xs.write(`${be}/rate`, d.rate);
  await xs.write(`${be}/script`, "/etc/xen/scripts/vif-openvswitch");
}

/** Xen's hotplug call: `vif-openvswitch online|offline type_if=vif`, $vif, $XENBUS_PATH. */
function xenHotplug(ovs: OvsHandle, xs: XenstoredHandle, d: XenDomain, action: "online" | "offline"): Promise<Result> {
  return runBinary(ovs, [action, "type_if=vif"], {
    name: "vif-openvswitch",
    env: { ...xs.env, vif: vifName(d), XENBUS_PATH: backendPath(d) },
  });
}

/** The hook's own log line (its last line on stderr). */
function logLine(r: Result): string {
  const line = r.stderr.trim().split("\n").pop() ?? "";
  return line;
}

/** The VM ports as the oracle (ovs-vsctl) sees them, plus xenstore's hotplug-status. */
type PortRow = {
  bridge: string;
  port: string;
  vm: string;
  vlan_mode: string;
  tag: string;
  trunks: string;
  "policing kbps/kb": string;
  ofport: string;
  hotplug: string;
};

async function portTable(ovs: OvsHandle, xs: XenstoredHandle, names: string[]): Promise<PortRow[]> {
  const bridges = parseVsctlJson(await ovs.vsctl("--format=json", "--columns=name,ports", "list", "Bridge"));
  const ports = parseVsctlJson(await ovs.vsctl("--format=json", "--columns=_uuid,name,vlan_mode,tag,trunks", "list", "Port"));
  const ifaces = parseVsctlJson(
    await ovs.vsctl("--format=json", "--columns=name,external_ids,ingress_policing_rate,ingress_policing_burst,ofport,error", "list", "Interface"),
  );
  const rows: PortRow[] = [];
  for (const name of names) {
    const port = ports.find((p) => p.name === name);
    const iface = ifaces.find((i) => i.name === name);
    if (!port || !iface) fail("read back", `ovs-vsctl shows no Port/Interface ${name}`);
    const bridge = bridges.find((b) => (b.ports as string[]).includes(port._uuid as string));
    const ids = iface.external_ids as Record<string, string>;
    const d = DOMAINS.find((x) => vifName(x) === name);
    const hotplug = d ? ((await xs.read(`${backendPath(d)}/hotplug-status`)) ?? "(none)") : "(not Xen)";
    const trunks = port.trunks as number[];
    const rate = iface.ingress_policing_rate as number;
    rows.push({
      bridge: (bridge?.name as string | undefined) ?? "?",
      port: name,
      vm: ids["xen-vm-name"] ?? "-",
      vlan_mode: (port.vlan_mode as string[])[0] ?? "(empty)",
      tag: (port.tag as number[])[0]?.toString() ?? "-",
      trunks: trunks.length > 0 ? trunks.join(",") : "-",
      "policing kbps/kb": rate > 0 ? `${rate}/${iface.ingress_policing_burst as number}` : "-",
      ofport: String(iface.ofport),
      hotplug: hotplug,
    });
  }
  return rows;
}

/** datapath port number -> port name, for reading trace actions. */
async function datapathPorts(ovs: OvsHandle): Promise<Map<string, string>> {
  const text = await ovs.appctl("dpif/show");
  const map = new Map<string, string>();
  for (const m of text.matchAll(/^\s+(\S+) (?:\d+|LOCAL)\/(\d+):/gm)) map.set(m[2]!, m[1]!);
  return map;
}

interface TraceCase {
  from: string;
  /** undefined: an untagged frame. */
  vlan?: number;
  /** VM ports that must receive it (port -> "untagged" | VLAN id carried tagged); empty: dropped. */
  expect: Record<string, "untagged" | number>;
  /** A remark, e.g. what the stock vif-openvswitch would have done instead. */
  note?: string;
}

const TRACES: TraceCase[] = [
  { from: "vif11.0", expect: {}, note: "VLAN 0 only" },
  { from: "vif11.0", vlan: 10, expect: {}, note: "stock script: accepted into VLAN 10" },
  { from: "vif12.0", expect: { "vif14.0": "untagged", tap15: "untagged" } },
  { from: "vif12.0", vlan: 20, expect: {} },
  { from: "vif13.0", vlan: 20, expect: { "vif14.0": 20, tap15: 20 } },
  { from: "vif13.0", vlan: 40, expect: {} },
  { from: "vif13.0", expect: {} },
  { from: "vif14.0", expect: { "vif12.0": "untagged", tap15: "untagged" } },
  { from: "vif14.0", vlan: 30, expect: { "vif13.0": 30, tap15: 30 }, note: "stock script: dropped, trunks ignored" },
];

function describeExpect(e: Record<string, "untagged" | number>): string {
  return Object.entries(e)
    .map(([p, v]) => `${p}:${v === "untagged" ? "u" : `t${v}`}`)
    .sort()
    .join(" ");
}

/** OVS's own reason for a drop, shortened: ">>>> dropping VLAN 40 packet received on port P not configured for trunking VLAN 40 <<<<". */
function dropReason(text: string): string {
  const m = />>>> (.*?) <<<</.exec(text);
  if (!m) return "no other port carries that VLAN";
  return m[1]!.replace(/^.*? received on port \S+ /, "");
}

async function traces(ovs: OvsHandle, vmPorts: Set<string>, vmOf: Map<string, string>): Promise<void> {
  const odp = await datapathPorts(ovs);
  for (const t of TRACES) {
    const flow = [`in_port=${t.from}`, "dl_src=00:16:3e:aa:bb:cc", "dl_dst=ff:ff:ff:ff:ff:ff", ...(t.vlan === undefined ? [] : [`dl_vlan=${t.vlan}`])].join(
      ",",
    );
    const { actions, text } = await ovs.trace(BRIDGE, flow);
    if (!actions) fail(`ofproto/trace ${flow}`, `no "Datapath actions" line in:\n${text}`);
    const verdict = traceVerdict(actions, t.vlan, odp);
    const reachedVm = Object.fromEntries(verdict.outputs.filter((o) => vmPorts.has(o.port)).map((o) => [o.port, o.vlan ?? "untagged"] as const));
    const got = describeExpect(reachedVm);
    const want = describeExpect(t.expect);
    const what = `${t.from} ${(vmOf.get(t.from) ?? "").padEnd(7)} ${t.vlan === undefined ? "untagged" : `VLAN ${t.vlan}`}`;
    const result =
      verdict.outputs.length === 0
        ? `dropped: ${dropReason(text)}`
        : `-> ${verdict.outputs.map((o) => `${o.port}${o.vlan === undefined ? "" : `[${o.vlan}]`}`).join(" ")}`;
    say(`  ${got === want ? "ok  " : "FAIL"} ${what.padEnd(25)} ${result}${t.note ? `   (${t.note})` : ""}`);
    if (got !== want) fail("data plane", `${what}: VM ports reached "${got || "none"}", expected "${want || "none"}" (datapath actions: ${actions})`);
  }
  say("  -> where the frame goes: [N] = sent tagged with VLAN N, else untagged; sw1 = the bridge's internal port");
}

async function main(): Promise<void> {
  preflight();
  say(`ovs-vif demo  (binary: ${BINARY})`);
  let ovs: OvsHandle | undefined;
  let xs: XenstoredHandle | undefined;
  const xsDir = mkdtempSync(join(tmpdir(), "ovs-vif-demo-xs-"));
  process.once("exit", () => rmSync(xsDir, { recursive: true, force: true }));
  try {
    heading("setup: private OVS (own netns, userspace datapath) + real xenstored (no hypervisor)");
    ovs = await startOvs();
    xs = await startXenstored(xsDir);
    await ovs.addBridge(BRIDGE);
    say(`  OVS_RUNDIR=${ovs.dir}  netns ${ovs.ns}  XENSTORED_PATH=${xs.socketPath}  bridge ${BRIDGE}`);

    heading("plug: four Xen domains (vif-openvswitch online type_if=vif) and one QEMU tap (ovs-vif attach)");
    let firstLog: string | undefined;
    for (const d of DOMAINS) {
      await createXenDomain(ovs, xs, d);
      const r = await xenHotplug(ovs, xs, d, "online");
      expectOk(`vif-openvswitch online for ${d.name} (${vifName(d)}, bridge=${d.bridge})`, r);
      say(`  ${d.name.padEnd(8)} ${vifName(d).padEnd(8)} bridge=${d.bridge.padEnd(13)}${d.rate ? ` rate=${d.rate} (xl rate=100Mb/s@20ms)` : ""} exit 0`);
      firstLog ??= logLine(r);
    }
    await ovs.addTap(QEMU_TAP.name);
    const attachArgs = [
      "attach",
      "--bridge",
      BRIDGE,
      "--iface",
      QEMU_TAP.name,
      "--vlan",
      QEMU_TAP.vlan,
      "--rate",
      QEMU_TAP.rate,
      "--burst",
      QEMU_TAP.burst,
      "--external-id",
      `attached-mac=${QEMU_TAP.mac}`,
    ];
    expectOk(`ovs-vif ${attachArgs.join(" ")}`, await runBinary(ovs, attachArgs));
    say(`  ${"(qemu)".padEnd(8)} ${QEMU_TAP.name.padEnd(8)} ovs-vif ${attachArgs.slice(0, 11).join(" ")}  exit 0`);
    say(`  log line (stderr, syslog, xen-hotplug.log): ${firstLog ?? ""}`);

    heading("ports, read back with ovs-vsctl (+ hotplug-status with xenstore-read)");
    const names = [...DOMAINS.map(vifName), QEMU_TAP.name];
    const rows = await portTable(ovs, xs, names);
    for (const line of formatTable(rows)) say(`  ${line}`);
    for (const row of rows) {
      if (row.bridge !== BRIDGE) fail("read back", `${row.port} is on bridge ${row.bridge}, expected ${BRIDGE}`);
      if (row.vlan_mode === "(empty)") fail("read back", `${row.port} has no vlan_mode`);
      if (row.port.startsWith("vif") && row.hotplug !== "connected") fail("read back", `${row.port}: hotplug-status ${row.hotplug}`);
    }
    const vswitchdLog = readFileSync(join(ovs.dir, "ovs-vswitchd.log"), "utf8");
    const ignored = vswitchdLog.split("\n").filter((l) => /ignoring trunks/.test(l));
    if (ignored.length > 0) fail("vswitchd log", ignored.join(" | "));
    say(`  ovs-vswitchd.log: no "ignoring trunks in favor of implicit vlan" (the stock hybrid-port bug)`);

    heading("data plane: ofproto/trace of a broadcast frame from each port");
    await traces(ovs, new Set(names), new Map(rows.map((r) => [r.port, r.vm === "-" ? "qemu" : r.vm])));

    heading("unplug db1: vif-openvswitch offline type_if=vif");
    const db1 = DOMAINS[1]!;
    const or = await xenHotplug(ovs, xs, db1, "offline");
    expectOk(`vif-openvswitch offline for ${db1.name}`, or);
    say(`  ${db1.name.padEnd(8)} ${vifName(db1).padEnd(8)} exit 0 | ${logLine(or)}`);
    const left = (await ovs.vsctl("list-ports", BRIDGE)).trim().split("\n").filter(Boolean);
    const stillThere = (await ovs.vsctl("--if-exists", "get", "Port", vifName(db1), "name")).trim();
    if (left.includes(vifName(db1)) || stillThere !== "") fail("unplug", `${vifName(db1)} is still in OVSDB`);
    say(`  ovs-vsctl list-ports ${BRIDGE}: ${left.join(" ")}   (${vifName(db1)} gone)`);
    // What the toolstack does next: netback removes the device, libxl the backend directory.
    await ovs.inNs("ip", ["link", "del", vifName(db1)]);
    await xs.rm(`/local/domain/0/backend/vif/${db1.domid}`);
  } finally {
    heading("teardown");
    const errors: string[] = [];
    await xs?.stop().catch((e: unknown) => errors.push(`xenstored: ${String(e)}`));
    await ovs?.stop().catch((e: unknown) => errors.push(`ovs: ${String(e)}`));
    rmSync(xsDir, { recursive: true, force: true });
    say(errors.length === 0 ? "  xenstored stopped, OVS stopped, netns and temp dirs removed" : `  teardown problems: ${errors.join("; ")}`);
  }
}

main().then(
  () => {
    say();
    say("demo: all steps ok");
    process.exit(0);
  },
  (err: unknown) => {
    say();
    process.stderr.write(`demo FAILED: ${err instanceof DemoFailure ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
