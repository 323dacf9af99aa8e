// `ovs-vif attach` / `ovs-vif detach`: one device by hand (src/actions/attach.ts).
import { GLOBAL_HELP, type ParsedArgs } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { UsageError } from "../src/errors.ts";
import { attach, type OvnAttach } from "../src/actions/attach.ts";
import { parseBridgeName, parseExternalId, parseInterfaceName, parseIpAddress, parseMac, parseMtu, parseOwner } from "../src/names.ts";
import { unplug, unplugFields } from "../src/plug.ts";
import type { DesiredPort } from "../src/port.ts";
import { explicitLevel } from "../src/qos.ts";
import { nodeDefaultsLevel, nodePortSecurityLevel } from "../src/sources/defaults.ts";
import { explicitLevel as explicitPortSecurity } from "../src/port-security/sources.ts";
import { parseVlanOption, vlanFormsHelp } from "../src/vlan.ts";

const ATTACH_HELP = `usage: ovs-vif attach --bridge BR --iface DEV [--vlan SPEC] [--rate KBPS] [--burst KB]
                      [--rx-rate BITS] [--rx-burst BITS] [--mtu N] [--external-id K=V]...
                      [--owner NAME] [--mac MAC] [--ip IP]... [--port-security on|off]
                      [--allow-address ADDR]... [--allow-dhcp-server] [--allow-router-adv] [options]
       ovs-vif attach --bridge br-int --iface DEV --ovn-switch LS --mac MAC [--ip IP]
                      [--lsp NAME] [--ovn-nb REMOTE] [QoS and MTU options]

Attaches DEV to bridge BR in one OVSDB transaction (a port of the same name
on any bridge is replaced). SPEC is Ganeti's vlan syntax (N alone is .N):
${vlanFormsHelp()}
--rate/--burst set ingress policing (what DEV sends):
a bare number is in OVS units (kbps / kb), a suffixed one in bit/s or bits
(100M, 1.5G, 800k); 0 = off. --rx-rate/--rx-burst limit what DEV receives
(a linux-htb QoS row on the port; bit/s and bits, SI suffixes; no burst:
OVS's default). Without --rate / --rx-rate the node defaults apply
($OVS_VIF_DEFAULTS, default /etc/ovs-vif/defaults.json); without --burst
the burst is 80% of the rate (at least one frame). --owner (default cli)
marks the port as ovs-vif's in the Port's external_ids (ovs-vif-owner), for
reconcile and gc; a port attached as "ganeti" with ganeti-instance and
ganeti-nic-uuid external ids is reconciled from Ganeti.

--port-security on lets DEV send only from --mac and its --ip addresses
(IPv4; repeatable), the IPv6 link-local address of its MAC, and each
--allow-address (a MAC, an IP address or ADDRESS/LENGTH; repeatable), with
ARP and neighbour discovery for those addresses only; DHCP server replies
and router advertisements only with --allow-dhcp-server and
--allow-router-adv. Its OpenFlow rules are in before DEV's link comes up.
Without --port-security the node default applies (off unless
defaults.json sets "port-security").

With --ovn-switch: the logical switch port NAME (default DEV) on LS in OVN's
Northbound database (--ovn-nb unix:PATH|tcp:H:P|ssl:H:P, else $OVN_NB_DB,
else /etc/ovs-vif/ovn.json) with addresses and port security "MAC [IP]" and
requested-chassis this node, then DEV on the integration bridge with
iface-id=NAME; done when ovn-controller reports ovn-installed.

${GLOBAL_HELP}`;

const DETACH_HELP = `usage: ovs-vif detach --iface DEV [options]

Removes the port DEV from whatever bridge holds it (absent is fine).

${GLOBAL_HELP}`;

function required(args: ParsedArgs, option: string): string {
  const value = args.string(option);
  if (value === undefined) throw new UsageError(`--${option}`, "", "required");
  return value;
}

function desiredOf(args: ParsedArgs): DesiredPort {
  const ids: Record<string, string> = {};
  for (const raw of args.list("external-id")) {
    const [k, v] = parseExternalId("--external-id", raw);
    ids[k] = v;
  }
  const bridge = parseBridgeName("--bridge", required(args, "bridge"));
  const desired: DesiredPort = {
    bridge,
    bridgeField: "--bridge",
    name: parseInterfaceName("--iface", required(args, "iface")),
    vlan: parseVlanOption("--vlan", args.string("vlan")),
    interfaceIds: ids,
    owner: parseOwner("--owner", args.string("owner") ?? "cli"),
    qos: [
      explicitLevel(args.string("rate"), args.string("burst"), { rate: args.string("rx-rate"), burst: args.string("rx-burst") }),
      nodeDefaultsLevel(bridge),
    ],
  };
  const mtu = args.string("mtu");
  if (mtu !== undefined) desired.mtu = parseMtu("--mtu", mtu);
  const mac = args.string("mac");
  const portSecurity = args.string("port-security");
  const explicit = explicitPortSecurity({
    ...(portSecurity !== undefined ? { portSecurity } : {}),
    allowAddresses: args.list("allow-address"),
    allowDhcpServer: args.flag("allow-dhcp-server"),
    allowRouterAdv: args.flag("allow-router-adv"),
  });
  desired.portSecurity = {
    levels: [explicit, nodePortSecurityLevel(bridge)],
    macField: "--mac",
    ipv4: args.list("ip").map((value) => ({ field: "--ip", value })),
    ...(mac !== undefined ? { mac: { field: "--mac", value: mac } } : {}),
  };
  return desired;
}

/** The OVN options: all or none of them go with --ovn-switch (OVN's own
 * port security guards an OVN port). */
function ovnOf(args: ParsedArgs, device: string): OvnAttach | undefined {
  const ls = args.string("ovn-switch");
  if (ls === undefined) {
    for (const o of ["lsp", "ovn-nb"]) if (args.has(o)) throw new UsageError(`--${o}`, args.string(o)!, "only with --ovn-switch");
    return undefined;
  }
  for (const o of ["vlan", "port-security", "allow-address"])
    if (args.has(o)) throw new UsageError(`--${o}`, args.list(o)[0]!, "not with --ovn-switch (the logical switch is the network, and guards the port)");
  for (const o of ["allow-dhcp-server", "allow-router-adv"])
    if (args.has(o)) throw new UsageError(`--${o}`, "", "not with --ovn-switch (the logical switch guards the port)");
  const nb = args.string("ovn-nb");
  return {
    ls,
    lsp: parseExternalId("--lsp", `iface-id=${args.string("lsp") ?? device}`)[1],
    mac: parseMac("--mac", required(args, "mac")),
    ips: args.list("ip").map((ip) => parseIpAddress("--ip", ip)),
    ...(nb !== undefined ? { nb } : {}),
  };
}

async function run({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "attach takes options only");
  const desired = desiredOf(args);
  const ovn = ovnOf(args, desired.name);
  if (ovn) delete desired.portSecurity;
  const fields = await attach(desired, ovn, ctx);
  ctx.log.info("attach ok", fields);
  return 0;
}

async function detach({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "detach takes options only");
  const device = parseInterfaceName("--iface", required(args, "iface"));
  const res = await unplug(device, ctx);
  ctx.log.info("detach ok", unplugFields(device, res));
  return 0;
}

export const attachCommand: EntryPoint = {
  tag: "ovs-vif",
  help: ATTACH_HELP,
  options: {
    bridge: "string",
    iface: "string",
    vlan: "string",
    rate: "string",
    burst: "string",
    "rx-rate": "string",
    "rx-burst": "string",
    mtu: "string",
    "external-id": "list",
    owner: "string",
    "ovn-switch": "string",
    lsp: "string",
    mac: "string",
    ip: "list",
    "ovn-nb": "string",
    "port-security": "string",
    "allow-address": "list",
    "allow-dhcp-server": "flag",
    "allow-router-adv": "flag",
  },
  run,
};

export const detachCommand: EntryPoint = { tag: "ovs-vif", help: DETACH_HELP, options: { iface: "string" }, run: detach };
