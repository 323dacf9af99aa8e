// A syslog daemon's receiving end for the benches: each message recorded with
// its arrival time, on a datagram socket (rsyslog's imuxsock, journald) or a
// stream socket (syslog-ng can listen on one). In Python: Bun has no unix
// datagram sockets.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SyslogLine {
  /** Arrival, epoch ms. */
  t: number;
  text: string;
}

export interface SyslogReceiver {
  path: string;
  kind: "dgram" | "stream";
  /** Everything received so far. */
  lines(): SyslogLine[];
  /** Waits until at least N lines arrived (or the timeout), then returns them. */
  settle(n: number, timeoutMs?: number): Promise<SyslogLine[]>;
  stop(): void;
}

const RECEIVER_PY = String.raw`
import json, os, socket, sys, threading, time
kind, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
f = open(out, "a", buffering=1)
lock = threading.Lock()
def emit(data):
    t = time.time() * 1000.0
    with lock:
        f.write("%.3f %s\n" % (t, json.dumps(data.decode("utf-8", "replace"))))
try:
    os.unlink(path)
except FileNotFoundError:
    pass
if kind == "dgram":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(path)
    os.chmod(path, 0o666)
    open(out + ".ready", "w").close()
    while True:
        emit(s.recv(65536))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(512)
    open(out + ".ready", "w").close()
    def serve(c):
        buf = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
            while True:
                cut = [i for i in (buf.find(b"\n"), buf.find(b"\0")) if i >= 0]
                if not cut:
                    break
                i = min(cut)
                if i > 0:
                    emit(buf[:i])
                buf = buf[i + 1:]
        if buf:
            emit(buf)
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Starts a syslog receiver bound at DIR/syslog-KIND.sock. */
export async function startSyslogReceiver(dir: string, kind: "dgram" | "stream" = "dgram"): Promise<SyslogReceiver> {
  const path = join(dir, `syslog-${kind}.sock`);
  const outFile = join(dir, `syslog-${kind}.received`);
  writeFileSync(outFile, "");
  const child = spawn("python3", ["-c", RECEIVER_PY, kind, path, outFile], { stdio: ["ignore", "ignore", "inherit"] });
  let failed: string | undefined;
  child.once("error", (e) => (failed = `${e.message} (needs python3)`));
  child.once("exit", (c, sig) => (failed ??= `exited (${c ?? sig})`));
  const until = performance.now() + 10_000;
  while (!existsSync(`${outFile}.ready`)) {
    if (failed) throw new Error(`syslog receiver: ${failed}`);
    if (performance.now() > until) {
      child.kill("SIGKILL");
      throw new Error("syslog receiver (python3) did not start within 10 s");
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  child.unref();
  const lines = (): SyslogLine[] =>
    readFileSync(outFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const sp = l.indexOf(" ");
        return { t: Number(l.slice(0, sp)), text: JSON.parse(l.slice(sp + 1)) as string };
      });
  return {
    path,
    kind,
    lines,
    async settle(n, timeoutMs = 2000) {
      const until = performance.now() + timeoutMs;
      let got = lines();
      while (got.length < n && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
        got = lines();
      }
      return got;
    },
    stop() {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
