// Ganeti's KVM NIC scripts:
//   kvm-vif-bridge        Ganeti 3.0: /usr/lib/ganeti/kvm-ifup execs
//                         /etc/ganeti/kvm-vif-bridge before the VM starts (action up)
//   network/MODE/up|down  Ganeti 4.0: kvm-nic-setup execs
//                         /etc/ganeti/network/MODE/ACTION (ACTION, MIGRATION_PHASE)
//   ovs-vif ganeti-nic [up|down]   the same by hand (MODE from the environment)
// The NIC comes from the environment (INSTANCE, MAC, MODE, LINK, VLAN,
// INTERFACE, INTERFACE_INDEX, INTERFACE_UUID, INTERFACE_NAME, IP, TAGS,
// NETWORK_*). A failure is one line on stderr, which Ganeti shows in the job.
import { basename, dirname } from "node:path";
import { formatError, InputError } from "../src/errors.ts";
import { ganetiNicDown, ganetiNicUp } from "../src/modes/index.ts";
import { makeContext } from "../src/modes/common.ts";
import { envVars, isCommunicationTap, NIC_MODES, parseGanetiNic, parseMode, type NicAction, type NicMode } from "../src/sources/ganeti.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { globalOptions, GLOBAL_HELP, makeLog, parseArgs, out, err } from "../src/cli/common.ts";

export const GANETI_NIC_HELP = `usage: kvm-vif-bridge                      (Ganeti 3.0, as /etc/ganeti/kvm-vif-bridge)
       /etc/ganeti/network/MODE/up|down    (Ganeti 4.0, MODE = openvswitch, bridged, routed)
       ovs-vif ganeti-nic [up|down] [options]

Sets up (or tears down) one Ganeti KVM NIC from the environment Ganeti
passes: INTERFACE, MODE, LINK, VLAN, INSTANCE, MAC, INTERFACE_INDEX,
INTERFACE_UUID, INTERFACE_NAME, IP, TAGS, NETWORK_*, ACTION, MIGRATION_PHASE.

  openvswitch  one OVSDB transaction: port on LINK with explicit vlan_mode
               (.N access, :A:B trunk, .N:A:B hybrid), external-ids
               ganeti-instance/ganeti-nic-uuid/ganeti-nic-index/attached-mac/
               iface-id, MTU of the bridge, policing from ovs-vif: tags
  bridged      as Ganeti: tap MAC fe:..., bridge MTU, master LINK, bridge vlan
               entries on VLAN-filtering bridges
  routed       as Ganeti: ip rule/route in table LINK (or main), proxy_arp,
               proxy_ndp, forwarding
'down' undoes 'up' (port removed, routes and rules removed, bridge port
released) and is harmless when the device is gone. gnt.com.* taps are left
to Ganeti's kvm-ifup-os.

${GLOBAL_HELP}`;

function parseAction(field: string, value: string): NicAction {
  if (value === "up" || value === "down") return value;
  throw new InputError(field, value, "expected up or down");
}

/** Ganeti 3.0: always up. */
export async function kvmVifBridge(argv: string[], tag: string): Promise<number> {
  return runNic(argv, tag, { action: "up", actionField: "kvm-vif-bridge" });
}

/** Ganeti 4.0: invoked as .../network/MODE/up or .../down. */
export async function ganetiNicByPath(argv: string[], tag: string): Promise<number> {
  const path = process.argv0 || tag;
  const name = basename(path);
  const dir = basename(dirname(path));
  const dirMode = (NIC_MODES as readonly string[]).includes(dir) ? (dir as NicMode) : undefined;
  return runNic(argv, `network/${dir}/${name}`, { nameAction: parseAction("script name", name), dirMode, path });
}

/** `ovs-vif ganeti-nic [up|down]`. */
export async function ganetiNicCommand(argv: string[], tag: string): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "up" || first === "down") return runNic(rest, tag, { nameAction: first });
  return runNic(argv, tag, {});
}

interface RunOptions {
  /** Fixed action (Ganeti 3.0). */
  action?: NicAction;
  actionField?: string;
  /** Action from the script's name, used when ACTION is unset. */
  nameAction?: NicAction;
  /** Mode from the script's directory. */
  dirMode?: NicMode | undefined;
  path?: string;
}

async function runNic(argv: string[], tag: string, r: RunOptions): Promise<number> {
  const args = parseArgs(argv, {});
  if (args.help) {
    out(GANETI_NIC_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const log = makeLog(tag, opts.verbose);
  const env = process.env;
  const started = Date.now();
  try {
    if (args._.length > 0) throw new InputError("argument", String(args._[0]), "unexpected argument (the NIC comes from the environment)");
    // Instance communication taps belong to kvm-ifup-os.
    if (isCommunicationTap(env.INTERFACE)) {
      log.debug("instance communication tap: nothing to do", { device: env.INTERFACE });
      return 0;
    }
    let action: NicAction;
    if (r.action) action = r.action;
    else if (env.ACTION !== undefined && env.ACTION !== "") action = parseAction("ACTION", env.ACTION);
    else if (r.nameAction) action = r.nameAction;
    else throw new InputError("ACTION", "", "not set (expected up or down, or run as .../MODE/up or .../MODE/down)");

    if (r.path !== undefined && r.dirMode === undefined && !env.MODE) {
      throw new InputError("MODE", "", `not set, and the script's directory (${r.path}) names no mode (openvswitch, bridged, routed)`);
    }
    if (r.dirMode !== undefined && env.MODE && env.MODE !== r.dirMode) {
      parseMode("MODE", env.MODE);
      throw new InputError("MODE", env.MODE, `but this script is the ${r.dirMode} one (${r.path})`);
    }
    const nic = parseGanetiNic(envVars(env), { ...(r.dirMode ? { mode: r.dirMode } : {}), lenient: action === "down" });
    const ctx = makeContext(opts, log);
    const phase = env.MIGRATION_PHASE || undefined;
    const fields =
      action === "up"
        ? await ganetiNicUp(nic, ctx, { deviceField: "INTERFACE", tail: (bridge) => [nodeDefaultsLevel(bridge)] })
        : await ganetiNicDown({ device: nic.device, mode: nic.mode, ...(nic.link ? { link: nic.link } : {}), ...(nic.ip ? { ip: nic.ip } : {}) }, ctx);
    if (!opts.dryRun) log.info(`${action} ok`, { instance: nic.instance || undefined, nic: nic.index, ...fields, migration: phase, ms: Date.now() - started });
    return 0;
  } catch (e) {
    err(`${tag}: ${formatError(e)}\n`);
    return 1;
  } finally {
    await log.close();
  }
}
