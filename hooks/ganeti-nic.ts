// Ganeti's KVM NIC scripts:
//   kvm-vif-bridge        Ganeti 3.0 and 3.1: /usr/lib/ganeti/kvm-ifup execs
//                         /etc/ganeti/kvm-vif-bridge before the VM starts (action up)
//   network/MODE/up|down  Ganeti 3.2: kvm-nic-setup execs
//                         /etc/ganeti/network/MODE/ACTION (ACTION, MIGRATION_PHASE)
//   ovs-vif ganeti-nic [up|down]   the same by hand (MODE from the environment)
// The NIC comes from the environment (src/sources/ganeti.ts). A failure is
// one line on stderr, which Ganeti shows in the job.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { ganetiNic } from "../src/modes/index.ts";
import { nicInvocationOfPath, parseNicRequest, type NicInvocation } from "../src/sources/ganeti.ts";
import { vlanFormsHelp } from "../src/vlan.ts";

const HELP = `usage: kvm-vif-bridge                      (Ganeti 3.0 and 3.1, as /etc/ganeti/kvm-vif-bridge)
       /etc/ganeti/network/MODE/up|down    (Ganeti 3.2, MODE = openvswitch, bridged, routed)
       ovs-vif ganeti-nic [up|down] [options]

Sets up (or tears down) one Ganeti KVM NIC from the environment Ganeti
passes: INTERFACE, MODE, LINK, VLAN, INSTANCE, MAC, INTERFACE_INDEX,
INTERFACE_UUID, INTERFACE_NAME, IP, TAGS, NETWORK_*, ACTION, MIGRATION_PHASE.

  openvswitch  one OVSDB transaction: port on LINK with an explicit vlan_mode,
               external-ids ganeti-instance/ganeti-nic-uuid/ganeti-nic-index/
               attached-mac/iface-id, MTU of the bridge, policing from
               ovs-vif: tags; VLAN is Ganeti's vlan parameter:
${vlanFormsHelp("", 15)}
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

async function runNic({ args, ctx, env }: Invocation, how: NicInvocation): Promise<number> {
  args.atMost(0, "the NIC comes from the environment");
  const started = Date.now();
  const req = parseNicRequest(env, how);
  if (!req) {
    ctx.log.debug("instance communication tap: nothing to do", { device: env.INTERFACE });
    return 0;
  }
  const fields = await ganetiNic(req, ctx);
  ctx.log.info(`${req.action} ok`, {
    instance: req.nic.instance || undefined,
    nic: req.nic.index,
    ...fields,
    migration: env.MIGRATION_PHASE || undefined,
    ms: Date.now() - started,
  });
  return 0;
}

/** Ganeti 3.0 and 3.1: always up. */
export const kvmVifBridge: EntryPoint = { tag: "kvm-vif-bridge", help: HELP, run: (inv) => runNic(inv, { action: "up" }) };

/** Ganeti 3.2: invoked as .../network/MODE/up or .../down. */
export function ganetiNicByPath(path: string): EntryPoint {
  const how = nicInvocationOfPath(path);
  const parts = path.split("/");
  return { tag: `network/${parts.at(-2) ?? "."}/${parts.at(-1)}`, help: HELP, run: (inv) => runNic(inv, how) };
}

/** `ovs-vif ganeti-nic [up|down]`. */
export const ganetiNicCommand: EntryPoint = {
  tag: "ovs-vif ganeti-nic",
  help: HELP,
  run: (inv) => {
    const first = inv.args.positionals[0];
    if (first === "up" || first === "down") inv.args.positionals.shift();
    return runNic(inv, first === "up" || first === "down" ? { nameAction: first } : {});
  },
};
