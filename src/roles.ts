// Every role the one binary plays, declared once: the command, the names it
// answers to at a hook location, its line in `ovs-vif --help`, where its
// hooks go, what the man page says of them, and how its entry point loads.
// Read by src/main.ts (dispatch), `ovs-vif hook-locations` (install.sh and
// ovs-vif-setup ask it for the links to make; the package build too), the
// man page generator, and doctor (handed the locations by its command).
// Data and loaders only: main.ts imports this file at every start, so it
// imports nothing itself; each entry point is loaded when it runs.
import type { EntryPoint } from "./cli/runner.ts";
// Each a directory of Ganeti 3.2's network/MODE/ACTION.
import { NIC_MODES } from "./nic.ts";

export type Integration = "xen" | "ganeti" | "qemu";

/** A place an integration runs ovs-vif from; ovs-vif-setup makes it a link
 * to the binary ("script": the two-line script Ganeti copies to every node). */
export interface HookLocation {
  integration: Integration;
  path: string;
  kind?: "script";
}

export interface Role {
  /** `ovs-vif COMMAND`. */
  command: string;
  /** `ovs-vif --help`: usage and what it does. */
  usage: string;
  summary: string;
  /** Basenames the binary answers to as this hook (the links' names). */
  names?: readonly string[];
  hook?: {
    /** The man page's HOOK NAMES entry: who runs it, and how. */
    description: string;
    locations: readonly HookLocation[];
    /** Links the Debian package itself ships. */
    packageLinks?: readonly string[];
  };
  /** Its entry point; `invokedAs` is the path it was run as (the network/MODE/ACTION hooks read it). */
  load(invokedAs: string): Promise<EntryPoint>;
}

/** Where the package installs the binary; every link points here. */
export const BIN_TARGET = "/usr/lib/ovs-vif/ovs-vif";

/** The Ganeti hook paths ovs-vif acts on (post hooks; network-rename also pre). */
export const GANETI_HOOK_PATHS = [
  "instance-start",
  "instance-reboot",
  "instance-stop",
  "instance-remove",
  "instance-migrate",
  "instance-failover",
  "instance-modify",
  "network-rename",
  "network-connect",
  "network-disconnect",
  "node-add",
] as const;
/** Those that also run as pre hooks (to refuse before Ganeti acts). */
export const GANETI_PRE_HOOK_PATHS = ["network-rename"] as const;

const ganeti = (path: string, kind?: "script"): HookLocation => ({ integration: "ganeti", path, ...(kind ? { kind } : {}) });

export const ROLES: readonly Role[] = [
  {
    command: "attach",
    usage: "attach --bridge BR --iface DEV [--vlan SPEC] ...",
    summary: "attach a device (one OVSDB transaction)",
    load: async () => (await import("../commands/attach.ts")).attachCommand,
  },
  {
    command: "detach",
    usage: "detach --iface DEV",
    summary: "remove a device's port",
    load: async () => (await import("../commands/attach.ts")).detachCommand,
  },
  {
    command: "xen-vif",
    usage: "xen-vif online|offline|add|remove ...",
    summary: "the Xen hotplug script (also as vif-openvswitch)",
    names: ["vif-openvswitch"],
    hook: {
      description:
        "Xen's vif hotplug script (ovs-vif xen-vif). xl runs the package's link with script=/usr/lib/ovs-vif/vif-openvswitch in a vif, or for every vif with vif.default.script in /etc/xen/xl.conf; Xen's own /etc/xen/scripts/vif-openvswitch becomes it only with ovs-vif-setup --replace-vif-openvswitch.",
      locations: [{ integration: "xen", path: "/etc/xen/scripts/vif-openvswitch" }],
      packageLinks: ["/usr/lib/ovs-vif/vif-openvswitch"],
    },
    load: async () => (await import("../hooks/xen.ts")).xenHook,
  },
  {
    command: "kvm-vif-bridge",
    usage: "kvm-vif-bridge",
    summary: "Ganeti 3.0/3.1 KVM NIC script (as /etc/ganeti/kvm-vif-bridge)",
    names: ["kvm-vif-bridge"],
    hook: {
      description: "Ganeti 3.0's and 3.1's KVM NIC script: /usr/lib/ganeti/kvm-ifup execs it when it is executable (ovs-vif ganeti-nic up).",
      locations: [ganeti("/etc/ganeti/kvm-vif-bridge", "script")],
      packageLinks: ["/usr/lib/ovs-vif/kvm-vif-bridge"],
    },
    load: async () => (await import("../hooks/ganeti-nic.ts")).kvmVifBridge,
  },
  {
    command: "ganeti-nic",
    usage: "ganeti-nic [up|down]",
    summary: "Ganeti 3.2 NIC script (as /etc/ganeti/network/MODE/up|down)",
    names: ["up", "down"],
    hook: {
      description: "Ganeti 3.2's NIC scripts, network/MODE/up and down: the directory names the mode (openvswitch, bridged or routed).",
      locations: NIC_MODES.flatMap((m) => [ganeti(`/etc/ganeti/network/${m}/up`), ganeti(`/etc/ganeti/network/${m}/down`)]),
    },
    load: async (invokedAs) => {
      const m = await import("../hooks/ganeti-nic.ts");
      const name = invokedAs.slice(invokedAs.lastIndexOf("/") + 1);
      return name === "up" || name === "down" ? m.ganetiNicByPath(invokedAs) : m.ganetiNicCommand;
    },
  },
  {
    command: "vif-custom",
    usage: "vif-custom online|offline|add|remove ...",
    summary: "Ganeti on Xen (as /etc/xen/scripts/vif-custom)",
    names: ["vif-custom"],
    hook: {
      description: "Ganeti on Xen: vif-ganeti execs it with Xen's arguments; the NIC file Ganeti wrote says the rest (ovs-vif vif-custom).",
      locations: [ganeti("/etc/xen/scripts/vif-custom")],
    },
    load: async () => (await import("../hooks/vif-custom.ts")).vifCustom,
  },
  {
    command: "qemu-ifup",
    usage: "qemu-ifup TAP",
    summary: "plain QEMU -netdev tap script= (OVS_VIF_BRIDGE)",
    names: ["qemu-ifup"],
    hook: {
      description: "QEMU's -netdev tap script=: attaches the tap QEMU opened (ovs-vif qemu-ifup).",
      locations: [{ integration: "qemu", path: "/etc/ovs-vif/qemu-ifup" }],
    },
    load: async () => (await import("../hooks/qemu.ts")).qemuIfup,
  },
  {
    command: "qemu-ifdown",
    usage: "qemu-ifdown TAP",
    summary: "plain QEMU -netdev tap downscript=",
    names: ["qemu-ifdown"],
    hook: {
      description: "QEMU's -netdev tap downscript=: removes the tap's port (ovs-vif qemu-ifdown).",
      locations: [{ integration: "qemu", path: "/etc/ovs-vif/qemu-ifdown" }],
    },
    load: async () => (await import("../hooks/qemu.ts")).qemuIfdown,
  },
  {
    command: "switch",
    usage: "switch plan|apply|show|remove|check|hook [SWITCH]",
    summary: "node-group vSwitches and bonds from /etc/ovs-vif/switches.json",
    load: async () => (await import("../commands/switch.ts")).switchCommand,
  },
  {
    command: "qos",
    usage: "qos set|unset|show ...",
    summary: "per-NIC QoS via Ganeti tags, applied live",
    load: async () => (await import("../commands/qos.ts")).qosCommand,
  },
  {
    command: "reconcile",
    usage: "reconcile [--instance NAME] [--export|--from FILE] | --cluster",
    summary: "re-apply VLAN + QoS to this node's (or every node's) Ganeti ports",
    load: async () => (await import("../commands/qos.ts")).reconcileCommand,
  },
  {
    command: "vlan",
    usage: "vlan add|remove|set INSTANCE NIC VLAN...",
    summary: "change a Ganeti NIC's vlan, applied to the running port",
    load: async () => (await import("../commands/vlan.ts")).vlanCommand,
  },
  {
    command: "gc",
    usage: "gc [--instance NAME] [--dry-run]",
    summary: "remove ovs-vif's ports whose device is gone",
    load: async () => (await import("../commands/gc.ts")).gcCommand,
  },
  {
    command: "watch",
    usage: "watch [--sweep SECONDS]",
    summary: "the service removing a port as soon as its device is deleted",
    load: async () => (await import("../commands/watch.ts")).watchCommand,
  },
  {
    command: "status",
    usage: "status [--json] [--prometheus FILE] [--cluster]",
    summary: "this node's ports: ok, drift, stale, foreign; switches; orphaned rows",
    load: async () => (await import("../commands/status.ts")).statusCommand,
  },
  {
    command: "doctor",
    usage: "doctor [--json] [--cluster]",
    summary: "is this node set up right (OVS, hook links, spec, Xen scripts)",
    load: async () => (await import("../commands/status.ts")).doctorCommand,
  },
  {
    command: "ganeti-hook",
    usage: "ganeti-hook",
    summary: "the Ganeti hook (also: no command with GANETI_HOOKS_PATH set)",
    hook: {
      description: "Ganeti's hooks: run with GANETI_HOOKS_PATH set and no command, the binary is the Ganeti hook (ovs-vif ganeti-hook).",
      locations: [
        ...GANETI_HOOK_PATHS.map((p) => ganeti(`/etc/ganeti/hooks/${p}-post.d/ovs-vif`)),
        ...GANETI_PRE_HOOK_PATHS.map((p) => ganeti(`/etc/ganeti/hooks/${p}-pre.d/ovs-vif`)),
      ],
    },
    load: async () => (await import("../hooks/ganeti-hook.ts")).ganetiHookEntry,
  },
];

/** Every hook location, in the order ovs-vif-setup makes them. */
export function hookLocations(): HookLocation[] {
  const order: Integration[] = ["xen", "ganeti", "qemu"];
  return order.flatMap((i) => ROLES.flatMap((r) => (r.hook?.locations ?? []).filter((l) => l.integration === i)));
}

/** `ovs-vif --help`. */
export function usageText(): string {
  const rows = ROLES.map((r) => [`  ${r.usage}`, r.summary] as const);
  const width = Math.max(...rows.map(([u]) => u.length)) + 3;
  return [
    "usage: ovs-vif COMMAND [options]",
    "",
    "Commands:",
    ...rows.map(([u, s]) => u.padEnd(width) + s),
    "  --version".padEnd(width) + "print the version",
    "",
    "Run 'ovs-vif COMMAND --help' for a command's options.",
  ].join("\n");
}
