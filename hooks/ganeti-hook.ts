// The Ganeti hook (/etc/ganeti/hooks/PATH-post.d/ovs-vif), reading GANETI_*
// from the environment (src/actions/ganeti-hook.ts).
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { ganetiHook } from "../src/actions/ganeti-hook.ts";

const HELP = `usage: ovs-vif ganeti-hook [--node NAME]     (as /etc/ganeti/hooks/PATH-post.d/ovs-vif)

The Ganeti hook, reading GANETI_* from the environment: instance paths bring
this node's ports of the instance in line or collect them; network-connect,
network-disconnect and node-add set up switches (docs/switches.md);
network-rename (Ganeti 3.1) renames the network's OVN logical switch with it
(on the master; its pre phase refuses a name another logical switch has).
--node (or OVS_VIF_NODE_NAME) is this node's name (default: hostname --fqdn).

${GLOBAL_HELP}`;

async function run({ args, ctx, env, failure }: Invocation): Promise<number> {
  args.atMost(0, "Ganeti runs hooks without arguments");
  failure.prefix = env.GANETI_HOOKS_PATH || "hook";
  return ganetiHook(env, ctx, args.string("node") ?? env.OVS_VIF_NODE_NAME);
}

export const ganetiHookEntry: EntryPoint = { tag: "ovs-vif", help: HELP, options: { node: "string" }, run };
