// `ovs-vif watch` on a node of the Ganeti cluster (ganeti-cluster.ts), run as
// its service would run it. Apart from the cluster because it is a service a
// test starts and stops on a node, not part of the cluster's set-up.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { GanetiNode } from "./ganeti-cluster.ts";

export interface Watch {
  /** What it logged so far. */
  log(): string;
  stop(): Promise<void>;
}

/** `ovs-vif watch` on the node as its service would run it: in the
 * background, pidfile /run/ovs-vif-watch.pid, log
 * /var/log/ganeti/ovs-vif-watch.log; resolves once it watches link deletions. */
export async function startWatch(node: GanetiNode): Promise<Watch> {
  const pidfile = "/run/ovs-vif-watch.pid";
  const logfile = join(node.dir, "varlog/ovs-vif-watch.log");
  await node.must("bash", ["-c", `ovs-vif watch </dev/null >/var/log/ganeti/ovs-vif-watch.log 2>&1 & echo $! >${pidfile}`]);
  const log = () => (existsSync(logfile) ? readFileSync(logfile, "utf8") : "");
  const stop = async () => {
    await node.run("bash", ["-c", `[ -f ${pidfile} ] && kill "$(cat ${pidfile})"; rm -f ${pidfile}`], 10000);
  };
  const end = Date.now() + 20000;
  while (!log().includes("watch: watching link deletions")) {
    if (Date.now() > end || (await node.run("bash", ["-c", `kill -0 "$(cat ${pidfile})"`], 10000)).code !== 0) {
      await stop();
      throw new Error(`ovs-vif watch on ${node.name} did not start: ${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { log, stop };
}
