// What one syslog line costs a hook, per way of sending it, in a binary
// compiled exactly as the product (bench/lib/product-build.ts compileAsProduct).
//
//   node_modules/.bin/bun bench/syslog-options.ts     (npm run bench:syslog)
//   OVS_VIF_BENCH_RUNS=40                              runs per variant (>= 10)
//
// Each variant is a tiny program: start, send one line like the Xen hook's
// "online ok ...", exit. Timed from spawn to exit, interleaved (one run of
// each variant per round), against receivers bound in a temp dir (a datagram
// socket as rsyslog/journald have, a stream socket as syslog-ng can have;
// nothing at /dev/log is touched: the paths are passed in). Reported: the
// wall time, the time above the floor (an empty program), the time the send
// took inside the program, and when the line reached the receiver (from
// spawn). Every variant's lines are counted at the receiver.
//
// Variants:
//   floor           an empty program
//   trivial         a program that only writes "0" to stdout (what any code costs)
//   log.ts syslog off   src/log.ts, stderr only (what the module itself costs)
//   log.ts ffi dgram    src/log.ts as shipped: libc socket/connect/send via bun:ffi, datagram
//   ... preloaded   the same with bun:ffi already required (the Xen hook has, for its ioctls)
//   log.ts ffi stream   the same against a stream socket (EPROTOTYPE, then SOCK_STREAM)
//   log.ts logger       src/log.ts's fallback (OVS_VIF_NO_FFI=1): logger(1) spawned detached (the previous sink)
//   node:net stream     node:net connect + end (async: the program waits for the flush)
//   Bun.connect stream  Bun's socket API (async, likewise)
//   Bun.udpSocket       probed only: UDP, it cannot reach a unix socket
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeTemp } from "./lib/namespaces.ts";
import { buildFloor, compileAsProduct } from "./lib/product-build.ts";
import { fmt, stats, statsTable } from "./lib/stats.ts";
import { startSyslogReceiver, type SyslogReceiver } from "./lib/syslog-receiver.ts";
import { timedSpawn } from "./lib/timed-spawn.ts";

const RUNS = Math.max(10, Number(process.env.OVS_VIF_BENCH_RUNS ?? 40) || 40);
const WARMUPS = 3;
const LOG_TS = join(import.meta.dirname, "..", "src", "log.ts");
const LINE = `online ok vm=bench-vm device=vif7.0 bridge=sw1 vlan_mode=native-untagged vlan="hybrid 3+10,20" vlan_from=bridge mtu=1500 ofport=12 ms=6`;

// Each program prints the milliseconds its send took (in-process) on stdout.
const viaLog = (syslog: boolean, preload = false) => `import { Log } from ${JSON.stringify(LOG_TS)};
import { writeSync } from "node:fs";
${preload ? 'require("bun:ffi");' : ""}
const log = new Log({ tag: "vif-openvswitch", level: "info", syslog: ${syslog} });
const t0 = performance.now();
log.info(${JSON.stringify(LINE)});
writeSync(1, String(performance.now() - t0));
`;
const message = `"<30>Dec  1 10:00:00 vif-openvswitch[" + process.pid + "]: " + ${JSON.stringify(LINE)} + "\\n"`;
const PROGRAMS: Record<string, string> = {
  trivial: `import { writeSync } from "node:fs";\nwriteSync(1, "0");\n`,
  "log-off": viaLog(false),
  "log-on": viaLog(true),
  "log-on-preloaded": viaLog(true, true),
  "node-net": `import { writeSync } from "node:fs";
const t0 = performance.now();
const net = require("node:net");
await new Promise((resolve) => {
  const s = net.createConnection(process.env.OVS_VIF_SYSLOG_SOCKET, () => s.end(${message}, resolve));
  s.on("error", resolve);
});
writeSync(1, String(performance.now() - t0));
`,
  "bun-connect": `import { writeSync } from "node:fs";
const t0 = performance.now();
try {
  const s = await Bun.connect({ unix: process.env.OVS_VIF_SYSLOG_SOCKET, socket: { data() {} } });
  s.write(${message});
  s.end();
} catch {}
writeSync(1, String(performance.now() - t0));
`,
  "bun-udp": `import { writeSync } from "node:fs";
let verdict;
try {
  const s = await Bun.udpSocket({ unix: process.env.OVS_VIF_SYSLOG_SOCKET });
  verdict = "bound " + s.address.family + " " + s.address.address + ":" + s.address.port + " (the unix option is ignored)";
  s.close();
} catch (e) { verdict = "error: " + e.message; }
try {
  await Bun.udpSocket({ connect: { hostname: process.env.OVS_VIF_SYSLOG_SOCKET, port: 0 } });
} catch (e) { verdict += "; connect to a path: " + e.message; }
writeSync(1, verdict);
`,
};

interface Variant {
  key: string;
  label: string;
  program: string;
  receiver?: "dgram" | "stream";
  env?: Record<string, string>;
  /** Lines each run sends. */
  lines: number;
}

const VARIANTS: Variant[] = [
  { key: "floor", label: "floor: empty program", program: "floor", lines: 0 },
  { key: "trivial", label: "a program that only writes to stdout", program: "trivial", lines: 0 },
  { key: "log-off", label: "log.ts, syslog off (stderr only)", program: "log-off", lines: 0 },
  { key: "ffi-dgram", label: "log.ts ffi, datagram socket", program: "log-on", receiver: "dgram", lines: 1 },
  { key: "ffi-preloaded", label: "log.ts ffi, dgram, bun:ffi already required", program: "log-on-preloaded", receiver: "dgram", lines: 1 },
  { key: "ffi-stream", label: "log.ts ffi, stream socket", program: "log-on", receiver: "stream", lines: 1 },
  { key: "logger", label: "log.ts logger(1) fallback (OVS_VIF_NO_FFI=1)", program: "log-on", receiver: "dgram", env: { OVS_VIF_NO_FFI: "1" }, lines: 1 },
  { key: "node-net", label: "node:net stream (async, awaited)", program: "node-net", receiver: "stream", lines: 1 },
  { key: "bun-connect", label: "Bun.connect stream (async, awaited)", program: "bun-connect", receiver: "stream", lines: 1 },
];

const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-bench-syslog-"));
const receivers: SyslogReceiver[] = [];
let code = 0;
try {
  process.stderr.write("bench: compiling the variants with the product's build flags...\n");
  const bins = new Map<string, string>([["floor", buildFloor(tmp)]]);
  for (const [name, src] of Object.entries(PROGRAMS)) {
    const file = join(tmp, `${name}.ts`);
    writeFileSync(file, src);
    compileAsProduct(file, join(tmp, name));
    bins.set(name, join(tmp, name));
  }
  const dgram = await startSyslogReceiver(tmp, "dgram");
  const stream = await startSyslogReceiver(tmp, "stream");
  receivers.push(dgram, stream);
  const socketOf = (v: Variant) => (v.receiver === "stream" ? stream.path : v.receiver === "dgram" ? dgram.path : join(tmp, "none.sock"));

  const udp = await timedSpawn(bins.get("bun-udp")!, [], { ...process.env, OVS_VIF_SYSLOG_SOCKET: dgram.path });

  const wall = new Map<string, number[]>(VARIANTS.map((v) => [v.key, []]));
  const inside = new Map<string, number[]>(VARIANTS.map((v) => [v.key, []]));
  const starts = new Map<string, { pid: number; start: number }[]>(VARIANTS.map((v) => [v.key, []]));
  process.stderr.write(`bench: ${WARMUPS} + ${RUNS} rounds of ${VARIANTS.length} variants...\n`);
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const round = i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const v of round) {
      const env: NodeJS.ProcessEnv = { ...process.env, ...v.env, OVS_VIF_SYSLOG_SOCKET: socketOf(v) };
      delete env.OVS_VIF_SYSLOG;
      const r = await timedSpawn(bins.get(v.program)!, [], env);
      if (r.code !== 0) throw new Error(`${v.label}: exit ${r.code}: ${r.stderr.trim()}`);
      starts.get(v.key)!.push({ pid: r.pid, start: r.start });
      if (i >= WARMUPS) {
        wall.get(v.key)!.push(r.ms);
        if (v.program !== "floor") inside.get(v.key)!.push(Number(r.stdout));
      }
    }
  }
  // Lines carry the sender's pid: match each to its run for the arrival time.
  const total = VARIANTS.reduce((a, v) => a + v.lines * (WARMUPS + RUNS), 0);
  let got = [...dgram.lines(), ...stream.lines()];
  for (let t = 0; t < 50 && got.length < total; t++) {
    await new Promise((r) => setTimeout(r, 40));
    got = [...dgram.lines(), ...stream.lines()];
  }
  const byPid = new Map(got.map((l) => [Number(/\[(\d+)\]:/.exec(l.text)?.[1]), l]));

  const floor = stats(wall.get("floor")!).median;
  const out: string[] = [];
  out.push("", `one syslog line, compiled as the product; ${RUNS} runs per variant (after ${WARMUPS} warm-ups), interleaved; wall clock spawn-to-exit (ms)`);
  out.push(...statsTable(VARIANTS.map((v) => ({ label: v.label, xs: wall.get(v.key)! }))));
  out.push("", `${"variant".padEnd(46)}  above floor  send in-process  line arrived (from spawn)  lines received`);
  for (const v of VARIANTS) {
    if (v.key === "floor") continue;
    const arrivals = starts
      .get(v.key)!
      .map((s) => byPid.get(s.pid))
      .filter((l) => l !== undefined);
    const arrivedAt = starts
      .get(v.key)!
      .slice(WARMUPS)
      .flatMap((s) => {
        const l = byPid.get(s.pid);
        return l ? [l.t - s.start] : [];
      });
    const m = stats(wall.get(v.key)!).median;
    const insideMs = inside.get(v.key)!;
    out.push(
      `${v.label.padEnd(46)}  ${fmt(m - floor).padStart(11)}  ${fmt(insideMs.length ? stats(insideMs).median : undefined, 3).padStart(15)}  ${(arrivedAt.length ? fmt(stats(arrivedAt).median) : "-").padStart(25)}  ${String(arrivals.length).padStart(5)} / ${v.lines * (WARMUPS + RUNS)}`,
    );
    if (arrivals.length !== v.lines * (WARMUPS + RUNS)) code = 1;
  }
  out.push("", `Bun.udpSocket with a unix path: ${udp.stdout.trim() || udp.stderr.trim()}`);
  out.push("node:dgram: createSocket accepts only udp4/udp6 (no unix datagram sockets in Bun).");
  out.push("Medians; 'send in-process' is what the program measured around its send (for logger: the spawn); 'line arrived' includes start-up.");
  if (code !== 0) out.push("", "PROBLEMS", "  ! some variant's lines did not all arrive");
  console.log(out.join("\n"));
} catch (err) {
  console.log(`\nPROBLEMS\n  ! bench aborted: ${(err as Error).message}`);
  code = 1;
} finally {
  for (const r of receivers) r.stop();
  removeTemp(tmp);
}
process.exit(code);
