// OVSDB's JSON encoding of column values (RFC 7047 section 5.1).
import { OvsdbError } from "../errors.ts";
import type { Json } from "./json.ts";

export const uuid = (id: string): Json => ["uuid", id];
export const namedUuid = (name: string): Json => ["named-uuid", name];
export const set = (items: Json[]): Json => ["set", items];
export const map = (entries: Record<string, string>): Json => ["map", Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))];
export const optional = (value: Json | undefined): Json => (value === undefined ? set([]) : value);

/** The uuid string of a `["uuid", X]` value. */
export function uuidOf(value: Json | undefined): string {
  if (Array.isArray(value) && value[0] === "uuid" && typeof value[1] === "string") return value[1];
  throw new OvsdbError("protocol", `OVSDB answered ${JSON.stringify(value)} where a uuid was expected`);
}

/** Elements of a set column (a bare atom is a one-element set). */
export function setItems(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value[0] === "set" && Array.isArray(value[1])) return value[1];
  return [value];
}

/** An optional scalar column: undefined when the set is empty. */
export function optionalAtom(value: Json | undefined): Json | undefined {
  const items = setItems(value);
  return items[0];
}

export function mapEntries(value: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value) && value[0] === "map" && Array.isArray(value[1])) {
    for (const pair of value[1]) if (Array.isArray(pair) && typeof pair[0] === "string" && typeof pair[1] === "string") out[pair[0]] = pair[1];
  }
  return out;
}
