// What a hook pays before its own work: the start-up cost of each import the
// hot path uses, in binaries compiled exactly as the product.
//
//   node_modules/.bin/bun bench/startup.ts        (npm run bench:startup)
//   OVS_VIF_BENCH_RUNS=60                          runs per variant (>= 10)
//
// Each variant is a one-line program (an import and a use of it, or a
// statement), timed from spawn to exit, interleaved with the others and with
// the floor (an empty program) and the product's `--version`. "above floor"
// is the median (and the minimum) minus the floor's.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { removeTemp } from "./lib/namespaces.ts";
import { buildFloor, compileAsProduct, ROOT } from "./lib/product-build.ts";
import { fmt, stats, statsTable } from "./lib/stats.ts";
import { timedSpawn } from "./lib/timed-spawn.ts";

const RUNS = Math.max(10, Number(process.env.OVS_VIF_BENCH_RUNS ?? 60) || 60);
const WARMUPS = 3;
const binary = resolve(process.env.OVS_VIF_BINARY ?? join(ROOT, "dist", "ovs-vif"));

const PROGRAMS: [string, string][] = [
  ["a statement, no import", "globalThis.x = 1;"],
  ["console.log", 'console.log("ovs-vif 0.1.0");'],
  ["import node:path", 'import { basename } from "node:path";\nglobalThis.x = basename;'],
  ["import node:fs", 'import { writeSync } from "node:fs";\nglobalThis.x = writeSync;'],
  ["import node:fs + writeSync(1)", 'import { writeSync } from "node:fs";\nwriteSync(1, "ovs-vif 0.1.0\\n");'],
  ["require bun:ffi", 'globalThis.x = require("bun:ffi");'],
  [
    "require bun:ffi + dlopen libc (3 symbols)",
    'const f = require("bun:ffi");\nglobalThis.x = f.dlopen("libc.so.6", { getpid: { args: [], returns: f.FFIType.i32 }, close: { args: [f.FFIType.i32], returns: f.FFIType.i32 }, dup: { args: [f.FFIType.i32], returns: f.FFIType.i32 } });',
  ],
  ["require node:child_process", 'globalThis.x = require("node:child_process");'],
  [
    "import the argument parser + parse",
    `import { parseArgs } from ${JSON.stringify(join(ROOT, "src", "cli", "args.ts"))};\nglobalThis.x = parseArgs(process.argv.slice(2));`,
  ],
  ["process.stdout.write", 'process.stdout.write("ovs-vif 0.1.0\\n");'],
];

const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-bench-startup-"));
let code = 0;
try {
  process.stderr.write(`bench: compiling ${PROGRAMS.length} programs with the product's build flags...\n`);
  const variants: { label: string; file: string; args: string[] }[] = [{ label: "floor: empty program", file: buildFloor(tmp), args: [] }];
  PROGRAMS.forEach(([label, src], i) => {
    writeFileSync(join(tmp, `p${i}.ts`), `${src}\n`);
    compileAsProduct(join(tmp, `p${i}.ts`), join(tmp, `p${i}`));
    variants.push({ label, file: join(tmp, `p${i}`), args: [] });
  });
  variants.push({ label: "ovs-vif --version (the product)", file: binary, args: ["--version"] });
  const samples = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  process.stderr.write(`bench: ${WARMUPS} + ${RUNS} rounds...\n`);
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    for (const v of i % 2 === 0 ? variants : [...variants].reverse()) {
      const r = await timedSpawn(v.file, v.args, process.env);
      if (r.code !== 0) throw new Error(`${v.label}: exit ${r.code}: ${r.stderr.trim()}`);
      if (i >= WARMUPS) samples.get(v.label)!.push(r.ms);
    }
  }
  const floor = stats(samples.get(variants[0]!.label)!);
  const rows = variants.map((v) => ({ label: v.label, xs: samples.get(v.label)! }));
  const out = ["", `start-up per import, compiled as the product; ${RUNS} runs each, interleaved; wall clock spawn-to-exit (ms)`, ...statsTable(rows), ""];
  out.push(`above the floor (ms; the minimum is the steadier estimate on a busy machine):`, `  ${"".padEnd(44)} ${"median".padStart(8)} ${"min".padStart(8)}`);
  for (const r of rows.slice(1))
    out.push(`  ${r.label.padEnd(44)} ${fmt(stats(r.xs).median - floor.median).padStart(8)} ${fmt(stats(r.xs).min - floor.min).padStart(8)}`);
  console.log(out.join("\n"));
} catch (err) {
  console.log(`\nPROBLEMS\n  ! bench aborted: ${(err as Error).message}`);
  code = 1;
} finally {
  removeTemp(tmp);
}
process.exit(code);
