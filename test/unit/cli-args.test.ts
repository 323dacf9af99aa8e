// The one argument parser: values stay the strings typed; unknown options,
// missing values, values for flags, repeats and surplus positionals are
// refused with the option named.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UsageError, InputError } from "../../src/errors.ts";
import { globalOptions, parseArgs } from "../../src/cli/args.ts";

function refused(fn: () => unknown, field: string, reason: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, InputError);
    assert.is((err as InputError).field, field);
    assert.match((err as InputError).reason, reason);
    return;
  }
  assert.unreachable(`accepted; expected a refusal naming ${field}`);
}

test("values stay the exact strings typed: no numbers, no exponents, no trimming", () => {
  const a = parseArgs(["add", "inst1", "0", "0x10", "1e3", "--vlan", ".3:010", "--rate=100M"], { vlan: "string", rate: "string" });
  assert.equal(a.positionals, ["add", "inst1", "0", "0x10", "1e3"]);
  assert.is(a.string("vlan"), ".3:010");
  assert.is(a.string("rate"), "100M");
});

test("-- ends the options; a lone - is a positional", () => {
  const a = parseArgs(["--", "--vlan", "-"], { vlan: "string" });
  assert.equal(a.positionals, ["--vlan", "-"]);
  assert.is(a.has("vlan"), false);
  assert.equal(parseArgs(["-"]).positionals, ["-"]);
});

test("an unknown option is refused, with a suggestion when one is near", () => {
  refused(() => parseArgs(["--vlans", "3"], { vlan: "string" }), "option", /unknown option \(did you mean --vlan\?\)/);
  refused(() => parseArgs(["-x"]), "option", /options are --NAME/);
});

test("an option without its value is refused, also when the next word is an option", () => {
  refused(() => parseArgs(["--vlan"], { vlan: "string" }), "--vlan", /^missing value$/);
  refused(() => parseArgs(["--vlan", "--rate", "5"], { vlan: "string", rate: "string" }), "--vlan", /"--rate" is an option; write --vlan=VALUE/);
  refused(() => parseArgs(["--vlan="], { vlan: "string" }), "--vlan", /empty value/);
  assert.is(parseArgs(["--vlan=-1"], { vlan: "string" }).string("vlan"), "-1");
});

test("a flag takes no value; a single-valued option is given once; a list option repeats", () => {
  refused(() => parseArgs(["--dry-run=yes"]), "--dry-run", /takes no value/);
  refused(() => parseArgs(["--vlan", "3", "--vlan", "4"], { vlan: "string" }), "--vlan", /given more than once \(first "3"\)/);
  assert.equal(parseArgs(["--tag", "a", "--tag=b"], { tag: "list" }).list("tag"), ["a", "b"]);
  assert.is(parseArgs(["-h"]).flag("help"), true);
});

test("surplus positionals and options of another action are refused", () => {
  const a = parseArgs(["tap0", "tap1"], { iface: "string" });
  refused(() => a.atMost(1, "detach takes one device"), "argument 2", /unexpected argument \(detach takes one device\)/);
  const b = parseArgs(["show", "--rate", "5"], { rate: "string" });
  refused(() => b.onlyOptions([], "qos show"), "--rate", /not an option of qos show/);
  refused(() => parseArgs([]).required(0, "INSTANCE"), "INSTANCE", /required/);
  assert.not.throws(() => parseArgs(["show", "--verbose"]).onlyOptions([], "qos show"));
});

test("usage errors are UsageError (exit 2); global options are validated with the field that set them", () => {
  assert.throws(
    () => parseArgs(["--nope"]),
    (err: unknown) => err instanceof UsageError,
  );
  assert.equal(globalOptions(parseArgs(["--timeout", "2.5", "--no-wait", "--db", "unix:/x"]), {}), {
    timeoutMs: 2500,
    dryRun: false,
    wait: false,
    verbose: false,
    db: "unix:/x",
  });
  assert.is(globalOptions(parseArgs([]), { OVS_VIF_TIMEOUT: "7" }).timeoutMs, 7000);
  refused(() => globalOptions(parseArgs(["--timeout", "0x10"]), {}), "--timeout", /expected seconds/);
  refused(() => globalOptions(parseArgs([]), { OVS_VIF_TIMEOUT: "1e3" }), "OVS_VIF_TIMEOUT", /expected seconds/);
  refused(() => globalOptions(parseArgs(["--timeout=3601"]), {}), "--timeout", /0 < T <= 3600/);
});

test.run();
