// libc through bun:ffi, opened once per process for the few calls that save
// a child process or a slow runtime path (syslog's socket, the device
// ioctls, local time, the hot path's file calls: see files.ts). null where it cannot be had (OVS_VIF_NO_FFI=1, not
// running under Bun): every caller has a slower fallback.

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: unknown, len: number): number;
  send(fd: number, buf: unknown, len: number, flags: number): number;
  close(fd: number): number;
  open(path: unknown, flags: number, mode: number): number;
  read(fd: number, buf: unknown, len: number): number;
  write(fd: number, buf: unknown, len: number): number;
  access(path: unknown, mode: number): number;
  readlink(path: unknown, buf: unknown, len: number): number;
  ioctl(fd: number, request: number, arg: unknown): number;
  localtime_r(timep: unknown, result: unknown): unknown;
  __errno_location(): unknown;
  _exit(status: number): void;
}

export interface LibcAccess {
  libc: Libc;
  /** A pointer to a typed array's memory, for the calls above. */
  ptr(view: ArrayBufferView): unknown;
  /** The int at a pointer libc returned. */
  readI32(pointer: unknown): number;
  /** errno after a failed call. */
  errno(): number;
}

let opened: LibcAccess | null | undefined;

export function openLibc(): LibcAccess | null {
  if (opened !== undefined) return opened;
  opened = null;
  if (process.env.OVS_VIF_NO_FFI === "1" || typeof (globalThis as { Bun?: unknown }).Bun === "undefined") return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ffi = require("bun:ffi") as typeof import("bun:ffi");
    const { FFIType } = ffi;
    const libc = ffi.dlopen("libc.so.6", {
      socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      connect: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
      open: { args: [FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
      write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
      access: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      readlink: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
      ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
      localtime_r: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.ptr },
      __errno_location: { args: [], returns: FFIType.ptr },
      _exit: { args: [FFIType.i32], returns: FFIType.void },
    }).symbols as unknown as Libc;
    opened = {
      libc,
      ptr: (view) => ffi.ptr(view),
      readI32: (p) => (p === null ? 0 : ffi.read.i32(p as never, 0)),
      errno: () => {
        const p = libc.__errno_location();
        return p === null ? 0 : ffi.read.i32(p as never, 0);
      },
    };
  } catch {
    opened = null;
  }
  return opened;
}

/** Ends the process. Everything a run writes (stdout, stderr, logs, files)
 * goes out through synchronous calls, so once libc is open `_exit` skips
 * only the runtime's teardown (closing sockets, stopping its threads), which
 * is time at the end of every hook. Without libc, process.exit. */
export function exitProcess(code: number): never {
  if (opened) opened.libc._exit(code);
  process.exit(code);
}
