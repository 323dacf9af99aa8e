// `ovs-vif status` and `ovs-vif doctor` (src/actions/status.ts).
import { GLOBAL_HELP, nodeNameOption } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { runClusterDoctor, runDoctor, showClusterStatus, showStatus } from "../src/actions/status.ts";
import { InputError } from "../src/errors.ts";
import { parseInstanceName } from "../src/names.ts";
import { STATUS_VERSION } from "../src/status/node.ts";

const STATUS_HELP = `usage: ovs-vif status [--instance NAME] [--json] [--prometheus FILE] [--no-headers] [--from FILE] [--node NAME]
       ovs-vif status --cluster [--json] [--no-headers]        (on the master)

One row per VM port on this node's bridges (ovs-vif's and foreign ones):
bridge, port, owner, instance or domain, NIC, VLAN, both QoS directions,
MTU, ofport, link, and a state:
  ok       as it should be
  drift    differs from its desired state (the fields are named)
  stale    its device is gone, or ovs-vswitchd cannot use it
  foreign  not ovs-vif's
  unknown  nothing here to compare it with (no Ganeti view, no xenstore)
The desired state: Ganeti's (the CLI on the master; elsewhere the view the
master exported, /var/lib/ovs-vif/ganeti.json, or --from FILE) and
xenstore's for Xen domains. Then what 'switch apply' would change, QoS rows
nothing uses, and a summary. Exit 0 when all is ok, 1 otherwise, 2 on a
usage error. --json prints one object (version ${STATUS_VERSION}; README);
--prometheus FILE also writes node_exporter textfile metrics (atomically).
--cluster runs it on every node through gnt-cluster command and prints one
summary per node and a total; a node that does not answer is reported.

${GLOBAL_HELP}`;

const DOCTOR_HELP = `usage: ovs-vif doctor [--json] [--root DIR] [--from FILE] [--node NAME]
       ovs-vif doctor --cluster [--json]                        (on the master)

Is this node set up right? One line per check, ok / warn / fail and what to
do: OVSDB reachable and ovs-vswitchd applying changes; the hook links of
Ganeti and Xen present and pointing at this binary (a stock script still
active is reported); xl's default vif script; the NIC modes of Ganeti's
instances; the switch spec and QoS defaults parse and are the master's
(sha256, from the exported view); /etc/ovs-vif and /var/lib/ovs-vif exist;
ovs-vif watch runs. Exit 1 when a check fails. --root DIR prefixes the
system paths looked at.

${GLOBAL_HELP}`;

/** --root: an absolute directory path, without its trailing slashes ("" for /). */
function rootOption(raw: string | undefined): string {
  if (raw === undefined) return "";
  // eslint-disable-next-line no-control-regex
  if (!raw.startsWith("/") || /[\x00-\x1f\x7f]/.test(raw)) throw new InputError("--root", raw, "expected an absolute directory path");
  return raw.replace(/\/+$/, "");
}

async function status({ args, ctx, env }: Invocation): Promise<number> {
  args.atMost(0, "status takes options only");
  const shown = { json: args.flag("json"), headers: !args.flag("no-headers") };
  if (args.flag("cluster")) {
    args.onlyOptions(["cluster", "json", "no-headers"], "status --cluster");
    return showClusterStatus(shown);
  }
  const instance = args.string("instance");
  return showStatus(
    {
      ...shown,
      node: nodeNameOption(args, env),
      instance: instance && parseInstanceName("--instance", instance),
      from: args.string("from"),
      prometheus: args.string("prometheus"),
    },
    ctx,
  );
}

async function doctorCmd({ args, ctx, env, hookLocations }: Invocation): Promise<number> {
  args.atMost(0, "doctor takes options only");
  if (args.flag("cluster")) {
    args.onlyOptions(["cluster", "json"], "doctor --cluster");
    return runClusterDoctor(args.flag("json"));
  }
  const root = rootOption(args.string("root"));
  return runDoctor({ json: args.flag("json"), root, locations: hookLocations, node: nodeNameOption(args, env), from: args.string("from") }, ctx);
}

export const statusCommand: EntryPoint = {
  tag: "ovs-vif",
  help: STATUS_HELP,
  options: { instance: "string", json: "flag", prometheus: "string", "no-headers": "flag", from: "string", node: "string", cluster: "flag" },
  run: status,
};

export const doctorCommand: EntryPoint = {
  tag: "ovs-vif",
  help: DOCTOR_HELP,
  options: { json: "flag", root: "string", from: "string", node: "string", cluster: "flag" },
  run: doctorCmd,
};
