// `ovs-vif qos set|unset|show` and `ovs-vif reconcile`: QoS kept in Ganeti
// tags, applied to running ports in place, on the node where they run.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { connectOvsdb, out, withOvsdb, type RunContext } from "../src/context.ts";
import { StateError, UsageError } from "../src/errors.ts";
import { copyToNodes, isLocalNode, noteReconciled, runOnNodes, runWithView, type NodeAnswer } from "../src/ganeti/cluster.ts";
import { ganetiNicPort, nicParamsOf } from "../src/ganeti/nic-port.ts";
import { addTags, findNic, networkTagsOf, queryInstance, queryInstances, removeTags, type GanetiInstance, type InstanceNic } from "../src/ganeti/query.ts";
import { ganetiPorts, networkTagsFrom, reconcileGanetiPorts, reportOutcomes, type NetworkTags } from "../src/ganeti/reconcile.ts";
import { exportGanetiView, readSnapshot } from "../src/ganeti/snapshot.ts";
import { parseInstanceName } from "../src/names.ts";
import type { ManagedPort } from "../src/ovsdb/ports.ts";
import { DEFAULT_MTU, effectivePolicing, effectiveShaping } from "../src/port.ts";
import { convertKind, parseQosTag, QOS_KINDS, type QosKind } from "../src/qos.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { snapshotFile } from "../src/paths.ts";
import { ID } from "../src/ovsdb/keys.ts";
import { bridgeMtu } from "../src/ovsdb/select.ts";

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

function nicTagIds(nic: InstanceNic): string[] {
  return [String(nic.index), nic.uuid, ...(nic.name ? [nic.name] : [])];
}

/** This NIC's own QoS tags of the given kinds, under any of its ids. */
function nicQosTags(inst: GanetiInstance, nic: InstanceNic, kinds: readonly QosKind[]): string[] {
  return inst.tags.filter((t) => {
    const hit = parseQosTag("instance tag", t);
    return hit?.nic !== undefined && nicTagIds(nic).includes(hit.nic) && kinds.includes(hit.kind);
  });
}

const TX: readonly QosKind[] = ["rate", "burst"];
const RX: readonly QosKind[] = ["rx-rate", "rx-burst"];

/** Network tags through gnt-network, asked only when a NIC is in a network. */
async function networkTagsFromGaneti(instances: GanetiInstance[]): Promise<NetworkTags> {
  return networkTagsFrom(await networkTagsOf(instances));
}

/** The NIC's QoS with the new tags, resolved exactly as its NIC script will
 * (the bridge's MTU on this node, else Ganeti's default 1500): a value the
 * hook would refuse is refused before Ganeti is changed. */
async function checkNicQos(inst: GanetiInstance, nic: InstanceNic, ctx: RunContext): Promise<void> {
  const networkTags = (await networkTagsOf([inst])).get(nic.network ?? "") ?? [];
  const desired = ganetiNicPort(nicParamsOf(inst, nic, networkTags), "check", [nodeDefaultsLevel(nic.link)]);
  const db = await connectOvsdb(ctx).catch(() => undefined);
  const mtu = db ? await bridgeMtu(db, nic.link, ctx.deadline).finally(() => db.close()).catch(() => undefined) : undefined;
  effectivePolicing(desired, mtu ?? DEFAULT_MTU);
  effectiveShaping(desired, mtu ?? DEFAULT_MTU);
}

async function reconcile({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "reconcile takes options only");
  const only = args.string("instance");
  if (only !== undefined) parseInstanceName("--instance", only);
  const exportTo = args.string("export");
  const from = args.string("from");
  if (exportTo !== undefined && from !== undefined) throw new UsageError("--from", from, "not together with --export");
  if (args.flag("cluster")) {
    for (const o of ["export", "from", "instance"]) if (args.has(o)) throw new UsageError(`--${o}`, args.string(o) ?? "", "not together with --cluster");
    return reconcileCluster(ctx);
  }
  if (exportTo !== undefined) {
    const snapshot = await exportGanetiView(exportTo, only);
    out(`${exportTo}: ${snapshot.instances.length} instances, ${Object.keys(snapshot.networks).length} networks\n`);
    return 0;
  }
  const snapshot = from !== undefined ? readSnapshot("--from", from) : undefined;
  return withOvsdb(ctx, async (db) => {
    const ports = await ganetiPorts(db, ctx, only);
    if (ports.length === 0) {
      out("no Ganeti ports on this node\n");
      return 0;
    }
    const names = [...new Set(ports.map((p) => p.ifaceIds[ID.instance]).filter((n): n is string => !!n))].filter((n) => {
      try {
        return parseInstanceName(ID.instance, n) === n;
      } catch {
        return false;
      }
    });
    let instances: GanetiInstance[];
    let networkTags: NetworkTags;
    if (snapshot) {
      instances = snapshot.instances.filter((i) => names.includes(i.name));
      networkTags = networkTagsFrom(new Map(Object.entries(snapshot.networks)));
    } else {
      instances = await queryInstances(names).catch(async () => {
        // One unknown name fails the whole query: ask for the known ones.
        const all = await queryInstances();
        return all.filter((i) => names.includes(i.name));
      });
      networkTags = await networkTagsFromGaneti(instances);
    }
    const results = await reconcileGanetiPorts(db, ctx, ports, instances, networkTags);
    const failed = reportOutcomes(results, ctx, out, "reconcile ");
    if (!failed && !ctx.dryRun && only === undefined) noteReconciled();
    return failed ? 1 : 0;
  });
}

async function setOrUnset(action: "set" | "unset", { args, ctx }: Invocation): Promise<number> {
  args.onlyOptions(action === "set" ? ["rate", "burst", "rx-rate", "rx-burst", "node"] : ["node"], `qos ${action}`);
  const instance = parseInstanceName("INSTANCE", args.required(1, "INSTANCE"));
  const nicId = args.required(2, "NIC", "required (index, name or UUID)");
  args.atMost(3, `qos ${action} INSTANCE NIC`);
  // The values given, checked as typed; each direction given replaces that
  // direction's tags of the NIC (unset: both).
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
  const kinds = action === "unset" ? QOS_KINDS : [...(args.has("rate") ? TX : []), ...(args.has("rx-rate") ? RX : [])];
  const inst = await queryInstance(instance);
  const nic = findNic(inst, nicId);
  const old = nicQosTags(inst, nic, kinds);
  const add = given.map(([k, v]) => `ovs-vif:nic:${nic.index}:${k}:${v}`);
  const remove = old.filter((t) => !add.includes(t));
  const toAdd = add.filter((t) => !old.includes(t));
  const after: GanetiInstance = { ...inst, tags: [...inst.tags.filter((t) => !remove.includes(t)), ...toAdd] };
  // Validated as the hook will read it, before Ganeti is changed.
  if (nic.mode === "openvswitch") await checkNicQos(after, nic, ctx);
  if (ctx.dryRun) {
    out(`gnt-instance remove-tags ${instance} ${remove.join(" ") || "(none)"}\ngnt-instance add-tags ${instance} ${toAdd.join(" ") || "(none)"}\n`);
  } else {
    // Remove first: the old and new rate tags of one NIC would conflict.
    await removeTags(instance, remove);
    await addTags(instance, toAdd);
  }
  // Ganeti runs no hook on tag changes: the port is changed where the instance runs.
  if (!(await isLocalNode(inst.primary, args.string("node") ?? process.env.OVS_VIF_NODE_NAME))) return applyOnNode(inst.primary, instance, ctx, `qos ${action}`);
  return withOvsdb(ctx, async (db) => {
    const ports = (await ganetiPorts(db, ctx, instance)).filter((p) => p.ifaceIds[ID.nicUuid] === nic.uuid);
    if (ports.length === 0) {
      out(`${instance} nic ${nic.index}: tags set; no running port on this node (applied at the next start)\n`);
      return 0;
    }
    const results = await reconcileGanetiPorts(db, ctx, ports, [after], await networkTagsFromGaneti([after]));
    return reportOutcomes(results, ctx, out, `qos ${action} `) ? 1 : 0;
  });
}

/** Node answers, each line prefixed by its node; true when one failed. */
function reportAnswers(answers: NodeAnswer[], ctx: RunContext, what: string): boolean {
  for (const a of answers) {
    for (const line of a.output.split("\n").filter(Boolean)) out(`${a.node}: ${line}\n`);
    if (a.code !== 0) ctx.log.error(`${what}: ${a.node}: exit ${a.code}`);
  }
  return answers.some((a) => a.code !== 0);
}

/** The change reaches the node where the instance runs before this returns:
 * Ganeti's view exported, copied there, reconciled there (gnt-cluster). */
async function applyOnNode(node: string, instance: string, ctx: RunContext, what: string): Promise<number> {
  const SNAPSHOT_FILE = snapshotFile();
  const remote = ["ovs-vif", "reconcile", "--instance", instance, "--from", SNAPSHOT_FILE];
  if (ctx.dryRun) {
    out(`gnt-cluster copyfile -n ${node} ${SNAPSHOT_FILE}\ngnt-cluster command -n ${node} ${remote.join(" ")}\n`);
    return 0;
  }
  await exportGanetiView(SNAPSHOT_FILE);
  const failed = await copyToNodes(SNAPSHOT_FILE, [node]);
  if (failed.length > 0) throw new StateError("node", node, `copying ${SNAPSHOT_FILE} there failed (gnt-cluster copyfile); the tags are set, the port there is unchanged until it is reconciled`);
  const answers = await runOnNodes(remote, [node]);
  out(`${instance}: applied on ${node}, where it runs:\n`);
  return reportAnswers(answers, ctx, what) ? 1 : 0;
}

/** Every node's Ganeti ports in line with Ganeti, from the master, in one command. */
async function reconcileCluster(ctx: RunContext): Promise<number> {
  const SNAPSHOT_FILE = snapshotFile();
  if (ctx.dryRun) {
    out(`gnt-cluster copyfile ${SNAPSHOT_FILE}\ngnt-cluster command ovs-vif reconcile --from ${SNAPSHOT_FILE}\n`);
    return 0;
  }
  const { snapshot, answers } = await runWithView(["ovs-vif", "reconcile"]);
  const bad = reportAnswers(answers, ctx, "reconcile --cluster");
  const ok = answers.filter((a) => a.code === 0).length;
  out(`reconcile --cluster: ${snapshot.instances.length} instances, ${ok} of ${answers.length} nodes in line${bad ? `; failed: ${answers.filter((a) => a.code !== 0).map((a) => a.node).join(", ")}` : ""}\n`);
  return bad ? 1 : 0;
}

async function show({ args, ctx }: Invocation): Promise<number> {
  args.onlyOptions([], "qos show");
  const names = args.positionals.slice(1).map((n) => parseInstanceName("INSTANCE", n));
  const instances = await queryInstances(names);
  const networkTags = await networkTagsOf(instances);
  let live = new Map<string, ManagedPort>();
  try {
    live = await withOvsdb(ctx, async (db) => new Map((await ganetiPorts(db, ctx)).map((p) => [p.ifaceIds[ID.nicUuid] ?? "", p])));
  } catch {
    // No OVSDB here: show the configured values only.
  }
  const rows: string[][] = [["instance", "nic", "mode", "rate kbps", "burst kb", "rate from", "burst from", "rx-rate bit/s", "rx-burst bits", "rx-rate from", "rx-burst from", "port here"]];
  for (const inst of instances) {
    for (const nic of inst.nics) {
      if (nic.mode !== "openvswitch") {
        rows.push([inst.name, String(nic.index), nic.mode, ...Array<string>(9).fill("-")]);
        continue;
      }
      const desired = ganetiNicPort(nicParamsOf(inst, nic, networkTags.get(nic.network ?? "") ?? []), "show", [nodeDefaultsLevel(nic.link)]);
      const q = effectivePolicing(desired);
      const rx = effectiveShaping(desired);
      rows.push([
        inst.name,
        String(nic.index),
        nic.mode,
        String(q.policing.rate),
        String(q.policing.burst),
        q.rateSource,
        q.burstSource,
        rx.shaping ? String(rx.shaping.rate) : "0",
        rx.shaping?.burst !== undefined ? String(rx.shaping.burst) : rx.shaping ? "default" : "0",
        rx.rateSource,
        rx.burstSource,
        live.get(nic.uuid)?.name ?? "-",
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) out(r.map((v, c) => v.padEnd(widths[c]!)).join("  ").trimEnd() + "\n");
  return 0;
}

async function qos(inv: Invocation): Promise<number> {
  const action = inv.args.positionals[0];
  if (action === undefined) {
    out(HELP + "\n");
    return 2;
  }
  if (action === "show") return show(inv);
  if (action === "set" || action === "unset") return setOrUnset(action, inv);
  throw new UsageError("qos action", action, "expected set, unset or show");
}

export const qosCommand: EntryPoint = { tag: "ovs-vif", help: HELP, options: { rate: "string", burst: "string", "rx-rate": "string", "rx-burst": "string", node: "string" }, run: qos };

export const reconcileCommand: EntryPoint = { tag: "ovs-vif", help: HELP, options: { instance: "string", export: "string", from: "string", cluster: "flag" }, run: reconcile };
