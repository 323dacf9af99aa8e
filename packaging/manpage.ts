// Writes the manual pages ovs-vif(8) and ovs-vif-setup(8) from the programs'
// own --help texts, so the pages say what the installed programs say:
//
//   bun packaging/manpage.ts --binary dist/ovs-vif --setup PATH/ovs-vif-setup \
//       --version 0.1.0 --date 2025-01-31 --out DIR
//
// The commands come from `ovs-vif --help`, each command's section from
// `ovs-vif COMMAND --help` (commands with the same text share a section), the
// common options from their shared block, the hook locations from
// `ovs-vif-setup --list`; ovs-vif-setup(8) from `ovs-vif-setup --help`. What
// no --help says (the environment, files, exit codes, the hook names' callers)
// is written here, and the build stops when a --help text names a variable or
// a hook location this file does not describe.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ROLES } from "../src/roles.ts";
import { bold, parseHelp, renderBlocks, roffText, usageLine } from "./roff.ts";

// ------------------------------------------------------------------ sources

function help(binary: string, args: string[]): string {
  // A clean environment: no GANETI_HOOKS_PATH or OVS_VIF_* of the caller, but
  // the binary ovs-vif-setup asks for the hook locations (the one being packaged).
  const setupBinary = process.env.OVS_VIF_SETUP_BINARY;
  return execFileSync(binary, args, {
    encoding: "utf8",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C.UTF-8", ...(setupBinary ? { OVS_VIF_SETUP_BINARY: setupBinary } : {}) },
  });
}

/** The commands `ovs-vif --help` lists, with their one-line summaries (the
 * summaries form a column; a usage may reach up to it). */
export function commandsOf(mainHelp: string): { usage: string; summary: string; names: string[] }[] {
  const at = mainHelp.indexOf("\nCommands:\n");
  if (at < 0) throw new Error("ovs-vif --help has no Commands: block");
  const lines: string[] = [];
  for (const line of mainHelp.slice(at + 11).split("\n")) {
    if (line.trim() === "") break;
    lines.push(line);
  }
  const starts = new Map<number, number>();
  for (const l of lines) {
    const m = /^(\s+\S.*?\s{2,})\S/.exec(l);
    if (m) starts.set(m[1]!.length, (starts.get(m[1]!.length) ?? 0) + 1);
  }
  const column = [...starts].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (column === undefined) throw new Error("ovs-vif --help: no summary column in Commands:");
  return lines.map((l) => {
    if (l.length <= column || l[column - 1] !== " ") throw new Error(`ovs-vif --help: no summary at column ${column} in ${JSON.stringify(l)}`);
    const usage = l.slice(0, column).trim();
    const names = usage.split(" / ").map((part) => part.split(" ")[0]!);
    return { usage, summary: l.slice(column).trim(), names: names.filter((n) => !n.startsWith("-")) };
  });
}

const COMMON = "Common options:";

/** A command's help without its common-options block (the same in every command). */
function splitCommon(text: string): { own: string; common?: string } {
  const at = text.indexOf(`\n${COMMON}\n`);
  if (at < 0) return { own: text };
  return { own: text.slice(0, at), common: text.slice(at + 1) };
}

// ------------------------------------------------------------------ what no --help says

const ENVIRONMENT: [string, string][] = [
  ["OVS_RUNDIR", "Open vSwitch's run directory; the default OVSDB socket is $OVS_RUNDIR/db.sock (default /var/run/openvswitch)."],
  ["OVS_VIF_TIMEOUT", "The default of --timeout in seconds (30), for the hooks, whose arguments the caller fixes."],
  ["OVS_VIF_LOG_LEVEL", "error, warn, info (the default) or debug."],
  ["OVS_VIF_SYSLOG", "0: no syslog lines (the systemd units set it: their standard error goes to the journal)."],
  ["OVS_VIF_SYSLOG_SOCKET", "The syslog socket instead of /dev/log."],
  ["OVS_VIF_XEN_LOG", "The Xen hooks' log file instead of /var/log/xen/xen-hotplug.log."],
  ["XENSTORED_PATH", "The xenstored socket; default /var/run/xenstored/socket, else /dev/xen/xenbus."],
  ["XENBUS_PATH", "Set by Xen for its hotplug scripts: the vif's backend directory in xenstore."],
  ["OVS_VIF_DEFAULTS", "The node's QoS defaults file instead of /etc/ovs-vif/defaults.json."],
  ["OVS_VIF_SWITCHES", "The switch spec instead of /etc/ovs-vif/switches.json."],
  ["OVS_VIF_OVN", "The node's OVN settings instead of /etc/ovs-vif/ovn.json."],
  ["OVN_NB_DB", "The OVN northbound database, in place of the settings' nb (as for ovn-nbctl)."],
  ["OVS_VIF_STATE_DIR", "The state directory instead of /var/lib/ovs-vif (tests)."],
  ["OVS_VIF_NODE_NAME", "This node's Ganeti name (default: hostname --fqdn)."],
  ["OVS_VIF_BRIDGE", "qemu-ifup: the bridge and VLANs of the NIC (see qemu-ifup above)."],
  ["OVS_VIF_RATE, OVS_VIF_BURST, OVS_VIF_RX_RATE, OVS_VIF_RX_BURST", "qemu-ifup: the NIC's limits (see qemu-ifup above)."],
  ["OVS_VIF_MAC, OVS_VIF_IFACE_ID", "qemu-ifup: the guest MAC and the iface-id stored in the Interface's external_ids."],
  [
    "OVS_VIF_PORT_SECURITY, OVS_VIF_IP, OVS_VIF_ALLOW_ADDRESS",
    "qemu-ifup: port security on or off for the NIC, its IP addresses and the extra addresses it may send from (space-separated lists; README.md, Port security).",
  ],
  ["GANETI_HOOKS_PATH", "Set by Ganeti for its hooks: with no command, the binary is the Ganeti hook."],
  ["GANETI_ROOTDIR", "The prefix of the NIC file vif-custom reads (Ganeti's own variable)."],
  ["INTERFACE, MODE, LINK, VLAN, INSTANCE, MAC, TAGS, ...", "Ganeti's NIC environment for kvm-vif-bridge and network/MODE/up|down (see kvm-vif-bridge above)."],
  ["OVS_VIF_TRACE", "1: print the milliseconds since the start at each step, on standard error."],
  ["OVS_VIF_NO_FFI", "1: change links with ip(8) instead of ioctl calls."],
  ["OVS_VIF_DEBUG_STACK", "1: add a stack trace (with its causes) to a failure."],
  ["NO_COLOR", "Set: status prints no colours on a terminal."],
];

const FILES: [string, string][] = [
  ["/usr/lib/ovs-vif/ovs-vif", "The binary; every hook location but one is a symbolic link to it."],
  ["/usr/lib/ovs-vif/vif-openvswitch", "A link to it for xl's script= (the name selects the Xen hook)."],
  [
    "/usr/lib/ovs-vif/kvm-vif-bridge",
    "A link to it that /etc/ganeti/kvm-vif-bridge runs: that one is a two-line script, because Ganeti copies its content to every node (gnt-node add, gnt-cluster redist-conf).",
  ],
  ["/etc/ovs-vif/switches.json", "The node-group switch spec (ovs-vif switch); the same file on every node (gnt-cluster copyfile)."],
  ["/etc/ovs-vif/defaults.json", "The node's QoS and port-security defaults (absent: none, port security off)."],
  ["/etc/ovs-vif/ovn.json", "The node's OVN settings (absent: no OVN mode)."],
  ["/var/lib/ovs-vif/", "ovs-vif's state: ganeti.json, Ganeti's view, copied here from the master (qos set, reconcile --cluster, status); last-reconcile."],
  ["/var/log/xen/xen-hotplug.log", "The Xen hooks' lines are appended here too."],
  [
    "/usr/lib/systemd/system/ovs-vif-gc.service",
    "Runs ovs-vif gc once at boot, after Open vSwitch and before Xen's and Ganeti's services: the ports of VMs that ran before a crash or reboot go before a new VM can reuse their names.",
  ],
  [
    "/usr/lib/systemd/system/ovs-vif-watch.service",
    "Runs ovs-vif watch. Both units are skipped without /run/openvswitch/db.sock; for a remote OVSDB give them --db in a drop-in (systemctl edit).",
  ],
  [
    "/usr/lib/systemd/system/ovs-vif-gc.path, ovs-vif-watch.path",
    "Start the two services once /run/openvswitch/db.sock exists: an Open vSwitch started after boot (or installed after ovs-vif) gets its stale ports collected and its watcher.",
  ],
];

const EXIT: [string, string][] = [
  ["0", "Done; also the calls that have nothing to do, and detaching an absent port."],
  [
    "1",
    "Failed: one line on standard error naming the field and the value, or the cause. Nothing was changed, or the line says what OVSDB holds (rolled back, or committed).",
  ],
  ["2", "A command line of the wrong shape: no or an unknown command, an unknown option, an option without its value, a missing or surplus argument."],
];

// ------------------------------------------------------------------ pages

function header(name: string, date: string, version: string, summary: string): string[] {
  return [
    `.\\" Generated by packaging/manpage.ts from the --help texts of ovs-vif ${version}; do not edit.`,
    `.TH ${name.toUpperCase().replace(/-/g, "\\-")} 8 "${date}" "ovs\\-vif ${version}" "System Administration"`,
    ".nh",
    ".ad l",
    ".SH NAME",
    `${name.replace(/-/g, "\\-")} \\- ${roffText(summary)}`,
  ];
}

const defList = (rows: [string, string][]) => rows.flatMap(([t, d]) => [".TP", bold(t), roffText(d)]);

/** Every $VARIABLE and OVS_VIF_* a help text names must be in ENVIRONMENT. */
function checkEnvironment(texts: string[]): void {
  const documented = ENVIRONMENT.map(([n]) => n).join(" ");
  const named = new Set(texts.flatMap((t) => t.match(/\bOVS_VIF_[A-Z_]+\b|\$[A-Z][A-Z_]+\b/g) ?? []).map((v) => v.replace(/^\$/, "")));
  const missing = [...named].filter((v) => !documented.split(/[ ,]+/).includes(v));
  if (missing.length) throw new Error(`variables named by --help but not in ENVIRONMENT (packaging/manpage.ts): ${missing.join(", ")}`);
}

export function ovsVifPage(binary: string, setup: string, version: string, date: string): string {
  const main = help(binary, ["--help"]);
  const commands = commandsOf(main);
  const names = [...new Set(commands.flatMap((c) => c.names))];
  // Commands with the same help share a section.
  const sections: { names: string[]; own: string }[] = [];
  let common: string | undefined;
  const texts = [main];
  for (const name of names) {
    const text = help(binary, [name, "--help"]);
    texts.push(text);
    const split = splitCommon(text);
    if (split.common !== undefined) {
      if (common !== undefined && common !== split.common) throw new Error(`${name} --help: its common options differ from the others'`);
      common = split.common;
    }
    const same = sections.find((s) => s.own === split.own);
    if (same) same.names.push(name);
    else sections.push({ names: [name], own: split.own });
  }
  if (common === undefined) throw new Error("no command --help has a Common options: block");
  checkEnvironment(texts);

  // The hook roles of the registry, with what ovs-vif-setup --list says (the same list, asked of the binary).
  const listed = new Set(
    help(setup, ["--list"])
      .trim()
      .split("\n")
      .map((l) => l.split(" ")[1]!),
  );
  const hookRoles = ROLES.filter((r) => r.hook);
  for (const p of listed)
    if (!hookRoles.some((r) => r.hook!.locations.some((l) => l.path === p)))
      throw new Error(`ovs-vif-setup --list: ${p} is no role's hook location (src/roles.ts)`);

  const usage = parseHelp(main)[0];
  const out = [
    ...header("ovs-vif", date, version, "attach virtual machine NICs to Open vSwitch for Xen, KVM/QEMU and Ganeti"),
    ".SH SYNOPSIS",
    ...(usage ? renderBlocks([usage]) : []),
    ...renderBlocks([{ kind: "usage", lines: ["ovs-vif --version | --help | COMMAND --help"] }]),
    ".SH DESCRIPTION",
    ".PP",
    roffText(
      "ovs-vif attaches the NICs of virtual machines to Open vSwitch bridges: as Xen's hotplug script, as Ganeti's NIC scripts and hooks (KVM and Xen), as QEMU's tap scripts, and from the command line. It is one executable that picks its role from the name it is invoked as (see HOOK NAMES), so every hook location is a symbolic link to it (but /etc/ganeti/kvm-vif-bridge, a two-line script running /usr/lib/ovs-vif/kvm-vif-bridge: Ganeti copies that file's content to every node); ovs-vif-setup(8) makes them.",
    ),
    ".PP",
    roffText(
      "It talks to ovsdb-server directly (JSON-RPC, RFC 7047) and sets up each port in one transaction with an explicit vlan_mode: a NIC without a VLAN is an access port without a tag (untagged traffic only), never a trunk. Every input is validated before anything changes; bad input fails with one line naming the field and the value, and the device, OVSDB and Ganeti stay as they were. Ports it creates carry external_ids:ovs-vif-owner on the Port; reconcile, gc, watch and the Ganeti hooks touch no other port.",
    ),
    ".SH COMMANDS",
    ...commands.flatMap((c) => [".TP", usageLine(c.usage), roffText(c.summary)]),
    ...sections.flatMap((s) => [`.SS ${s.names.map((n) => roffText(n)).join(", ")}`, ...renderBlocks(parseHelp(s.own))]),
    ".SH COMMON OPTIONS",
    ".PP",
    roffText("Every command and hook takes these (a hook's caller fixes its arguments: use the environment there)."),
    ...renderBlocks(parseHelp(common).filter((b) => !(b.kind === "para" && b.text === COMMON))),
    ".SH HOOK NAMES",
    ...hookRoles.flatMap((r) => {
      const paths = [...(r.hook!.packageLinks ?? []), ...r.hook!.locations.map((l) => l.path)];
      return [
        ".TP",
        [...new Set([...(r.names ?? []), ...paths.map((p) => basename(p))])].map(bold).join(", "),
        ".nf",
        ...paths.map(roffText),
        ".fi",
        roffText(r.hook!.description),
      ];
    }),
    ".SH ENVIRONMENT",
    ...defList(ENVIRONMENT),
    ".SH FILES",
    ...defList(FILES),
    ".SH EXIT STATUS",
    ...defList(EXIT),
    ".SH SEE ALSO",
    ".BR ovs\\-vif\\-setup (8),",
    ".BR ovs\\-vsctl (8),",
    ".BR ovsdb\\-server (1),",
    ".BR xl.cfg (5),",
    ".BR xl.conf (5),",
    ".BR gnt\\-instance (8),",
    ".BR qemu (1);",
    roffText("/usr/share/doc/ovs-vif/README.md.gz, ganeti.md.gz and switches.md.gz there, and the examples directory."),
  ];
  return out.join("\n") + "\n";
}

export function setupPage(setup: string, version: string, date: string): string {
  const text = help(setup, ["--help"]);
  const blocks = parseHelp(text.replace(/^Usage:/, "usage:"));
  const [usage, ...rest] = blocks;
  // The first paragraphs describe; the option lists are the options.
  const description = rest.filter((b) => b.kind === "para");
  const options = rest.filter((b) => b.kind === "list");
  const hooks = new Map<string, string[]>();
  for (const [integration, path] of help(setup, ["--list"])
    .trim()
    .split("\n")
    .map((l) => l.split(" ") as [string, string])) {
    hooks.set(integration, [...(hooks.get(integration) ?? []), path]);
  }
  const out = [
    ...header("ovs-vif-setup", date, version, "enable or disable the ovs-vif hooks of Ganeti, Xen and QEMU"),
    ".SH SYNOPSIS",
    ...(usage ? renderBlocks([usage]) : []),
    ".SH DESCRIPTION",
    ...renderBlocks(description),
    ".PP",
    roffText(
      "The ovs-vif package installs the binary and its systemd units but enables no hook: running this is the operator's step on each node, and --undo reverses it. Removing the package runs --undo --ganeti --qemu; it refuses while /etc/xen/scripts/vif-openvswitch is still replaced (Xen's conffile is never changed by the package's maintainer scripts), so run --undo --xen first.",
    ),
    ".SH OPTIONS",
    ...renderBlocks(options),
    ".SH FILES",
    ...[...hooks].flatMap(([integration, paths]) => [
      ".TP",
      bold(integration === "xen" ? "--replace-vif-openvswitch" : `--${integration}`),
      ".nf",
      ...paths.map(roffText),
      ".fi",
    ]),
    ".TP",
    bold("/var/lib/ovs-vif/setup-created-dirs"),
    roffText("The directories it created, removed again by --undo once they are empty."),
    ".SH EXAMPLES",
    ".PP",
    roffText("On every Ganeti node (for example with gnt-cluster command):"),
    ".PP",
    ".RS 4",
    ".EX",
    "ovs\\-vif\\-setup \\-\\-ganeti",
    ".EE",
    ".RE",
    ".PP",
    roffText("On a Xen host, then set the printed line in /etc/xen/xl.conf:"),
    ".PP",
    ".RS 4",
    ".EX",
    "ovs\\-vif\\-setup \\-\\-xen",
    'vif.default.script="/usr/lib/ovs\\-vif/vif\\-openvswitch"',
    ".EE",
    ".RE",
    ".SH EXIT STATUS",
    ".PP",
    roffText("0 when done (or nothing to do); 1 on a conflict or a missing binary, before anything changed; 2 for a wrong command line."),
    ".SH SEE ALSO",
    ".BR ovs\\-vif (8),",
    ".BR xl.conf (5)",
  ];
  return out.join("\n") + "\n";
}

// ------------------------------------------------------------------ main

function main(argv: string[]): void {
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v === undefined) throw new Error(`usage: manpage.ts --binary PATH --setup PATH --version V --date YYYY-MM-DD --out DIR (missing --${name})`);
    return v;
  };
  const [binary, setup, version, date, dir] = ["binary", "setup", "version", "date", "out"].map(opt) as [string, string, string, string, string];
  process.env.OVS_VIF_SETUP_BINARY = binary;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "ovs-vif.8"), ovsVifPage(binary, setup, version, date));
  writeFileSync(join(dir, "ovs-vif-setup.8"), setupPage(setup, version, date));
}

// Run as a program (bun packaging/manpage.ts ...), not when imported.
if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
