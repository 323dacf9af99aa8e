// A real QEMU running the test guest (harness/guest.ts) inside a private
// OVS's network namespace, driven over QMP the way Ganeti's hv_kvm drives
// its instances: started paused, NICs as taps QEMU opens itself (so a tap
// vanishes when QEMU exits, as Ganeti's do), hot-add and hot-remove of a
// NIC, an ACPI power-button request, live migration to an incoming QEMU.
// TCG: this machine kind's nested KVM does not boot the guest.
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { guestKernelArgs, type GuestImage, type GuestNet } from "./guest.ts";
import { onExit } from "./teardown.ts";

const live = new Set<ChildProcess>();
onExit(() => {
  for (const c of live) c.kill("SIGKILL");
});

export interface GuestNic {
  /** The tap QEMU opens (and deletes when it exits). */
  tap: string;
  mac: string;
}

export interface QemuGuestOptions {
  /** The network namespace QEMU runs in (a private OVS's). */
  ns: string;
  image: GuestImage;
  net: GuestNet;
  nics: GuestNic[];
  /** QMP socket path. */
  qmp: string;
  /** A migration target: waits for the state on this unix socket. */
  incoming?: string;
}

type Reply = Record<string, unknown>;

export interface QemuGuest {
  child: ChildProcess;
  pid: number;
  /** Console (serial) output and QEMU's own messages so far. */
  output(): string;
  exited: Promise<number>;
  /** One QMP command (capabilities negotiated once); rejects on an error reply. */
  qmp(execute: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Resolves with the first QMP event of this name from now on. */
  event(name: string, timeoutMs?: number): Promise<Reply>;
  kill(signal?: NodeJS.Signals): void;
}

function netdevArgs(nic: GuestNic, i: number): string[] {
  return [
    "-netdev",
    `tap,id=n${i},ifname=${nic.tap},script=no,downscript=no`,
    "-device",
    `virtio-net-pci,netdev=n${i},id=nic${i},mac=${nic.mac},ctrl_vlan=off`,
  ];
}

/** Starts QEMU paused (-S); resolves once QMP answers. */
export async function startQemuGuest(o: QemuGuestOptions): Promise<QemuGuest> {
  const args = [
    "netns",
    "exec",
    o.ns,
    "qemu-system-x86_64",
    "-nodefaults",
    "-nographic",
    "-S",
    "-machine",
    "pc,accel=tcg",
    "-m",
    "192",
    "-kernel",
    o.image.kernel,
    "-initrd",
    o.image.initrd,
    "-append",
    `console=ttyS0 ${guestKernelArgs(o.net)}`,
    "-serial",
    "stdio",
    "-display",
    "none",
    "-qmp",
    `unix:${o.qmp},server=on,wait=off`,
    ...o.nics.flatMap(netdevArgs),
    ...(o.incoming ? ["-incoming", `unix:${o.incoming}`] : []),
  ];
  const child = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number>((resolve) =>
    child.on("exit", (code, sig) => {
      live.delete(child);
      resolve(code ?? (sig ? 128 : -1));
    }),
  );
  const sock = await connectRetry(
    o.qmp,
    () => child.exitCode !== null,
    () => out,
  );
  const q = qmpSession(sock);
  await q.send("qmp_capabilities");
  return { child, pid: child.pid!, output: () => out, exited, qmp: q.send, event: q.event, kill: (s = "SIGKILL") => child.kill(s) };
}

async function connectRetry(path: string, dead: () => boolean, output: () => string): Promise<Socket> {
  const end = Date.now() + 20000;
  for (;;) {
    const s = await new Promise<Socket | undefined>((resolve) => {
      const sock = connect({ path });
      sock.once("connect", () => resolve(sock));
      sock.once("error", () => resolve(undefined));
    });
    if (s) return s;
    if (dead() || Date.now() > end) throw new Error(`QEMU's QMP ${path} did not answer: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function qmpSession(sock: Socket) {
  let buf = "";
  const waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void; what: string }[] = [];
  const listeners: { name: string; resolve: (r: Reply) => void }[] = [];
  let greeted = false;
  sock.on("data", (d) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as Reply;
      if (msg.QMP) greeted = true;
      else if (typeof msg.event === "string") {
        for (let i = listeners.length - 1; i >= 0; i--) if (listeners[i]!.name === msg.event) listeners.splice(i, 1)[0]!.resolve(msg);
      } else if ("return" in msg || "error" in msg) {
        const w = waiting.shift();
        if (!w) continue;
        if ("error" in msg) w.reject(new Error(`QMP ${w.what}: ${JSON.stringify(msg.error)}`));
        else w.resolve(msg.return);
      }
    }
  });
  sock.on("close", () => {
    for (const w of waiting.splice(0)) w.reject(new Error(`QMP ${w.what}: connection closed`));
  });
  const send = async (execute: string, args?: Record<string, unknown>): Promise<unknown> => {
    for (let i = 0; !greeted && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
    return new Promise((resolve, reject) => {
      waiting.push({ resolve, reject, what: execute });
      sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + "\n");
    });
  };
  const event = (name: string, timeoutMs = 60000) =>
    new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`QMP event ${name}: not within ${timeoutMs} ms`)), timeoutMs);
      listeners.push({ name, resolve: (r) => (clearTimeout(timer), resolve(r)) });
    });
  return { send, event };
}

/** Live-migrates `source` into `target` (started with `incoming`); resolves
 * with the status QEMU reports at the end ("completed" or "failed"). */
export async function migrate(source: QemuGuest, incoming: string): Promise<string> {
  await source.qmp("migrate-set-parameters", { "max-bandwidth": 256 * 1024 * 1024 });
  await source.qmp("migrate", { uri: `unix:${incoming}` });
  for (;;) {
    const info = (await source.qmp("query-migrate")) as { status?: string };
    if (info.status === "completed" || info.status === "failed" || info.status === "cancelled") return info.status;
    await new Promise((r) => setTimeout(r, 50));
  }
}
