// One chassis of the private OVN (ovn.ts): a private OVS from ovs.ts (own
// network namespace and temp dir) with br-int and br-phy, its phy0 linked to
// the underlay bridge, and ovn-controller. Apart from ovn.ts, which starts
// the central part and the chassis and tears them down: this is what one
// chassis is made of and how a test reaches it.
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startOvs, type OvsHandle } from "./ovs.ts";
import { checked, must, type Result } from "./proc.ts";

export type RunOpts = { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number };

export interface Chassis {
  /** system-id, also the Chassis name in SB and what requested-chassis names. */
  name: string;
  /** Tunnel (ovn-encap-ip) address, on br-phy. */
  ip: string;
  /** The chassis's private OVS (its env points a client at it: OVS_RUNDIR). */
  ovs: OvsHandle;
  vsctl(...args: string[]): Promise<string>;
  appctl(...args: string[]): Promise<string>;
  /** Runs a command in the chassis namespace with its OVS and OVN environment. */
  inNs(file: string, args: string[], opts?: RunOpts): Promise<Result>;
  /** ovn-controller's run directory (OVN_RUNDIR) and log. */
  ovnDir: string;
  controllerLog: string;
  /** ovs-appctl to this chassis's ovn-controller. */
  controllerAppctl(...args: string[]): Promise<string>;
}

/** Starts an OVN daemon detached, with its pidfile and log in the OVN_RUNDIR of
 * `env` (in namespace `ns` when given), and records the pidfile for stop(). */
export type Daemon = (file: string, name: string, args: string[], env: NodeJS.ProcessEnv, ns?: string) => Promise<void>;

/** What a chassis joins: the OVN's temp dir, its underlay and Southbound database. */
export interface ChassisSite {
  dir: string;
  /** The underlay namespace, with its Linux bridge "ul". */
  underlay: string;
  /** "unix:..." remote of the Southbound database. */
  sb: string;
  daemon: Daemon;
  /** Takes the chassis's OVS as soon as it runs, so stop() stops it. */
  keep(ovs: OvsHandle): void;
}

const UNDERLAY_PREFIX = "198.51.100.";
const UNDERLAY_BASE = 200;

/** Chassis number `i` (0-based: its tunnel address), called `name`. */
export async function startChassis(site: ChassisSite, i: number, name: string): Promise<Chassis> {
  const { dir, underlay, sb, daemon } = site;
  const ovs = await startOvs();
  site.keep(ovs);
  const ip = `${UNDERLAY_PREFIX}${UNDERLAY_BASE + i + 1}`;
  const ovnDir = join(dir, name);
  mkdirSync(ovnDir);
  const cenv = { ...process.env, ...ovs.env, OVN_RUNDIR: ovnDir, OVN_LOGDIR: ovnDir, OVN_DBDIR: ovnDir, OVN_SYSCONFDIR: ovnDir };
  const inNs = (file: string, args: string[], opts: RunOpts = {}) => ovs.inNs(file, args, { ...opts, env: { ...cenv, ...(opts.env ?? {}) } });
  const mustNs = async (file: string, args: string[]) => checked(`chassis ${name}: ${file} ${args.join(" ")}`, await inNs(file, args));
  // The underlay link: phy0 in the chassis, its peer on the underlay bridge. Both up before OVS sees it.
  const ulPort = `ul-${name}`;
  await must("ip", ["-n", underlay, "link", "add", ulPort, "type", "veth", "peer", "name", "phy0", "netns", ovs.ns]);
  await must("ip", ["-n", underlay, "link", "set", ulPort, "master", "ul", "up"]);
  await mustNs("ip", ["link", "set", "phy0", "up"]);
  await ovs.vsctl(
    "add-br",
    "br-int",
    "--",
    "set",
    "Bridge",
    "br-int",
    "datapath_type=netdev",
    "fail-mode=secure",
    "other-config:disable-in-band=true",
    "--",
    "add-br",
    "br-phy",
    "--",
    "set",
    "Bridge",
    "br-phy",
    "datapath_type=netdev",
    "--",
    "add-port",
    "br-phy",
    "phy0",
    "--",
    "set",
    "Open_vSwitch",
    ".",
    `external_ids:system-id=${name}`,
    `external_ids:hostname=${name}`,
    `external_ids:ovn-remote=${sb}`,
    "external_ids:ovn-encap-type=geneve",
    `external_ids:ovn-encap-ip=${ip}`,
    "external_ids:ovn-bridge-datapath-type=netdev",
  );
  await mustNs("ip", ["addr", "add", `${ip}/24`, "dev", "br-phy"]);
  await mustNs("ip", ["link", "set", "br-phy", "up"]);
  await daemon("ovn-controller", "ovn-controller", [`unix:${ovs.dbSock}`], cenv, ovs.ns);
  const controllerLog = join(ovnDir, "ovn-controller.log");
  const controllerAppctl = async (...args: string[]) => {
    // 23.03 has no --unixctl: the socket is $OVN_RUNDIR/ovn-controller.PID.ctl.
    const ctl = readdirSync(ovnDir).find((f) => /^ovn-controller\.\d+\.ctl$/.test(f));
    if (!ctl) throw new Error(`chassis ${name}: no ovn-controller control socket in ${ovnDir}`);
    return must("ovs-appctl", ["-t", join(ovnDir, ctl), ...args], { env: cenv });
  };
  return { name, ip, ovs, vsctl: ovs.vsctl, appctl: ovs.appctl, inNs, ovnDir, controllerLog, controllerAppctl };
}
