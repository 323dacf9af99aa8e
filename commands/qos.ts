// `ovs-vif qos set|unset|show` (src/actions/qos.ts) and `ovs-vif reconcile`
// (src/actions/reconcile.ts): QoS kept in Ganeti tags, applied to running
// ports in place, on the node where they run.
import { GLOBAL_HELP, nodeNameOption } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { out } from "../src/context.ts";
import { UsageError } from "../src/errors.ts";
import { editNicQos, showQos } from "../src/actions/qos.ts";
import { exportView, reconcileCluster, reconcileNode } from "../src/actions/reconcile.ts";
import { parseInstanceName } from "../src/names.ts";
import { convertKind, QOS_KINDS } from "../src/qos.ts";

const HELP = `usage: ovs-vif qos set INSTANCE NIC [--rate RATE [--burst BURST]] [--rx-rate RATE [--rx-burst BURST]]
       ovs-vif qos unset INSTANCE NIC
       ovs-vif qos show [INSTANCE...]
       ovs-vif reconcile [--instance NAME] [--export FILE | --from FILE] | --cluster

QoS per Ganeti NIC in both directions, kept in instance tags:
  rate, burst        what the VM sends (OVS ingress policing)
  rx-rate, rx-burst  what the VM receives (a linux-htb QoS row on its port)
  ovs-vif:nic:ID:KIND:VALUE (ID: NIC index, name or UUID)
  ovs-vif:KIND:VALUE (every NIC; also as network tags)
VALUE: bits per second (rates) or bits (bursts), optional k/M/G suffix; 0
or unlimited lifts the limit. Precedence: NIC tag, instance tag, network
tag, node defaults ($OVS_VIF_DEFAULTS or /etc/ovs-vif/defaults.json). burst
defaults to 80% of the rate (at least one frame), rx-burst to OVS's own.
'set' replaces the NIC's tags of the directions it is given; 'unset' drops
all of the NIC's own tags (both directions).

'set' and 'unset' (on the master) check the NIC's new values exactly as its
NIC script will, change the tags through gnt-instance, and apply the result
to the NIC's running port in place (the port is not re-created) on the node
where the instance runs, before they return: here, or through Ganeti
(gnt-cluster copyfile of Ganeti's view to /var/lib/ovs-vif/ganeti.json there,
gnt-cluster command ovs-vif reconcile --instance INSTANCE --from it).
'reconcile' re-applies VLAN and QoS from Ganeti to every Ganeti port on this
node (the Ganeti CLI answers only on the master; --from FILE on the others).
'reconcile --cluster' (on the master) does it on every online node in one
command and reports each node; a node that does not answer is a failure.
--node NAME (or OVS_VIF_NODE_NAME) is this node's Ganeti name (default: hostname --fqdn).

${GLOBAL_HELP}`;

async function reconcile({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "reconcile takes options only");
  if (args.flag("cluster")) {
    args.onlyOptions(["cluster"], "reconcile --cluster");
    return reconcileCluster(ctx);
  }
  const raw = args.string("instance");
  const instance = raw === undefined ? undefined : parseInstanceName("--instance", raw);
  const exportTo = args.string("export");
  const from = args.string("from");
  if (exportTo !== undefined && from !== undefined) throw new UsageError("--from", from, "not together with --export");
  if (exportTo !== undefined) return exportView(exportTo, instance);
  return reconcileNode({ ...(instance !== undefined ? { instance } : {}), ...(from !== undefined ? { from } : {}) }, ctx);
}

async function setOrUnset(action: "set" | "unset", { args, ctx, env }: Invocation): Promise<number> {
  args.onlyOptions(action === "set" ? ["rate", "burst", "rx-rate", "rx-burst", "node"] : ["node"], `qos ${action}`);
  const instance = parseInstanceName("INSTANCE", args.required(1, "INSTANCE"));
  const nicId = args.required(2, "NIC", "required (index, name or UUID)");
  args.atMost(3, `qos ${action} INSTANCE NIC`);
  const node = nodeNameOption(args, env);
  const given = QOS_KINDS.flatMap((k) => {
    const v = args.string(k);
    return v === undefined ? [] : [[k, v] as const];
  });
  if (action === "set") {
    if (!args.has("rate") && !args.has("rx-rate")) throw new UsageError("--rate", "", "required (or --rx-rate for what the VM receives)");
    if (args.has("burst") && !args.has("rate")) throw new UsageError("--burst", args.string("burst")!, "goes with --rate");
    if (args.has("rx-burst") && !args.has("rx-rate")) throw new UsageError("--rx-burst", args.string("rx-burst")!, "goes with --rx-rate");
    for (const [k, v] of given) convertKind(k, `--${k}`, v);
  }
  return editNicQos({ action, instance, nicId, given, ...(node !== undefined ? { node } : {}) }, ctx);
}

async function qos(inv: Invocation): Promise<number> {
  const action = inv.args.positionals[0];
  if (action === undefined) {
    out(HELP + "\n");
    return 2;
  }
  if (action === "show") {
    inv.args.onlyOptions([], "qos show");
    return showQos(
      inv.args.positionals.slice(1).map((n) => parseInstanceName("INSTANCE", n)),
      inv.ctx,
    );
  }
  if (action === "set" || action === "unset") return setOrUnset(action, inv);
  throw new UsageError("qos action", action, "expected set, unset or show");
}

export const qosCommand: EntryPoint = {
  tag: "ovs-vif",
  help: HELP,
  options: { rate: "string", burst: "string", "rx-rate": "string", "rx-burst": "string", node: "string" },
  run: qos,
};

export const reconcileCommand: EntryPoint = {
  tag: "ovs-vif",
  help: HELP,
  options: { instance: "string", export: "string", from: "string", cluster: "flag" },
  run: reconcile,
};
