// `ovs-vif doctor`: is this node set up right? One line per check: ok, warn
// or fail, and what to do. Read-only. `root` prefixes the system paths it
// looks at (tests, chroots). The switch side (OVSDB, ovs-vswitchd, bridges
// with port-security flows, OVN) is in doctor-switch.ts.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { RunContext } from "../context.ts";
import { sha256 } from "../digest.ts";
import { defaultsPath, specPath } from "../paths.ts";
import { readDefaultsAt } from "../sources/defaults.ts";
import type { Check } from "./check.ts";
import type { GanetiView } from "./collect.ts";
import { ovnChecks, ovsChecks } from "./doctor-switch.ts";

export type { Check, Verdict } from "./check.ts";

export const LIBDIR = "/usr/lib/ovs-vif";
const MODES = ["openvswitch", "bridged", "routed"];

/** A hook location of the role registry (src/roles.ts), as the doctor
 * command hands it over. */
export interface Location {
  integration: string;
  path: string;
  kind?: string;
}

/** A check's name for a Ganeti hook location: "ganeti hook instance-start",
 * "ganeti hook network-rename (pre)", "ganeti network/openvswitch/up". */
function locationCheck(path: string): string {
  const hook = /^\/etc\/ganeti\/hooks\/(.+)-(post|pre)\.d\/ovs-vif$/.exec(path);
  if (hook) return `ganeti hook ${hook[1]}${hook[2] === "pre" ? " (pre)" : ""}`;
  return `ganeti ${path.replace(/^\/etc\/ganeti\//, "")}`;
}

interface Env {
  root: string;
  /** The binary the links must reach. */
  binary: string;
}

const at = (e: Env, path: string) => join(e.root, path);

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Is `path` our binary, through links (absolute links resolved inside root)? */
function isOurs(e: Env, path: string): boolean | undefined {
  let p = at(e, path);
  for (let hops = 0; hops < 10; hops++) {
    let target: string;
    try {
      target = readlinkSync(p);
    } catch {
      return existsSync(p) ? realOrUndefined(p) === realOrUndefined(e.binary) : undefined;
    }
    p = target.startsWith("/") ? at(e, target) : resolve(dirname(p), target);
    if (realOrUndefined(p) === realOrUndefined(e.binary) || (e.root !== "" && target === `${LIBDIR}/ovs-vif`)) return true;
  }
  return false;
}

function linkCheck(e: Env, check: string, path: string, missingHint: string): Check {
  const ours = isOurs(e, path);
  if (ours === true) return { check, result: "ok", detail: `${path} -> ovs-vif` };
  if (ours === undefined) return { check, result: "fail", detail: `${path} is missing`, hint: missingHint };
  return { check, result: "fail", detail: `${path} is not ovs-vif (another script is active there)`, hint: missingHint };
}

/** The script ovs-vif-setup writes there (install.sh KVM_SCRIPT_TEXT) runs this. */
const KVM_TARGET = `${LIBDIR}/kvm-vif-bridge`;

/** Ganeti copies /etc/ganeti/kvm-vif-bridge's content to every node (gnt-node
 * add, redist-conf): ovs-vif's is a small script for that reason. A link
 * there works where it is, and becomes a copy of the whole binary on the
 * other nodes, which no upgrade reaches. */
function kvmScriptCheck(e: Env, hint: string): Check {
  const check = "ganeti kvm-vif-bridge";
  const path = "/etc/ganeti/kvm-vif-bridge";
  let text: string | undefined;
  try {
    if (!lstatSync(at(e, path)).isSymbolicLink()) text = readFileSync(at(e, path), "utf8").slice(0, 4096);
  } catch {
    return {
      check,
      result: "fail",
      detail: `${path} is missing`,
      hint: `${hint}; without it Ganeti's own net-common sets NICs up (four ovs-vsctl calls, no vlan_mode)`,
    };
  }
  if (text === undefined) {
    return isOurs(e, path)
      ? {
          check,
          result: "warn",
          detail: `${path} -> ovs-vif, a link: Ganeti copies the binary behind it to every other node`,
          hint: "ovs-vif-setup --ganeti makes it the small script, then gnt-cluster redist-conf",
        }
      : { check, result: "fail", detail: `${path} is not ovs-vif (another script is active there)`, hint };
  }
  if (/^#!\/bin\/sh\n/.test(text) && text.includes(`\nexec ${KVM_TARGET} "$@"\n`)) {
    return isOurs(e, KVM_TARGET)
      ? { check, result: "ok", detail: `${path} runs ${KVM_TARGET} -> ovs-vif` }
      : { check, result: "fail", detail: `${path} runs ${KVM_TARGET}, which is not this ovs-vif`, hint: "reinstall the ovs-vif package" };
  }
  if (sameContent(at(e, path), e.binary)) {
    return {
      check,
      result: "fail",
      detail: `${path} is a copy of the ovs-vif binary (what Ganeti's file distribution makes of a link on the master): no upgrade reaches it`,
      hint: "ovs-vif-setup --ganeti on the master, then gnt-cluster redist-conf",
    };
  }
  return { check, result: "fail", detail: `${path} is not ovs-vif (another script is active there)`, hint };
}

function sameContent(a: string, b: string): boolean {
  try {
    if (statSync(a).size !== statSync(b).size) return false;
    return sha256(a) === sha256(b);
  } catch {
    return false;
  }
}

function ganetiChecks(e: Env, locations: readonly Location[]): Check[] {
  if (!existsSync(at(e, "/usr/lib/ganeti/kvm-ifup")) && !existsSync(at(e, "/etc/ganeti"))) return [];
  const hint = "ovs-vif-setup --ganeti (or install.sh --ganeti)";
  // Ganeti 3.0 and 3.1: kvm-ifup execs /etc/ganeti/kvm-vif-bridge. Ganeti
  // 3.2: kvm-nic-setup execs /etc/ganeti/network/MODE/ACTION instead and no
  // longer runs kvm-vif-bridge (it still copies it to every node).
  const nicSetup = existsSync(at(e, "/usr/lib/ganeti/kvm-nic-setup"));
  const checks: Check[] = [];
  for (const l of locations.filter((x) => x.integration === "ganeti")) {
    if (l.kind === "script") {
      checks.push(
        nicSetup
          ? {
              check: "ganeti kvm-vif-bridge",
              result: "ok",
              detail: "not run by this Ganeti (3.2: /usr/lib/ganeti/kvm-nic-setup runs /etc/ganeti/network/MODE/ACTION)",
            }
          : kvmScriptCheck(e, hint),
      );
    } else if (l.path.startsWith("/etc/ganeti/network/")) {
      if (nicSetup) checks.push(linkCheck(e, locationCheck(l.path), l.path, hint));
    } else if (l.path.startsWith("/etc/ganeti/")) {
      checks.push(linkCheck(e, locationCheck(l.path), l.path, hint));
    }
  }
  return checks;
}

/** What xl runs for a vif: its script=, else xl.conf's vif.default.script, else vif-bridge. */
function xenChecks(e: Env): Check[] {
  if (!existsSync(at(e, "/etc/xen/scripts"))) return [];
  const checks: Check[] = [];
  let script = "vif-bridge";
  const conf = at(e, "/etc/xen/xl.conf");
  if (existsSync(conf)) {
    const m = /^\s*vif\.default\.script\s*=\s*"([^"]*)"/m.exec(readFileSync(conf, "utf8"));
    if (m) script = m[1]!;
  }
  const path = script.startsWith("/") ? script : `/etc/xen/scripts/${script}`;
  const ours = isOurs(e, path);
  checks.push(
    ours === true
      ? { check: "xen default vif script", result: "ok", detail: `xl runs ${path} (ovs-vif) for vifs without script=` }
      : {
          check: "xen default vif script",
          result: "warn",
          detail: `xl runs ${path}${ours === undefined ? " (missing)" : ""} for vifs without script=, not ovs-vif`,
          hint: `vif.default.script="${LIBDIR}/vif-openvswitch" in /etc/xen/xl.conf, or script= on each vif`,
        },
  );
  const stock = isOurs(e, "/etc/xen/scripts/vif-openvswitch");
  if (stock === false)
    checks.push({
      check: "xen vif-openvswitch",
      result: "warn",
      detail: "/etc/xen/scripts/vif-openvswitch is Xen's stock script (no vlan_mode; a vif with script=vif-openvswitch uses it)",
      hint: `use script=${LIBDIR}/vif-openvswitch`,
    });
  if (existsSync(at(e, "/etc/xen/scripts/vif-ganeti")) || existsSync(at(e, "/usr/lib/ganeti")))
    checks.push(linkCheck(e, "xen vif-custom (Ganeti on Xen)", "/etc/xen/scripts/vif-custom", "ovs-vif-setup --ganeti"));
  return checks;
}

/** A node file's sha256, undefined when there is none; a path that is not a
 * readable file fails naming it (not with the runtime's EISDIR). */
function digestOf(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new Error(`${path}: cannot be read (${code ?? "unknown error"})`);
  }
  if (st.isDirectory()) throw new Error(`${path}: is a directory, not a file`);
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  try {
    return sha256(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === "EACCES" || code === "EPERM" ? "permission denied" : `cannot be read (${code ?? "unknown error"})`}`);
  }
}

function fileChecks(e: Env, view: GanetiView, master: boolean, taken?: { spec?: string; defaults?: string }): Check[] {
  const checks: Check[] = [];
  const files: [string, "spec" | "defaults", string][] = [
    ["switch spec", "spec", specPath(undefined)],
    ["QoS defaults", "defaults", defaultsPath()],
  ];
  for (const [check, key, path] of files) {
    let here: string | undefined;
    try {
      here = digestOf(at(e, path));
    } catch (err) {
      checks.push({ check: `${check} = master's`, result: "fail", detail: (err as Error).message, hint: "fix the file" });
      continue;
    }
    if (master || view.source === "cli") {
      checks.push({ check: `${check} (master's)`, result: "ok", detail: here ? `${path} sha256 ${here.slice(0, 12)}` : `no ${path}` });
      continue;
    }
    if (!taken) {
      const why = view.file !== undefined ? `the Ganeti view ${view.file} does not say the master's digests` : "no Ganeti view here";
      checks.push({
        check: `${check} = master's`,
        result: "warn",
        detail: `cannot compare ${path} with the master's: ${why}`,
        hint: "on the master: ovs-vif reconcile --cluster",
      });
      continue;
    }
    const theirs = taken[key];
    if (theirs === here)
      checks.push({
        check: `${check} = master's`,
        result: "ok",
        detail: here ? `${path} sha256 ${here.slice(0, 12)}, as on the master` : `no ${path}, as on the master`,
      });
    else
      checks.push({
        check: `${check} = master's`,
        result: "fail",
        detail: `${path} ${here ? `sha256 ${here.slice(0, 12)}` : "missing"} here, ${theirs ? `sha256 ${theirs.slice(0, 12)}` : "none"} on the master`,
        hint: `on the master: gnt-cluster copyfile ${path}`,
      });
  }
  return checks;
}

async function parseChecks(e: Env): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const { loadSpec } = await import("../switch/spec-validate.ts");
    const spec = loadSpec(at(e, specPath(undefined)), true);
    checks.push({ check: "switch spec parses", result: "ok", detail: spec ? `${spec.switches.length} switch(es)` : "no spec (bare bridges only)" });
  } catch (err) {
    checks.push({ check: "switch spec parses", result: "fail", detail: (err as Error).message, hint: "fix the file (ovs-vif switch check)" });
  }
  try {
    const { defaults } = readDefaultsAt(at(e, defaultsPath()), "defaults file", true);
    checks.push({ check: "QoS defaults parse", result: "ok", detail: defaults ? "defaults file readable" : "no defaults file (no node defaults)" });
  } catch (err) {
    checks.push({ check: "QoS defaults parse", result: "fail", detail: (err as Error).message, hint: "fix the file" });
  }
  return checks;
}

function modeChecks(view: GanetiView): Check[] {
  if (view.source === "none") return [];
  const odd = view.instances.flatMap((i) => i.nics.filter((n) => !MODES.includes(n.mode)).map((n) => `${i.name} nic ${n.index} (${n.mode})`));
  return [
    odd.length === 0
      ? { check: "ganeti NIC modes", result: "ok", detail: `every NIC of ${view.instances.length} instances is openvswitch, bridged or routed` }
      : { check: "ganeti NIC modes", result: "warn", detail: `ovs-vif does not set up: ${odd.join(", ")}` },
  ];
}

function watcherCheck(): Check {
  for (const pid of readdirSync("/proc").filter((p) => /^[0-9]+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (cmd.some((a) => a.endsWith("ovs-vif")) && cmd.includes("watch")) return { check: "ovs-vif watch", result: "ok", detail: `running (pid ${pid})` };
    } catch {
      // gone meanwhile
    }
  }
  return {
    check: "ovs-vif watch",
    result: "warn",
    detail: "not running: a device deleted without a hook keeps its port until gc",
    hint: "systemctl enable --now ovs-vif-watch",
  };
}

export interface DoctorOptions {
  /** Every hook location (the role registry's). */
  locations: readonly Location[];
  root: string;
  binary: string;
  view: GanetiView;
  master: boolean;
  files?: { spec?: string; defaults?: string };
}

export async function doctor(ctx: RunContext, o: DoctorOptions): Promise<Check[]> {
  const e: Env = { root: o.root, binary: o.binary };
  return [
    ...(await ovsChecks(ctx)),
    ...(await ovnChecks(ctx)),
    ...ganetiChecks(e, o.locations),
    ...xenChecks(e),
    ...modeChecks(o.view),
    ...(await parseChecks(e)),
    ...fileChecks(e, o.view, o.master, o.files),
    ...["/etc/ovs-vif", "/var/lib/ovs-vif"].map((d) =>
      existsSync(at(e, d))
        ? { check: `directory ${d}`, result: "ok" as const, detail: "exists" }
        : {
            check: `directory ${d}`,
            result: "warn" as const,
            detail: "missing: gnt-cluster copyfile to this node fails",
            hint: `mkdir -p ${d} (the package creates it)`,
          },
    ),
    watcherCheck(),
  ];
}

export function doctorExit(checks: Check[]): 0 | 1 {
  return checks.some((c) => c.result === "fail") ? 1 : 0;
}
