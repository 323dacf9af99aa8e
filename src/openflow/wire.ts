// OpenFlow 1.4 (wire version 0x05) messages, as bytes: only what ovs-vif
// sends (hello, flow_mod add and delete-by-cookie, bundle open / add /
// commit, flow-stats request, echo reply) and reads (hello, error, bundle
// replies, flow-stats replies, echo request). 1.4 is the first version with
// bundles in the specification; OVS has spoken it since 2.3 (the names of
// its error codes: errors.ts). Layouts from
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
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  BUNDLE_CONTROL: 33,
  BUNDLE_ADD_MESSAGE: 34,
} as const;
export const BUNDLE = { OPEN_REQUEST: 0, OPEN_REPLY: 1, COMMIT_REQUEST: 4, COMMIT_REPLY: 5, DISCARD_REQUEST: 6, DISCARD_REPLY: 7 } as const;
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

export type FlowMod = { command: "add"; flow: Flow; tableId?: number } | { command: "delete"; cookie: bigint; cookieMask: bigint; tableId?: number };

/**
 * The length of each flow_mod, in one pass with no call per flow or field:
 * this and writeFlowMods run once per hook, before the engine has compiled
 * anything, and a function the engine sees called or looping a few hundred
 * times is compiled on the spot (bench/openflow-client.ts measured ~0.9 ms
 * of such compiling with helpers per message, per field and per word).
 */
function flowModLengths(mods: FlowMod[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < mods.length; i++) {
    const mod = mods[i]!;
    if (mod.command === "delete") {
      out.push(HEADER + 48);
      continue;
    }
    const a = mod.flow.actions;
    if (a.kind === "other") throw new Error(`cannot encode actions ${a.text}`);
    let m = 4;
    for (const f of mod.flow.match) m += 4 + f.value.length * (f.mask ? 2 : 1);
    out.push(HEADER + 40 + ((m + 7) & ~7) + (a.kind === "normal" ? 24 : 0));
  }
  return out;
}

/**
 * Writes flow_mods into `out` (zeroed) from `o`, each wrapped in a bundle
 * add when `bundleId` is given, with xids[i] as the xid of mods[i] (an
 * add's inner message carries the add's xid, as OVS checks); `lengths`
 * from flowModLengths. One loop, DataView stores, no helper (see
 * flowModLengths for why). Returns the end. Layouts: ofp_bundle_add_msg,
 * ofp_flow_mod, ofp_match (OXM), apply-actions output:NORMAL or no
 * instruction (drop).
 */
function writeFlowMods(out: Uint8Array, o: number, mods: FlowMod[], lengths: number[], xids: number[], bundleId?: number): number {
  const v = new DataView(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < mods.length; i++) {
    const mod = mods[i]!;
    const len = lengths[i]!;
    if (bundleId !== undefined) {
      v.setUint16(o, (OFP_VERSION << 8) | OFPT.BUNDLE_ADD_MESSAGE);
      v.setUint16(o + 2, 16 + len);
      v.setUint32(o + 4, xids[i]!);
      v.setUint32(o + 8, bundleId);
      v.setUint16(o + 14, BUNDLE_FLAGS);
      o += 16;
    }
    v.setUint16(o, (OFP_VERSION << 8) | OFPT.FLOW_MOD);
    v.setUint16(o + 2, len);
    v.setUint32(o + 4, xids[i]!);
    const add = mod.command === "add";
    v.setBigUint64(o + 8, add ? mod.flow.cookie : mod.cookie);
    if (!add) v.setBigUint64(o + 16, mod.cookieMask);
    v.setUint16(o + 24, ((mod.tableId ?? (add ? 0 : OFPTT_ALL)) << 8) | (add ? OFPFC_ADD : OFPFC_DELETE));
    if (add) v.setUint16(o + 30, mod.flow.priority);
    v.setUint32(o + 32, OFP_NO_BUFFER);
    v.setUint32(o + 36, OFPP_ANY);
    v.setUint32(o + 40, OFPG_ANY);
    let p = o + 52;
    if (add) {
      for (const f of mod.flow.match) {
        const payload = f.value.length * (f.mask ? 2 : 1);
        v.setUint32(p, ((f.oxmClass << 16) | (f.field << 9) | (f.mask ? 0x100 : 0) | payload) >>> 0);
        out.set(f.value, p + 4);
        if (f.mask) out.set(f.mask, p + 4 + f.value.length);
        p += 4 + payload;
      }
    }
    const mlen = p - (o + 48);
    v.setUint16(o + 48, 1); // OFPMT_OXM
    v.setUint16(o + 50, mlen);
    if (add && mod.flow.actions.kind === "normal") {
      const q = o + 48 + ((mlen + 7) & ~7);
      v.setUint16(q, OFPIT_APPLY_ACTIONS);
      v.setUint16(q + 2, 24);
      v.setUint16(q + 8, OFPAT_OUTPUT);
      v.setUint16(q + 10, 16);
      v.setUint32(q + 12, OFPP_NORMAL);
    }
    o += len;
  }
  return o;
}

export function encodeFlowMod(xid: number, mod: FlowMod): Uint8Array {
  const lengths = flowModLengths([mod]);
  const out = new Uint8Array(lengths[0]!);
  writeFlowMods(out, 0, [mod], lengths, [xid]);
  return out;
}

export function encodeMatch(match: MatchField[]): Uint8Array {
  // The match of a flow_mod, cut out of one.
  const whole = encodeFlowMod(0, { command: "add", flow: { cookie: 0n, priority: 0, match, actions: { kind: "drop" } } });
  return whole.slice(48);
}

function writeBundleControl(out: Uint8Array, o: number, xid: number, bundleId: number, type: number): number {
  const v = new DataView(out.buffer, out.byteOffset + o, 16);
  v.setUint8(0, OFP_VERSION);
  v.setUint8(1, OFPT.BUNDLE_CONTROL);
  v.setUint16(2, 16);
  v.setUint32(4, xid);
  v.setUint32(8, bundleId);
  v.setUint16(12, type);
  v.setUint16(14, BUNDLE_FLAGS);
  return o + 16;
}

export function encodeBundleControl(xid: number, bundleId: number, type: number): Uint8Array {
  const out = new Uint8Array(16);
  writeBundleControl(out, 0, xid, bundleId, type);
  return out;
}

/** A bundle's filling in one buffer: open (xids[0]), one add per mod
 * (xids[1..n]), then a barrier (xids[n+1]). OVS checks each message as it
 * is added and leaves a refused one out of the bundle, which stays open:
 * the barrier's reply says every add has been seen, so the caller commits
 * only a bundle with no refused message (and discards any other). */
export function encodeBundleAdds(bundleId: number, xids: number[], mods: FlowMod[]): Uint8Array {
  const lengths = flowModLengths(mods);
  let size = 16 + HEADER;
  for (const n of lengths) size += 16 + n;
  const out = new Uint8Array(size);
  let o = writeBundleControl(out, 0, xids[0]!, bundleId, BUNDLE.OPEN_REQUEST);
  o = writeFlowMods(out, o, mods, lengths, xids.slice(1, mods.length + 1), bundleId);
  const v = new DataView(out.buffer, o, HEADER);
  v.setUint16(0, (OFP_VERSION << 8) | OFPT.BARRIER_REQUEST);
  v.setUint16(2, HEADER);
  v.setUint32(4, xids[mods.length + 1]!);
  return out;
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
  if (
    bytes.length === 24 &&
    v.getUint16(0) === OFPIT_APPLY_ACTIONS &&
    v.getUint16(2) === 24 &&
    v.getUint16(8) === OFPAT_OUTPUT &&
    v.getUint32(12) === OFPP_NORMAL
  )
    return { kind: "normal" };
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
