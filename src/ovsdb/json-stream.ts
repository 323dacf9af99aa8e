// OVSDB sends JSON-RPC messages back to back with no delimiter. This splits
// a byte stream into complete top-level JSON values by tracking nesting depth
// outside strings; each complete value is then handed to JSON.parse.
import type { Json } from "./json.ts";

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_MESSAGE = 64 * 1024 * 1024;

export class JsonSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private scanned = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;

  push(chunk: Uint8Array): Json[] {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Copy: a stream may reuse the memory of a chunk it has handed over.
    this.buf = this.buf.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.buf, bytes]);
    const out: Json[] = [];
    const b = this.buf;
    let consumed = 0;
    for (let i = this.scanned; i < b.length; i++) {
      const c = b[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.depth === 0) this.start = i;
        this.depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth < 0) throw new Error("malformed JSON stream (unbalanced brackets)");
        if (this.depth === 0) {
          out.push(JSON.parse(b.subarray(this.start, i + 1).toString("utf8")) as Json);
          consumed = i + 1;
          this.start = -1;
        }
      }
    }
    this.buf = consumed > 0 ? b.subarray(consumed) : b;
    this.scanned = this.buf.length;
    if (this.start > 0 && consumed > 0) this.start -= consumed;
    if (this.buf.length > MAX_MESSAGE) throw new Error("JSON message larger than 64 MiB");
    return out;
  }
}
