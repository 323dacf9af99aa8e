// `ovs-vif attach` / `ovs-vif detach`: the core transaction by hand.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { connectOvsdb } from "../src/context.ts";
import { InputError, UsageError } from "../src/errors.ts";
import { parseBridgeName, parseExternalId, parseInterfaceName, parseIpAddress, parseMac, parseMtu, parseOwner } from "../src/names.ts";
import { loadOvnConfig } from "../src/ovn/config.ts";
import { ovnPlug, type OvnPort } from "../src/ovn/plug.ts";
import { plug, qosFields, unplug } from "../src/plug.ts";
import type { DesiredPort } from "../src/port.ts";
import { explicitLevel } from "../src/qos.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { describeVlan, parseVlanOption, vlanMode } from "../src/vlan.ts";
import { ovnConfigPath } from "../src/paths.ts";
import { ID } from "../src/ovsdb/keys.ts";

const ATTACH_HELP = `usage: ovs-vif attach --bridge BR --iface DEV [--vlan SPEC] [--rate KBPS] [--burst KB]
                      [--rx-rate BITS] [--rx-burst BITS] [--mtu N] [--external-id K=V]...
                      [--owner NAME] [options]
       ovs-vif attach --bridge br-int --iface DEV --ovn-switch LS --mac MAC [--ip IP]
                      [--lsp NAME] [--ovn-nb REMOTE] [QoS and MTU options]

Attaches DEV to bridge BR in one OVSDB transaction (a port of the same name
on any bridge is replaced). SPEC is Ganeti's vlan syntax: .N (access),
:A:B (trunk, tagged only), .N:A:B (N untagged + A,B tagged), N (= .N);
none: untagged only. --rate/--burst set ingress policing (what DEV sends):
a bare number is in OVS units (kbps / kb), a suffixed one in bit/s or bits
(100M, 1.5G, 800k); 0 = off. --rx-rate/--rx-burst limit what DEV receives
(a linux-htb QoS row on the port; bit/s and bits, SI suffixes; no burst:
OVS's default). Without --rate / --rx-rate the node defaults apply
($OVS_VIF_DEFAULTS, default /etc/ovs-vif/defaults.json); without --burst
the burst is 80% of the rate (at least one frame). --owner (default cli)
marks the port as ovs-vif's in the Port's external_ids (ovs-vif-owner), for
reconcile and gc; a port attached as "ganeti" with ganeti-instance and
ganeti-nic-uuid external ids is reconciled from Ganeti.

With --ovn-switch: the logical switch port NAME (default DEV) on LS in OVN's
Northbound database (--ovn-nb unix:PATH|tcp:H:P|ssl:H:P, else $OVN_NB_DB,
else /etc/ovs-vif/ovn.json) with addresses and port security "MAC [IP]" and
requested-chassis this node, then DEV on the integration bridge with
iface-id=NAME; done when ovn-controller reports ovn-installed.

${GLOBAL_HELP}`;

const DETACH_HELP = `usage: ovs-vif detach --iface DEV [options]

Removes the port DEV from whatever bridge holds it (absent is fine).

${GLOBAL_HELP}`;

function required(value: string | undefined, option: string): string {
  if (value === undefined) throw new UsageError(option, "", "required");
  return value;
}

async function attach({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "attach takes options only");
  const ids: Record<string, string> = {};
  for (const raw of args.list("external-id")) {
    const [k, v] = parseExternalId("--external-id", raw);
    ids[k] = v;
  }
  const bridge = parseBridgeName("--bridge", required(args.string("bridge"), "--bridge"));
  const desired: DesiredPort = {
    bridge,
    bridgeField: "--bridge",
    name: parseInterfaceName("--iface", required(args.string("iface"), "--iface")),
    vlan: parseVlanOption("--vlan", args.string("vlan")),
    interfaceIds: ids,
    owner: parseOwner("--owner", args.string("owner") ?? "cli"),
    qos: [explicitLevel(args.string("rate"), args.string("burst"), { rate: args.string("rx-rate"), burst: args.string("rx-burst") }), nodeDefaultsLevel(bridge)],
  };
  const mtu = args.string("mtu");
  if (mtu !== undefined) desired.mtu = parseMtu("--mtu", mtu);
  const ls = args.string("ovn-switch");
  if (ls === undefined) {
    for (const o of ["lsp", "mac", "ip", "ovn-nb"]) if (args.has(o)) throw new UsageError(`--${o}`, args.string(o)!, "only with --ovn-switch");
    const res = await plug({ desired, device: desired.name, deviceField: "--iface" }, ctx);
    if (!ctx.dryRun) ctx.log.info("attach ok", { device: desired.name, bridge, vlan_mode: vlanMode(desired.vlan), vlan: describeVlan(desired.vlan), ...qosFields(res), ofport: res.ofport });
    return 0;
  }
  // OVN: a logical port on the switch, then the tap on the integration bridge.
  const config = loadOvnConfig(args.string("ovn-nb"));
  if (!config) throw new UsageError("--ovn-switch", ls, `no OVN Northbound database: --ovn-nb REMOTE, OVN_NB_DB, or ${ovnConfigPath()}`);
  if (bridge !== config.bridge) throw new InputError("--bridge", bridge, `an OVN port goes on the integration bridge ${config.bridge}`);
  if (args.has("vlan")) throw new UsageError("--vlan", args.string("vlan")!, "not with --ovn-switch (the logical switch is the network)");
  const mac = parseMac("--mac", required(args.string("mac"), "--mac"));
  const ipRaw = args.string("ip");
  const ip = ipRaw === undefined ? undefined : parseIpAddress("--ip", ipRaw);
  const lsp = parseExternalId("--lsp", `iface-id=${args.string("lsp") ?? desired.name}`)[1];
  desired.interfaceIds = { ...desired.interfaceIds, [ID.ifaceId]: lsp, [ID.attachedMac]: mac };
  const port: OvnPort = { lsp: { name: lsp, ls, address: ip ? `${mac} ${ip}` : mac, externalIds: { [ID.owner]: desired.owner } }, lsField: "--ovn-switch" };
  const db = connectOvsdb(ctx);
  db.catch(() => undefined);
  try {
    const res = await ovnPlug({ desired, device: desired.name, deviceField: "--iface" }, port, config, ctx, db);
    if (!ctx.dryRun) ctx.log.info("attach ok", { device: desired.name, bridge, lsp, ls, chassis: res.placement.chassis.join(","), ...qosFields(res), ofport: res.ofport });
    return 0;
  } finally {
    await db.then((c) => c.close(), () => undefined);
  }
}

async function detach({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "detach takes options only");
  const name = parseInterfaceName("--iface", required(args.string("iface"), "--iface"));
  const res = await unplug(name, ctx);
  if (!ctx.dryRun) ctx.log.info("detach ok", { device: name, bridge: res.bridges.join(",") || undefined, removed: res.removed });
  return 0;
}

export const attachCommand: EntryPoint = {
  tag: "ovs-vif",
  help: ATTACH_HELP,
  options: { bridge: "string", iface: "string", vlan: "string", rate: "string", burst: "string", "rx-rate": "string", "rx-burst": "string", mtu: "string", "external-id": "list", owner: "string", "ovn-switch": "string", lsp: "string", mac: "string", ip: "string", "ovn-nb": "string" },
  run: attach,
};

export const detachCommand: EntryPoint = { tag: "ovs-vif", help: DETACH_HELP, options: { iface: "string" }, run: detach };
