// bench/run.ts's contenders: the stock vif-openvswitch, ovs-vif as it (waited,
// with port security on, --no-wait, at error level), another ovs-vif binary
// (OVS_VIF_BENCH_OTHER_BINARY, e.g. a build before a change) and the least Bun
// hook, each run as Xen runs a hotplug script for the VM's vif.
import { join } from "node:path";
import type { OvsHandle } from "../../test/harness/ovs.ts";
import type { XenVif } from "../../test/harness/xen-domain.ts";
import type { XenstoredHandle } from "../../test/harness/xenstore.ts";
import type { XenStock } from "../lib/xen-stock.ts";
import { VIF_IP } from "./settings.ts";

export interface Contender {
  key: string;
  label: string;
  file: string;
  args: string[];
  env: Record<string, string>;
  /** ovs-vif sets vlan_mode; the stock script does not. */
  ovsVif: boolean;
  /** Waits for ovs-vswitchd, so ofport must be assigned at exit. */
  waits: boolean;
  /** Syslog lines each run sends (ovs-vif: one at info level; stock: counted, at least one). */
  syslogPerRun?: number;
  /** Its syslog tag, where it is not ovs-vif's. */
  syslogTag?: string;
  /** The vif's backend `ip` key (xl ip=) for its runs: port security on. Absent: no key, off. */
  ip?: string;
}

/** The contenders in their order; the least hook needs /var/log/xen (LOGDIR, the private mount namespace), as the stock script does. */
export function xenContenders(o: {
  stock: XenStock | undefined;
  hook: string;
  /** OVS_VIF_BENCH_OTHER_BINARY linked as vif-openvswitch, if given. */
  otherHook: string | undefined;
  leastHook: string;
  logDir: string | undefined;
  tmp: string;
}): Contender[] {
  const xenArgs = ["online", "type_if=vif"];
  // ovs-vif runs with its production defaults (log to /var/log/xen/xen-hotplug.log,
  // syslog to /dev/log); without the mount namespace its log goes to tmp.
  const vifEnv: Record<string, string> = o.logDir ? {} : { OVS_VIF_XEN_LOG: join(o.tmp, "xen-hotplug.log") };
  const contenders: Contender[] = [];
  if (o.stock)
    contenders.push({
      key: "stock",
      label: "stock vif-openvswitch online",
      file: join(o.stock.scriptsDir, "vif-openvswitch"),
      args: xenArgs,
      env: {},
      ovsVif: false,
      waits: true,
    });
  contenders.push(
    { key: "ovsvif", label: "ovs-vif (as vif-openvswitch) online", file: o.hook, args: xenArgs, env: vifEnv, ovsVif: true, waits: true, syslogPerRun: 1 },
    {
      key: "pson",
      label: "ovs-vif online, port security on (ip key)",
      file: o.hook,
      args: xenArgs,
      env: vifEnv,
      ovsVif: true,
      waits: true,
      syslogPerRun: 1,
      ip: VIF_IP,
    },
  );
  if (o.otherHook)
    contenders.push({
      key: "other",
      label: "other binary (OVS_VIF_BENCH_OTHER_BINARY) online",
      file: o.otherHook,
      args: xenArgs,
      env: vifEnv,
      ovsVif: true,
      waits: true,
      syslogPerRun: 1,
    });
  contenders.push(
    {
      key: "nowait",
      label: "ovs-vif online --no-wait",
      file: o.hook,
      args: [...xenArgs, "--no-wait"],
      env: vifEnv,
      ovsVif: true,
      waits: false,
      syslogPerRun: 1,
    },
    {
      key: "logerr",
      label: "ovs-vif online OVS_VIF_LOG_LEVEL=error",
      file: o.hook,
      args: xenArgs,
      env: { ...vifEnv, OVS_VIF_LOG_LEVEL: "error" },
      ovsVif: true,
      waits: true,
      syslogPerRun: 0,
    },
  );
  if (o.logDir)
    contenders.push({
      key: "least",
      label: "least Bun hook (bench/least-hook.ts)",
      file: o.leastHook,
      args: xenArgs,
      env: {},
      ovsVif: true,
      waits: true,
      syslogPerRun: 1,
      syslogTag: "least-hook",
    });
  return contenders;
}

/** The hotplug environment Xen gives the script for VIF, with production defaults unless a contender sets them. */
export function contenderEnv(ovs: OvsHandle, xs: XenstoredHandle, vif: XenVif, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ovs.env, ...xs.env, vif: vif.device, XENBUS_PATH: vif.backend, ...extra };
  for (const k of ["OVS_VIF_LOG_LEVEL", "OVS_VIF_SYSLOG", "OVS_VIF_TRACE", "OVS_VIF_XEN_LOG"]) if (!(k in extra)) delete env[k];
  return env;
}

/** The command line that runs FILE ARGS in the OVS's network namespace: in
 * the bench's own one, directly, as Xen spawns it; otherwise through `ip netns exec`. */
export function inNamespace(ovs: OvsHandle, file: string, args: string[]): [string, string[]] {
  return ovs.ns ? ["ip", ["netns", "exec", ovs.ns, file, ...args]] : [file, args];
}
