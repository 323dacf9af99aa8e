// Test harness: runs the stock C xenstored (Xen 4.17) without a hypervisor,
// using the LD_PRELOAD shim in xenstored-shim.c, and offers the real CLI
// clients (xenstore-read, -write, -rm, -list) as the test oracle.
//
// Daemon command line:  xenstored -N  (-T DIR/xenstored-trace.log with XENSTORED_TRACE=1)
// Daemon environment:   XENSTORED_RUNDIR=DIR XENSTORED_ROOTDIR=DIR
//                       XENSTORED_SHIM_DIR=DIR (holds xsd_port / xsd_kva)
//                       XENSTORED_SHIM_PARENT=<our pid> LD_PRELOAD=shim.so
//                       (XENSTORED_PATH removed)
// Socket:               DIR/socket
// (-D, "no domain init", is NOT usable: 4.17 then crashes on the first request
// because the socket connections belong to dom0, which was never introduced.)
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

export interface XenstoredHandle {
  socketPath: string;
  /** Environment to merge into clients' env: points them at this daemon. */
  env: { XENSTORED_PATH: string };
  pid: number;
  logPath: string;
  /** Oracle reads (xenstore-read -R): undefined when the key does not exist. */
  read(path: string): Promise<string | undefined>;
  write(path: string, value: string): Promise<void>;
  rm(path: string): Promise<void>;
  /** Child names (xenstore-list). */
  ls(path: string): Promise<string[]>;
  stop(): Promise<void>;
}

const HARNESS_DIR = import.meta.dirname;
const SHIM_SRC = join(HARNESS_DIR, "xenstored-shim.c");
const SHIM_SO = join(HARNESS_DIR, "xenstored-shim.so"); // git-ignored (/test/harness/*.so)
const READY_TIMEOUT_MS = 5000;
const CLI_TIMEOUT_MS = 5000;

function findXenstored(): string {
  const fromEnv = process.env.XENSTORED_BIN;
  if (fromEnv) return fromEnv;
  const preferred = "/usr/lib/xen-4.17/bin/xenstored";
  if (existsSync(preferred)) return preferred;
  for (const d of readdirSync("/usr/lib")
    .filter((n) => n.startsWith("xen-"))
    .sort()
    .reverse()) {
    const p = join("/usr/lib", d, "bin", "xenstored");
    if (existsSync(p)) return p;
  }
  throw new Error("xenstored not found (install xen-utils-4.17, or set XENSTORED_BIN)");
}

function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: CLI_TIMEOUT_MS, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) {
        const e = err as Error & { code?: number | string; stdout?: string; stderr?: string };
        e.message = `${file} ${args.join(" ")} failed (${e.code ?? "signal"}): ${stderr.trim() || err.message}`;
        e.stdout = stdout;
        e.stderr = stderr;
        reject(e);
      } else resolve({ stdout, stderr });
    });
  });
}

let shimBuild: Promise<string> | undefined;

/** Compiles the shim once per process; the .so is reused while newer than the source. */
function buildShim(): Promise<string> {
  shimBuild ??= (async () => {
    if (existsSync(SHIM_SO) && statSync(SHIM_SO).mtimeMs >= statSync(SHIM_SRC).mtimeMs) return SHIM_SO;
    // Build to a private name and rename: concurrent test processes never see a half-written .so.
    const tmp = `${SHIM_SO}.${process.pid}.tmp`;
    await run("gcc", ["-shared", "-fPIC", "-O2", "-Wall", "-o", tmp, SHIM_SRC, "-ldl"]);
    renameSync(tmp, SHIM_SO);
    return SHIM_SO;
  })();
  shimBuild.catch(() => (shimBuild = undefined));
  return shimBuild;
}

// Every live daemon, killed synchronously if the test process exits in any way
// we can observe. (SIGKILL of the test process is covered by the shim's
// PR_SET_PDEATHSIG.)
const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = (): void => {
      killAllNow();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Readiness probe: a raw XS_DIRECTORY "/" request, answered only once the
 * daemon is in its main loop (the socket itself is bound before domain init).
 * Deliberately independent of the product client under test.
 */
function probe(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ path: socketPath });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    let got = 0;
    sock.on("error", () => done(false));
    sock.on("connect", () => {
      const payload = Buffer.from("/\0");
      const hdr = Buffer.alloc(16);
      hdr.writeUInt32LE(1, 0); // XS_DIRECTORY
      hdr.writeUInt32LE(0x7eadbeef, 4);
      hdr.writeUInt32LE(0, 8);
      hdr.writeUInt32LE(payload.length, 12);
      sock.write(Buffer.concat([hdr, payload]));
    });
    sock.on("data", (chunk: Buffer) => {
      got += chunk.length;
      if (got >= 16) done(true);
    });
    sock.on("close", () => done(false));
  });
}

export async function startXenstored(dir: string): Promise<XenstoredHandle> {
  const shim = await buildShim();
  const bin = findXenstored();
  const socketPath = join(dir, "socket");
  const logPath = join(dir, "xenstored.log");
  const tracePath = join(dir, "xenstored-trace.log");
  // dom0's event channel port and ring page, normally from /proc/xen.
  writeFileSync(join(dir, "xsd_port"), "1");
  writeFileSync(join(dir, "xsd_kva"), Buffer.alloc(4096));

  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.XENSTORED_PATH; // would make xenstored listen elsewhere
  Object.assign(env, {
    XENSTORED_RUNDIR: dir,
    XENSTORED_ROOTDIR: dir,
    XENSTORED_SHIM_DIR: dir,
    XENSTORED_SHIM_PARENT: String(process.pid),
    LD_PRELOAD: shim,
  });
  // -T traces every request to a file: useful when debugging, but it slows
  // xenstored down (unlike production), so only on request.
  const args = process.env.XENSTORED_TRACE === "1" ? ["-N", "-T", tracePath] : ["-N"];

  installExitHooks();
  const logFd = openSync(logPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { env, stdio: ["ignore", logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  live.add(child);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      resolve();
    });
    child.once("error", (err) => {
      exited = `spawn error: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });
  // Do not keep the test process alive just for the daemon; the exit hook kills it.
  child.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited === undefined) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 2000);
        await exitPromise;
        clearTimeout(killer);
      }
      live.delete(child);
    })();
    return stopping;
  };

  const describe = (): string => {
    const log = existsSync(logPath) ? readFileSync(logPath, "utf8").trim() : "";
    return `${bin} ${args.join(" ")} (RUNDIR=${dir}, LD_PRELOAD=${shim})\n--- xenstored output ---\n${log || "(empty)"}`;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) throw new Error(`xenstored died during startup (${exited}): ${describe()}`);
    if (existsSync(socketPath) && (await probe(socketPath))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`xenstored did not answer on ${socketPath} within ${READY_TIMEOUT_MS} ms: ${describe()}`);
    }
    await sleep(10);
  }

  const cliEnv: NodeJS.ProcessEnv = { ...process.env, XENSTORED_PATH: socketPath };
  return {
    socketPath,
    env: { XENSTORED_PATH: socketPath },
    pid: child.pid ?? -1,
    logPath,
    async read(path) {
      try {
        const { stdout } = await run("xenstore-read", ["-s", "-R", path], cliEnv);
        return stdout.endsWith("\n") ? stdout.slice(0, -1) : stdout;
      } catch (err) {
        // xenstore-read exits 1 with "couldn't read path" for a missing key.
        if (err instanceof Error && /couldn't read path/.test(err.message)) {
          const exists = await run("xenstore-exists", ["-s", path], cliEnv).then(
            () => true,
            () => false,
          );
          if (!exists) return undefined;
        }
        throw err;
      }
    },
    async write(path, value) {
      await run("xenstore-write", ["-s", "-R", "--", path, value], cliEnv);
    },
    async rm(path) {
      await run("xenstore-rm", ["-s", path], cliEnv);
    },
    async ls(path) {
      const { stdout } = await run("xenstore-list", ["-s", path], cliEnv);
      return stdout.split("\n").filter((l) => l.length > 0);
    },
    stop,
  };
}
