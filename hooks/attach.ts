// `ovs-vif attach` / `ovs-vif detach`: the core transaction by hand.
import { InputError } from "../src/errors.ts";
import { parseBridgeName, parseExternalId, parseInterfaceName, parseMtu } from "../src/names.ts";
import type { DesiredPort } from "../src/port.ts";
import { attachPort, detachPort } from "../src/ovsdb/ports.ts";
import { Deadline } from "../src/ovsdb/transact.ts";
import { describeVlan, parseVlanSpec, vlanMode } from "../src/vlan.ts";
import { requireDevice } from "../src/netdev.ts";
import { connectOvsdb, globalOptions, GLOBAL_HELP, listOpt, makeLog, parseArgs, printTransaction, stringOpt } from "../src/cli/common.ts";

export const ATTACH_HELP = `usage: ovs-vif attach --bridge BR --iface DEV [--vlan SPEC] [--rate KBPS] [--burst KB]
                      [--mtu N] [--external-id K=V]... [options]

Attaches DEV to bridge BR in one OVSDB transaction (a port of the same name
on any bridge is replaced). SPEC is Ganeti's vlan syntax: .N (access),
:A:B (trunk, tagged only), .N:A:B (N untagged + A,B tagged), N (= .N);
none: untagged only. --rate/--burst set ingress policing (kbps / kb; 0 = off).

${GLOBAL_HELP}`;

export const DETACH_HELP = `usage: ovs-vif detach --iface DEV [options]

Removes the port DEV from whatever bridge holds it (absent is fine).

${GLOBAL_HELP}`;

function kiloOpt(field: string, raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^[0-9]{1,10}$/.test(raw)) throw new InputError(field, raw, "expected a whole number");
  const n = Number(raw);
  if (n > 4294967295) throw new InputError(field, raw, "larger than OVS accepts (2^32-1)");
  return n;
}

export async function attachCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { string: ["bridge", "vlan", "iface", "rate", "burst", "mtu", "external-id"] });
  if (args.help) {
    process.stdout.write(ATTACH_HELP + "\n");
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
    owner: "cli",
    policing: { rate: kiloOpt("--rate", stringOpt(args, "rate")), burst: kiloOpt("--burst", stringOpt(args, "burst")) },
  };
  const mtu = stringOpt(args, "mtu");
  if (mtu !== undefined) desired.mtu = parseMtu("--mtu", mtu);
  if (!opts.dryRun) requireDevice("--iface", desired.name);
  const log = makeLog("ovs-vif", opts.verbose);
  const deadline = new Deadline(opts.timeoutMs);
  const db = await connectOvsdb(opts, deadline);
  try {
    const res = await attachPort(db, desired, { deadline, wait: opts.wait, ...(opts.dryRun ? { dryRun: printTransaction } : {}) });
    if (!opts.dryRun) {
      log.info("attach ok", { device: desired.name, bridge: desired.bridge, vlan_mode: vlanMode(desired.vlan), vlan: describeVlan(desired.vlan), rate: desired.policing.rate || undefined, ofport: res.ofport });
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
    process.stdout.write(DETACH_HELP + "\n");
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
