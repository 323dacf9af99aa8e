// `ovs-vif vlan add|remove|set`: the new Ganeti vlan string for a NIC, from
// its current one. Pure; every refusal names the NIC's string and the VLAN.
import { InputError } from "../errors.ts";
import { formatVlanSpec, parseVlanSpec, type VlanSpec } from "../vlan.ts";

export type VlanEdit = "add" | "remove" | "set";

function parseIds(field: string, ids: string[]): number[] {
  if (ids.length === 0) throw new InputError(field, "", "no VLAN given");
  return ids.map((raw) => {
    const spec = parseVlanSpec(field, /^[0-9]+$/.test(raw) ? `.${raw}` : raw);
    if (spec.native === undefined || spec.trunks.length > 0) throw new InputError(field, raw, "expected a VLAN id 1..4094");
    return spec.native;
  });
}

/** Applies an edit. add: the VLANs become tagged ones (an access port becomes
 * hybrid). remove: a tagged VLAN goes away (the last one of a hybrid leaves
 * an access port); removing the native VLAN of a hybrid makes it a trunk, of
 * an access port makes the NIC untagged. set: a whole Ganeti string ("none"
 * for an untagged NIC). */
export function editVlan(current: string, edit: VlanEdit, args: string[]): { before: string; after: string; spec: VlanSpec } {
  const now = parseVlanSpec("current vlan", current);
  const before = formatVlanSpec(now);
  if (edit === "set") {
    if (args.length !== 1) throw new InputError("VLAN", args.join(" "), "set takes one Ganeti vlan string (.N, :A:B, .N:A:B, N, or none)");
    const raw = args[0]!;
    const spec = raw === "none" ? { trunks: [] } : parseVlanSpec("VLAN", raw);
    return { before, after: formatVlanSpec(spec), spec };
  }
  const ids = parseIds("VLAN", args);
  const trunks = new Set(now.trunks);
  let native = now.native;
  if (edit === "add") {
    if (native === undefined && trunks.size === 0) {
      throw new InputError("VLAN", args.join(" "), `the NIC is untagged (vlan ""): tagged VLANs would stop its untagged traffic; use 'vlan set' with the whole string, e.g. :${ids.join(":")}`);
    }
    for (const id of ids) {
      if (id === native) throw new InputError("VLAN", String(id), `already the native VLAN of ${JSON.stringify(before)}`);
      if (trunks.has(id)) throw new InputError("VLAN", String(id), `already carried by ${JSON.stringify(before)}`);
      trunks.add(id);
    }
  } else {
    for (const id of ids) {
      if (id === native) native = undefined;
      else if (trunks.has(id)) trunks.delete(id);
      else throw new InputError("VLAN", String(id), `not carried by ${JSON.stringify(before)}`);
    }
    if (now.native === undefined && now.trunks.length > 0 && trunks.size === 0) {
      throw new InputError("VLAN", args.join(" "), `removing the last VLAN of trunk ${JSON.stringify(before)} would make it an untagged NIC; use 'vlan set' to say so`);
    }
  }
  const spec: VlanSpec = { trunks: [...trunks].sort((a, b) => a - b) };
  if (native !== undefined) spec.native = native;
  return { before, after: formatVlanSpec(spec), spec };
}
