// The one failure line (src/errors.ts formatError) and the escaping every
// log line gets (escapeControls): no control character of a value reaches
// stderr, a log file, syslog or xenstore's hotplug-error as it is.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AfterCommitError, escapeControls, formatError, InputError, OvsdbError } from "../../src/errors.ts";
import { formatFields } from "../../src/log.ts";

const escapes: Array<[string, string]> = [
  ["plain text, quotes \" and 'é' stay", "plain text, quotes \" and 'é' stay"],
  ["a\nb", "a\\nb"],
  ["a\r\nb", "a\\r\\nb"],
  ["tab\there", "tab\\there"],
  ["nul\u0000x", "nul\\x00x"],
  ["esc\u001b[31mred", "esc\\x1b[31mred"],
  ["bell\u0007", "bell\\x07"],
  ["del\u007f", "del\\x7f"],
  ["c1\u0085next-line", "c1\\x85next-line"],
  ["csi\u009b", "csi\\x9b"],
  ["rlo\u202egnp.exe", "rlo\\u202egnp.exe"],
  ["lri\u2066x\u2069", "lri\\u2066x\\u2069"],
  ["lrm\u200erlm\u200f", "lrm\\u200erlm\\u200f"],
  ["alm\u061c", "alm\\u061c"],
  ["line sep\u2028para sep\u2029", "line sep\\u2028para sep\\u2029"],
];

for (const [raw, want] of escapes) {
  test(`escapeControls ${JSON.stringify(raw)}`, () => {
    assert.is(escapeControls(raw), want);
    assert.is(escapeControls(want), want, "escaping again changes nothing");
  });
}

/** Every character that must not be shown as it is. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

test("escapeControls leaves no control character, for every code point below 0x3000", () => {
  let all = "";
  for (let c = 0; c < 0x3000; c++) all += String.fromCharCode(c);
  const out = escapeControls(all);
  assert.not.match(out, CONTROL);
  assert.ok(out.length > all.length, "something was escaped");
});

test("formatError: a value put raw into a message is escaped; the line is trimmed; JSON-quoted values are left as they are", () => {
  assert.is(formatError(new OvsdbError("connect", "OVSDB unix:/x\r\nforged line: ENOENT")), "OVSDB unix:/x\\r\\nforged line: ENOENT");
  assert.is(formatError(new InputError("--db", "a\nb\u202e", "no")), '--db "a\\nb\u202e": no'.replace("\u202e", "\\u202e"));
  assert.is(formatError(new Error("  spaced out \n")), "spaced out");
  assert.is(formatError("plain string"), "plain string");
  const after = new AfterCommitError(new Error("vswitchd\tslow"), "rolled back", "port tap0 removed");
  assert.is(formatError(after), "vswitchd\\tslow; rolled back: port tap0 removed");
});

test("formatFields quotes values with whitespace; the log escapes what is left (DEL, bidi)", () => {
  assert.is(formatFields({ a: "x y", b: "z" }), 'a="x y" b=z');
  assert.is(escapeControls(formatFields({ device: "vif\u007f1", who: "\u202eadmin" })), "device=vif\\x7f1 who=\\u202eadmin");
});

test.run();
