// The `ovs-vif:` QoS tags of Ganeti instances and networks: the parser, the
// formatter `ovs-vif qos set` writes with, and the precedence levels they
// make (per-NIC instance tags, instance tags, network tags). The values
// themselves are src/qos.ts's.
import { InputError } from "./errors.ts";
import type { NicIdentity } from "./nic.ts";
import { convertKind, type QosKind, type QosLevel } from "./qos.ts";

const PREFIX = "ovs-vif:";

type TagHit = Pick<QosTag, "tag" | "kind" | "value">;

/** One `ovs-vif:` QoS tag: for every NIC, or for the NIC `nic` names (its
 * index, name or UUID). */
export interface QosTag {
  tag: string;
  nic?: string;
  kind: QosKind;
  value: string;
}

/** The port-security tags (src/port-security/sources.ts reads them). */
const OTHER_FAMILY = /^ovs-vif:(?:nic:.+?:)?(?:port-security|allow-address|allow-dhcp-server|allow-router-adv)(?::|$)/;

/** Reads a tag: undefined when it is not an ovs-vif QoS tag; an ovs-vif tag
 * that does not parse, or whose value is not valid, is an error. */
export function parseQosTag(field: string, tag: string): QosTag | undefined {
  if (!tag.startsWith(PREFIX) || tag.startsWith(`${PREFIX}ovn-switch:`) || OTHER_FAMILY.test(tag)) return undefined;
  const m = /^ovs-vif:(?:nic:(.+):)?(rate|burst|rx-rate|rx-burst):([^:]+)$/.exec(tag);
  if (!m) {
    throw new InputError(
      field,
      tag,
      "not an ovs-vif tag (expected ovs-vif:[nic:ID:]KIND:VALUE, KIND rate, burst, rx-rate or rx-burst; or port-security:on|off, allow-address:ADDRESS, allow-dhcp-server, allow-router-adv)",
    );
  }
  const hit: QosTag = { tag, kind: m[2] as QosTag["kind"], value: m[3]! };
  if (m[1] !== undefined) hit.nic = m[1];
  validateValue(field, tag, hit.kind, hit.value);
  return hit;
}

/** A NIC's own QoS tag, as `ovs-vif qos set` writes it (the parser's form). */
export function formatQosTag(nic: number | string, kind: QosKind, value: string): string {
  return `${PREFIX}nic:${nic}:${kind}:${value}`;
}

/** The tags of a list that are this NIC's own QoS tags of the given kinds,
 * under any of its ids. */
export function nicQosTagsOf(tags: readonly string[], nic: NicIdentity, kinds: readonly QosKind[]): string[] {
  return tags.filter((t) => {
    const hit = parseQosTag("instance tag", t);
    return hit?.nic !== undefined && tagNamesNic(hit.nic, nic) && kinds.includes(hit.kind);
  });
}

/** Does a per-NIC tag's id name this NIC? */
export function tagNamesNic(id: string, nic: NicIdentity): boolean {
  return (
    (nic.index !== undefined && id === String(nic.index)) ||
    (nic.name !== undefined && nic.name !== "" && id === nic.name) ||
    (nic.uuid !== undefined && id === nic.uuid)
  );
}

/** The `ovs-vif:` tags of a tag list that set rate or burst: instance-wide
 * ones, and those for this NIC (by index, name or UUID). Tags with the prefix
 * that do not parse are errors. */
export function qosTags(kind: "instance" | "network", tags: string[], nic: NicIdentity): { nic: TagHit[]; all: TagHit[] } {
  const field = `${kind} tag`;
  const out = { nic: [] as TagHit[], all: [] as TagHit[] };
  for (const tag of tags) {
    const hit = parseQosTag(field, tag);
    if (!hit) continue;
    const { nic: id, ...found } = hit;
    if (id === undefined) out.all.push(found);
    else if (kind === "network") throw new InputError(field, tag, "per-NIC tags belong on the instance, not the network");
    else if (tagNamesNic(id, nic)) out.nic.push(found);
  }
  return out;
}

function validateValue(field: string, tag: string, kind: QosKind, value: string): void {
  try {
    convertKind(kind, field, value);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(field, tag, err.reason);
    throw err;
  }
}

/** A level from tag hits; two different values for the same thing conflict. */
export function levelFromTags(name: string, field: string, hits: TagHit[]): QosLevel {
  const level: QosLevel = { name };
  for (const hit of hits) {
    const prev = level[hit.kind];
    if (prev && convertKind(hit.kind, field, prev.raw) !== convertKind(hit.kind, field, hit.value)) {
      throw new InputError(field, hit.tag, `conflicts with ${JSON.stringify(prev.shown)}: two different ${hit.kind}s for the same NIC`);
    }
    if (!prev) level[hit.kind] = { raw: hit.value, source: `${field} ${JSON.stringify(hit.tag)}`, field, shown: hit.tag };
  }
  return level;
}

/** Levels for a Ganeti NIC: per-NIC instance tags, instance tags, network tags. */
export function ganetiLevels(instanceTags: string[], networkTags: string[], nic: NicIdentity): QosLevel[] {
  const inst = qosTags("instance", instanceTags, nic);
  const net = qosTags("network", networkTags, nic);
  return [
    levelFromTags("instance tag (NIC)", "instance tag", inst.nic),
    levelFromTags("instance tag", "instance tag", inst.all),
    levelFromTags("network tag", "network tag", net.all),
  ];
}
