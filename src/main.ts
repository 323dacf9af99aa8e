// One binary, many names: dispatch on the basename it was invoked as
// (symlinks from Xen's and Ganeti's script directories), else on the first
// argument. Each entry point is imported only when it runs, and this file
// imports nothing else, so `--version` and `--help` start as fast as Bun can.
import { writeSync } from "node:fs";
import { basename } from "node:path";
import pkg from "../package.json" with { type: "json" };

const out = (text: string) => writeSync(1, text);
const err = (text: string) => writeSync(2, text);

const USAGE = `usage: ovs-vif COMMAND [options]

Commands:
  attach --bridge BR --iface DEV [--vlan SPEC] ...   attach a device (one OVSDB transaction)
  detach --iface DEV                                 remove a device's port
  xen-vif online|offline|add|remove ...              the Xen hotplug script (also as vif-openvswitch)
  switch plan|apply|show|remove|check|hook [SWITCH]  node-group vSwitches and bonds from /etc/ovs-vif/switches.json
  qos set|unset|show ...                             per-NIC ingress policing via Ganeti tags, applied live
  reconcile [--instance NAME]                        re-apply VLAN + QoS to this node's Ganeti ports
  vlan add|remove|set INSTANCE NIC VLAN...           change a Ganeti NIC's VLANs, applied to the running port
  gc [--instance NAME] [--dry-run]                   remove ovs-vif's ports whose device is gone
  ganeti-hook                                        the Ganeti hook (also: no command with GANETI_HOOKS_PATH set)
  --version                                          print the version

Run 'ovs-vif COMMAND --help' for a command's options.`;

type Entry = (argv: string[], tag: string) => Promise<number>;

const byName: Record<string, () => Promise<Entry>> = {
  "vif-openvswitch": async () => (await import("../hooks/xen.ts")).xenHook,
};

const subcommands: Record<string, () => Promise<Entry>> = {
  "xen-vif": byName["vif-openvswitch"]!,
  attach: async () => (await import("../hooks/attach.ts")).attachCommand,
  detach: async () => (await import("../hooks/attach.ts")).detachCommand,
  switch: async () => (await import("../hooks/switch.ts")).switchCommand,
  qos: async () => (await import("../hooks/qos.ts")).qosCommand,
  reconcile: async () => (await import("../hooks/qos.ts")).reconcileCommand,
  vlan: async () => (await import("../hooks/lifecycle.ts")).vlanCommand,
  gc: async () => (await import("../hooks/lifecycle.ts")).gcCommand,
  "ganeti-hook": async () => (await import("../hooks/lifecycle.ts")).ganetiHook,
};

async function main(): Promise<number> {
  if (process.env.OVS_VIF_TRACE === "1") writeSync(2, `trace ${performance.now().toFixed(2)} ms main\n`);
  const argv = process.argv.slice(2);
  const invokedAs = basename(process.argv0 || "ovs-vif");
  const hook = byName[invokedAs];
  if (hook) return (await hook())(argv, invokedAs);

  const [command, ...rest] = argv;
  // From a Ganeti hook directory, whatever the link's name.
  if ((command === undefined || command.startsWith("-")) && process.env.GANETI_HOOKS_PATH) {
    return (await subcommands["ganeti-hook"]!())(argv, "ovs-vif ganeti-hook");
  }
  if (command === "--version" || command === "version") {
    out(`ovs-vif ${pkg.version}\n`);
    return 0;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    out(USAGE + "\n");
    return command === undefined ? 2 : 0;
  }
  const sub = subcommands[command];
  if (!sub) {
    err(`ovs-vif: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
    return 2;
  }
  return (await sub())(rest, command === "xen-vif" ? "vif-openvswitch" : `ovs-vif ${command}`);
}

/** Any error that reaches here becomes one line on stderr and exit 1. */
async function runEntry(tag: string): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (e) {
    const { formatError } = await import("./errors.ts");
    err(`${tag}: ${formatError(e)}\n`);
    if (process.env.OVS_VIF_DEBUG_STACK === "1" && e instanceof Error) err(`${e.stack}\n`);
    code = 1;
  }
  process.exit(code);
}

void runEntry("ovs-vif");
