// The modules depend one way: entry points (hooks/, src/main.ts) -> the
// runner (src/cli/) -> caller adapters (the rest of src/) -> src/ovsdb/ and
// the pure core. Read from the import statements of every source file, so a
// wrong import fails here, not in review.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const p = join(dir, name);
    if (statSync(join(ROOT, p)).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

const FILES = [...sources("src"), ...sources("hooks")];

/** Relative imports of a file (static, re-exports, type-only and dynamic), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/g), ...text.matchAll(/import\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith(".")).map((s) => relative(ROOT, resolve(join(ROOT, dirname(file)), s)));
}

const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

// files.ts and libc.ts stand where node:fs would: below everything.
const CORE = new Set(["src/errors.ts", "src/deadline.ts", "src/dry-run.ts", "src/ovsdb/keys.ts", "src/names.ts", "src/vlan.ts", "src/qos.ts", "src/port.ts", "src/checker.ts", "src/remote.ts", "src/trace.ts", "src/files.ts", "src/libc.ts"]);
type Layer = "entry" | "cli" | "adapter" | "ovsdb" | "core" | "data";

function layerOf(file: string): Layer {
  if (file === "src/main.ts" || file === "src/roles.ts" || file.startsWith("hooks/")) return "entry";
  if (file.startsWith("src/cli/")) return "cli";
  if (CORE.has(file)) return "core";
  if (file.startsWith("src/ovsdb/") || file === "src/stream.ts") return "ovsdb";
  if (file.endsWith(".json")) return "data";
  return "adapter";
}

const MAY_IMPORT: Record<Layer, Layer[]> = {
  entry: ["entry", "cli", "adapter", "ovsdb", "core", "data"],
  cli: ["cli", "adapter", "ovsdb", "core"],
  adapter: ["adapter", "ovsdb", "core"],
  ovsdb: ["ovsdb", "core"],
  core: ["core"],
  data: [],
};

test("every relative import names a file that exists", () => {
  for (const [file, deps] of GRAPH) {
    for (const dep of deps) assert.ok(dep.endsWith(".json") || GRAPH.has(dep), `${file} imports ${dep}, which is not a source file`);
  }
});

test("layers depend one way: entry -> cli -> adapters -> ovsdb -> core", () => {
  const wrong: string[] = [];
  for (const [file, deps] of GRAPH) {
    for (const dep of deps) {
      if (!MAY_IMPORT[layerOf(file)].includes(layerOf(dep))) wrong.push(`${file} (${layerOf(file)}) imports ${dep} (${layerOf(dep)})`);
    }
  }
  assert.equal(wrong, []);
});

test("no hook imports another hook; only the role registry (src/roles.ts) loads hooks", () => {
  const wrong: string[] = [];
  for (const [file, deps] of GRAPH) {
    for (const dep of deps) if (dep.startsWith("hooks/") && file !== "src/roles.ts") wrong.push(`${file} imports ${dep}`);
  }
  assert.equal(wrong, []);
});

test("no import cycles", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const dep of GRAPH.get(file) ?? []) visit(dep, [...path, file]);
    state.set(file, "done");
  };
  for (const file of GRAPH.keys()) visit(file, []);
  assert.equal(cycles, []);
});

test("the check sees the imports it is about (it cannot pass on an empty graph)", () => {
  assert.ok(GRAPH.size > 40, `${GRAPH.size} files`);
  assert.ok(GRAPH.get("hooks/xen.ts")!.includes("src/plug.ts"));
  assert.ok(GRAPH.get("src/roles.ts")!.includes("hooks/xen.ts"), "dynamic imports are read");
  assert.is(layerOf("src/cli/runner.ts"), "cli");
  assert.is(layerOf("src/ovsdb/client.ts"), "ovsdb");
});

test("no source file is over 400 lines", () => {
  const long = FILES.map((f) => [f, readFileSync(join(ROOT, f), "utf8").split("\n").length] as const).filter(([, n]) => n > 400);
  assert.equal(long, []);
});

test.run();
