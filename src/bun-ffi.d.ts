// The part of bun:ffi that netdev.ts uses (the binary runs on Bun).
declare module "bun:ffi" {
  export const FFIType: { readonly i32: number; readonly u64: number; readonly ptr: number };
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
