// The node's QoS defaults file (src/sources/defaults.ts): parseNodeDefaults,
// the level a bridge gets from it (defaultsLevel), reading it from
// $OVS_VIF_DEFAULTS (nodeDefaultsLevel) and its path (defaultsPath).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catchInputError, expectInputError } from "../harness/assert.ts";
import { DPATH, GOOD_DEFAULTS, GOOD_DEFAULTS_TEXT } from "../harness/qos-levels.ts";
import { DEFAULT_MTU } from "../../src/port.ts";
import { resolvePolicing, type Policing, type QosLevel } from "../../src/qos.ts";
import { defaultsLevel, nodeDefaultsLevel, parseNodeDefaults } from "../../src/sources/defaults.ts";
import { DEFAULTS_PATH, defaultsPath } from "../../src/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-defaults-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("parseNodeDefaults returns a good file's default and bridge entries as written", () => {
  const d = parseNodeDefaults(DPATH, GOOD_DEFAULTS_TEXT);
  assert.equal(d, {
    version: 1,
    default: { rate: "1G" },
    bridges: { sw1: { rate: "100M", burst: "10M" }, sw2: { burst: "20M" }, open: { rate: "unlimited" } },
  });
});

const minimalDefaults: string[] = [
  '{"version":1}',
  '{"version": 1, "default": {}}',
  '{"version":1,"bridges":{}}',
  '{"version":1,"default":{"rate":"0"},"bridges":{"sw1":{"burst":"unlimited"}}}',
  '  {"version":1}\n',
];
for (const text of minimalDefaults) {
  test(`parseNodeDefaults accepts ${JSON.stringify(text)}`, () => {
    assert.equal(parseNodeDefaults(DPATH, text), JSON.parse(text));
  });
}

const badDefaults: Array<[string, string, string | undefined, RegExp?]> = [
  ["", DPATH, "", /not valid JSON: empty/],
  ["{", DPATH, "{", /not valid JSON: expected a key in double quotes: the text ends at line 1, column 2/],
  ["{'version':1}", DPATH, "{'version':1}", /not valid JSON: expected a key in double quotes: "'version':1}" at line 1, column 2/],
  ['{"version":1,}', DPATH, '{"version":1,}', /not valid JSON: expected a key in double quotes: "}" at line 1, column 14/],
  ["[]", DPATH, undefined, /object/],
  ["null", DPATH, undefined, /object/],
  ["42", DPATH, undefined, /object/],
  ['"x"', DPATH, undefined, /object/],
  ["{}", `${DPATH}: version`, "undefined", /1/],
  ['{"version":2}', `${DPATH}: version`, "2", /1/],
  ['{"version":"1"}', `${DPATH}: version`, "1", /1/],
  ['{"version":0,"default":{"rate":"1G"}}', `${DPATH}: version`, "0", /1/],
  ['{"version":1,"defaults":{"rate":"1G"}}', `${DPATH}: defaults`, "defaults", /unknown key/],
  ['{"version":1,"bridge":{}}', `${DPATH}: bridge`, "bridge", /unknown key/],
  ['{"version":1,"default":{"rate":"1G","ceil":"2G"}}', `${DPATH}: default.ceil`, "ceil", /unknown key/],
  ['{"version":1,"bridges":{"sw1":{"rat":"1M"}}}', `${DPATH}: bridges.sw1.rat`, "rat", /unknown key/],
  ['{"version":1,"default":{"rate":100}}', `${DPATH}: default.rate`, "100", /string/],
  ['{"version":1,"default":{"burst":null}}', `${DPATH}: default.burst`, "null", /string/],
  ['{"version":1,"default":{"rate":"10Q"}}', `${DPATH}: default.rate`, "10Q"],
  ['{"version":1,"default":{"rate":"-1M"}}', `${DPATH}: default.rate`, "-1M"],
  ['{"version":1,"default":{"rate":""}}', `${DPATH}: default.rate`, ""],
  ['{"version":1,"default":{"rate":"999"}}', `${DPATH}: default.rate`, "999", /smallest/],
  ['{"version":1,"default":{"burst":"1023"}}', `${DPATH}: default.burst`, "1023", /smallest/],
  ['{"version":1,"bridges":{"sw1":{"rate":"5000G"}}}', `${DPATH}: bridges.sw1.rate`, "5000G", /largest/],
  ['{"version":1,"bridges":{"sw1":{"burst":" 1M"}}}', `${DPATH}: bridges.sw1.burst`, " 1M"],
  ['{"version":1,"default":"1G"}', `${DPATH}: default`, '"1G"', /object/],
  ['{"version":1,"default":null}', `${DPATH}: default`, "null", /object/],
  ['{"version":1,"default":[]}', `${DPATH}: default`, "[]", /object/],
  ['{"version":1,"bridges":[]}', `${DPATH}: bridges`, "[]", /object/],
  ['{"version":1,"bridges":null}', `${DPATH}: bridges`, "null", /object/],
  ['{"version":1,"bridges":"sw1"}', `${DPATH}: bridges`, '"sw1"', /object/],
  ['{"version":1,"bridges":{"sw1":"100M"}}', `${DPATH}: bridges.sw1`, '"100M"', /object/],
];

// Bridge names in the file follow the command line's rules (--bridge, LINK).
for (const name of ["sw 1", "", "../x", "sw\u00001", "-sw", "x".repeat(16), "sw;1", "sw/1", "sw\n1", "."]) {
  badDefaults.push([JSON.stringify({ version: 1, bridges: { [name]: { rate: "1M" } } }), `${DPATH}: bridges`, name, /bridge name/]);
}
badDefaults.push(["[".repeat(100) + "]".repeat(100), DPATH, "[".repeat(40), /^nested deeper than 64 levels/]);

for (const [text, field, value, reason] of badDefaults) {
  test(`parseNodeDefaults refuses ${JSON.stringify(text)} (${field})`, () => {
    if (value !== undefined) {
      expectInputError(() => parseNodeDefaults(DPATH, text), field, value, reason);
      return;
    }
    const err = catchInputError(() => parseNodeDefaults(DPATH, text), text);
    assert.is(err.field, field);
    assert.ok(err.message.includes(DPATH), `message ${JSON.stringify(err.message)} names the file`);
    if (reason) assert.match(err.reason, reason);
  });
}

test("parseNodeDefaults names the file path in every error", () => {
  for (const [text] of badDefaults) {
    const err = catchInputError(() => parseNodeDefaults("/srv/x/defaults.json", text), text);
    assert.ok(err.message.includes("/srv/x/defaults.json"), `${text}: ${err.message}`);
  }
});

test("parseNodeDefaults quotes only the start of a long non-JSON file", () => {
  const text = "x".repeat(5000);
  const err = catchInputError(() => parseNodeDefaults(DPATH, text), "long");
  assert.ok(err.value.length <= 40, `value is ${err.value.length} characters`);
  assert.ok(err.message.length < 400, `message is ${err.message.length} characters`);
});

const defaultsLevelCases: Array<[string, string, QosLevel, Policing]> = [
  [
    "the bridge's entry over the default",
    "sw1",
    {
      name: `node defaults ${DPATH}`,
      rate: { raw: "100M", source: `${DPATH} bridges.sw1.rate`, field: `${DPATH}: bridges.sw1.rate` },
      burst: { raw: "10M", source: `${DPATH} bridges.sw1.burst`, field: `${DPATH}: bridges.sw1.burst` },
    },
    { rate: 100000, burst: 9765 },
  ],
  [
    "no entry for the bridge: the default",
    "sw9",
    { name: `node defaults ${DPATH}`, rate: { raw: "1G", source: `${DPATH} default.rate`, field: `${DPATH}: default.rate` } },
    { rate: 1000000, burst: 781250 },
  ],
  [
    "the bridge's entry replaces the default as a whole (burst only: no rate)",
    "sw2",
    { name: `node defaults ${DPATH}`, burst: { raw: "20M", source: `${DPATH} bridges.sw2.burst`, field: `${DPATH}: bridges.sw2.burst` } },
    { rate: 0, burst: 0 },
  ],
  [
    "a bridge entry saying unlimited lifts the default",
    "open",
    { name: `node defaults ${DPATH}`, rate: { raw: "unlimited", source: `${DPATH} bridges.open.rate`, field: `${DPATH}: bridges.open.rate` } },
    { rate: 0, burst: 0 },
  ],
];

for (const [label, bridge, level, policing] of defaultsLevelCases) {
  test(`defaultsLevel: ${label}`, () => {
    const got = defaultsLevel(DPATH, GOOD_DEFAULTS, bridge);
    assert.equal(got, level);
    assert.equal(resolvePolicing([got], DEFAULT_MTU).policing, policing);
  });
}

test("defaultsLevel without a file, or with a file saying nothing, is an empty level (no policing)", () => {
  assert.equal(defaultsLevel(DPATH, undefined, "sw1"), { name: `node defaults ${DPATH}` });
  assert.equal(defaultsLevel(DPATH, { version: 1 }, "sw1"), { name: `node defaults ${DPATH}` });
  assert.equal(resolvePolicing([defaultsLevel(DPATH, undefined, "sw1")], DEFAULT_MTU).policing, { rate: 0, burst: 0 });
});

// Bridge names are plain strings: one that is also an Object.prototype
// member must still fall back to the default entry.
for (const bridge of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"]) {
  test(`defaultsLevel: bridge named ${JSON.stringify(bridge)} without an entry takes the default`, () => {
    const got = defaultsLevel(DPATH, GOOD_DEFAULTS, bridge);
    assert.equal(got.rate, { raw: "1G", source: `${DPATH} default.rate`, field: `${DPATH}: default.rate` });
    assert.equal(resolvePolicing([got], DEFAULT_MTU).policing, { rate: 1000000, burst: 781250 });
  });
}

test("nodeDefaultsLevel reads the file $OVS_VIF_DEFAULTS names, the bridge's entry else the default", () => {
  const file = join(dir, "defaults.json");
  writeFileSync(file, GOOD_DEFAULTS_TEXT);
  const env = { OVS_VIF_DEFAULTS: file };
  assert.equal(nodeDefaultsLevel("sw1", env).rate?.raw, "100M");
  assert.equal(nodeDefaultsLevel("sw1", env).burst?.raw, "10M");
  assert.equal(nodeDefaultsLevel("sw9", env).rate?.raw, "1G");
  assert.is(nodeDefaultsLevel("sw9", env).rate?.field, `${file}: default.rate`);
});

test("nodeDefaultsLevel: an absent file means no defaults", () => {
  const missing = join(dir, "nope.json");
  assert.equal(nodeDefaultsLevel("sw1", { OVS_VIF_DEFAULTS: missing }), { name: `node defaults ${missing}` });
});

test("nodeDefaultsLevel: a bad file is an InputError naming the file (and the key)", () => {
  const file = join(dir, "bad.json");
  const env = { OVS_VIF_DEFAULTS: file };
  writeFileSync(file, '{"version":1,"default":{"rate":"fast"}}');
  expectInputError(() => nodeDefaultsLevel("sw1", env), `${file}: default.rate`, "fast");
  writeFileSync(file, '{"version":2}');
  expectInputError(() => nodeDefaultsLevel("sw1", env), `${file}: version`, "2");
  writeFileSync(file, "rate=1G\n");
  const err = catchInputError(() => nodeDefaultsLevel("sw1", env), "not JSON");
  assert.is(err.field, file);
  assert.match(err.reason, /^not valid JSON: expected a value: "rate=1G\\n" at line 1, column 1$/);
});

test("nodeDefaultsLevel: $OVS_VIF_DEFAULTS naming a directory is an InputError on the variable", () => {
  expectInputError(() => nodeDefaultsLevel("sw1", { OVS_VIF_DEFAULTS: dir }), "OVS_VIF_DEFAULTS", dir, /directory/);
});

test("defaultsPath is $OVS_VIF_DEFAULTS when set and not empty, else /etc/ovs-vif/defaults.json", () => {
  assert.is(DEFAULTS_PATH, "/etc/ovs-vif/defaults.json");
  assert.is(defaultsPath({}), DEFAULTS_PATH);
  assert.is(defaultsPath({ OVS_VIF_DEFAULTS: "" }), DEFAULTS_PATH);
  assert.is(defaultsPath({ OVS_VIF_DEFAULTS: "/tmp/d.json" }), "/tmp/d.json");
});

test("a defaults-file burst below one frame is refused by resolvePolicing, naming the file and key", () => {
  const level = defaultsLevel(DPATH, parseNodeDefaults(DPATH, '{"version":1,"default":{"rate":"10M","burst":"8k"}}'), "sw1");
  expectInputError(() => resolvePolicing([level], DEFAULT_MTU), `${DPATH}: default.burst`, "8k", /frame/);
});

test.run();
