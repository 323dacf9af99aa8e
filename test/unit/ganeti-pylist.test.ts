// The Python list reprs `gnt-* list` prints for some fields
// (src/ganeti/pylist.ts): strings, None and integers, and refusals.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GanetiOutputError } from "../../src/errors.ts";
import { parsePyList } from "../../src/ganeti/pylist.ts";

test("parsePyList reads lists of strings in either quote, with None for an unset entry", () => {
  assert.equal(parsePyList("['.3', ':10:20', '']"), [".3", ":10:20", ""]);
  assert.equal(parsePyList("[None, 'eth1', \"it's\"]"), [null, "eth1", "it's"]);
  assert.equal(parsePyList("[]"), []);
});

test("parsePyList reads integers, nested lists, escapes and a trailing comma", () => {
  assert.equal(parsePyList("[1, -2, [3, 'a'], []]"), [1, -2, [3, "a"], []]);
  assert.equal(parsePyList("['a\\'b', 'tab\\there', '\\x41\\u00e9', 'back\\\\slash']"), ["a'b", "tab\there", "A\u00e9", "back\\slash"]);
  assert.equal(parsePyList("  ['x', ]\n"), ["x"]);
});

test("parsePyList refuses what it cannot read with a GanetiOutputError naming the position", () => {
  assert.throws(() => parsePyList("['a'"), /unterminated|expected/);
  for (const [text, why] of [
    ["['a", /unterminated string/],
    ["'a'", /expected \[/],
    ["['a'] x", /trailing text/],
    ["[True]", /unexpected character/],
    ["['a' 'b']", /expected , or \]/],
  ] as const) {
    assert.throws(
      () => parsePyList(text),
      (err: unknown) => err instanceof GanetiOutputError && why.test(err.reason) && / at \d+$/.test(err.reason),
      text,
    );
  }
});

test.run();
