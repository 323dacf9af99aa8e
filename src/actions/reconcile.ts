// `ovs-vif reconcile`: every Ganeti port on this node brought in line with
// Ganeti (the CLI on the master, else Ganeti's view exported by it); with
// --cluster, on every node from the master in one command.
import { out, withOvsdb, type RunContext } from "../context.ts";
import { noteReconciled, reportAnswers, runWithView } from "../ganeti/cluster.ts";
import { networksOf, queryInstances, type GanetiInstance } from "../ganeti/query.ts";
import { ganetiPorts, networksFrom, reconcileGanetiPorts, type NetworkOf } from "../ganeti/reconcile.ts";
import { reportOutcomes } from "../outcome.ts";
import { exportGanetiView, readSnapshot, type GanetiSnapshot } from "../ganeti/snapshot.ts";
import { parseInstanceName } from "../names.ts";
import { ID } from "../ovsdb/keys.ts";
import { snapshotFile } from "../paths.ts";

export interface ReconcileRequest {
  /** Only this instance's ports. */
  instance?: string;
  /** Ganeti's view from this file (a node other than the master). */
  from?: string;
}

/** Ganeti's view of the named instances: the exported file, else the CLI. */
async function instancesOf(names: string[], snapshot: GanetiSnapshot | undefined): Promise<{ instances: GanetiInstance[]; networkOf: NetworkOf }> {
  if (snapshot) {
    return { instances: snapshot.instances.filter((i) => names.includes(i.name)), networkOf: networksFrom(new Map(Object.entries(snapshot.networks))) };
  }
  const instances = await queryInstances(names).catch(async () => {
    // One unknown name fails the whole query: ask for the known ones.
    const all = await queryInstances();
    return all.filter((i) => names.includes(i.name));
  });
  return { instances, networkOf: networksFrom(await networksOf(instances)) };
}

/** This node's Ganeti ports in line with Ganeti; the exit code. */
export async function reconcileNode(req: ReconcileRequest, ctx: RunContext): Promise<number> {
  // The file is read before OVSDB is: a bad file changes nothing.
  const snapshot = req.from !== undefined ? readSnapshot("--from", req.from) : undefined;
  return withOvsdb(ctx, async (db) => {
    const ports = await ganetiPorts(db, ctx, req.instance);
    if (ports.length === 0) {
      out("no Ganeti ports on this node\n");
      return 0;
    }
    // Only instance names that are names (a foreign port's ids are not checked elsewhere).
    const names = [...new Set(ports.map((p) => p.ifaceIds[ID.instance]).filter((n): n is string => !!n && isInstanceName(n)))];
    const { instances, networkOf } = await instancesOf(names, snapshot);
    const results = await reconcileGanetiPorts(db, ctx, ports, instances, networkOf);
    const failed = reportOutcomes(results, ctx, "reconcile ");
    if (!failed && !ctx.dryRun && req.instance === undefined) noteReconciled();
    return failed ? 1 : 0;
  });
}

function isInstanceName(n: string): boolean {
  try {
    return parseInstanceName(ID.instance, n) === n;
  } catch {
    return false;
  }
}

/** Ganeti's view written to a file, for reconcile --from on other nodes. */
export async function exportView(file: string, instance: string | undefined): Promise<number> {
  const snapshot = await exportGanetiView(file, instance);
  out(`${file}: ${snapshot.instances.length} instances, ${Object.keys(snapshot.networks).length} networks\n`);
  return 0;
}

/** Every node's Ganeti ports in line with Ganeti, from the master, in one command. */
export async function reconcileCluster(ctx: RunContext): Promise<number> {
  const file = snapshotFile();
  if (ctx.dryRun) {
    out(`gnt-cluster copyfile ${file}\ngnt-cluster command ovs-vif reconcile --from ${file}\n`);
    return 0;
  }
  const { snapshot, answers } = await runWithView(["ovs-vif", "reconcile"]);
  const bad = reportAnswers(answers, ctx, "reconcile --cluster");
  const ok = answers.filter((a) => a.code === 0).length;
  const failed = answers.filter((a) => a.code !== 0).map((a) => a.node);
  out(`reconcile --cluster: ${snapshot.instances.length} instances, ${ok} of ${answers.length} nodes in line${bad ? `; failed: ${failed.join(", ")}` : ""}\n`);
  return bad ? 1 : 0;
}
