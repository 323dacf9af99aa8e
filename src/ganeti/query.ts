// Instance and network data from Ganeti's CLI (run on the master node; the
// Ganeti CLI does not answer elsewhere).
import { run } from "../exec.ts";
import { GanetiOutputError, InputError } from "../errors.ts";
import type { GanetiNetworkInfo, InstanceNic } from "../nic.ts";
import { parsePyList, type PyValue } from "./pylist.ts";

export interface GanetiInstance {
  name: string;
  primary: string;
  tags: string[];
  nics: InstanceNic[];
}

// nic.networks.names, not nic.networks: Ganeti 3.0 prints network UUIDs for
// the latter, and network tags are looked up by name.
const FIELDS = ["name", "pnode", "tags", "nic.uuids", "nic.names", "nic.vlans", "nic.modes", "nic.links", "nic.networks.names", "nic.macs", "nic.ips"];

const strOrNone = (v: PyValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/** Parses `gnt-instance list --no-headers --separator=| -o FIELDS`. */
export function parseInstanceList(stdout: string): GanetiInstance[] {
  const out: GanetiInstance[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const cols = line.split("|");
    if (cols.length !== FIELDS.length) throw new GanetiOutputError("gnt-instance list line", line, `expected ${FIELDS.length} fields (${FIELDS.join(",")})`);
    const [name, pnode, tags, uuids, names, vlans, modes, links, networks, macs, ips] = cols as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const uuidList = parsePyList(uuids);
    const nameList = parsePyList(names);
    const vlanList = parsePyList(vlans);
    const split = (s: string) => (s === "" ? [] : s.split(","));
    const modeList = split(modes);
    const linkList = split(links);
    const netList = parsePyList(networks);
    const macList = split(macs);
    // Comma-joined str() of each: "None" for a NIC without an IP.
    const ipList = split(ips);
    const nics: InstanceNic[] = uuidList.map((u, index) => {
      const nic: InstanceNic = {
        index,
        uuid: String(u),
        mac: macList[index] ?? "",
        mode: modeList[index] ?? "",
        link: linkList[index] ?? "",
        vlan: strOrNone(vlanList[index]) ?? "",
      };
      const nm = strOrNone(nameList[index]);
      if (nm) nic.name = nm;
      const net = strOrNone(netList[index]);
      if (net) nic.network = net;
      const ip = ipList[index];
      if (ip && ip !== "None") nic.ip = ip;
      return nic;
    });
    out.push({ name, primary: pnode, tags: split(tags), nics });
  }
  return out;
}

export async function queryInstances(names: string[] = []): Promise<GanetiInstance[]> {
  const r = await run("gnt-instance", ["list", "--no-headers", "--separator=|", "-o", FIELDS.join(","), ...names], { timeoutMs: 60_000 });
  return parseInstanceList(r.stdout);
}

export async function queryInstance(name: string): Promise<GanetiInstance> {
  const [inst] = await queryInstances([name]);
  if (!inst) throw new InputError("instance", name, "Ganeti does not know this instance");
  return inst;
}

/** Network name -> its tags and IPv6 prefix, from `gnt-network list -o
 * name,tags,network6`. Ganeti prints the tags comma-joined ("a,b", "" for
 * none; tags cannot contain commas); a Python list repr is read too. No
 * IPv6 prefix prints as "None" (or "-", or nothing). */
export function parseNetworkList(stdout: string): Map<string, GanetiNetworkInfo> {
  const out = new Map<string, GanetiNetworkInfo>();
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const cols = line.split("|");
    if (cols.length !== 3) throw new GanetiOutputError("gnt-network list line", line, "expected NAME|TAGS|NETWORK6");
    const [name, rawTags, rawSubnet6] = cols.map((c) => c.trim()) as [string, string, string];
    const info: GanetiNetworkInfo = { tags: rawTags.startsWith("[") ? parsePyList(rawTags).map(String) : rawTags.split(",").filter(Boolean) };
    if (rawSubnet6 !== "" && rawSubnet6 !== "None" && rawSubnet6 !== "-") info.subnet6 = rawSubnet6;
    out.set(name, info);
  }
  return out;
}

export async function queryNetworks(): Promise<Map<string, GanetiNetworkInfo>> {
  const r = await run("gnt-network", ["list", "--no-headers", "--separator=|", "-o", "name,tags,network6"], { timeoutMs: 60_000 });
  return parseNetworkList(r.stdout);
}

/** The networks these instances' NICs are in, asked only when one of them is in a network. */
export async function networksOf(instances: GanetiInstance[]): Promise<Map<string, GanetiNetworkInfo>> {
  return instances.some((i) => i.nics.some((n) => n.network)) ? queryNetworks() : new Map<string, GanetiNetworkInfo>();
}

/** NIC by index, name or UUID, as Ganeti's --net accepts. */
export function findNic(inst: GanetiInstance, id: string): InstanceNic {
  const nic = inst.nics.find((n) => String(n.index) === id || n.uuid === id || (n.name !== undefined && n.name === id));
  if (!nic) throw new InputError("NIC", id, `instance ${inst.name} has no such NIC (index, name or UUID)`);
  return nic;
}

export async function addTags(instance: string, tags: string[]): Promise<void> {
  if (tags.length) await run("gnt-instance", ["add-tags", instance, ...tags], { timeoutMs: 120_000 });
}

export async function removeTags(instance: string, tags: string[]): Promise<void> {
  if (tags.length) await run("gnt-instance", ["remove-tags", instance, ...tags], { timeoutMs: 120_000 });
}

/** What keeps a NIC change made with `gnt-instance modify` out of the running
 * instance, so that ovs-vif changes the running port in place: Ganeti 3.1
 * and later hotplug by default, and hot-modify a NIC by removing it from the
 * guest and adding a new one (the guest loses the link and its addresses on
 * it); they take --no-hotplug. Ganeti 3.0 changes only the configuration
 * unless told --hotplug, and knows no --no-hotplug. Asked of the CLI itself. */
export async function noHotplugOptions(): Promise<string[]> {
  const r = await run("gnt-instance", ["modify", "--help"], { timeoutMs: 60_000, reject: false });
  return /(^|\s)--no-hotplug\b/m.test(r.stdout) ? ["--no-hotplug"] : [];
}
