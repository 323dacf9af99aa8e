// Ganeti 3.2's KVM NIC dispatcher for tests: hv_kvm runs
// PKGLIBDIR/kvm-nic-setup TAP, which sources net-common and execs
// CONF_DIR/network/MODE/ACTION when that is executable (else the built-in
// PKGLIBDIR/network/MODE/ACTION). ovs-vif's links sit at
// DIR/etc/ganeti/network/{openvswitch,bridged,routed}/{up,down}.
//
// With OVS_VIF_GANETI_SRC naming a Ganeti source tree or git directory
// (master, 3.2.0~alpha1 or later), its own tools/kvm-nic-setup.in and
// tools/net-common.in run, their placeholders filled in as its Makefile does
// (PKGLIBDIR -> DIR/lib/ganeti; the shell-env-init block, whose SYSCONFDIR
// the environment overrides -> DIR/etc). Without it (CI cannot reach
// Ganeti's repository, and no Debian release packages 3.2 yet), a stand-in
// written from the contract runs instead: the same checks and the same
// exec, so ovs-vif sees the same argv[0] and environment. Nothing of
// Ganeti's is copied into this repository.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY } from "./ovs.ts";
import { onExit } from "./teardown.ts";

export const NIC_MODES = ["openvswitch", "bridged", "routed"] as const;

const STAND_IN = `#!/bin/bash
# Stand-in for Ganeti 3.2's kvm-nic-setup (test/harness/ganeti-nic-setup.ts).
set -u
if [[ -z \${INTERFACE:-} ]]; then echo "No network interface specified"; exit 1; fi
if [[ -z \${MODE:-} ]]; then echo "MODE not specified"; exit 1; fi
for script in "\${SYSCONFDIR}/ganeti/network/$MODE/$ACTION" "@PKGLIBDIR@/network/$MODE/$ACTION"; do
  if [[ $MODE == ext && $script == @PKGLIBDIR@/* ]]; then break; fi
  [[ -x $script ]] && exec "$script"
done
echo "Error: no $ACTION script for network type $MODE found" >&2
exit 1
`;

export interface NicSetup {
  /** The dispatcher to run, with the NIC's environment (and SYSCONFDIR from env()). */
  script: string;
  /** Where it came from: upstream's file at a commit, or the stand-in. */
  source: string;
  /** SYSCONFDIR for the dispatcher (the links are below it). */
  env: Record<string, string>;
  cleanup(): void;
}

/** Ganeti's file from a source tree or git directory, undefined when absent. */
function upstreamFile(src: string, path: string): { text: string; where: string } | undefined {
  if (existsSync(join(src, path))) return { text: readFileSync(join(src, path), "utf8"), where: join(src, path) };
  const git = existsSync(join(src, ".git")) ? ["-C", src] : ["--git-dir", src];
  const show = spawnSync("git", [...git, "show", `HEAD:${path}`], { encoding: "utf8" });
  if (show.status !== 0) return undefined;
  const head = spawnSync("git", [...git, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim();
  return { text: show.stdout, where: `${src} ${path} at ${head}` };
}

/** The shell-env-init block of Ganeti's Makefile, for this prefix. */
function shellEnvInit(sysconf: string, pkglib: string): string {
  return [
    "readonly LOCALSTATEDIR=${LOCALSTATEDIR:-${GANETI_ROOTDIR:-}/var}",
    `readonly SYSCONFDIR=\${SYSCONFDIR:-\${GANETI_ROOTDIR:-}${sysconf}}`,
    "",
    `readonly PKGLIBDIR=${pkglib}`,
    'readonly LOG_DIR="$LOCALSTATEDIR/log/ganeti"',
    'readonly RUN_DIR="$LOCALSTATEDIR/run/ganeti"',
    'readonly DATA_DIR="$LOCALSTATEDIR/lib/ganeti"',
    'readonly CONF_DIR="$SYSCONFDIR/ganeti"',
  ].join("\n");
}

export function nicSetup(binary = BINARY): NicSetup {
  const dir = mkdtempSync(join(tmpdir(), "ovs-vif-nic-setup-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  onExit(cleanup);
  const lib = join(dir, "lib/ganeti");
  const etc = join(dir, "etc");
  mkdirSync(lib, { recursive: true });
  for (const m of NIC_MODES) {
    mkdirSync(join(etc, "ganeti/network", m), { recursive: true });
    for (const a of ["up", "down"]) symlinkSync(binary, join(etc, "ganeti/network", m, a));
  }
  const fill = (text: string) => text.replaceAll("@PKGLIBDIR@", lib).replace(/^@SHELL_ENV_INIT@$/m, shellEnvInit(etc, lib));
  const script = join(lib, "kvm-nic-setup");
  const src = process.env.OVS_VIF_GANETI_SRC;
  let source: string;
  const setup = src ? upstreamFile(src, "tools/kvm-nic-setup.in") : undefined;
  const common = src ? upstreamFile(src, "tools/net-common.in") : undefined;
  if (src && (!setup || !common)) throw new Error(`OVS_VIF_GANETI_SRC=${src}: no tools/kvm-nic-setup.in and tools/net-common.in there (Ganeti 3.2 or later)`);
  if (setup && common) {
    writeFileSync(join(lib, "net-common"), fill(common.text));
    writeFileSync(script, fill(setup.text));
    source = `upstream ${setup.where}`;
  } else {
    writeFileSync(script, fill(STAND_IN));
    source = "the harness's stand-in (set OVS_VIF_GANETI_SRC to Ganeti's source for upstream's own kvm-nic-setup)";
  }
  chmodSync(script, 0o755);
  return { script, source, env: { SYSCONFDIR: etc }, cleanup };
}
