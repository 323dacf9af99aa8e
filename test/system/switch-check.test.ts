// `ovs-vif switch check` with the compiled binary: the exit code and the
// lines an operator sees for a valid spec and for each kind of problem
// (every problem named with the file and its JSON path). No OVS, no root.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY } from "../harness/ovs.ts";
import { sh, type Result } from "../harness/proc.ts";
import { BAD_SPECS, EXAMPLE_SPEC, VALID_SPEC, oneSwitch } from "../harness/switch-specs.ts";

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-switch-check-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function specFile(doc: unknown): string {
  const file = join(dir, `spec${n++}.json`);
  writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
  return file;
}

/** `ovs-vif switch check ARGS` with the compiled binary (no syslog). */
function switchCheck(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return sh(BINARY, ["switch", "check", ...args], { env: { ...process.env, OVS_VIF_SYSLOG: "0", ...env } });
}

/** `ovs-vif switch check --spec FILE` on `doc` written to a file. */
async function check(doc: unknown): Promise<{ code: number; out: string; file: string }> {
  const file = specFile(doc);
  const r = await switchCheck(["--spec", file]);
  return { code: r.code, out: r.stdout + r.stderr, file };
}

test("a valid spec passes check and names its switches", async () => {
  const r = await check(VALID_SPEC);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /: ok \(2 switches: sw1, sw2\)/);
});

test("the shipped example spec is valid", async () => {
  const r = await switchCheck(["--spec", EXAMPLE_SPEC]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.endsWith(": ok (2 switches: sw-vm, sw-storage)\n"), r.stdout);
});

test("an unknown bond_mode names its JSON path and the allowed values", async () => {
  const r = await check(BAD_SPECS.unknownBondMode.doc);
  assert.is(r.code, 1);
  assert.ok(r.out.includes(`${r.file}: ${BAD_SPECS.unknownBondMode.problems[0]}`), r.out);
});

test("balance-tcp with lacp off is refused with the reason", async () => {
  const r = await check(BAD_SPECS.tcpLacpOff.doc);
  assert.is(r.code, 1);
  assert.ok(r.out.includes(BAD_SPECS.tcpLacpOff.problems[0]!), r.out);
  // lacp left out means off: refused too, on bond_mode.
  const r2 = await check(BAD_SPECS.tcpNoLacp.doc);
  assert.is(r2.code, 1);
  assert.ok(r2.out.includes(BAD_SPECS.tcpNoLacp.problems[0]!), r2.out);
});

test("every problem is reported at once, each with its path", async () => {
  const r = await check(BAD_SPECS.many.doc);
  assert.is(r.code, 1);
  for (const expected of BAD_SPECS.many.problems) {
    assert.ok(r.out.includes(expected), `missing ${expected} in: ${r.out}`);
  }
});

test("invalid JSON is reported with the file", async () => {
  const r = await check('{"version": 1, "switches": [}');
  assert.is(r.code, 1);
  assert.match(r.out, new RegExp(`${r.file.replace(/[.]/g, "\\.")}: not valid JSON`));
});

test("a missing spec file is a clear error", async () => {
  const r = await switchCheck(["--spec", join(dir, "nope.json")]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--spec ".*nope\.json": no such file/);
});

test("OVS_VIF_SWITCHES names the spec when --spec is not given", async () => {
  const file = specFile(oneSwitch([{ name: "eth9" }]));
  const r = await switchCheck([], { OVS_VIF_SWITCHES: file });
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${file}: ok (1 switch: sw1)`), r.stdout);
});

test.run();
