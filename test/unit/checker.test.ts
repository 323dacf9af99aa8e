// The one JSON reader of node files (src/checker.ts): bounded in size and
// depth before anything walks the document, syntax errors in our words with
// line and column, and every failure naming the file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DocumentError, JSON_MAX_BYTES, JSON_MAX_DEPTH, jsonProblem, parseJson, readTextFile } from "../../src/checker.ts";
import { expectInputError } from "../harness/assert.ts";
import { validateSpec } from "../../src/switch/spec-validate.ts";

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-checker-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const FILE = "/etc/ovs-vif/x.json";

function documentError(fn: () => unknown): DocumentError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DocumentError) return err;
    throw err;
  }
  throw new Error("no DocumentError");
}

test("parseJson: nesting to the bound is read; one level deeper is refused naming the file, before anything walks it", () => {
  const ok = "[".repeat(JSON_MAX_DEPTH) + "]".repeat(JSON_MAX_DEPTH);
  assert.ok(Array.isArray(parseJson(ok, FILE)));
  for (const text of [
    "[".repeat(JSON_MAX_DEPTH + 1) + "]".repeat(JSON_MAX_DEPTH + 1),
    '{"a":'.repeat(200000) + "1" + "}".repeat(200000),
    "[".repeat(1000000),
  ]) {
    const err = documentError(() => parseJson(text, FILE));
    assert.match(err.message, new RegExp(`^${FILE}: nested deeper than ${JSON_MAX_DEPTH} levels \\(at line 1, column \\d+\\)$`));
  }
  // Brackets inside strings are not nesting.
  assert.equal(parseJson(JSON.stringify({ a: "[".repeat(500) }), FILE), { a: "[".repeat(500) });
});

test("parseJson: a key given twice in one object is refused (JSON.parse would keep the last), however it is spelled", () => {
  for (const [text, key, at] of [
    ['{"version":1,"default":{"rate":"1G","rate":"1M"}}', "rate", "line 1, column 37"],
    ['{"a":1,\n"\\u0061":2}', "a", "line 2, column 1"],
    ['[{"x":1},{"x":2,"y":{"z":1,"z":1}}]', "z", "line 1, column 28"],
  ] as const) {
    const err = documentError(() => parseJson(text, FILE));
    assert.is(err.message, `${FILE}: key ${JSON.stringify(key)} given twice in one object (${at}): one value would silently win`);
  }
  assert.equal(parseJson('[{"x":1},{"x":2}]', FILE), [{ x: 1 }, { x: 2 }], "the same key in two objects is fine");
});

test("parseJson: more than the bound is refused naming the file", () => {
  const err = documentError(() => parseJson(" ".repeat(JSON_MAX_BYTES + 1), FILE));
  assert.is(err.message, `${FILE}: larger than ${JSON_MAX_BYTES} bytes`);
});

const syntax: Array<[string, string]> = [
  ["", "empty"],
  ["   \n ", "empty"],
  ["{", "expected a key in double quotes: the text ends at line 1, column 2"],
  ['{"a":}', 'expected a value: "}" at line 1, column 6'],
  ["[1,]", 'expected a value: "]" at line 1, column 4'],
  ['{"a":1}x', 'more after the value: "x" at line 1, column 8'],
  ['{"a":1,\n "b" 2}', "expected ':' after the key: \"2}\" at line 2, column 6"],
  ['"\\u12"', 'a bad escape in a string: "\\\\u12\\"" at line 1, column 2'],
  ['"a\tb"', 'a control character inside a string (write it as \\uXXXX): "\\tb\\"" at line 1, column 3'],
  ["{'a':1}", "expected a key in double quotes: \"'a':1}\" at line 1, column 2"],
  ["[1 2]", "expected ',' or ']': \"2]\" at line 1, column 4"],
  ["nul", 'expected a value: "nul" at line 1, column 1'],
  ['"open', "unterminated string: the text ends at line 1, column 6"],
  ["01", 'more after the value: "1" at line 1, column 2'],
];

for (const [text, want] of syntax) {
  test(`parseJson refuses ${JSON.stringify(text)} in its own words`, () => {
    assert.is(jsonProblem(text), `not valid JSON: ${want}`);
    const err = documentError(() => parseJson(text, FILE));
    assert.is(err.message, `${FILE}: not valid JSON: ${want}`);
    assert.not.match(err.message, /JSON Parse error|Unexpected token|SyntaxError/);
  });
}

test("readTextFile names the field and the path: a directory, a missing file, a file over the bound, a device, a symlink loop", () => {
  expectInputError(() => readTextFile("OVS_VIF_DEFAULTS", dir, true), "OVS_VIF_DEFAULTS", dir, /^is a directory, not a file$/);
  const missing = join(dir, "none.json");
  assert.is(readTextFile("f", missing, true), undefined);
  expectInputError(() => readTextFile("f", missing, false, " (hint)"), "f", missing, /^no such file \(hint\)$/);
  expectInputError(() => readTextFile("f", join(missing, "below"), false), "f", join(missing, "below"), /^no such file$/);
  const big = join(dir, "big.json");
  writeFileSync(big, "x".repeat(5000));
  expectInputError(() => readTextFile("f", big, false, "", 4096), "f", big, /^larger than 4096 bytes$/);
  assert.is(readTextFile("f", big, false, "", 5000)!.length, 5000);
  expectInputError(() => readTextFile("f", "/dev/zero", false, "", 1 << 16), "f", "/dev/zero", /^larger than 65536 bytes$/);
  const loop = join(dir, "loop");
  symlinkSync(loop, loop);
  expectInputError(() => readTextFile("f", loop, false), "f", loop, /^a loop of symbolic links$/);
});

test("readTextFile does not wait on a FIFO without a writer: it reads as empty", () => {
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const t = performance.now();
  assert.is(readTextFile("f", fifo, false), "");
  assert.ok(performance.now() - t < 2000);
  const err = documentError(() => parseJson("", fifo));
  assert.is(err.message, `${fifo}: not valid JSON: empty`);
});

test("a switch spec with node groups called __proto__ and constructor keeps them as groups", () => {
  mkdirSync(join(dir, "spec"), { recursive: true });
  const doc = JSON.parse(
    '{"version":1,"switches":[{"name":"sw1","overrides":{"groups":{"__proto__":{"mtu":9000}}}}],"node_groups":{"__proto__":{"switches":["sw1"]},"constructor":{"switches":["sw1"]}}}',
  );
  const spec = validateSpec(doc, "spec.json");
  assert.equal(Object.keys(spec.nodeGroups).sort(), ["__proto__", "constructor"]);
  assert.equal(spec.nodeGroups["__proto__"]!.switches, ["sw1"]);
  assert.is(spec.switches[0]!.groupOverrides["__proto__"]!.mtu, 9000);
  assert.is(spec.nodeGroups["toString"], undefined, "a name that is no group is absent, not Object.prototype's");
});

test.run();
