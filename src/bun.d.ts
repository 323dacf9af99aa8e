// The parts of Bun (bun:ffi, Bun.connect) that this project uses; the binary runs on Bun.
declare module "bun:ffi" {
  export const FFIType: { readonly i32: number; readonly u64: number; readonly i64_fast: number; readonly ptr: number; readonly void: number };
  type Pointer = number & { readonly __pointer: unique symbol };
  export function ptr(view: ArrayBufferView): Pointer;
  export const read: { i32(p: Pointer, offset: number): number };
  interface Symbols {
    socket(domain: number, type: number, protocol: number): number;
    ioctl(fd: number, request: number, arg: Pointer): number;
    __errno_location(): Pointer | null;
  }
  export function dlopen(path: string, defs: Record<string, { args: number[]; returns: number }>): { symbols: Symbols; close(): void };
}

// The part of Bun's socket API that stream.ts uses.
interface BunSocket {
  write(data: string | Uint8Array): number;
  end(): void;
  terminate(): void;
  ref(): void;
  unref(): void;
}
interface BunSocketHandlers {
  open?(socket: BunSocket): void;
  data?(socket: BunSocket, data: Uint8Array): void;
  drain?(socket: BunSocket): void;
  close?(socket: BunSocket, error?: Error): void;
  end?(socket: BunSocket): void;
  error?(socket: BunSocket, error: Error): void;
  handshake?(socket: BunSocket, success: boolean, authorizationError: (Error & { code?: string }) | null): void;
}
declare const Bun:
  | undefined
  | {
      connect(
        options: ({ unix: string } | { hostname: string; port: number; tls?: { key: string; cert: string; ca: string; rejectUnauthorized: boolean } }) & {
          socket: BunSocketHandlers;
        },
      ): Promise<BunSocket>;
    };
