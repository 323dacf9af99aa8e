// `ovs-vif qos set|unset|show` and `ovs-vif reconcile`: QoS kept in Ganeti
// tags, applied to running ports in place.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { connectOvsdb, out, withOvsdb, type RunContext } from "../src/context.ts";
import { InputError, UsageError } from "../src/errors.ts";
import { ganetiNicPort, nicParamsOf } from "../src/ganeti/nic-port.ts";
import { addTags, findNic, networkTagsOf, queryInstance, queryInstances, queryNetworkTags, removeTags, type GanetiInstance, type InstanceNic } from "../src/ganeti/query.ts";
import { ganetiPorts, networkTagsFrom, reconcileGanetiPorts, reportOutcomes, type NetworkTags } from "../src/ganeti/reconcile.ts";
import { readSnapshot, writeSnapshot, type GanetiSnapshot } from "../src/ganeti/snapshot.ts";
import { parseInstanceName } from "../src/names.ts";
import { bridgeMtu, type ManagedPort } from "../src/ovsdb/ports.ts";
import { DEFAULT_MTU, effectivePolicing } from "../src/port.ts";
import { burstToKb, parseQosTag, rateToKbps } from "../src/qos.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";

const HELP = `usage: ovs-vif qos set INSTANCE NIC --rate RATE [--burst BURST]
       ovs-vif qos unset INSTANCE NIC
       ovs-vif qos show [INSTANCE...]
       ovs-vif reconcile [--instance NAME] [--export FILE | --from FILE]

Ingress policing (what the VM sends) per Ganeti NIC, kept in instance tags:
  ovs-vif:nic:ID:rate:VALUE, ovs-vif:nic:ID:burst:VALUE (ID: NIC index, name or UUID)
  ovs-vif:rate:VALUE, ovs-vif:burst:VALUE (every NIC; also as network tags)
VALUE: bits per second (rate) or bits (burst), optional k/M/G suffix; 0 or
unlimited lifts the limit. Precedence: NIC tag, instance tag, network tag,
node defaults ($OVS_VIF_DEFAULTS or /etc/ovs-vif/defaults.json). Burst
defaults to 80% of the rate (at least one frame).

'set' and 'unset' check the NIC's new values exactly as its NIC script will,
change the tags through gnt-instance (on the master) and apply the result to
the NIC's running port on this node in place (the port is not re-created).
'reconcile' re-applies VLAN and QoS from Ganeti to every Ganeti port on this
node. Ganeti runs no hook on tag changes, and its CLI answers only on the
master, so to reconcile every node:
  ovs-vif reconcile --export /var/lib/ovs-vif/ganeti.json      (on the master)
  gnt-cluster copyfile /var/lib/ovs-vif/ganeti.json
  gnt-cluster command ovs-vif reconcile --from /var/lib/ovs-vif/ganeti.json

${GLOBAL_HELP}`;

function nicTagIds(nic: InstanceNic): string[] {
  return [String(nic.index), nic.uuid, ...(nic.name ? [nic.name] : [])];
}

/** This NIC's own rate/burst tags, under any of its ids. */
function nicQosTags(inst: GanetiInstance, nic: InstanceNic): string[] {
  return inst.tags.filter((t) => {
    const hit = parseQosTag("instance tag", t);
    return hit?.nic !== undefined && nicTagIds(nic).includes(hit.nic);
  });
}

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
}

async function reconcile({ args, ctx }: Invocation): Promise<number> {
  args.atMost(0, "reconcile takes options only");
  const only = args.string("instance");
  if (only !== undefined) parseInstanceName("--instance", only);
  const exportTo = args.string("export");
  const from = args.string("from");
  if (exportTo !== undefined && from !== undefined) throw new UsageError("--from", from, "not together with --export");
  if (exportTo !== undefined) {
    const instances = await queryInstances(only ? [only] : []);
    const networks = Object.fromEntries(await queryNetworkTags());
    const snapshot: GanetiSnapshot = { version: 1, taken: new Date().toISOString(), instances, networks };
    writeSnapshot(exportTo, snapshot);
    out(`${exportTo}: ${instances.length} instances, ${Object.keys(networks).length} networks\n`);
    return 0;
  }
  const snapshot = from !== undefined ? readSnapshot("--from", from) : undefined;
  return withOvsdb(ctx, async (db) => {
    const ports = await ganetiPorts(db, ctx, only);
    if (ports.length === 0) {
      out("no Ganeti ports on this node\n");
      return 0;
    }
    const names = [...new Set(ports.map((p) => p.ifaceIds["ganeti-instance"]).filter((n): n is string => !!n))].filter((n) => {
      try {
        return parseInstanceName("ganeti-instance", n) === n;
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
    return reportOutcomes(results, ctx, out, "reconcile ") ? 1 : 0;
  });
}

async function setOrUnset(action: "set" | "unset", { args, ctx }: Invocation): Promise<number> {
  args.onlyOptions(action === "set" ? ["rate", "burst"] : [], `qos ${action}`);
  const instance = parseInstanceName("INSTANCE", args.required(1, "INSTANCE"));
  const nicId = args.required(2, "NIC", "required (index, name or UUID)");
  args.atMost(3, `qos ${action} INSTANCE NIC`);
  const rate = args.string("rate");
  const burst = args.string("burst");
  if (action === "set") {
    if (rate === undefined) throw new UsageError("--rate", "", "required");
    rateToKbps("--rate", rate);
    if (burst !== undefined) burstToKb("--burst", burst);
  }
  const inst = await queryInstance(instance);
  const nic = findNic(inst, nicId);
  const old = nicQosTags(inst, nic);
  const add = action === "set" ? [`ovs-vif:nic:${nic.index}:rate:${rate}`, ...(burst !== undefined ? [`ovs-vif:nic:${nic.index}:burst:${burst}`] : [])] : [];
  const remove = old.filter((t) => !add.includes(t));
  const toAdd = add.filter((t) => !old.includes(t));
  const after: GanetiInstance = { ...inst, tags: [...inst.tags.filter((t) => !remove.includes(t)), ...toAdd] };
  // Validated as the hook will read it, before Ganeti is changed.
  if (nic.mode === "openvswitch") await checkNicQos(after, nic, ctx);
  if (ctx.print) {
    out(`gnt-instance remove-tags ${instance} ${remove.join(" ") || "(none)"}\ngnt-instance add-tags ${instance} ${toAdd.join(" ") || "(none)"}\n`);
  } else {
    // Remove first: the old and new rate tags of one NIC would conflict.
    await removeTags(instance, remove);
    await addTags(instance, toAdd);
  }
  return withOvsdb(ctx, async (db) => {
    const ports = (await ganetiPorts(db, ctx, instance)).filter((p) => p.ifaceIds["ganeti-nic-uuid"] === nic.uuid);
    if (ports.length === 0) {
      out(`${instance} nic ${nic.index}: tags set; no running port on this node (applied at the next start or by reconcile where it runs)\n`);
      return 0;
    }
    const results = await reconcileGanetiPorts(db, ctx, ports, [after], await networkTagsFromGaneti([after]));
    return reportOutcomes(results, ctx, out, `qos ${action} `) ? 1 : 0;
  });
}

async function show({ args, ctx }: Invocation): Promise<number> {
  args.onlyOptions([], "qos show");
  const names = args.positionals.slice(1).map((n) => parseInstanceName("INSTANCE", n));
  const instances = await queryInstances(names);
  const networkTags = await networkTagsOf(instances);
  let live = new Map<string, ManagedPort>();
  try {
    live = await withOvsdb(ctx, async (db) => new Map((await ganetiPorts(db, ctx)).map((p) => [p.ifaceIds["ganeti-nic-uuid"] ?? "", p])));
  } catch {
    // No OVSDB here: show the configured values only.
  }
  const rows: string[][] = [["instance", "nic", "mode", "rate kbps", "burst kb", "rate from", "burst from", "port here"]];
  for (const inst of instances) {
    for (const nic of inst.nics) {
      if (nic.mode !== "openvswitch") {
        rows.push([inst.name, String(nic.index), nic.mode, "-", "-", "-", "-", "-"]);
        continue;
      }
      const desired = ganetiNicPort(nicParamsOf(inst, nic, networkTags.get(nic.network ?? "") ?? []), "show", [nodeDefaultsLevel(nic.link)]);
      const q = effectivePolicing(desired);
      rows.push([inst.name, String(nic.index), nic.mode, String(q.policing.rate), String(q.policing.burst), q.rateSource, q.burstSource, live.get(nic.uuid)?.name ?? "-"]);
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

export const qosCommand: EntryPoint = { tag: "ovs-vif", help: HELP, options: { rate: "string", burst: "string" }, run: qos };

export const reconcileCommand: EntryPoint = { tag: "ovs-vif", help: HELP, options: { instance: "string", export: "string", from: "string" }, run: reconcile };
