// Ganeti's KVM NIC scripts:
//   kvm-vif-bridge        Ganeti 3.0 and 3.1: /usr/lib/ganeti/kvm-ifup execs
//                         /etc/ganeti/kvm-vif-bridge before the VM starts (action up)
//   network/MODE/up|down  Ganeti 3.2: kvm-nic-setup execs
//                         /etc/ganeti/network/MODE/ACTION (ACTION, MIGRATION_PHASE)
//   ovs-vif ganeti-nic [up|down]   the same by hand (MODE from the environment)
// The NIC comes from the environment (INSTANCE, MAC, MODE, LINK, VLAN,
// INTERFACE, INTERFACE_INDEX, INTERFACE_UUID, INTERFACE_NAME, IP, TAGS,
// NETWORK_*). A failure is one line on stderr, which Ganeti shows in the job.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { InputError } from "../src/errors.ts";
import { ganetiNicDown, ganetiNicUp } from "../src/modes/index.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { envVars, isCommunicationTap, NIC_MODES, parseMode, parseScriptNic, type NicAction, type NicMode } from "../src/sources/ganeti.ts";

const HELP = `usage: kvm-vif-bridge                      (Ganeti 3.0 and 3.1, as /etc/ganeti/kvm-vif-bridge)
       /etc/ganeti/network/MODE/up|down    (Ganeti 3.2, MODE = openvswitch, bridged, routed)
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
released) once the device is gone; while it still exists (Ganeti 3.2 runs
down right after asking the guest to power off, while it may still be
shutting down) everything is left to go with the device. gnt.com.* taps are left
to Ganeti's kvm-ifup-os.

${GLOBAL_HELP}`;

function parseAction(field: string, value: string): NicAction {
  if (value === "up" || value === "down") return value;
  throw new InputError(field, value, "expected up or down");
}

interface How {
  /** Fixed action (Ganeti 3.0). */
  action?: NicAction;
  /** Action from the script's name, used when ACTION is unset. */
  nameAction?: NicAction;
  /** Mode from the script's directory. */
  dirMode?: NicMode;
  path?: string;
}

async function runNic({ args, ctx, env }: Invocation, how: How): Promise<number> {
  args.atMost(0, "the NIC comes from the environment");
  // Instance communication taps belong to kvm-ifup-os.
  if (isCommunicationTap(env.INTERFACE)) {
    ctx.log.debug("instance communication tap: nothing to do", { device: env.INTERFACE });
    return 0;
  }
  let action: NicAction;
  if (how.action) action = how.action;
  else if (env.ACTION !== undefined && env.ACTION !== "") action = parseAction("ACTION", env.ACTION);
  else if (how.nameAction) action = how.nameAction;
  else throw new InputError("ACTION", "", "not set (expected up or down, or run as .../MODE/up or .../MODE/down)");

  if (how.path !== undefined && how.dirMode === undefined && !env.MODE) {
    throw new InputError("MODE", "", `not set, and the script's directory (${how.path}) names no mode (openvswitch, bridged, routed)`);
  }
  if (how.dirMode !== undefined && env.MODE && env.MODE !== how.dirMode) {
    parseMode("MODE", env.MODE);
    throw new InputError("MODE", env.MODE, `but this script is the ${how.dirMode} one (${how.path})`);
  }
  const started = Date.now();
  const nic = parseScriptNic(envVars(env), { ...(how.dirMode ? { mode: how.dirMode } : {}), lenient: action === "down" });
  const fields =
    action === "up"
      ? await ganetiNicUp(nic, ctx, { deviceField: "INTERFACE", tail: (bridge) => [nodeDefaultsLevel(bridge)] })
      : await ganetiNicDown({ device: nic.device, mode: nic.mode, ...(nic.link ? { link: nic.link } : {}), ...(nic.ip ? { ip: nic.ip } : {}), ...(nic.uuid ? { uuid: nic.uuid } : {}) }, ctx, { keepLiveDevice: true });
  if (!ctx.dryRun) ctx.log.info(`${action} ok`, { instance: nic.instance || undefined, nic: nic.index, ...fields, migration: env.MIGRATION_PHASE || undefined, ms: Date.now() - started });
  return 0;
}

/** Ganeti 3.0 and 3.1: always up. */
export const kvmVifBridge: EntryPoint = { tag: "kvm-vif-bridge", help: HELP, run: (inv) => runNic(inv, { action: "up" }) };

/** Ganeti 3.2: invoked as .../network/MODE/up or .../down. */
export function ganetiNicByPath(path: string): EntryPoint {
  // Split by hand: node:path costs ~0.7 ms to load.
  const parts = path.split("/");
  const name = parts[parts.length - 1]!;
  const dir = parts.length > 1 ? parts[parts.length - 2]! : ".";
  const how: How = { path };
  if ((NIC_MODES as readonly string[]).includes(dir)) how.dirMode = dir as NicMode;
  return {
    tag: `network/${dir}/${name}`,
    help: HELP,
    run: (inv) => runNic(inv, { ...how, nameAction: parseAction("script name", name) }),
  };
}

/** `ovs-vif ganeti-nic [up|down]`. */
export const ganetiNicCommand: EntryPoint = {
  tag: "ovs-vif ganeti-nic",
  help: HELP,
  run: (inv) => {
    const first = inv.args.positionals[0];
    if (first === "up" || first === "down") {
      inv.args.positionals.shift();
      return runNic(inv, { nameAction: first });
    }
    return runNic(inv, {});
  },
};
