// A node that joins the cluster (node-add post hook, on the master): it gets
// the master's switch spec and QoS defaults, through Ganeti, and then its
// node group's switches; a copy it already had that differs is reported.
import { existsSync } from "node:fs";
import { sha256 } from "../digest.ts";
import type { Log } from "../log.ts";
import { copyToNodes, nodeGroupOf, runOnNodes } from "./cluster.ts";

/** The sha256 of `file` on each node (undefined where it is missing). */
export async function digestsOn(file: string, nodes?: string[]): Promise<Map<string, string | undefined>> {
  const answers = await runOnNodes(["sha256sum", file], nodes);
  return new Map(answers.map((a) => [a.node, a.code === 0 ? /^([0-9a-f]{64})\s/.exec(a.output)?.[1] : undefined]));
}

export interface ProvisionFiles {
  spec: string;
  defaults: string;
}

/** Distributes the files that exist here to `node`, then applies its
 * group's switches there. Returns the exit code; every step is logged. */
export async function provisionNode(node: string, files: ProvisionFiles, log: Log): Promise<number> {
  let failed = false;
  for (const file of [files.spec, files.defaults]) {
    if (!existsSync(file)) {
      log.info(`node-add: ${node}: no ${file} on the master, nothing to copy`);
      continue;
    }
    const ours = sha256(file);
    const theirs = (await digestsOn(file, [node])).get(node);
    if (theirs !== undefined && theirs !== ours)
      log.warn(`node-add: ${node}: its ${file} differed from the master's (sha256 ${theirs.slice(0, 12)} != ${ours.slice(0, 12)}); replaced by the master's`);
    const copyFailed = await copyToNodes(file, [node]);
    if (copyFailed.length > 0) {
      log.error(`node-add: ${node}: copying ${file} failed (does ${file.replace(/\/[^/]+$/, "")} exist there? install ovs-vif on the node first)`);
      failed = true;
    } else {
      log.info(`node-add: ${node}: ${file} copied from the master (sha256 ${ours.slice(0, 12)})`);
    }
  }
  if (failed || !existsSync(files.spec)) return failed ? 1 : 0;
  const group = await nodeGroupOf(node);
  const [answer] = await runOnNodes(["ovs-vif", "switch", "apply", "--spec", files.spec, "--group", group, "--node", node], [node]);
  for (const line of (answer?.output ?? "").split("\n").filter(Boolean)) log.info(`node-add: ${node}: ${line}`);
  if (!answer || answer.code !== 0) {
    log.error(`node-add: ${node}: switch apply failed there (exit ${answer?.code ?? "none"})`);
    return 1;
  }
  return 0;
}
