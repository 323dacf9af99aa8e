// OpenFlow 1.4 (wire version 0x05) messages, as bytes: only what ovs-vif
// sends (hello, flow_mod add and delete-by-cookie, bundle open / add /
// commit, flow-stats request, echo reply) and reads (hello, error, bundle
// replies, flow-stats replies, echo request). 1.4 is the first version with
// bundles in the specification; OVS has spoken it since 2.3. Layouts from
// the OpenFlow 1.4.0 specification (openflow.h), all big-endian.
import type { Actions, Flow, MatchField } from "./match.ts";

export const OFP_VERSION = 0x05;
export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  FLOW_MOD: 14,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BUNDLE_CONTROL: 33,
  BUNDLE_ADD_MESSAGE: 34,
} as const;
export const BUNDLE = { OPEN_REQUEST: 0, OPEN_REPLY: 1, COMMIT_REQUEST: 4, COMMIT_REPLY: 5 } as const;
/** OFPBF_ATOMIC | OFPBF_ORDERED: all or nothing, in the order sent. */
export const BUNDLE_FLAGS = 0x3;
const OFPFC_ADD = 0;
const OFPFC_DELETE = 3;
const OFPMP_FLOW = 1;
const OFPMPF_REPLY_MORE = 1;
const OFPP_NORMAL = 0xfffffffa;
const OFPP_ANY = 0xffffffff;
const OFPG_ANY = 0xffffffff;
const OFP_NO_BUFFER = 0xffffffff;
export const OFPTT_ALL = 0xff;
const OFPIT_APPLY_ACTIONS = 4;
const OFPAT_OUTPUT = 0;
const HEADER = 8;

export interface Header {
  version: number;
  type: number;
  length: number;
  xid: number;
}

function message(type: number, xid: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + body.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, OFP_VERSION);
  v.setUint8(1, type);
  v.setUint16(2, out.length);
  v.setUint32(4, xid);
  out.set(body, HEADER);
  return out;
}

export function readHeader(buf: Uint8Array, off = 0): Header | undefined {
  if (buf.length - off < HEADER) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset + off, HEADER);
  return { version: v.getUint8(0), type: v.getUint8(1), length: v.getUint16(2), xid: v.getUint32(4) };
}

/** HELLO with a version bitmap that offers 1.4 alone: the switch agrees on
 * 1.4 or fails the handshake (this client speaks no other version). */
export function encodeHello(xid: number): Uint8Array {
  const body = new Uint8Array(8);
  const v = new DataView(body.buffer);
  v.setUint16(0, 1); // OFPHET_VERSIONBITMAP
  v.setUint16(2, 8);
  v.setUint32(4, 1 << OFP_VERSION);
  return message(OFPT.HELLO, xid, body);
}

export function encodeEchoReply(xid: number, payload: Uint8Array): Uint8Array {
  return message(OFPT.ECHO_REPLY, xid, payload);
}

/** ofp_match: OXM TLVs, padded to 8 bytes. */
export function encodeMatch(match: MatchField[]): Uint8Array {
  const tlvLen = match.reduce((n, f) => n + 4 + f.value.length * (f.mask ? 2 : 1), 0);
  const len = 4 + tlvLen;
  const out = new Uint8Array(Math.ceil(len / 8) * 8);
  const v = new DataView(out.buffer);
  v.setUint16(0, 1); // OFPMT_OXM
  v.setUint16(2, len);
  let o = 4;
  for (const f of match) {
    const payload = f.value.length * (f.mask ? 2 : 1);
    v.setUint32(o, ((f.oxmClass << 16) | (f.field << 9) | (f.mask ? 0x100 : 0) | payload) >>> 0);
    out.set(f.value, o + 4);
    if (f.mask) out.set(f.mask, o + 4 + f.value.length);
    o += 4 + payload;
  }
  return out;
}

/** Apply-actions output:NORMAL, or no instruction at all (drop). */
function encodeInstructions(actions: Actions): Uint8Array {
  if (actions.kind === "drop") return new Uint8Array(0);
  if (actions.kind !== "normal") throw new Error(`cannot encode actions ${actions.text}`);
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  v.setUint16(0, OFPIT_APPLY_ACTIONS);
  v.setUint16(2, 24);
  v.setUint16(8, OFPAT_OUTPUT);
  v.setUint16(10, 16);
  v.setUint32(12, OFPP_NORMAL);
  return out;
}

export type FlowMod = { command: "add"; flow: Flow; tableId?: number } | { command: "delete"; cookie: bigint; cookieMask: bigint; tableId?: number };

export function encodeFlowMod(xid: number, mod: FlowMod): Uint8Array {
  const match = encodeMatch(mod.command === "add" ? mod.flow.match : []);
  const instructions = mod.command === "add" ? encodeInstructions(mod.flow.actions) : new Uint8Array(0);
  const body = new Uint8Array(40 + match.length + instructions.length);
  const v = new DataView(body.buffer);
  v.setBigUint64(0, mod.command === "add" ? mod.flow.cookie : mod.cookie);
  v.setBigUint64(8, mod.command === "add" ? 0n : mod.cookieMask);
  v.setUint8(16, mod.tableId ?? (mod.command === "add" ? 0 : OFPTT_ALL));
  v.setUint8(17, mod.command === "add" ? OFPFC_ADD : OFPFC_DELETE);
  v.setUint16(22, mod.command === "add" ? mod.flow.priority : 0);
  v.setUint32(24, OFP_NO_BUFFER);
  v.setUint32(28, OFPP_ANY);
  v.setUint32(32, OFPG_ANY);
  body.set(match, 40);
  body.set(instructions, 40 + match.length);
  return message(OFPT.FLOW_MOD, xid, body);
}

export function encodeBundleControl(xid: number, bundleId: number, type: number): Uint8Array {
  const body = new Uint8Array(8);
  const v = new DataView(body.buffer);
  v.setUint32(0, bundleId);
  v.setUint16(4, type);
  v.setUint16(6, BUNDLE_FLAGS);
  return message(OFPT.BUNDLE_CONTROL, xid, body);
}

/** The inner message must carry the same xid as the add (OVS checks). */
export function encodeBundleAdd(xid: number, bundleId: number, inner: Uint8Array): Uint8Array {
  const body = new Uint8Array(8 + inner.length);
  const v = new DataView(body.buffer);
  v.setUint32(0, bundleId);
  v.setUint16(6, BUNDLE_FLAGS);
  body.set(inner, 8);
  return message(OFPT.BUNDLE_ADD_MESSAGE, xid, body);
}

/** Flow stats of every table whose flows' cookies match cookie/mask. */
export function encodeFlowStatsRequest(xid: number, cookie: bigint, cookieMask: bigint): Uint8Array {
  const match = encodeMatch([]);
  const body = new Uint8Array(8 + 32 + match.length);
  const v = new DataView(body.buffer);
  v.setUint16(0, OFPMP_FLOW);
  v.setUint8(8, OFPTT_ALL);
  v.setUint32(12, OFPP_ANY);
  v.setUint32(16, OFPG_ANY);
  v.setBigUint64(24, cookie);
  v.setBigUint64(32, cookieMask);
  body.set(match, 40);
  return message(OFPT.MULTIPART_REQUEST, xid, body);
}

export class WireError extends Error {}

/** Decodes an ofp_match at `off`; returns the fields and its padded size. */
export function decodeMatch(buf: Uint8Array, off: number): { match: MatchField[]; size: number } {
  const v = new DataView(buf.buffer, buf.byteOffset);
  if (off + 4 > buf.length) throw new WireError("truncated match");
  if (v.getUint16(off) !== 1) throw new WireError(`match type ${v.getUint16(off)} is not OXM`);
  const len = v.getUint16(off + 2);
  if (len < 4 || off + len > buf.length) throw new WireError(`match length ${len} out of bounds`);
  const match: MatchField[] = [];
  for (let o = off + 4; o < off + len; ) {
    if (o + 4 > off + len) throw new WireError("truncated OXM header");
    const h = v.getUint32(o);
    const payload = h & 0xff;
    const hasMask = (h & 0x100) !== 0;
    if (o + 4 + payload > off + len || (hasMask && payload % 2 && h >>> 16 !== 0xffff)) throw new WireError("OXM length out of bounds");
    const oxmClass = h >>> 16;
    // An experimenter field (class 0xffff) leads with its experimenter id:
    // kept whole, as an opaque value that still compares.
    const split = hasMask && oxmClass !== 0xffff;
    const n = split ? payload / 2 : payload;
    const f: MatchField = { oxmClass, field: (h >>> 9) & 0x7f, value: buf.slice(o + 4, o + 4 + n) };
    if (split) f.mask = buf.slice(o + 4 + n, o + 4 + payload);
    match.push(f);
    o += 4 + payload;
  }
  return { match, size: Math.ceil(len / 8) * 8 };
}

/** Instructions as ovs-vif writes them read back as NORMAL or drop;
 * anything else is kept as its hex, to show up as a different flow. */
export function decodeInstructions(bytes: Uint8Array): Actions {
  if (bytes.length === 0) return { kind: "drop" };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes.length === 24 && v.getUint16(0) === OFPIT_APPLY_ACTIONS && v.getUint16(2) === 24 && v.getUint16(8) === OFPAT_OUTPUT && v.getUint32(12) === OFPP_NORMAL) return { kind: "normal" };
  if (bytes.length === 8 && v.getUint16(0) === OFPIT_APPLY_ACTIONS && v.getUint16(2) === 8) return { kind: "drop" };
  return { kind: "other", text: `instructions:0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` };
}

export interface DumpedFlow extends Flow {
  tableId: number;
  packets: bigint;
}

/** One flow-stats reply: its flows and whether more replies follow. */
export function decodeFlowStatsReply(msg: Uint8Array): { more: boolean; flows: DumpedFlow[] } {
  const v = new DataView(msg.buffer, msg.byteOffset, msg.length);
  if (msg.length < 16) throw new WireError("truncated multipart reply");
  if (v.getUint16(8) !== OFPMP_FLOW) throw new WireError(`multipart reply of type ${v.getUint16(8)}, expected flow stats`);
  const more = (v.getUint16(10) & OFPMPF_REPLY_MORE) !== 0;
  const flows: DumpedFlow[] = [];
  for (let o = 16; o < msg.length; ) {
    if (o + 48 > msg.length) throw new WireError("truncated flow stats entry");
    const len = v.getUint16(o);
    if (len < 56 || o + len > msg.length) throw new WireError(`flow stats length ${len} out of bounds`);
    const entry = msg.subarray(o, o + len);
    const { match, size } = decodeMatch(entry, 48);
    flows.push({
      tableId: v.getUint8(o + 2),
      priority: v.getUint16(o + 12),
      cookie: v.getBigUint64(o + 24),
      packets: v.getBigUint64(o + 32),
      match,
      actions: decodeInstructions(entry.subarray(48 + size)),
    });
    o += len;
  }
  return { more, flows };
}

export function decodeBundleControl(msg: Uint8Array): { bundleId: number; type: number } {
  if (msg.length < 16) throw new WireError("truncated bundle control");
  const v = new DataView(msg.buffer, msg.byteOffset, msg.length);
  return { bundleId: v.getUint32(8), type: v.getUint16(12) };
}

export function decodeError(msg: Uint8Array): { type: number; code: number } {
  if (msg.length < 12) throw new WireError("truncated error message");
  const v = new DataView(msg.buffer, msg.byteOffset, msg.length);
  return { type: v.getUint16(8), code: v.getUint16(10) };
}

const ERROR_TYPES = ["HELLO_FAILED", "BAD_REQUEST", "BAD_ACTION", "BAD_INSTRUCTION", "BAD_MATCH", "FLOW_MOD_FAILED", "GROUP_MOD_FAILED", "PORT_MOD_FAILED", "TABLE_MOD_FAILED", "QUEUE_OP_FAILED", "SWITCH_CONFIG_FAILED", "ROLE_REQUEST_FAILED", "METER_MOD_FAILED", "TABLE_FEATURES_FAILED", "BAD_PROPERTY", "ASYNC_CONFIG_FAILED", "FLOW_MONITOR_FAILED", "BUNDLE_FAILED"];
const ERROR_CODES: Record<number, string[]> = {
  0: ["INCOMPATIBLE", "EPERM"],
  1: ["BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN", "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET", "MULTIPART_BUFFER_OVERFLOW"],
  2: ["BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE", "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER", "BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT"],
  4: ["BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK", "BAD_NW_ADDR_MASK", "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE", "BAD_MASK", "BAD_PREREQ", "DUP_FIELD", "EPERM"],
  5: ["UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS", "CANT_SYNC", "BAD_PRIORITY", "IS_SYNC"],
  17: ["UNKNOWN", "EPERM", "BAD_ID", "BUNDLE_EXIST", "BUNDLE_CLOSED", "OUT_OF_BUNDLES", "BAD_TYPE", "BAD_FLAGS", "MSG_BAD_LEN", "MSG_BAD_XID", "MSG_UNSUP", "MSG_CONFLICT", "MSG_TOO_MANY", "MSG_FAILED", "TIMEOUT", "BUNDLE_IN_PROGRESS"],
};

/** "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ"-like text (the spec's names without prefixes). */
export function errorName(type: number, code: number): string {
  const t = type === 0xffff ? "EXPERIMENTER" : (ERROR_TYPES[type] ?? `type ${type}`);
  return `${t}/${ERROR_CODES[type]?.[code] ?? `code ${code}`}`;
}
