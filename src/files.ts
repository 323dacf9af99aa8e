// The synchronous file calls of the hot path (stdout/stderr, /sys, the
// hotplug log, small JSON files): libc through bun:ffi, which the hot path
// loads anyway, so that no hook pays for node:fs (1-1.6 ms of start-up in
// the compiled binary). Without libc (OVS_VIF_NO_FFI=1, not under Bun),
// node:fs, loaded on first need. Errors carry node's `code` (ENOENT, ...).
import { openLibc, type LibcAccess } from "./libc.ts";

type NodeFs = typeof import("node:fs");
let nodeFs: NodeFs | undefined;
function fs(): NodeFs {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (nodeFs ??= require("node:fs") as NodeFs);
}

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const EINTR = 4;

const ERRNO_CODES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  11: "EAGAIN",
  13: "EACCES",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  27: "EFBIG",
  28: "ENOSPC",
  30: "EROFS",
  32: "EPIPE",
  36: "ENAMETOOLONG",
  40: "ELOOP",
};

export interface FileError extends Error {
  code: string;
  errno: number;
}

function failure(c: LibcAccess, call: string, path: string): FileError {
  const errno = c.errno();
  const code = ERRNO_CODES[errno] ?? `errno ${errno}`;
  return Object.assign(new Error(`${code}: ${call} '${path}'`), { code, errno });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cString = (s: string) => encoder.encode(`${s}\0`);

function writeAll(c: LibcAccess, fd: number, bytes: Uint8Array, what: string): void {
  let off = 0;
  while (off < bytes.length) {
    const n = Number(c.libc.write(fd, c.ptr(bytes.subarray(off)), bytes.length - off));
    if (n < 0) {
      if (c.errno() === EINTR) continue;
      throw failure(c, "write", what);
    }
    off += n;
  }
}

/** Writes all of `text` to an open descriptor (1, 2). */
export function writeFd(fd: number, text: string): void {
  const c = openLibc();
  if (!c) {
    fs().writeSync(fd, text);
    return;
  }
  writeAll(c, fd, encoder.encode(text), `fd ${fd}`);
}

function writeWith(path: string, text: string, flags: number, mode: number): void {
  const c = openLibc();
  if (!c) {
    if (flags & O_APPEND) fs().appendFileSync(path, text, { mode });
    else fs().writeFileSync(path, text, { mode });
    return;
  }
  const fd = c.libc.open(c.ptr(cString(path)), flags | O_CLOEXEC, mode);
  if (fd < 0) throw failure(c, "open", path);
  try {
    writeAll(c, fd, encoder.encode(text), path);
  } finally {
    c.libc.close(fd);
  }
}

/** Appends to a file, creating it (0644) if needed. */
export function appendFile(path: string, text: string): void {
  writeWith(path, text, O_WRONLY | O_CREAT | O_APPEND, 0o644);
}

/** Writes a file (or a sysfs attribute) from the start. */
export function writeFile(path: string, text: string): void {
  writeWith(path, text, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
}

const tooLarge = (path: string, max: number): FileError => Object.assign(new Error(`EFBIG: more than ${max} bytes in '${path}'`), { code: "EFBIG", errno: 27 });

/** Bounded, without libc: node:fs a chunk at a time. */
function readFileNode(path: string, maxBytes: number): string {
  const f = fs();
  const fd = f.openSync(path, f.constants.O_RDONLY | f.constants.O_NONBLOCK);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(65536);
      const n = f.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
      chunks.push(buf.subarray(0, n));
    }
    return decoder.decode(Buffer.concat(chunks));
  } finally {
    f.closeSync(fd);
  }
}

/** A whole file as UTF-8. With `maxBytes`: a file that holds more (a device
 * such as /dev/zero too) fails with code EFBIG once that much was read, and
 * the file is opened non-blocking (a FIFO reads as empty instead of waiting
 * for a writer). */
export function readFile(path: string, maxBytes?: number): string {
  const c = openLibc();
  if (!c) return maxBytes === undefined ? decoder.decode(fs().readFileSync(path)) : readFileNode(path, maxBytes);
  const fd = c.libc.open(c.ptr(cString(path)), O_RDONLY | O_CLOEXEC | (maxBytes === undefined ? 0 : O_NONBLOCK), 0);
  if (fd < 0) throw failure(c, "open", path);
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(total < 4096 ? 4096 : 65536);
      const n = Number(c.libc.read(fd, c.ptr(buf), buf.length));
      if (n < 0) {
        if (c.errno() === EINTR) continue;
        throw failure(c, "read", path);
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (maxBytes !== undefined && total > maxBytes) throw tooLarge(path, maxBytes);
    }
    if (chunks.length === 1) return decoder.decode(chunks[0]);
    const all = new Uint8Array(total);
    let off = 0;
    for (const ch of chunks) {
      all.set(ch, off);
      off += ch.length;
    }
    return decoder.decode(all);
  } finally {
    c.libc.close(fd);
  }
}

/** Does the path exist (following symlinks)? */
export function exists(path: string): boolean {
  const c = openLibc();
  if (!c) return fs().existsSync(path);
  return c.libc.access(c.ptr(cString(path)), 0 /* F_OK */) === 0;
}

/** A symlink's target. */
export function readLink(path: string): string {
  const c = openLibc();
  if (!c) return fs().readlinkSync(path);
  const buf = new Uint8Array(4096);
  const n = Number(c.libc.readlink(c.ptr(cString(path)), c.ptr(buf), buf.length));
  if (n < 0) throw failure(c, "readlink", path);
  return decoder.decode(buf.subarray(0, n));
}

/** A directory's entries (node:fs: no hook reads directories on its hot path). */
export function listDir(path: string): string[] {
  return fs().readdirSync(path);
}
