// `ovs-vif qos set|unset|show` and `ovs-vif reconcile`: QoS kept in Ganeti
// tags, applied to running ports in place.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { InputError } from "../src/errors.ts";
import { addTags, findNic, queryInstance, queryInstances, queryNetworkTags, removeTags, type GanetiInstance, type GanetiNic } from "../src/ganeti/query.ts";
import { ganetiNicPort } from "../src/ganeti/nic-port.ts";
import { ganetiPorts, reconcileGanetiPorts, type NetworkTags } from "../src/ganeti/reconcile.ts";
import type { ManagedPort } from "../src/ovsdb/ports.ts";
import { Deadline } from "../src/ovsdb/transact.ts";
import type { OvsdbClient } from "../src/ovsdb/client.ts";
import { burstToKb, rateToKbps } from "../src/qos.ts";
import { effectivePolicing } from "../src/port.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { connectOvsdb, globalOptions, GLOBAL_HELP, makeLog, parseArgs, stringOpt, type GlobalOptions, out } from "../src/cli/common.ts";

export const QOS_HELP = `usage: ovs-vif qos set INSTANCE NIC --rate RATE [--burst BURST]
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

'set' and 'unset' change the tags through gnt-instance (on the master) and
apply the result to the NIC's running port on this node in place (the port
is not re-created). 'reconcile' re-applies VLAN and QoS from Ganeti to every
Ganeti port on this node. Ganeti runs no hook on tag changes, and its CLI
answers only on the master, so to reconcile every node:
  ovs-vif reconcile --export /var/lib/ovs-vif/ganeti.json      (on the master)
  gnt-cluster copyfile /var/lib/ovs-vif/ganeti.json
  gnt-cluster command ovs-vif reconcile --from /var/lib/ovs-vif/ganeti.json

${GLOBAL_HELP}`;

const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

function instanceArg(raw: string | undefined): string {
  if (raw === undefined) throw new InputError("INSTANCE", "", "required");
  if (!INSTANCE_NAME.test(raw)) throw new InputError("INSTANCE", raw, "not a Ganeti instance name");
  return raw;
}

function nicTagIds(nic: GanetiNic): string[] {
  return [String(nic.index), nic.uuid, ...(nic.name ? [nic.name] : [])];
}

/** This NIC's own rate/burst tags, under any of its ids. */
function nicQosTags(inst: GanetiInstance, nic: GanetiNic): string[] {
  const ids = new Set(nicTagIds(nic));
  return inst.tags.filter((t) => {
    const m = /^ovs-vif:nic:(.+):(rate|burst):[^:]+$/.exec(t);
    return m !== null && ids.has(m[1]!);
  });
}

/** Network tags through gnt-network, asked only when a NIC is in a network. */
export async function networkTagsFromGaneti(instances: GanetiInstance[]): Promise<NetworkTags> {
  const needed = instances.some((i) => i.nics.some((n) => n.network));
  const tags = needed ? await queryNetworkTags() : new Map<string, string[]>();
  return (_inst, nic) => (nic.network ? (tags.get(nic.network) ?? []) : []);
}

/** What `reconcile --export` writes on the master and `--from` reads on the
 * other nodes: the Ganeti CLI answers only on the master. */
interface GanetiSnapshot {
  version: 1;
  instances: GanetiInstance[];
  networks: Record<string, string[]>;
}

function readSnapshot(path: string): GanetiSnapshot {
  let data: GanetiSnapshot;
  try {
    data = JSON.parse(readFileSync(path, "utf8")) as GanetiSnapshot;
  } catch (err) {
    throw new InputError("--from", path, `cannot read: ${(err as Error).message}`);
  }
  if (data?.version !== 1 || !Array.isArray(data.instances) || typeof data.networks !== "object") throw new InputError("--from", path, "not an ovs-vif reconcile --export file (version 1)");
  return data;
}

export async function reconcileCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { string: ["instance", "export", "from"] });
  if (args.help) {
    out(QOS_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const only = stringOpt(args, "instance");
  if (only !== undefined) instanceArg(only);
  const exportTo = stringOpt(args, "export");
  if (exportTo !== undefined) {
    const instances = await queryInstances(only ? [only] : []);
    const networks = Object.fromEntries(await queryNetworkTags());
    const snapshot: GanetiSnapshot = { version: 1, instances, networks };
    const tmp = `${exportTo}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(snapshot, null, 1) + "\n");
    renameSync(tmp, exportTo);
    out(`${exportTo}: ${instances.length} instances, ${Object.keys(networks).length} networks\n`);
    return 0;
  }
  const from = stringOpt(args, "from");
  const snapshot = from !== undefined ? readSnapshot(from) : undefined;
  const log = makeLog("ovs-vif", opts.verbose);
  const deadline = new Deadline(opts.timeoutMs);
  const db = await connectOvsdb(opts, deadline);
  try {
    const ports = await ganetiPorts(db, deadline, only);
    if (ports.length === 0) {
      out("no Ganeti ports on this node\n");
      return 0;
    }
    const names = [...new Set(ports.map((p) => p.ifaceIds["ganeti-instance"]).filter((n): n is string => !!n && INSTANCE_NAME.test(n)))];
    let instances: GanetiInstance[];
    let networkTags: NetworkTags;
    if (snapshot) {
      instances = snapshot.instances.filter((i) => names.includes(i.name));
      networkTags = (_inst, nic) => (nic.network ? (snapshot.networks[nic.network] ?? []) : []);
    } else {
      instances = await queryInstances(names).catch(async () => {
        // One unknown name fails the whole query: ask for the known ones.
        const all = await queryInstances();
        return all.filter((i) => names.includes(i.name));
      });
      networkTags = await networkTagsFromGaneti(instances);
    }
    const results = await reconcileGanetiPorts(db, deadline, opts, ports, instances, networkTags);
    for (const r of results) {
      out(r.line + "\n");
      log.write(r.failed ? "error" : "info", `reconcile ${r.line}`);
    }
    return results.some((r) => r.failed) ? 1 : 0;
  } finally {
    db.close();
    await log.close();
  }
}

export async function qosCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { string: ["rate", "burst"] });
  const [action, ...rest] = args._.map(String);
  if (args.help || action === undefined) {
    out(QOS_HELP + "\n");
    return action === undefined && !args.help ? 2 : 0;
  }
  const opts = globalOptions(args);
  if (action === "show") return qosShow(rest, opts);
  if (action !== "set" && action !== "unset") throw new InputError("qos action", action, "expected set, unset or show");
  const instance = instanceArg(rest[0]);
  const nicId = rest[1];
  if (nicId === undefined) throw new InputError("NIC", "", "required (index, name or UUID)");
  if (rest.length > 2) throw new InputError("argument", rest[2]!, "unexpected argument");
  const rate = stringOpt(args, "rate");
  const burst = stringOpt(args, "burst");
  if (action === "set") {
    if (rate === undefined) throw new InputError("--rate", "", "required");
    rateToKbps("--rate", rate);
    if (burst !== undefined) burstToKb("--burst", burst);
  } else if (rate !== undefined || burst !== undefined) {
    throw new InputError("--rate", rate ?? burst ?? "", "unset takes no values");
  }
  const inst = await queryInstance(instance);
  const nic = findNic(inst, nicId);
  const old = nicQosTags(inst, nic);
  const add = action === "set" ? [`ovs-vif:nic:${nic.index}:rate:${rate}`, ...(burst !== undefined ? [`ovs-vif:nic:${nic.index}:burst:${burst}`] : [])] : [];
  const remove = old.filter((t) => !add.includes(t));
  const toAdd = add.filter((t) => !old.includes(t));
  if (opts.dryRun) {
    out(`gnt-instance remove-tags ${instance} ${remove.join(" ") || "(none)"}\ngnt-instance add-tags ${instance} ${toAdd.join(" ") || "(none)"}\n`);
  } else {
    // Remove first: the old and new rate tags of one NIC would conflict.
    await removeTags(instance, remove);
    await addTags(instance, toAdd);
  }
  const after: GanetiInstance = { ...inst, tags: [...inst.tags.filter((t) => !remove.includes(t)), ...toAdd] };
  const log = makeLog("ovs-vif", opts.verbose);
  const deadline = new Deadline(opts.timeoutMs);
  const db = await connectOvsdb(opts, deadline);
  try {
    const ports = (await ganetiPorts(db, deadline, instance)).filter((p) => p.ifaceIds["ganeti-nic-uuid"] === nic.uuid);
    if (ports.length === 0) {
      out(`${instance} nic ${nic.index}: tags set; no running port on this node (applied at the next start or by reconcile where it runs)\n`);
      return 0;
    }
    const results = await reconcileGanetiPorts(db, deadline, opts, ports, [after], await networkTagsFromGaneti([after]));
    for (const r of results) {
      out(r.line + "\n");
      log.write(r.failed ? "error" : "info", `qos ${action} ${r.line}`);
    }
    return results.some((r) => r.failed) ? 1 : 0;
  } finally {
    db.close();
    await log.close();
  }
}

async function qosShow(names: string[], opts: GlobalOptions): Promise<number> {
  for (const n of names) instanceArg(n);
  const instances = await queryInstances(names);
  const networkTags = instances.some((i) => i.nics.some((n) => n.network)) ? await queryNetworkTags() : new Map<string, string[]>();
  const deadline = new Deadline(opts.timeoutMs);
  let live = new Map<string, ManagedPort>();
  let db: OvsdbClient | undefined;
  try {
    db = await connectOvsdb(opts, deadline);
    live = new Map((await ganetiPorts(db, deadline)).map((p) => [p.ifaceIds["ganeti-nic-uuid"] ?? "", p]));
  } catch {
    // No OVSDB here: show the configured values only.
  } finally {
    db?.close();
  }
  const rows: string[][] = [["instance", "nic", "mode", "rate kbps", "burst kb", "rate from", "burst from", "port here"]];
  for (const inst of instances) {
    for (const nic of inst.nics) {
      if (nic.mode !== "openvswitch") {
        rows.push([inst.name, String(nic.index), nic.mode, "-", "-", "-", "-", "-"]);
        continue;
      }
      const desired = ganetiNicPort(
        { instance: inst.name, index: nic.index, uuid: nic.uuid, ...(nic.name ? { name: nic.name } : {}), mac: nic.mac, link: nic.link, vlan: nic.vlan, tags: inst.tags, networkTags: nic.network ? (networkTags.get(nic.network) ?? []) : [] },
        "show",
        [nodeDefaultsLevel(nic.link)],
      );
      const q = effectivePolicing(desired);
      rows.push([inst.name, String(nic.index), nic.mode, String(q.policing.rate), String(q.policing.burst), q.rateSource, q.burstSource, live.get(nic.uuid)?.name ?? "-"]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) out(r.map((v, c) => v.padEnd(widths[c]!)).join("  ").trimEnd() + "\n");
  return 0;
}
