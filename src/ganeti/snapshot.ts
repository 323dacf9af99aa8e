// Ganeti's view of its instances, as a file: `reconcile --export` writes it
// on the master (the only node where the Ganeti CLI answers) and the other
// nodes read it (`reconcile --from`, `status`). Read back with the same
// validators the hooks use: a file edited by hand, truncated or from another
// version fails with the file, the JSON path and the value.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Checker, keyPath, parseJson, readTextFile } from "../checker.ts";
import { sha256 } from "../digest.ts";

import { parseGanetiObjectName, parseGanetiTag, parseInstanceName, parseIpAddress, parseMacSyntax, parseNicUuid, parseNodeName } from "../names.ts";
import { parseVlanSpec } from "../vlan.ts";
import type { GanetiNetworkInfo, InstanceNic } from "../nic.ts";
import { queryInstances, queryNetworks, type GanetiInstance } from "./query.ts";
import { specPath, defaultsPath } from "../paths.ts";

/** 2: networks carry their IPv6 prefix, NICs their IP (port security).
 * A version 1 file (tags only) is still read. */
export const SNAPSHOT_VERSION = 2;

export interface GanetiSnapshot {
  version: 2;
  /** When it was taken (ISO 8601), by `reconcile --export`. */
  taken?: string;
  instances: GanetiInstance[];
  /** Network name -> its tags and IPv6 prefix. */
  networks: Record<string, GanetiNetworkInfo>;
  /** sha256 of the master's switch spec and QoS defaults (absent: none there),
   * so a node can tell whether its copies are the master's. */
  files?: { spec?: string; defaults?: string };
}

const NIC_KEYS = ["index", "uuid", "name", "mac", "mode", "link", "vlan", "network", "ip"];

function checkNic(c: Checker, path: string, raw: unknown, index: number): InstanceNic | undefined {
  const o = c.object(path, raw);
  if (!o) return undefined;
  c.keys(path, o, NIC_KEYS);
  const i = c.integer(keyPath(path, "index"), o.index, 0, 9999, "a NIC index");
  if (i !== undefined && i !== index) c.fail(keyPath(path, "index"), o.index, `expected ${index} (the NIC's position)`);
  const uuid = c.valid(keyPath(path, "uuid"), o.uuid, parseNicUuid);
  const mac = c.valid(keyPath(path, "mac"), o.mac, parseMacSyntax);
  const mode = c.string(keyPath(path, "mode"), o.mode);
  const link = c.string(keyPath(path, "link"), o.link);
  const vlan = c.string(keyPath(path, "vlan"), o.vlan, 'a Ganeti vlan string (".3", ":10:20", "")');
  if (vlan !== undefined && mode === "openvswitch") c.valid(keyPath(path, "vlan"), vlan, parseVlanSpec);
  if (uuid === undefined || mac === undefined || mode === undefined || link === undefined || vlan === undefined || i === undefined) return undefined;
  const nic: InstanceNic = { index: i, uuid, mac, mode, link, vlan };
  if (o.name !== undefined) {
    const name = c.string(keyPath(path, "name"), o.name);
    if (name) nic.name = name;
  }
  if (o.network !== undefined) {
    const net = c.valid(keyPath(path, "network"), o.network, parseGanetiObjectName);
    if (net) nic.network = net;
  }
  if (o.ip !== undefined) {
    const ip = c.valid(keyPath(path, "ip"), o.ip, parseIpAddress);
    if (ip) nic.ip = ip;
  }
  return nic;
}

function checkInstance(c: Checker, path: string, raw: unknown): GanetiInstance | undefined {
  const o = c.object(path, raw);
  if (!o) return undefined;
  c.keys(path, o, ["name", "primary", "tags", "nics"]);
  const name = c.valid(keyPath(path, "name"), o.name, parseInstanceName);
  const primary = c.valid(keyPath(path, "primary"), o.primary, parseNodeName);
  const tags = c.strings(keyPath(path, "tags"), o.tags, "a tag");
  tags?.forEach((t, i) => c.valid(`${keyPath(path, "tags")}[${i}]`, t, parseGanetiTag));
  const nicList = c.array(keyPath(path, "nics"), o.nics);
  const nics = (nicList ?? []).map((n, i) => checkNic(c, `${keyPath(path, "nics")}[${i}]`, n, i));
  if (name === undefined || primary === undefined || tags === undefined || nicList === undefined || nics.some((n) => n === undefined)) return undefined;
  return { name, primary, tags, nics: nics as InstanceNic[] };
}

export function validateSnapshot(doc: unknown, file: string): GanetiSnapshot {
  const c = new Checker();
  const snap: GanetiSnapshot = { version: 2, instances: [], networks: {} };
  const root = c.object("(top level)", doc);
  if (root) {
    c.keys("", root, ["version", "taken", "instances", "networks", "files"]);
    if (root.files !== undefined) {
      const f = c.object("files", root.files);
      if (f) {
        c.keys("files", f, ["spec", "defaults"]);
        const files: NonNullable<GanetiSnapshot["files"]> = {};
        for (const k of ["spec", "defaults"] as const) {
          if (f[k] === undefined) continue;
          const v = c.string(`files.${k}`, f[k], "a sha256 (hex)");
          if (v !== undefined && !/^[0-9a-f]{64}$/.test(v)) c.fail(`files.${k}`, v, "expected a sha256 (64 hex digits)");
          else if (v !== undefined) files[k] = v;
        }
        snap.files = files;
      }
    }
    if (root.version !== SNAPSHOT_VERSION && root.version !== 1)
      c.fail("version", root.version, `expected ${SNAPSHOT_VERSION} or 1 (a file written by ovs-vif reconcile --export)`);
    if (root.taken !== undefined) {
      const taken = c.string("taken", root.taken, "an ISO 8601 time");
      if (taken !== undefined && Number.isNaN(Date.parse(taken))) c.fail("taken", taken, "expected an ISO 8601 time");
      else if (taken !== undefined) snap.taken = taken;
    }
    const list = c.array("instances", root.instances) ?? [];
    list.forEach((raw, i) => {
      const inst = checkInstance(c, `instances[${i}]`, raw);
      if (inst) snap.instances.push(inst);
    });
    const nets = c.object("networks", root.networks);
    for (const [name, raw] of Object.entries(nets ?? {})) {
      const p = keyPath("networks", name);
      c.valid(p, name, parseGanetiObjectName);
      const info = root.version === 1 ? { tags: raw } : c.object(p, raw);
      if (!info) continue;
      if (root.version !== 1) c.keys(p, info, ["tags", "subnet6"]);
      const tagsPath = root.version === 1 ? p : keyPath(p, "tags");
      const list = c.strings(tagsPath, info.tags, "a tag");
      list?.forEach((t, i) => c.valid(`${tagsPath}[${i}]`, t, parseGanetiTag));
      const subnet6 = info.subnet6 === undefined ? undefined : c.string(keyPath(p, "subnet6"), info.subnet6, "an IPv6 prefix");
      if (list) snap.networks[name] = subnet6 ? { tags: list, subnet6 } : { tags: list };
    }
  }
  c.done(file);
  return snap;
}

/** Reads and validates a snapshot; `field` names the option that gave the path. */
export function readSnapshot(field: string, path: string): GanetiSnapshot {
  return validateSnapshot(parseJson(readTextFile(field, path, false)!, path), path);
}

/** Written beside the target and renamed over it: a reader sees the old
 * file or the new one, never half of one. */
export function writeSnapshot(path: string, snapshot: GanetiSnapshot): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(snapshot, null, 1) + "\n");
  renameSync(tmp, path);
}

/** Writes Ganeti's current view to `path` (on the master, where the CLI
 * answers), with the digests of the master's spec and defaults. */
export async function exportGanetiView(path: string, only?: string): Promise<GanetiSnapshot> {
  const instances = await queryInstances(only ? [only] : []);
  const networks = Object.fromEntries(await queryNetworks());
  const snapshot: GanetiSnapshot = { version: SNAPSHOT_VERSION, taken: new Date().toISOString(), instances, networks, files: masterFiles() };
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeSnapshot(path, snapshot);
  return snapshot;
}

/** The digests of this node's (the master's) spec and defaults. */
function masterFiles(): NonNullable<GanetiSnapshot["files"]> {
  const files: NonNullable<GanetiSnapshot["files"]> = {};
  const spec = specPath(undefined);
  const defaults = defaultsPath();
  if (existsSync(spec)) files.spec = sha256(spec);
  if (existsSync(defaults)) files.defaults = sha256(defaults);
  return files;
}
