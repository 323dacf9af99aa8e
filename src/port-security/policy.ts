// Port security of one NIC on a plain VLAN port: what the VM may send.
//
// Allowed from the VM (in every VLAN its port carries, tagged or not):
//   - source MAC: the NIC's MAC, and extra MACs from allow-address;
//   - IPv4 from the NIC's addresses (Ganeti IP, Xen's `ip` key, attach
//     --ip) and the IPv4 allow-addresses (a prefix allows all of it);
//   - IPv6 from: the link-local EUI-64 address of the MAC (fe80::/64);
//     for each IPv6 prefix the caller passes (a Ganeti network's SUBNET6)
//     that is a /64, the EUI-64 address of the MAC in it (another length
//     gives no address: EUI-64 needs a 64-bit interface identifier); the
//     IPv6 allow-addresses;
//   - DHCPv4 client traffic from 0.0.0.0 (udp 68 -> 67: discover, request);
//   - ARP only with sender MAC (arp_sha) = source MAC, and sender IP
//     (arp_spa) one of its IPv4 addresses, or 0.0.0.0 (a probe); RARP (what
//     QEMU announces after a live migration) only with arp_sha = source MAC;
//   - NS only from its IPv6 addresses with its link-layer address (nd_sll
//     = source MAC, or no such option); DAD (NS from ::, no nd_sll) only
//     for its own addresses; NA only for its own addresses (nd_target),
//     from its own addresses, with nd_tll = source MAC or no such option.
// Dropped from the VM: everything else, including even from its own
// addresses DHCP server replies (udp 67 -> 68, DHCPv6 547 -> 546) unless
// allow-dhcp-server, and router advertisements (ICMPv6 134), redirects
// (137) and router renumbering (138) unless allow-router-adv. So a NIC
// with port security on and no IPv4 address sends no IPv4 but DHCP client
// traffic from 0.0.0.0 (and ARP probes). Traffic to the VM is untouched.
//
// Each allowed MAC goes with each allowed address (an extra MAC, e.g. a
// VRRP virtual MAC, may send from any allowed address).
import { InputError } from "../errors.ts";
import { parseMac } from "../names.ts";
import {
  allZero,
  eui64Address,
  host,
  ipv6Bytes,
  LINK_LOCAL_PREFIX,
  macBytes,
  parsePrefix,
  prefixText,
  samePrefix,
  unicastProblem,
  type IpPrefix,
} from "./addresses.ts";

/** A value as the caller got it, with the name an error should give it. */
export interface FieldValue {
  field: string;
  value: string;
  /** What an error names instead of the value (a whole tag). */
  shown?: string;
}

/** Runs a parse of `fv`; its InputError names fv.shown when there is one. */
function parsed<T>(fv: FieldValue, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InputError && fv.shown !== undefined) throw new InputError(fv.field, fv.shown, err.reason);
    throw err;
  }
}

export interface PolicyInput {
  mac: FieldValue;
  /** The NIC's IPv4 addresses. */
  ipv4?: FieldValue[];
  /** IPv6 prefixes of the NIC's network (ADDRESS/LENGTH); a /64 gives the MAC's EUI-64 address in it. */
  ipv6Prefixes?: FieldValue[];
  /** Extra addresses: a MAC, an IP address, or ADDRESS/LENGTH. */
  allowAddresses?: FieldValue[];
  allowDhcpServer?: boolean;
  allowRouterAdv?: boolean;
}

export interface PortPolicy {
  mac: string;
  extraMacs: string[];
  ipv4: IpPrefix[];
  ipv6: IpPrefix[];
  allowDhcpServer: boolean;
  allowRouterAdv: boolean;
  /** Prefixes that gave no address, and why (for the caller's log). */
  skippedPrefixes: { field: string; value: string; reason: string }[];
}

/** At most this many allow-addresses per NIC: the flows grow with the
 * square of the IPv6 addresses (NA source x target). */
export const MAX_ALLOW_ADDRESSES = 16;
export const MAX_IPV6_PREFIXES = 4;

const MAC_TEXT = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** An IPv6 address, with or without a prefix length. */
function ipv6Text(value: string): boolean {
  return ipv6Bytes(value.split("/")[0]!) !== undefined;
}

function sourceAddress(fv: FieldValue, families: (4 | 6)[]): IpPrefix {
  const p = parsePrefix(fv.field, fv.value, families);
  const problem = unicastProblem(p);
  if (problem) throw new InputError(fv.field, fv.value, `${problem}: not an address a VM sends from`);
  return p;
}

export type AllowedAddress = { kind: "mac"; mac: string } | { kind: "ip"; prefix: IpPrefix };

/** An allow-address value: a unicast MAC, or a unicast IPv4 / IPv6
 * address with an optional prefix length (host bits zero, not /0). */
export function parseAllowAddress(field: string, value: string): AllowedAddress {
  if (MAC_TEXT.test(value)) return { kind: "mac", mac: parseMac(field, value) };
  const addr = value.split("/")[0]!;
  if (!ipv6Bytes(addr) && !/^[0-9.]+$/.test(addr)) throw new InputError(field, value, "not a MAC (xx:xx:xx:xx:xx:xx), an IP address or ADDRESS/LENGTH");
  return { kind: "ip", prefix: sourceAddress({ field, value }, [4, 6]) };
}

function addUnique(list: IpPrefix[], p: IpPrefix): void {
  for (const q of list) if (samePrefix(p, q)) return;
  list.push(p);
}

/** Validates every input (each error names its field and value) and
 * derives the IPv6 addresses. Nothing is read or changed. */
export function buildPolicy(input: PolicyInput): PortPolicy {
  const mac = parseMac(input.mac.field, input.mac.value);
  const macB = macBytes(mac);
  const policy: PortPolicy = {
    mac,
    extraMacs: [],
    ipv4: [],
    ipv6: [],
    allowDhcpServer: input.allowDhcpServer === true,
    allowRouterAdv: input.allowRouterAdv === true,
    skippedPrefixes: [],
  };
  for (const fv of input.ipv4 ?? []) {
    if (ipv6Text(fv.value))
      throw new InputError(
        fv.field,
        fv.value,
        "an IPv6 address where IPv4 is expected (IPv6 addresses come from the MAC, the network's IPv6 prefix and allow-address)",
      );
    const p = sourceAddress(fv, [4]);
    if (fv.value.includes("/"))
      throw new InputError(fv.field, fv.value, "expected one IPv4 address, without a prefix length (allow a prefix with allow-address)");
    addUnique(policy.ipv4, p);
  }
  addUnique(policy.ipv6, host(6, eui64Address(LINK_LOCAL_PREFIX, macB)));
  const prefixes = input.ipv6Prefixes ?? [];
  if (prefixes.length > MAX_IPV6_PREFIXES)
    throw new InputError(prefixes[MAX_IPV6_PREFIXES]!.field, prefixes[MAX_IPV6_PREFIXES]!.value, `more than ${MAX_IPV6_PREFIXES} IPv6 prefixes for one NIC`);
  for (const fv of prefixes) {
    const p = parsePrefix(fv.field, fv.value, [6], { requireLength: true });
    if (p.bytes[0] === 0xff || allZero(p.bytes)) throw new InputError(fv.field, fv.value, "a multicast or unspecified prefix, not a network's");
    if (p.length !== 64) {
      policy.skippedPrefixes.push({ field: fv.field, value: fv.value, reason: `a /${p.length}, not a /64: no EUI-64 address in it` });
      continue;
    }
    addUnique(policy.ipv6, host(6, eui64Address(p.bytes, macB)));
  }
  const extras = input.allowAddresses ?? [];
  if (extras.length > MAX_ALLOW_ADDRESSES) {
    const fv = extras[MAX_ALLOW_ADDRESSES]!;
    throw new InputError(fv.field, fv.shown ?? fv.value, `more than ${MAX_ALLOW_ADDRESSES} allowed addresses for one NIC`);
  }
  for (const fv of extras) {
    const a = parsed(fv, () => parseAllowAddress(fv.field, fv.value));
    if (a.kind === "mac") {
      if (a.mac !== mac && !policy.extraMacs.includes(a.mac)) policy.extraMacs.push(a.mac);
    } else {
      addUnique(a.prefix.family === 4 ? policy.ipv4 : policy.ipv6, a.prefix);
    }
  }
  return policy;
}

/** One line for logs and status: "mac=... ipv4=... ipv6=... dhcp-server router-adv". */
export function describePolicy(p: PortPolicy): string {
  const parts = [`mac=${[p.mac, ...p.extraMacs].join(",")}`, `ipv4=${p.ipv4.map(prefixText).join(",") || "none"}`, `ipv6=${p.ipv6.map(prefixText).join(",")}`];
  if (p.allowDhcpServer) parts.push("allow-dhcp-server");
  if (p.allowRouterAdv) parts.push("allow-router-adv");
  return parts.join(" ");
}
