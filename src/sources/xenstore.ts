// Native xenstore client: speaks the xenstored wire protocol directly
// (xen/io/xs_wire.h) over the daemon's unix socket or the /dev/xen/xenbus
// character device, so a hotplug hook costs no xenstore-read process spawns.
// Requests are pipelined: each gets its own req_id and replies are matched by
// req_id, so `Promise.all([read(a), read(b), ...])` is one round trip.
// Hot path module: imports only node:net and node:fs, no work at load time.
import { ConnectError, openStream, type Stream, type StreamEvents } from "../stream.ts";

// enum xsd_sockmsg_type (subset)
const XS_DIRECTORY = 1;
const XS_READ = 2;
const XS_WRITE = 11;
const XS_RM = 13;
const XS_WATCH_EVENT = 15;
const XS_ERROR = 16;

const HEADER_LEN = 16; // struct xsd_sockmsg: type, req_id, tx_id, len (uint32 LE)
const PAYLOAD_MAX = 4096; // XENSTORE_PAYLOAD_MAX: xenstored drops connections above it
const DEFAULT_TIMEOUT_MS = 5000;

export const DEFAULT_SOCKET_PATH = "/var/run/xenstored/socket";
export const XENBUS_DEVICE_PATH = "/dev/xen/xenbus";

export class XenStoreError extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly code: string,
    detail?: string,
  ) {
    super(`xenstore ${op} ${path} failed: ${code}${detail ? ` (${detail})` : ""}`);
    this.name = "XenStoreError";
  }
}

export interface XenStore {
  /** Value of `path`, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  write(path: string, value: string): Promise<void>;
  /** Removes `path` and its children; a missing path is not an error. */
  rm(path: string): Promise<void>;
  /** Child names of `path`, [] when it does not exist. */
  directory(path: string): Promise<string[]>;
  close(): void;
}

export interface OpenXenStoreOptions {
  /** Socket or xenbus device (a character device under /dev); default $XENSTORED_PATH, else the daemon socket, else /dev/xen/xenbus. */
  path?: string;
  /** Bound on connecting and on every request (ms), default 5000. */
  timeoutMs?: number;
}

/** Byte stream to xenstored, whichever the transport. */
interface Transport {
  send(frame: Buffer): void;
  /** Keep the process alive only while requests are outstanding. */
  setBusy(busy: boolean): void;
  close(): void;
}

interface TransportEvents {
  data(chunk: Buffer): void;
  /** The stream ended or failed; `code` is an errno name. */
  end(code: string, message: string): void;
}

interface Pending {
  type: number;
  op: string;
  path: string;
  timer: ReturnType<typeof setTimeout>;
  resolve(payload: Buffer): void;
  reject(err: XenStoreError): void;
}

function errCode(err: unknown, fallback: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.length > 0 ? code : fallback;
}

class Client implements XenStore {
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private inbuf: Buffer = Buffer.alloc(0);
  private failed: { code: string; detail: string } | undefined;
  private transport!: Transport;

  constructor(
    private readonly target: string,
    private readonly timeoutMs: number,
  ) {}

  attach(make: (events: TransportEvents) => Transport): void {
    this.transport = make({
      data: (chunk) => this.onData(chunk),
      end: (code, message) => this.fail(code, message),
    });
    this.transport.setBusy(false);
  }

  async read(path: string): Promise<string | undefined> {
    try {
      return (await this.request(XS_READ, "read", path, path + "\0")).toString("utf8");
    } catch (err) {
      if (err instanceof XenStoreError && err.code === "ENOENT") return undefined;
      throw err;
    }
  }

  async write(path: string, value: string): Promise<void> {
    await this.request(XS_WRITE, "write", path, path + "\0" + value);
  }

  async rm(path: string): Promise<void> {
    try {
      await this.request(XS_RM, "rm", path, path + "\0");
    } catch (err) {
      if (err instanceof XenStoreError && err.code === "ENOENT") return;
      throw err;
    }
  }

  async directory(path: string): Promise<string[]> {
    try {
      const payload = await this.request(XS_DIRECTORY, "directory", path, path + "\0");
      return payload
        .toString("utf8")
        .split("\0")
        .filter((name) => name.length > 0);
    } catch (err) {
      if (err instanceof XenStoreError && err.code === "ENOENT") return [];
      throw err;
    }
  }

  close(): void {
    if (!this.failed) this.fail("ECLOSED", `connection to ${this.target} was closed by the caller`);
  }

  private request(type: number, op: string, path: string, payloadText: string): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.failed) {
        reject(new XenStoreError(op, path, this.failed.code, this.failed.detail));
        return;
      }
      if (path.length === 0 || path.includes("\0")) {
        reject(new XenStoreError(op, path, "EINVAL", "path must be non-empty and contain no NUL"));
        return;
      }
      const payload = Buffer.from(payloadText, "utf8");
      if (payload.length > PAYLOAD_MAX) {
        reject(new XenStoreError(op, path, "E2BIG", `request of ${payload.length} bytes exceeds ${PAYLOAD_MAX}`));
        return;
      }
      const reqId = this.allocReqId();
      const frame = Buffer.allocUnsafe(HEADER_LEN + payload.length);
      frame.writeUInt32LE(type, 0);
      frame.writeUInt32LE(reqId, 4);
      frame.writeUInt32LE(0, 8); // tx_id: no transaction
      frame.writeUInt32LE(payload.length, 12);
      payload.copy(frame, HEADER_LEN);

      const timer = setTimeout(() => {
        if (this.pending.get(reqId) !== entry) return;
        this.settle(reqId);
        reject(new XenStoreError(op, path, "ETIMEDOUT", `no reply from ${this.target} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const entry: Pending = { type, op, path, timer, resolve, reject };
      this.pending.set(reqId, entry);
      if (this.pending.size === 1) this.transport.setBusy(true);
      this.transport.send(frame);
    });
  }

  private allocReqId(): number {
    for (;;) {
      const id = this.nextReqId;
      this.nextReqId = (this.nextReqId + 1) >>> 0 || 1;
      if (!this.pending.has(id)) return id;
    }
  }

  /** Forget a request; returns it (timer cleared) if it was still outstanding. */
  private settle(reqId: number): Pending | undefined {
    const entry = this.pending.get(reqId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.pending.delete(reqId);
    if (this.pending.size === 0 && !this.failed) this.transport.setBusy(false);
    return entry;
  }

  private onData(chunk: Buffer): void {
    this.inbuf = this.inbuf.length === 0 ? chunk : Buffer.concat([this.inbuf, chunk]);
    let off = 0;
    while (this.inbuf.length - off >= HEADER_LEN) {
      const type = this.inbuf.readUInt32LE(off);
      const reqId = this.inbuf.readUInt32LE(off + 4);
      const len = this.inbuf.readUInt32LE(off + 12);
      if (len > PAYLOAD_MAX) {
        this.fail("EPROTO", `reply from ${this.target} announces ${len} bytes (max ${PAYLOAD_MAX})`);
        return;
      }
      if (this.inbuf.length - off < HEADER_LEN + len) break;
      const payload = this.inbuf.subarray(off + HEADER_LEN, off + HEADER_LEN + len);
      off += HEADER_LEN + len;
      if (type === XS_WATCH_EVENT) continue; // no watches are registered; ignore
      const entry = this.settle(reqId);
      if (!entry) continue; // reply to a request that already timed out
      if (type === XS_ERROR) {
        const code = payload.toString("latin1").replace(/\0+$/, "") || "EIO";
        entry.reject(new XenStoreError(entry.op, entry.path, code));
      } else if (type !== entry.type) {
        entry.reject(new XenStoreError(entry.op, entry.path, "EPROTO", `reply type ${type} to request type ${entry.type}`));
      } else {
        // Copy: the payload must not pin (or alias) the receive buffer.
        entry.resolve(Buffer.from(payload));
      }
    }
    this.inbuf = off === this.inbuf.length ? Buffer.alloc(0) : this.inbuf.subarray(off);
  }

  private fail(code: string, detail: string): void {
    if (this.failed) return;
    this.failed = { code, detail };
    const entries = [...this.pending.values()];
    for (const entry of entries) clearTimeout(entry.timer);
    this.pending.clear();
    this.transport.close();
    for (const entry of entries) entry.reject(new XenStoreError(entry.op, entry.path, code, detail));
  }
}

// xenstored listens with a backlog of 1: when several hotplug scripts start
// at once (a domain with many vifs), connects are refused until it accepts.
// Retry those briefly instead of failing the VM start.
const BUSY_RETRY_MS = 5000;

async function connectWithRetry(path: string, timeoutMs: number, events: StreamEvents): Promise<Stream> {
  const end = Date.now() + Math.min(timeoutMs, BUSY_RETRY_MS);
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      return await openStream({ path }, timeoutMs, events);
    } catch (err) {
      const code = err instanceof ConnectError ? err.code : "EIO";
      const busy = code === "ECONNREFUSED" || code === "EAGAIN";
      if (!busy || Date.now() + delay > end) {
        const detail =
          code === "ETIMEDOUT"
            ? `xenstored socket ${path} did not accept within ${timeoutMs} ms`
            : `cannot connect to xenstored socket ${path}: ${(err as Error).message}`;
        throw new XenStoreError("connect", path, code, detail);
      }
      // Never past the retry budget: the last try is at its end.
      await new Promise((r) => setTimeout(r, Math.min(delay * (0.5 + Math.random()), Math.max(0, end - Date.now()))));
    }
  }
}

function streamTransport(stream: Stream): Transport {
  return {
    send: (frame) => stream.write(frame),
    setBusy: (busy) => (busy ? stream.ref() : stream.unref()),
    close: () => stream.close(),
  };
}

// node:fs only for the xenbus device (1-1.6 ms to load): the socket needs none.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = () => require("node:fs") as typeof import("node:fs");

function openDevice(path: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    nodeFs().open(path, "r+", (err, fd) => {
      if (err) reject(new XenStoreError("connect", path, errCode(err, "EIO"), `cannot open xenbus device ${path}: ${err.message}`));
      else resolve(fd);
    });
  });
}

/**
 * /dev/xen/xenbus: the kernel relays whole messages written to it and queues
 * replies for read(2). Reads block, so one read is kept in flight only while
 * requests are outstanding; writes are serialised so frames never interleave.
 */
function deviceTransport(fd: number, target: string, events: TransportEvents): Transport {
  let closed = false;
  let busy = false;
  let reading = false;
  const writeQueue: Buffer[] = [];
  let writing = false;
  const readBuf = Buffer.allocUnsafe(PAYLOAD_MAX + HEADER_LEN);

  const pumpRead = (): void => {
    if (closed || !busy || reading) return;
    reading = true;
    nodeFs().read(fd, readBuf, 0, readBuf.length, null, (err, n) => {
      reading = false;
      if (closed) return;
      if (err) return events.end(errCode(err, "EIO"), `reading ${target}: ${err.message}`);
      if (n === 0) return events.end("ECONNRESET", `${target} returned end of file`);
      events.data(Buffer.from(readBuf.subarray(0, n)));
      pumpRead();
    });
  };
  const pumpWrite = (): void => {
    if (closed || writing) return;
    const frame = writeQueue.shift();
    if (!frame) return;
    writing = true;
    nodeFs().write(fd, frame, 0, frame.length, null, (err, written) => {
      writing = false;
      if (closed) return;
      if (err) return events.end(errCode(err, "EIO"), `writing ${target}: ${err.message}`);
      if (written !== frame.length) return events.end("EIO", `short write to ${target}`);
      pumpWrite();
    });
  };
  return {
    send: (frame) => {
      writeQueue.push(frame);
      pumpWrite();
      pumpRead();
    },
    setBusy: (b) => {
      busy = b;
      pumpRead();
    },
    close: () => {
      if (closed) return;
      closed = true;
      nodeFs().close(fd, () => {});
    },
  };
}

function isCharDevice(path: string): boolean {
  try {
    return path.startsWith("/dev/") && nodeFs().statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
}

async function openPath(path: string, timeoutMs: number): Promise<XenStore> {
  const client = new Client(path, timeoutMs);
  if (isCharDevice(path)) {
    const fd = await openDevice(path);
    client.attach((events) => deviceTransport(fd, path, events));
  } else {
    // Nothing arrives before the first request, which needs the transport.
    let relay: TransportEvents | undefined;
    const stream = await connectWithRetry(path, timeoutMs, {
      data: (chunk) => relay?.data(Buffer.from(chunk)),
      end: (code, message) => relay?.end(code, `xenstored socket ${message}`),
    });
    client.attach((events) => {
      relay = events;
      return streamTransport(stream);
    });
  }
  return client;
}

/**
 * Connects to xenstored: `opts.path`, else $XENSTORED_PATH, else the daemon
 * socket /var/run/xenstored/socket, falling back to /dev/xen/xenbus when no
 * daemon listens there (e.g. xenstored runs in a stub domain).
 */
export async function openXenStore(opts: OpenXenStoreOptions = {}): Promise<XenStore> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new XenStoreError("connect", opts.path ?? "", "EINVAL", `bad timeoutMs ${timeoutMs}`);
  const explicit = opts.path ?? (process.env.XENSTORED_PATH || undefined);
  if (explicit !== undefined) return openPath(explicit, timeoutMs);
  try {
    return await openPath(DEFAULT_SOCKET_PATH, timeoutMs);
  } catch (err) {
    const fallback = err instanceof XenStoreError && (err.code === "ENOENT" || err.code === "ECONNREFUSED");
    if (!fallback) throw err;
    if (!isCharDevice(XENBUS_DEVICE_PATH)) {
      throw new XenStoreError(
        "connect",
        DEFAULT_SOCKET_PATH,
        err.code,
        `no xenstored listening on ${DEFAULT_SOCKET_PATH} (${err.code}) and no ${XENBUS_DEVICE_PATH} device`,
      );
    }
    return openPath(XENBUS_DEVICE_PATH, timeoutMs);
  }
}
