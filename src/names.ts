import { InputError } from "./errors.ts";

// Linux device names are at most 15 bytes (IFNAMSIZ - 1). The kernel forbids
// '/', ':' and whitespace; we also refuse anything that is not a plain name
// (quotes, shell metacharacters, control characters), because these names
// arrive from guests' configuration and travel into logs and other tools.
const DEVICE_NAME = /^[A-Za-z0-9_.+@-]{1,15}$/;

function describeBadChar(value: string, allowed: RegExp): string | undefined {
  for (const ch of value) {
    if (!allowed.test(ch)) {
      const code = ch.codePointAt(0) ?? 0;
      const shown =
        code < 0x20 || code === 0x7f ? `control character 0x${code.toString(16).padStart(2, "0")}` : /\s/.test(ch) ? "whitespace" : JSON.stringify(ch);
      return `contains ${shown}`;
    }
  }
  return undefined;
}

function checkName(field: string, value: string, what: string, pattern: RegExp, charset: RegExp): string {
  if (value.length === 0) throw new InputError(field, value, `empty ${what} name`);
  if ([...value].length > 15) throw new InputError(field, value, `${what} name longer than 15 characters`);
  if (value === "." || value === "..") throw new InputError(field, value, `not a valid ${what} name`);
  if (!pattern.test(value)) {
    const bad = describeBadChar(value, charset) ?? "is not a valid name";
    throw new InputError(field, value, `${what} name ${bad} (allowed: letters, digits and _ . + @ -)`);
  }
  return value;
}

/** A network device name (tap, vif, veth), as the kernel and OVS accept it. */
export function parseInterfaceName(field: string, value: string): string {
  return checkName(field, value, "interface", DEVICE_NAME, /[A-Za-z0-9_.+@-]/);
}

// An OVS bridge is also a network device (its internal port has its name),
// so the same limits apply. A leading '-' would read as an option elsewhere.
const BRIDGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,14}$/;

export function parseBridgeName(field: string, value: string): string {
  if (value.startsWith("-")) throw new InputError(field, value, "bridge name starts with '-'");
  return checkName(field, value, "bridge", BRIDGE_NAME, /[A-Za-z0-9_.+@-]/);
}

/** external_ids keys and values: printable, no control characters. */
export function parseExternalId(field: string, raw: string): [string, string] {
  const eq = raw.indexOf("=");
  if (eq <= 0) throw new InputError(field, raw, "expected KEY=VALUE");
  const key = raw.slice(0, eq);
  const value = raw.slice(eq + 1);
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(key)) throw new InputError(field, raw, "key must be 1..64 of letters, digits, _ . : -");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value) || value.length > 1024) throw new InputError(field, raw, "value has control characters or is longer than 1024");
  return [key, value];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** IPv4 dotted quad (no leading zeros), or IPv6 (:: once, an IPv4 tail),
 * without a zone: node's isIP, whose module costs ~1 ms to load. */
export function isIpAddress(value: string): boolean {
  if (IPV4.test(value)) return true;
  if (!value.includes(":")) return false;
  let text = value;
  // An IPv4 tail stands for the last two groups.
  const v4 = /:((?:\d{1,3}\.){3}\d{1,3})$/.exec(text);
  if (v4) {
    if (!IPV4.test(v4[1]!)) return false;
    text = `${text.slice(0, text.length - v4[1]!.length)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
  if (!groups.every((g) => g.every((x) => HEXTET.test(x)))) return false;
  const n = groups[0]!.length + (groups[1]?.length ?? 0);
  return halves.length === 2 ? n <= 7 : n === 8;
}

export function parseIpAddress(field: string, value: string): string {
  if (!isIpAddress(value)) throw new InputError(field, value, "not an IPv4 or IPv6 address");
  return value;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** A MAC address as written (xx:xx:xx:xx:xx:xx), any kind: for reading back
 * what Ganeti or OVSDB already hold (a snapshot, a stored attached-mac),
 * where a MAC that would now be refused must not stop the whole read. */
export function parseMacSyntax(field: string, value: string): string {
  if (!MAC.test(value)) throw new InputError(field, value, "not a MAC address (xx:xx:xx:xx:xx:xx)");
  return value.toLowerCase();
}

/** A VM NIC's MAC, wherever one is taken (attach --mac, Ganeti's MAC, Xen's
 * mac key, OVS_VIF_MAC): a unicast address. The zero MAC, the broadcast
 * MAC and group (multicast) MACs are no NIC's address: in OVN's addresses
 * and port security they would let the port send as a group. */
export function parseMac(field: string, value: string): string {
  const mac = parseMacSyntax(field, value);
  if (mac === "00:00:00:00:00:00") throw new InputError(field, value, "the zero MAC is no NIC's address");
  if (mac === "ff:ff:ff:ff:ff:ff") throw new InputError(field, value, "the broadcast MAC is no NIC's address");
  if (parseInt(mac.slice(0, 2), 16) & 1)
    throw new InputError(field, value, "a group (multicast) MAC: the lowest bit of its first octet is set; a NIC's MAC is unicast");
  return mac;
}

export function parseMtu(field: string, value: string): number {
  if (!/^[0-9]{1,5}$/.test(value)) throw new InputError(field, value, "MTU must be a number 68..65535");
  const n = Number(value);
  if (n < 68 || n > 65535) throw new InputError(field, value, "MTU out of range 68..65535");
  return n;
}

// Ganeti instance and node names are host names; an instance name also
// becomes a path component of Ganeti's NIC files, so no '/' and no "..".
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;

function hostName(field: string, value: string, what: string): string {
  if (value === "") throw new InputError(field, value, `empty ${what} name`);
  if (!HOST_NAME.test(value) || value.includes("..")) throw new InputError(field, value, `not a Ganeti ${what} name (a host name: letters, digits, _ . -)`);
  return value;
}

export function parseInstanceName(field: string, value: string): string {
  return hostName(field, value, "instance");
}

export function parseNodeName(field: string, value: string): string {
  return hostName(field, value, "node");
}

// Ganeti node group and network names.
const OBJECT_NAME = /^[A-Za-z0-9_.:+@-]{1,128}$/;

export function parseGanetiObjectName(field: string, value: string): string {
  if (!OBJECT_NAME.test(value)) throw new InputError(field, value, "not a valid Ganeti group or network name (1..128 of letters, digits and _ . : + @ -)");
  return value;
}

// What Ganeti accepts as a tag (lib/tags.py: ^[\w.+*/:@-]+$, at most 128).
const GANETI_TAG = /^[\w.+*/:@-]{1,128}$/;

export function parseGanetiTag(field: string, value: string): string {
  if (!GANETI_TAG.test(value)) throw new InputError(field, value, "not a Ganeti tag (1..128 of letters, digits and _ . + * / : @ -)");
  return value;
}

// OVN logical switch and port names as ovs-vif writes and looks them up:
// what a Ganeti network name or tag can hold (a tag names a switch), no
// whitespace, quotes or control characters, and no leading '-' (ovn-nbctl
// would take it for an option).
const OVN_NAME = /^[A-Za-z0-9_.+*/:@][A-Za-z0-9_.+*/:@-]{0,254}$/;

export function parseLogicalSwitchName(field: string, value: string): string {
  if (!OVN_NAME.test(value))
    throw new InputError(
      field,
      value,
      `not a logical switch name ovs-vif uses (1..255 of letters, digits and _ . + * / : @ -, not starting with '-')${describeBadChar(value, /[A-Za-z0-9_.+*/:@-]/) ? `: ${describeBadChar(value, /[A-Za-z0-9_.+*/:@-]/)}` : ""}`,
    );
  return value;
}

export function parseLogicalPortName(field: string, value: string): string {
  if (!OVN_NAME.test(value))
    throw new InputError(
      field,
      value,
      `not a logical port name ovs-vif uses (1..255 of letters, digits and _ . + * / : @ -, not starting with '-')${describeBadChar(value, /[A-Za-z0-9_.+*/:@-]/) ? `: ${describeBadChar(value, /[A-Za-z0-9_.+*/:@-]/)}` : ""}`,
    );
  return value;
}

/** A Ganeti NIC's UUID (also the OVS iface-id). */
export function parseNicUuid(field: string, value: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new InputError(field, value, "not a NIC UUID");
  return value;
}

/** Who attached a port (Port external_ids ovs-vif-owner): xen, ganeti, qemu, cli, ... */
export function parseOwner(field: string, value: string): string {
  if (!/^[a-z0-9-]{1,32}$/.test(value)) throw new InputError(field, value, "expected 1..32 of a-z, 0-9, -");
  return value;
}
