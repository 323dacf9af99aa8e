// mode=routed, as Ganeti's net-common does it: the tap up; with a link
// (routing table), every `ip rule` of the tap replaced by one
// `iif TAP lookup LINK` and `ip route replace IP table LINK proto static dev
// TAP`; without, the route in the main table; proxy_arp + forwarding (IPv4)
// and proxy_ndp + forwarding (IPv6) on the tap. `down` removes the route and
// the rules (rules outlive their device, "[detached]", and would apply to the
// next device of that name).
import { exists } from "../files.ts";
import { StateError } from "../errors.ts";
import { deviceExists, iifRuleCount, renameStep, type Step } from "../netdev.ts";

export interface RoutedNic {
  device: string;
  /** The device's current name when the first step renames it to `device` (Xen vifname). */
  renameFrom?: string;
  ip?: string;
  /** Routing table (name or number); undefined: main. */
  table?: string;
  fields: { device: string; ip: string };
}

export interface RouteSys {
  exists(dev: string): boolean;
  /** Number of rules with `iif dev` (IPv4 or IPv6). */
  ruleCount(dev: string, family: 4 | 6): Promise<number>;
  hasConf(family: 4 | 6, dev: string): boolean;
}

export const realRouteSys: RouteSys = {
  exists: deviceExists,
  ruleCount: iifRuleCount,
  hasConf: (family, dev) => exists(`/proc/sys/net/ipv${family}/conf/${dev}`),
};

export async function planRoutedUp(nic: RoutedNic, sys: RouteSys = realRouteSys): Promise<Step[]> {
  const { device, ip, table } = nic;
  if (ip === undefined) throw new StateError(nic.fields.ip, "", "not set: a routed NIC needs an IP address");
  const current = nic.renameFrom ?? device;
  if (!sys.exists(current)) throw new StateError(nic.fields.device, current, "no such network device");
  if (current !== device && sys.exists(device))
    throw new StateError(`${nic.fields.device} rename`, device, `cannot rename ${current}: a device with that name already exists`);
  const lines = [`link set dev ${device} up`];
  if (table !== undefined) {
    const old = await sys.ruleCount(device, 4);
    for (let i = 0; i < old; i++) lines.push(`rule del dev ${device}`);
    lines.push(`rule add dev ${device} table ${table}`, `route replace ${ip} table ${table} proto static dev ${device}`);
  } else {
    lines.push(`route replace ${ip} proto static dev ${device}`);
  }
  const steps: Step[] = [...(current === device ? [] : [renameStep(current, device)]), { kind: "ip", lines }];
  // Checked after `link up`, as the stock script does (the conf dirs exist
  // for any device; IPv6 may be disabled).
  const sysctls: [4 | 6, string, string][] = [
    [4, "proxy_arp", "1"],
    [4, "forwarding", "1"],
    [6, "proxy_ndp", "1"],
    [6, "forwarding", "1"],
  ];
  for (const [family, key, value] of sysctls) {
    if (sys.hasConf(family, current)) steps.push({ kind: "sysctl", path: `/proc/sys/net/ipv${family}/conf/${device}/${key}`, value });
  }
  return steps;
}

/** Removes what `up` added; harmless when the device or the routes are gone. */
export async function planRoutedDown(nic: RoutedNic, sys: RouteSys = realRouteSys): Promise<Step[]> {
  const { device, ip, table } = nic;
  const steps: Step[] = [];
  // Routes die with their device; only a live device still has one.
  if (ip !== undefined && sys.exists(device)) {
    steps.push({ kind: "ip", lines: [table !== undefined ? `route del ${ip} table ${table} dev ${device}` : `route del ${ip} dev ${device}`], tolerate: true });
  }
  for (const family of [4, 6] as const) {
    const n = await sys.ruleCount(device, family);
    if (n > 0) steps.push({ kind: "ip", options: [`-${family}`], lines: Array.from({ length: n }, () => `rule del dev ${device}`) });
  }
  return steps;
}
