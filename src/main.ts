// One binary, many names: dispatch on the basename it was invoked as
// (symlinks from Xen's and Ganeti's script directories), else on the first
// argument, through the role registry (src/roles.ts). Each entry point is
// imported only when it runs, with the one runner (src/cli/runner.ts) that
// parses, logs and reports its failure; besides the registry this file
// imports nothing, not even node:fs or node:path (loading them costs 1-1.6 ms
// before the first statement), so `--version` and `--help` start as fast as
// Bun can.
import pkg from "../package.json" with { type: "json" };
import { hookLocations, ROLES, usageText, type Role } from "./roles.ts";

// console.* write synchronously in Bun (process.stdout's stream costs ~10 ms).
const out = (text: string) => console.log(text.replace(/\n$/, ""));
const err = (text: string) => console.error(text.replace(/\n$/, ""));
const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);

const byCommand = (command: string) => ROLES.find((r) => r.command === command);

/** The role and its arguments, or an exit code for what needs none. */
function resolve(argv: string[]): { role: Role; argv: string[]; byHand: boolean } | number {
  const invoked = basename(process.argv0 || "ovs-vif");
  const hook = ROLES.find((r) => r.names?.includes(invoked));
  if (hook) return { role: hook, argv, byHand: false };
  const [command, ...rest] = argv;
  // From a Ganeti hook directory, whatever the link's name.
  if ((command === undefined || command.startsWith("-")) && process.env.GANETI_HOOKS_PATH) return { role: byCommand("ganeti-hook")!, argv, byHand: false };
  if (command === "--version" || command === "version") {
    out(`ovs-vif ${pkg.version}\n`);
    return 0;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    out(usageText() + "\n");
    return command === undefined ? 2 : 0;
  }
  // For install.sh / ovs-vif-setup and the package build: "INTEGRATION PATH [script]".
  if (command === "hook-locations" && rest.length === 0) {
    out(
      hookLocations()
        .map((l) => `${l.integration} ${l.path}${l.kind ? ` ${l.kind}` : ""}`)
        .join("\n") + "\n",
    );
    return 0;
  }
  const role = byCommand(command);
  if (!role) {
    err(`ovs-vif: error: command ${JSON.stringify(command)}: unknown command (see 'ovs-vif --help')\n`);
    return 2;
  }
  return { role, argv: rest, byHand: role.names !== undefined };
}

async function main(): Promise<number> {
  if (process.env.OVS_VIF_TRACE === "1") err(`trace ${performance.now().toFixed(2)} ms main\n`);
  const target = resolve(process.argv.slice(2));
  if (typeof target === "number") return target;
  const [{ runEntry, exitProcess }, entry] = await Promise.all([import("./cli/runner.ts"), target.role.load(process.argv0)]);
  // A hook run by hand (`ovs-vif qemu-ifup TAP`) says so in its lines; the
  // Xen hook keeps its own name either way.
  const tag = target.byHand && target.role.command !== "xen-vif" && !entry.tag.startsWith("ovs-vif") ? `ovs-vif ${target.role.command}` : entry.tag;
  return exitProcess(await runEntry({ ...entry, tag }, target.argv, process.env, hookLocations()));
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Only a failure to load an entry point gets here: the runner catches the rest.
    err(`ovs-vif: error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
