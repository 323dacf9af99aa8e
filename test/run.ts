// Runs every test/**/*.test.ts file in its own bun process (each uvu file
// prints its own summary), then prints one closing line that CI can read:
// "N passed, N failed". A file that crashes before its summary counts as a
// failure, so a broken import can never pass silently.
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const filter = process.argv.slice(2);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

let files = findTests(join(root, "test"));
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const rel = relative(root, file);
  process.stdout.write(`\n== ${rel}\n`);
  const r = spawnSync(process.execPath, [file], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  process.stdout.write(out);
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const skip = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(ok)) {
    process.stdout.write(`!! ${rel}: no uvu summary (exit ${r.status}, signal ${r.signal ?? "none"}); counted as one failure\n`);
    failed += 1;
    continue;
  }
  // uvu's Total counts the tests that ran: skipped ones are apart.
  passed += ok;
  skipped += skip;
  failed += total - ok;
  if (r.status !== 0 && total - ok === 0) {
    process.stdout.write(`!! ${rel}: exit ${r.status} after its summary; counted as one failure\n`);
    failed += 1;
  }
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
