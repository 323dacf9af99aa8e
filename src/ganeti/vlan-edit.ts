// `ovs-vif vlan add|remove|set`: the new Ganeti vlan string for a NIC, from
// its current one. Pure; every refusal names the NIC's string and the VLAN.
import { InputError, UsageError } from "../errors.ts";
import { formatVlanSpec, parseVlanOption, parseVlanSpec, VLAN_FORMS, type VlanSpec } from "../vlan.ts";

export type VlanEditKind = "add" | "remove" | "set";

/** What the command line asks for, validated before Ganeti is asked anything. */
export type VlanEdit = { kind: "add" | "remove"; ids: number[]; raw: string } | { kind: "set"; spec: VlanSpec };

export function parseVlanEdit(field: string, value: string): VlanEditKind {
  if (value === "add" || value === "remove" || value === "set") return value;
  throw new UsageError(field, value, "expected add, remove or set");
}

/** The VLAN arguments: ids 1..4094 for add/remove (a bare 20 or .20), one
 * Ganeti string (or "none") for set. Never numbers in another base. */
export function parseVlanEditArgs(kind: VlanEditKind, args: string[]): VlanEdit {
  if (kind === "set") {
    if (args.length !== 1) throw new UsageError("VLAN", args.join(" "), `set takes one Ganeti vlan string (${VLAN_FORMS}, or none)`);
    return { kind, spec: parseVlanOption("VLAN", args[0]!) };
  }
  if (args.length === 0) throw new UsageError("VLAN", "", "no VLAN given");
  const ids = args.map((raw) => {
    const spec = parseVlanSpec("VLAN", /^[0-9]+$/.test(raw) ? `.${raw}` : raw, raw);
    if (spec.native === undefined || spec.trunks.length > 0) throw new InputError("VLAN", raw, "expected a VLAN id 1..4094");
    return spec.native;
  });
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new InputError("VLAN", String(dup), "given twice");
  return { kind, ids, raw: args.join(" ") };
}

/** Applies an edit. add: the VLANs become tagged ones (an access port becomes
 * hybrid). remove: a tagged VLAN goes away (the last one of a hybrid leaves
 * an access port); removing the native VLAN of a hybrid makes it a trunk, of
 * an access port makes the NIC untagged. set: a whole Ganeti string ("none"
 * for an untagged NIC). */
export function editVlan(current: string, edit: VlanEdit): { before: string; after: string; spec: VlanSpec } {
  const now = parseVlanSpec("current vlan", current);
  const before = formatVlanSpec(now);
  if (edit.kind === "set") return { before, after: formatVlanSpec(edit.spec), spec: edit.spec };
  const { ids } = edit;
  const trunks = new Set(now.trunks);
  let native = now.native;
  if (edit.kind === "add") {
    if (native === undefined && trunks.size === 0) {
      throw new InputError(
        "VLAN",
        edit.raw,
        `the NIC is untagged (vlan ""): tagged VLANs would stop its untagged traffic; use 'vlan set' with the whole string, e.g. :${ids.join(":")}`,
      );
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
      throw new InputError(
        "VLAN",
        edit.raw,
        `removing the last VLAN of trunk ${JSON.stringify(before)} would make it an untagged NIC; use 'vlan set' to say so`,
      );
    }
  }
  const spec: VlanSpec = { trunks: [...trunks].sort((a, b) => a - b) };
  if (native !== undefined) spec.native = native;
  return { before, after: formatVlanSpec(spec), spec };
}
