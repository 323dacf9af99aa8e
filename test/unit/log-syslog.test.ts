// src/log.ts's syslog sink against real sockets bound in a temp dir (the
// `syslogSocket` option; OVS_VIF_SYSLOG_SOCKET does the same from the
// environment): the exact RFC 3164 message logger(1) would send, PRI per
// level, stream framing, and that a missing, dead or full syslog costs no
// descriptor, throws nothing and never blocks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Log, syslogMessage, type Level, type LocalTime } from "../../src/log.ts";

// The receiving side, through libc as a syslog daemon would (Bun has no unix datagram sockets).
const ffi = require("bun:ffi") as typeof import("bun:ffi");
const T = ffi.FFIType;
const libc = ffi.dlopen("libc.so.6", {
  socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
  bind: { args: [T.i32, T.ptr, T.i32], returns: T.i32 },
  listen: { args: [T.i32, T.i32], returns: T.i32 },
  accept: { args: [T.i32, T.ptr, T.ptr], returns: T.i32 },
  recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i32 },
  close: { args: [T.i32], returns: T.i32 },
  dup: { args: [T.i32], returns: T.i32 },
  dup2: { args: [T.i32, T.i32], returns: T.i32 },
  open: { args: [T.ptr, T.i32], returns: T.i32 },
}).symbols as unknown as {
  socket(d: number, t: number, p: number): number;
  bind(fd: number, addr: unknown, len: number): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number, addr: null, len: null): number;
  recv(fd: number, buf: unknown, len: number, flags: number): number;
  close(fd: number): number;
  dup(fd: number): number;
  dup2(a: number, b: number): number;
  open(path: unknown, flags: number): number;
};
const MSG_DONTWAIT = 0x40;
const cstr = (s: string) => new TextEncoder().encode(`${s}\0`);

function bound(path: string, type: "dgram" | "stream"): number {
  const fd = libc.socket(1, type === "dgram" ? 2 : 1, 0);
  const addr = new Uint8Array(110);
  addr[0] = 1;
  addr.set(new TextEncoder().encode(path), 2);
  assert.is(libc.bind(fd, ffi.ptr(addr), 2 + path.length + 1), 0, `bind ${path}`);
  if (type === "stream") assert.is(libc.listen(fd, 16), 0);
  return fd;
}

/** Every message waiting on FD (each datagram, or all bytes of a stream), without blocking. */
function drain(fd: number): string[] {
  const out: string[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = libc.recv(fd, ffi.ptr(buf), buf.length, MSG_DONTWAIT);
    if (n <= 0) return out;
    out.push(new TextDecoder().decode(buf.subarray(0, n)));
  }
}

/** Runs F with stderr on /dev/null: the Log also writes each line there. */
function quiet<R>(f: () => R): R {
  const saved = libc.dup(2);
  const devnull = libc.open(ffi.ptr(cstr("/dev/null")), 1);
  libc.dup2(devnull, 2);
  try {
    return f();
  } finally {
    libc.dup2(saved, 2);
    libc.close(devnull);
    libc.close(saved);
  }
}

const local = (d: Date): LocalTime => ({ month: d.getMonth(), day: d.getDate(), hours: d.getHours(), minutes: d.getMinutes(), seconds: d.getSeconds() });
const openFds = () => readdirSync("/proc/self/fd").length;
const dir = mkdtempSync(join(tmpdir(), "ovs-vif-log-syslog-"));
const STAMP = /^<(\d+)>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ( [1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d /;

test("datagram: exactly logger's local format, <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG", () => {
  const path = join(dir, "dgram.sock");
  const fd = bound(path, "dgram");
  const log = new Log({ tag: "vif-openvswitch", level: "info", syslog: true, syslogSocket: path });
  const before = new Date();
  quiet(() => log.info("online ok", { device: "vif7.0", vlan: "hybrid 3+10,20" }));
  const after = new Date();
  const got = drain(fd);
  libc.close(fd);
  assert.is(got.length, 1);
  const text = `online ok device=vif7.0 vlan="hybrid 3+10,20"`;
  // The sink takes local time from libc; JavaScript's Date reads the same time zone.
  const expected = [before, after].map((d) => syslogMessage("vif-openvswitch", "info", text, process.pid, local(d)));
  assert.ok(expected.includes(got[0]!), `got ${JSON.stringify(got[0])}, expected ${JSON.stringify(expected[0])}`);
  assert.match(got[0]!, STAMP);
  assert.ok(got[0]!.endsWith(` vif-openvswitch[${process.pid}]: ${text}`), got[0]);
  assert.not.ok(got[0]!.endsWith("\n"), "a datagram carries no newline");
});

test("syslogMessage: day padded with a space, time zero-padded", () => {
  assert.is(syslogMessage("t", "info", "m", 42, { month: 0, day: 5, hours: 7, minutes: 3, seconds: 9 }), "<30>Jan  5 07:03:09 t[42]: m");
  assert.is(syslogMessage("t", "error", "m", 42, { month: 11, day: 25, hours: 23, minutes: 59, seconds: 0 }), "<27>Dec 25 23:59:00 t[42]: m");
});

test("PRI: facility daemon (3), severity per level; levels below the threshold are not sent", () => {
  const path = join(dir, "levels.sock");
  const fd = bound(path, "dgram");
  const log = new Log({ tag: "ovs-vif", level: "debug", syslog: true, syslogSocket: path });
  const levels: Level[] = ["error", "warn", "info", "debug"];
  quiet(() => levels.forEach((l) => log.write(l, `at ${l}`)));
  const got = drain(fd);
  assert.equal(
    got.map((m) => Number(STAMP.exec(m)?.[1])),
    [27, 28, 30, 31],
  );
  assert.equal(
    got.map((m) => m.slice(m.indexOf("]: ") + 3)),
    levels.map((l) => `at ${l}`),
  );
  const infoOnly = new Log({ tag: "ovs-vif", level: "info", syslog: true, syslogSocket: path });
  quiet(() => {
    infoOnly.debug("not sent");
    infoOnly.error("sent");
  });
  const second = drain(fd);
  libc.close(fd);
  assert.is(second.length, 1);
  assert.ok(second[0]!.startsWith("<27>") && second[0]!.endsWith("ovs-vif[" + process.pid + "]: sent"), second[0]);
});

test("stream socket (syslog-ng unix-stream): the same message, newline-terminated", () => {
  const path = join(dir, "stream.sock");
  const lfd = bound(path, "stream");
  const log = new Log({ tag: "kvm-vif-bridge", level: "info", syslog: true, syslogSocket: path });
  quiet(() => {
    log.info("up ok", { nic: 0 });
    log.error("second");
  });
  const cfd = libc.accept(lfd, null, null);
  assert.ok(cfd >= 0, "the sink connected");
  const bytes = drain(cfd).join("");
  libc.close(cfd);
  libc.close(lfd);
  const lines = bytes.split("\n");
  assert.is(lines.length, 3, JSON.stringify(bytes));
  assert.is(lines[2], "");
  assert.match(lines[0]!, STAMP);
  assert.ok(lines[0]!.startsWith("<30>") && lines[0]!.endsWith(` kvm-vif-bridge[${process.pid}]: up ok nic=0`), lines[0]);
  assert.ok(lines[1]!.startsWith("<27>") && lines[1]!.endsWith(": second"), lines[1]);
});

test("no socket: nothing opened, nothing thrown", () => {
  const before = openFds();
  const log = new Log({ tag: "vif-openvswitch", level: "debug", syslog: true, syslogSocket: join(dir, "missing.sock") });
  quiet(() => {
    log.info("dropped");
    log.error("dropped too");
  });
  assert.is(openFds(), before);
});

test("OVS_VIF_SYSLOG_SOCKET points the sink at another socket", () => {
  const path = join(dir, "env.sock");
  const fd = bound(path, "dgram");
  process.env.OVS_VIF_SYSLOG_SOCKET = path;
  try {
    quiet(() => new Log({ tag: "vif-openvswitch", level: "info", syslog: true }).info("via env"));
  } finally {
    delete process.env.OVS_VIF_SYSLOG_SOCKET;
  }
  const got = drain(fd);
  libc.close(fd);
  assert.is(got.length, 1);
  assert.ok(got[0]!.endsWith(`vif-openvswitch[${process.pid}]: via env`), got[0]);
});

test("syslog: false sends nothing", () => {
  const path = join(dir, "off.sock");
  const fd = bound(path, "dgram");
  quiet(() => new Log({ tag: "x", level: "info", syslog: false, syslogSocket: path }).info("not sent"));
  assert.equal(drain(fd), []);
  libc.close(fd);
});

test("a dead syslog (socket file, no daemon) and a plain file: dropped, no descriptor left open", () => {
  const path = join(dir, "dead.sock");
  libc.close(bound(path, "dgram")); // the file stays, nobody listens: ECONNREFUSED
  const file = join(dir, "not-a-socket");
  writeFileSync(file, "");
  const before = openFds();
  quiet(() => {
    new Log({ tag: "x", level: "info", syslog: true, syslogSocket: path }).info("dropped");
    new Log({ tag: "x", level: "info", syslog: true, syslogSocket: file }).info("dropped");
  });
  assert.is(openFds(), before);
});

test("a full queue: lines beyond it are dropped, the writer never blocks", () => {
  const path = join(dir, "full.sock");
  const fd = bound(path, "dgram");
  const n = 2000; // far beyond net.unix.max_dgram_qlen (10 by default, 512 under systemd)
  // In a child with a deadline: a blocking send would hang it, not this test.
  const writer = `const { Log } = await import(${JSON.stringify(join(import.meta.dirname, "..", "..", "src", "log.ts"))});
    const log = new Log({ tag: "x", level: "info", syslog: true, syslogSocket: ${JSON.stringify(path)} });
    for (let i = 0; i < ${n}; i++) log.info("line " + i);`;
  const r = spawnSync(process.execPath, ["-e", writer], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", timeout: 20_000 });
  const got = drain(fd);
  libc.close(fd);
  assert.is(r.signal, null, "the writer blocked on a full syslog queue (killed at the deadline)");
  assert.is(r.status, 0, r.stderr.slice(-500));
  assert.ok(got.length >= 1 && got.length < n, `received ${got.length} of ${n}`);
  assert.ok(got[0]!.endsWith(": line 0"), got[0]);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
