// The modules depend one way: entry points (hooks/, commands/, src/main.ts,
// src/roles.ts) -> the runner (src/cli/) -> actions (src/actions/) ->
// adapters (the rest of src/) -> src/ovsdb/ and the pure core. Read from the
// import statements and the text of every source file, so a wrong import,
// an entry point that grows logic, or a second spelling of an OVSDB key
// fails here, not in review.
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

const FILES = [...sources("src"), ...sources("hooks"), ...sources("commands")];
const TEXT = new Map(FILES.map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));

/** Relative imports of a file (static, re-exports, type-only and dynamic), as repository paths. */
function importsOf(file: string): string[] {
  const text = TEXT.get(file)!;
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/g), ...text.matchAll(/import\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith(".")).map((s) => relative(ROOT, resolve(join(ROOT, dirname(file)), s)));
}

const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

// files.ts and libc.ts stand where node:fs would: below everything.
// The port-security policy, its flows and OpenFlow's encoding are pure too.
const CORE = new Set([
  "src/port-security/policy.ts",
  "src/port-security/addresses.ts",
  "src/port-security/sources.ts",
  "src/port-security/flows.ts",
  "src/port-security/drift.ts",
  "src/openflow/match.ts",
  "src/openflow/wire.ts",
  "src/openflow/errors.ts",
  "src/errors.ts",
  "src/nic.ts",
  "src/deadline.ts",
  "src/dry-run.ts",
  "src/ovsdb/keys.ts",
  "src/names.ts",
  "src/vlan.ts",
  "src/qos.ts",
  "src/qos-tags.ts",
  "src/port.ts",
  "src/checker.ts",
  "src/remote.ts",
  "src/trace.ts",
  "src/files.ts",
  "src/libc.ts",
]);
type Layer = "entry" | "cli" | "action" | "adapter" | "ovsdb" | "core" | "data";

function layerOf(file: string): Layer {
  if (file === "src/main.ts" || file === "src/roles.ts" || file.startsWith("hooks/") || file.startsWith("commands/")) return "entry";
  if (file.startsWith("src/cli/")) return "cli";
  if (file.startsWith("src/actions/")) return "action";
  if (CORE.has(file)) return "core";
  if (file.startsWith("src/ovsdb/") || file === "src/stream.ts") return "ovsdb";
  if (file.endsWith(".json")) return "data";
  return "adapter";
}

const MAY_IMPORT: Record<Layer, Layer[]> = {
  entry: ["entry", "cli", "action", "adapter", "core", "data"],
  cli: ["cli", "adapter", "ovsdb", "core"],
  action: ["adapter", "ovsdb", "core"],
  adapter: ["adapter", "ovsdb", "core"],
  ovsdb: ["ovsdb", "core"],
  core: ["core"],
  data: [],
};

/** The package of an adapter: its folder under src/, or the file itself. */
function packageOf(file: string): string {
  const m = /^src\/([^/]+)\//.exec(file);
  return m ? m[1]! : file;
}

// Adapter packages that must not know each other: Ganeti's CLI and views do
// not know the switch spec, status, OVN or the NIC modes; the switch code
// knows no status or OVN; inputs (sources) know no consumer of theirs.
const MUST_NOT_IMPORT: Record<string, string[]> = {
  ganeti: ["switch", "status", "ovn", "modes"],
  switch: ["status", "ovn", "modes"],
  ovn: ["status", "switch", "modes"],
  modes: ["status", "switch"],
  sources: ["ganeti", "switch", "status", "ovn", "modes", "src/plug.ts"],
  status: ["modes"],
};

test("every relative import names a file that exists", () => {
  for (const [file, deps] of GRAPH) {
    for (const dep of deps) assert.ok(dep.endsWith(".json") || GRAPH.has(dep), `${file} imports ${dep}, which is not a source file`);
  }
});

test("layers depend one way: entry -> cli -> actions -> adapters -> ovsdb -> core", () => {
  const wrong: string[] = [];
  for (const [file, deps] of GRAPH) {
    for (const dep of deps) {
      if (!MAY_IMPORT[layerOf(file)].includes(layerOf(dep))) wrong.push(`${file} (${layerOf(file)}) imports ${dep} (${layerOf(dep)})`);
    }
  }
  assert.equal(wrong, []);
});

test("adapter packages keep apart: ganeti, switch, ovn, modes, sources, status", () => {
  const wrong: string[] = [];
  for (const [file, deps] of GRAPH) {
    const banned = MUST_NOT_IMPORT[packageOf(file)] ?? [];
    for (const dep of deps) if (banned.includes(packageOf(dep))) wrong.push(`${file} imports ${dep}`);
  }
  assert.equal(wrong, []);
});

test("entry points import no OVSDB, kernel, process or file code: they parse, make one call and print", () => {
  const wrong: string[] = [];
  for (const [file, deps] of GRAPH) {
    if (!file.startsWith("hooks/") && !file.startsWith("commands/")) continue;
    for (const dep of deps) if (/^src\/(ovsdb\/|netdev\.ts|exec\.ts|files\.ts|libc\.ts|stream\.ts)/.test(dep)) wrong.push(`${file} imports ${dep}`);
  }
  assert.equal(wrong, []);
});

/** The bodies of the functions of an entry file, split at each function. */
function functionBodies(text: string): string[] {
  return text.split(/\n(?=(?:export )?(?:async )?function |export const \w+: EntryPoint)/).slice(1);
}

test("an entry point's function holds no try, no OVSDB connection, and at most one awaited call", () => {
  const wrong: string[] = [];
  for (const [file, text] of TEXT) {
    if (!file.startsWith("hooks/") && !file.startsWith("commands/")) continue;
    if (/\btry\s*\{/.test(text)) wrong.push(`${file}: try`);
    if (/\b(connectOvsdb|withOvsdb|openXenStore)\b/.test(text)) wrong.push(`${file}: opens a connection`);
    for (const body of functionBodies(text)) {
      const awaits = body.match(/\bawait\b/g)?.length ?? 0;
      if (awaits > 1) wrong.push(`${file}: ${awaits} awaits in ${body.slice(0, 60).split("\n")[0]}`);
    }
  }
  assert.equal(wrong, []);
});

test("no hook or command imports another; only the role registry (src/roles.ts) loads them", () => {
  const wrong: string[] = [];
  for (const [file, deps] of GRAPH) {
    for (const dep of deps) if ((dep.startsWith("hooks/") || dep.startsWith("commands/")) && file !== "src/roles.ts") wrong.push(`${file} imports ${dep}`);
  }
  assert.equal(wrong, []);
});

test("only src/netdev.ts runs ip, bridge or sysctl, or reads /sys/class/net", () => {
  const wrong: string[] = [];
  for (const [file, text] of TEXT) {
    if (file === "src/netdev.ts") continue;
    if (text.includes("/sys/class/net")) wrong.push(`${file}: /sys/class/net`);
    if (/\b(run|spawn|spawnSync|execFile|execFileSync)\(\s*\[?\s*"(ip|bridge|sysctl)"/.test(text)) wrong.push(`${file}: runs a link command`);
  }
  assert.equal(wrong, []);
});

test("every OVSDB key ovs-vif reads or writes is spelled only in src/ovsdb/keys.ts", () => {
  const keys = [...TEXT.get("src/ovsdb/keys.ts")!.matchAll(/:\s*"([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(keys.length >= 15 && keys.includes("ganeti-instance") && keys.includes("requested-chassis"), `keys read: ${keys.join(", ")}`);
  const wrong: string[] = [];
  for (const [file, text] of TEXT) {
    if (file === "src/ovsdb/keys.ts") continue;
    for (const k of keys) if (text.includes(`"${k}"`) || text.includes(`'${k}'`)) wrong.push(`${file}: "${k}"`);
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

test("the checks see what they are about (they cannot pass on an empty graph)", () => {
  assert.ok(GRAPH.size > 40, `${GRAPH.size} files`);
  assert.ok(GRAPH.get("hooks/xen.ts")!.includes("src/actions/xen-vif.ts"));
  assert.ok(GRAPH.get("src/roles.ts")!.includes("hooks/xen.ts"), "dynamic imports are read");
  assert.ok(GRAPH.get("src/roles.ts")!.includes("commands/status.ts"));
  assert.is(layerOf("src/cli/runner.ts"), "cli");
  assert.is(layerOf("src/ovsdb/client.ts"), "ovsdb");
  assert.is(layerOf("src/actions/qos.ts"), "action");
  assert.is(packageOf("src/ganeti/query.ts"), "ganeti");
  assert.ok(functionBodies(TEXT.get("commands/qos.ts")!).length >= 3, "entry functions are found");
  // The text rules catch what they are about.
  assert.ok(/\b(run|spawn)\(\s*\[?\s*"(ip|bridge|sysctl)"/.test('run("ip", ["link"])'));
  assert.ok(/\bawait\b/.test(TEXT.get("hooks/xen.ts")!));
});

// The cap holds for the tests, benches, packaging and demo too: a long file
// there is split by concern like any other.
const CAPPED = [...FILES, ...["test", "bench", "packaging", "demo"].flatMap((d) => sources(d))];

test("no TypeScript file is over 400 lines (src, hooks, commands, test, bench, packaging, demo)", () => {
  assert.ok(CAPPED.length > FILES.length + 100, `${CAPPED.length} files`);
  const long = CAPPED.map((f) => [f, readFileSync(join(ROOT, f), "utf8").split("\n").length] as const).filter(([, n]) => n > 400);
  assert.equal(long, []);
});

test.run();
