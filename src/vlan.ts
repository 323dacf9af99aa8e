import { InputError } from "./errors.ts";
import { parseBridgeName } from "./names.ts";

/**
 * What a NIC may carry. `native` is the VLAN its untagged frames belong to
 * (none: VLAN 0, i.e. plain untagged traffic); `trunks` are the VLANs it
 * carries tagged. Both empty: an untagged NIC that can reach no VLAN.
 */
export interface VlanSpec {
  native?: number;
  trunks: number[];
}

export type VlanMode = "access" | "trunk" | "native-untagged";

/** The Port columns for a VlanSpec. vlan_mode is always explicit: with an
 * empty vlan_mode OVS ignores trunks on a tagged port and turns an untagged
 * port into a trunk of every VLAN. */
export interface PortVlanColumns {
  vlan_mode: VlanMode;
  tag?: number;
  trunks: number[];
}

function parseVlanId(field: string, whole: string, digits: string): number {
  if (digits === "") throw new InputError(field, whole, "empty VLAN id");
  if (digits.startsWith(".")) throw new InputError(field, whole, "empty VLAN id (two '.' in a row)");
  if (!/^[0-9]+$/.test(digits)) throw new InputError(field, whole, `VLAN id ${JSON.stringify(digits)} is not a number`);
  const id = digits.length > 4 ? Infinity : Number(digits);
  if (id < 1 || id > 4094) throw new InputError(field, whole, `VLAN id ${digits} out of range 1..4094`);
  return id;
}

/** The accepted VLAN forms, written once for every help text and message. */
export const VLAN_FORMS = ".N, :A:B or .N:A:B";

/** The VLAN forms as a help text lists them; `prefix` is what stands before
 * the VLAN part ("BR" in a Xen bridge string). */
export function vlanFormsHelp(prefix = "", indent = 2): string {
  const rows: [string, string][] = [
    [prefix || "(none)", "untagged only: the VM cannot send tagged frames"],
    [`${prefix}.N`, "access: VLAN N, untagged"],
    [`${prefix}:A:B`, "trunk: VLANs A and B, tagged only"],
    [`${prefix}.N:A:B`, "hybrid: N untagged, A and B tagged"],
  ];
  return rows.map(([form, what]) => `${" ".repeat(indent)}${form.padEnd(10)} ${what}`).join("\n");
}

/**
 * Parses the VLAN part of a NIC: Ganeti's `vlan` nicparam or the suffix of a
 * Xen bridge string. Forms: "" (untagged), `.N` (access), `:A:B` (trunk),
 * `.N:A:B` (hybrid: N native untagged, A and B tagged), and a bare `N`, which
 * Ganeti normalises to `.N`.
 */
export function parseVlanSpec(field: string, value: string, whole = value): VlanSpec {
  if (value === "") return { trunks: [] };
  let rest = value;
  let native: number | undefined;
  if (/^[0-9]/.test(rest)) rest = "." + rest;
  if (rest.startsWith(".")) {
    const end = rest.indexOf(":");
    const digits = end === -1 ? rest.slice(1) : rest.slice(1, end);
    native = parseVlanId(field, whole, digits);
    rest = end === -1 ? "" : rest.slice(end);
  }
  const trunks = new Set<number>();
  if (rest !== "") {
    if (!rest.startsWith(":")) throw new InputError(field, whole, `unexpected ${JSON.stringify(rest[0])} (expected ${VLAN_FORMS})`);
    for (const part of rest.slice(1).split(":")) trunks.add(parseVlanId(field, whole, part));
  }
  if (native !== undefined && trunks.has(native)) throw new InputError(field, whole, `VLAN ${native} is both the native (untagged) VLAN and a tagged one`);
  const spec: VlanSpec = { trunks: [...trunks].sort((a, b) => a - b) };
  if (native !== undefined) spec.native = native;
  return spec;
}

/** A VLAN option (attach --vlan, vlan set): Ganeti's syntax, or "none" for
 * an untagged NIC; absent is untagged too. */
export function parseVlanOption(field: string, value: string | undefined): VlanSpec {
  if (value === undefined || value === "none") return { trunks: [] };
  return parseVlanSpec(field, value);
}

/** Formats a VlanSpec the way Ganeti writes it (`.N`, `:A:B`, `.N:A:B`, ""). */
export function formatVlanSpec(spec: VlanSpec): string {
  const native = spec.native === undefined ? "" : `.${spec.native}`;
  return native + spec.trunks.map((id) => `:${id}`).join("");
}

export function vlanMode(spec: VlanSpec): VlanMode {
  if (spec.trunks.length === 0) return "access";
  return spec.native === undefined ? "trunk" : "native-untagged";
}

export function portVlanColumns(spec: VlanSpec): PortVlanColumns {
  const cols: PortVlanColumns = { vlan_mode: vlanMode(spec), trunks: [...spec.trunks] };
  if (spec.native !== undefined) cols.tag = spec.native;
  return cols;
}

/** One-word description for logs and tables: untagged, access 3, trunk 10,20, hybrid 3+10,20. */
export function describeVlan(spec: VlanSpec): string {
  const mode = vlanMode(spec);
  if (mode === "access") return spec.native === undefined ? "untagged" : `access ${spec.native}`;
  if (mode === "trunk") return `trunk ${spec.trunks.join(",")}`;
  return `hybrid ${spec.native}+${spec.trunks.join(",")}`;
}

export interface XenBridge {
  bridge: string;
  vlan: VlanSpec;
}

/** Splits Xen's `bridge=` value (`br`, `br.N`, `br:A:B`, `br.N:A:B`) into the
 * OVS bridge and the VLAN part. */
export function parseXenBridge(field: string, value: string): XenBridge {
  const cut = value.search(/[.:]/);
  const name = cut === -1 ? value : value.slice(0, cut);
  const suffix = cut === -1 ? "" : value.slice(cut);
  if (name === "") throw new InputError(field, value, "no bridge name before the VLAN part");
  try {
    parseBridgeName(field, name);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(field, value, err.reason);
    throw err;
  }
  if (/^[0-9]/.test(suffix)) throw new InputError(field, value, "unexpected VLAN syntax");
  return { bridge: name, vlan: parseVlanSpec(field, suffix, value) };
}

/**
 * Parses the backend's `vlan` key written by xl 4.19 (`vlan=` in the vif
 * spec): a `/`-separated list of items, each an id `N`, a range `N-M`, or a
 * stride `N+MxK` (K ids from N in steps of M), optionally followed by `p`
 * (PVID: where untagged frames go) and `u` (leaves the port untagged).
 *
 * Mapped onto OVS: the PVID (which must also be `u`) becomes the native,
 * untagged VLAN; every other id is carried tagged. A list of exactly one id
 * without flags is that VLAN untagged (an access port), as Xen's vif-bridge
 * treats it. OVS cannot send a non-native VLAN untagged, nor keep the native
 * VLAN tagged on an ovs-vif port, so `u` without `p` and `p` without `u` are
 * refused rather than approximated.
 */
export function parseXlVlan(field: string, value: string): VlanSpec {
  if (value.trim() === "") throw new InputError(field, value, "empty vlan list");
  const items = value.split("/");
  let native: number | undefined;
  const trunks = new Set<number>();
  const plain: number[] = [];
  for (const item of items) {
    const m = /^([0-9]+)(?:-([0-9]+)|\+([0-9]+)x([0-9]+))?([pu]*)$/.exec(item);
    if (!m) throw new InputError(field, value, `bad item ${JSON.stringify(item)} (expected N, N-M or N+MxK, optionally with p/u)`);
    const [, first, last, step, count, flags = ""] = m;
    const start = parseVlanId(field, value, first ?? "");
    let ids: number[];
    if (last !== undefined) {
      const end = parseVlanId(field, value, last);
      if (end < start) throw new InputError(field, value, `range ${item} ends before it starts`);
      ids = Array.from({ length: end - start + 1 }, (_, i) => start + i);
    } else if (step !== undefined && count !== undefined) {
      const s = Number(step);
      const k = Number(count);
      if (s < 1 || k < 1 || start + s * (k - 1) > 4094) throw new InputError(field, value, `stride ${item} leaves 1..4094`);
      ids = Array.from({ length: k }, (_, i) => start + s * i);
    } else {
      ids = [start];
    }
    const pvid = flags.includes("p");
    const untagged = flags.includes("u");
    if (pvid !== untagged) throw new InputError(field, value, `${item}: OVS ports support the PVID only as the untagged native VLAN (use "pu")`);
    if (pvid) {
      if (ids.length !== 1) throw new InputError(field, value, `${item}: a PVID is one VLAN, not a range`);
      if (native !== undefined && native !== ids[0]) throw new InputError(field, value, "more than one PVID");
      native = ids[0];
    } else {
      plain.push(...ids);
    }
  }
  if (native === undefined && items.length === 1 && plain.length === 1) return { native: plain[0], trunks: [] };
  // A range may include the PVID (10pu/10-20): the native VLAN is carried anyway.
  for (const id of plain) if (id !== native) trunks.add(id);
  const spec: VlanSpec = { trunks: [...trunks].sort((a, b) => a - b) };
  if (native !== undefined) spec.native = native;
  return spec;
}
