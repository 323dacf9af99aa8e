// One binary, many names: dispatch on the basename it was invoked as
// (symlinks from Xen's and Ganeti's script directories), else on the first
// argument. Each entry point is imported only when it runs, with the one
// runner (src/cli/runner.ts) that parses, logs and reports its failure; this
// file imports nothing else, not even node:fs or node:path (loading them
// costs 1-1.6 ms before the first statement), so `--version` and `--help`
// start as fast as Bun can.
import pkg from "../package.json" with { type: "json" };
import type { EntryPoint } from "./cli/runner.ts";

// console.* write synchronously in Bun (process.stdout's stream costs ~10 ms).
const out = (text: string) => console.log(text.replace(/\n$/, ""));
const err = (text: string) => console.error(text.replace(/\n$/, ""));
const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);

const USAGE = `usage: ovs-vif COMMAND [options]

Commands:
  attach --bridge BR --iface DEV [--vlan SPEC] ...   attach a device (one OVSDB transaction)
  detach --iface DEV                                 remove a device's port
  xen-vif online|offline|add|remove ...              the Xen hotplug script (also as vif-openvswitch)
  kvm-vif-bridge                                     Ganeti 3.0 KVM NIC script (as /etc/ganeti/kvm-vif-bridge)
  ganeti-nic [up|down]                               Ganeti 3.2 NIC script (as /etc/ganeti/network/MODE/up|down)
  vif-custom online|offline|add|remove ...           Ganeti on Xen (as /etc/xen/scripts/vif-custom)
  qemu-ifup TAP / qemu-ifdown TAP                    plain QEMU -netdev tap script/downscript (OVS_VIF_BRIDGE)
  switch plan|apply|show|remove|check|hook [SWITCH]  node-group vSwitches and bonds from /etc/ovs-vif/switches.json
  qos set|unset|show ...                             per-NIC ingress policing via Ganeti tags, applied live
  reconcile [--instance NAME] [--export|--from FILE] re-apply VLAN + QoS to this node's Ganeti ports
  reconcile --cluster                                the same on every node, from the master
  vlan add|remove|set INSTANCE NIC VLAN...           change a Ganeti NIC's vlan, applied to the running port
  gc [--instance NAME] [--dry-run]                   remove ovs-vif's ports whose device is gone
  watch [--sweep SECONDS]                            the service removing a port as soon as its device is deleted
  status [--json] [--prometheus FILE] [--cluster]    this node's ports: ok, drift, stale, foreign; switches; orphaned rows
  doctor [--json] [--cluster]                        is this node set up right (OVS, hook links, spec, Xen scripts)
  ganeti-hook                                        the Ganeti hook (also: no command with GANETI_HOOKS_PATH set)
  --version                                          print the version

Run 'ovs-vif COMMAND --help' for a command's options.`;

type Load = () => Promise<EntryPoint>;

const byName: Record<string, Load> = {
  "vif-openvswitch": async () => (await import("../hooks/xen.ts")).xenHook,
  "kvm-vif-bridge": async () => (await import("../hooks/ganeti-nic.ts")).kvmVifBridge,
  // /etc/ganeti/network/MODE/{up,down}: the directory names the mode.
  up: async () => (await import("../hooks/ganeti-nic.ts")).ganetiNicByPath(process.argv0),
  down: async () => (await import("../hooks/ganeti-nic.ts")).ganetiNicByPath(process.argv0),
  "vif-custom": async () => (await import("../hooks/vif-custom.ts")).vifCustom,
  "qemu-ifup": async () => (await import("../hooks/qemu.ts")).qemuIfup,
  "qemu-ifdown": async () => (await import("../hooks/qemu.ts")).qemuIfdown,
};

const subcommands: Record<string, Load> = {
  "xen-vif": byName["vif-openvswitch"]!,
  attach: async () => (await import("../hooks/attach.ts")).attachCommand,
  detach: async () => (await import("../hooks/attach.ts")).detachCommand,
  "kvm-vif-bridge": byName["kvm-vif-bridge"]!,
  "ganeti-nic": async () => (await import("../hooks/ganeti-nic.ts")).ganetiNicCommand,
  "vif-custom": byName["vif-custom"]!,
  "qemu-ifup": byName["qemu-ifup"]!,
  "qemu-ifdown": byName["qemu-ifdown"]!,
  switch: async () => (await import("../hooks/switch.ts")).switchCommand,
  qos: async () => (await import("../hooks/qos.ts")).qosCommand,
  reconcile: async () => (await import("../hooks/qos.ts")).reconcileCommand,
  vlan: async () => (await import("../hooks/lifecycle.ts")).vlanCommand,
  gc: async () => (await import("../hooks/lifecycle.ts")).gcCommand,
  watch: async () => (await import("../hooks/watch.ts")).watchCommand,
  status: async () => (await import("../hooks/status.ts")).statusCommand,
  doctor: async () => (await import("../hooks/status.ts")).doctorCommand,
  "ganeti-hook": async () => (await import("../hooks/lifecycle.ts")).ganetiHookEntry,
};

/** The entry point and its arguments, or an exit code for what needs none. */
function resolve(argv: string[]): { load: Load; argv: string[]; tag?: string } | number {
  const hook = byName[basename(process.argv0 || "ovs-vif")];
  if (hook) return { load: hook, argv };
  const [command, ...rest] = argv;
  // From a Ganeti hook directory, whatever the link's name.
  if ((command === undefined || command.startsWith("-")) && process.env.GANETI_HOOKS_PATH) return { load: subcommands["ganeti-hook"]!, argv };
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
    err(`ovs-vif: error: command ${JSON.stringify(command)}: unknown command (see 'ovs-vif --help')\n`);
    return 2;
  }
  // A hook run by hand (`ovs-vif qemu-ifup TAP`) says so in its lines.
  const tag = command === "xen-vif" ? undefined : `ovs-vif ${command}`;
  return { load: sub, argv: rest, ...(tag !== undefined ? { tag } : {}) };
}

async function main(): Promise<number> {
  if (process.env.OVS_VIF_TRACE === "1") err(`trace ${performance.now().toFixed(2)} ms main\n`);
  const target = resolve(process.argv.slice(2));
  if (typeof target === "number") return target;
  const [{ runEntry, exitProcess }, entry] = await Promise.all([import("./cli/runner.ts"), target.load()]);
  const hookByHand = target.tag !== undefined && !entry.tag.startsWith("ovs-vif");
  return exitProcess(await runEntry(hookByHand ? { ...entry, tag: target.tag! } : entry, target.argv));
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Only a failure to load an entry point gets here: the runner catches the rest.
    err(`ovs-vif: error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
