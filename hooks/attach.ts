// `ovs-vif attach` / `ovs-vif detach`: the core transaction by hand.
import { InputError } from "../src/errors.ts";
import { parseBridgeName, parseExternalId, parseInterfaceName, parseMtu } from "../src/names.ts";
import type { DesiredPort } from "../src/port.ts";
import { OVS_MAX, type QosLevel } from "../src/qos.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { attachPort, detachPort } from "../src/ovsdb/ports.ts";
import { Deadline } from "../src/ovsdb/transact.ts";
import { describeVlan, parseVlanSpec, vlanMode } from "../src/vlan.ts";
import { requireDevice } from "../src/netdev.ts";
import { connectOvsdb, globalOptions, GLOBAL_HELP, listOpt, makeLog, parseArgs, printTransaction, stringOpt, out } from "../src/cli/common.ts";

export const ATTACH_HELP = `usage: ovs-vif attach --bridge BR --iface DEV [--vlan SPEC] [--rate KBPS] [--burst KB]
                      [--mtu N] [--external-id K=V]... [--owner NAME] [options]

Attaches DEV to bridge BR in one OVSDB transaction (a port of the same name
on any bridge is replaced). SPEC is Ganeti's vlan syntax: .N (access),
:A:B (trunk, tagged only), .N:A:B (N untagged + A,B tagged), N (= .N);
none: untagged only. --rate/--burst set ingress policing (what DEV sends):
a bare number is in OVS units (kbps / kb), a suffixed one in bit/s or bits
(100M, 1.5G, 800k); 0 = off. Without --rate the node defaults apply
($OVS_VIF_DEFAULTS, default /etc/ovs-vif/defaults.json); without --burst
the burst is 80% of the rate (at least one frame). --owner (default cli)
marks the port as ovs-vif's in the Port's external_ids (ovs-vif-owner), for
reconcile and gc; a port attached as "ganeti" with ganeti-instance and
ganeti-nic-uuid external ids is reconciled from Ganeti.

${GLOBAL_HELP}`;

export const DETACH_HELP = `usage: ovs-vif detach --iface DEV [options]

Removes the port DEV from whatever bridge holds it (absent is fine).

${GLOBAL_HELP}`;

/** --rate / --burst: a bare whole number is already in OVS units. */
function explicitLevel(rate: string | undefined, burst: string | undefined): QosLevel {
  const level: QosLevel = { name: "command line" };
  const ovs: NonNullable<QosLevel["ovs"]> = {};
  for (const [kind, raw] of [["rate", rate], ["burst", burst]] as const) {
    if (raw === undefined) continue;
    const field = `--${kind}`;
    if (/^[0-9]+$/.test(raw)) {
      const n = Number(raw);
      if (raw.length > 10 || n > OVS_MAX) throw new InputError(field, raw, `larger than OVS accepts (${OVS_MAX})`);
      ovs[kind] = n;
    } else {
      level[kind] = { raw, source: `${field} ${raw}`, field };
    }
  }
  if (Object.keys(ovs).length) level.ovs = ovs;
  return level;
}

function ownerOpt(raw: string | undefined): string {
  if (raw === undefined) return "cli";
  if (!/^[a-z0-9-]{1,32}$/.test(raw)) throw new InputError("--owner", raw, "expected 1..32 of a-z, 0-9, -");
  return raw;
}

export async function attachCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { string: ["bridge", "vlan", "iface", "rate", "burst", "mtu", "external-id", "owner"] });
  if (args.help) {
    out(ATTACH_HELP + "\n");
    return 0;
  }
  if (args._.length > 0) throw new InputError("argument", String(args._[0]), "unexpected argument");
  const opts = globalOptions(args);
  const bridge = stringOpt(args, "bridge");
  const iface = stringOpt(args, "iface");
  if (bridge === undefined) throw new InputError("--bridge", "", "required");
  if (iface === undefined) throw new InputError("--iface", "", "required");
  const ids: Record<string, string> = {};
  for (const raw of listOpt(args, "external-id")) {
    const [k, v] = parseExternalId("--external-id", raw);
    ids[k] = v;
  }
  const desired: DesiredPort = {
    bridge: parseBridgeName("--bridge", bridge),
    name: parseInterfaceName("--iface", iface),
    vlan: parseVlanSpec("--vlan", stringOpt(args, "vlan") ?? ""),
    interfaceIds: ids,
    owner: ownerOpt(stringOpt(args, "owner")),
  };
  desired.qos = [explicitLevel(stringOpt(args, "rate"), stringOpt(args, "burst")), nodeDefaultsLevel(desired.bridge)];
  const mtu = stringOpt(args, "mtu");
  if (mtu !== undefined) desired.mtu = parseMtu("--mtu", mtu);
  if (!opts.dryRun) requireDevice("--iface", desired.name);
  const log = makeLog("ovs-vif", opts.verbose);
  const deadline = new Deadline(opts.timeoutMs);
  const db = await connectOvsdb(opts, deadline);
  try {
    const res = await attachPort(db, desired, { deadline, wait: opts.wait, ...(opts.dryRun ? { dryRun: printTransaction } : {}) });
    if (!opts.dryRun) {
      log.info("attach ok", { device: desired.name, bridge: desired.bridge, vlan_mode: vlanMode(desired.vlan), vlan: describeVlan(desired.vlan), rate: res.policing.rate || undefined, burst: res.policing.burst || undefined, ofport: res.ofport });
    }
    return 0;
  } finally {
    db.close();
    await log.close();
  }
}

export async function detachCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { string: ["iface"] });
  if (args.help) {
    out(DETACH_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const iface = stringOpt(args, "iface");
  if (iface === undefined) throw new InputError("--iface", "", "required");
  const name = parseInterfaceName("--iface", iface);
  const log = makeLog("ovs-vif", opts.verbose);
  const deadline = new Deadline(opts.timeoutMs);
  const db = await connectOvsdb(opts, deadline);
  try {
    const res = await detachPort(db, name, { deadline, wait: opts.wait, ...(opts.dryRun ? { dryRun: printTransaction } : {}) });
    if (!opts.dryRun) log.info("detach ok", { device: name, bridge: res.bridges.join(",") || undefined, removed: res.removed });
    return 0;
  } finally {
    db.close();
    await log.close();
  }
}
