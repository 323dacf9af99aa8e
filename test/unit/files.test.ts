// readFile reads a node file the same through libc (bun:ffi) and through
// node:fs (OVS_VIF_NO_FFI=1): a UTF-8 byte order mark is dropped by both.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFile } from "../../src/files.ts";

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-files-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const TEXT = '{"version": 1, "default": {"rate": "10M"}}\n';
const withBom = join(dir, "bom.json");
writeFileSync(withBom, `\uFEFF${TEXT}`);

/** readFile in a fresh process, with or without libc. */
function readIn(env: Record<string, string>, path: string, bound?: number): string {
  const r = spawnSync(
    process.execPath,
    [
      "-e",
      `process.stdout.write(JSON.stringify(require(${JSON.stringify(join(import.meta.dirname, "../../src/files.ts"))}).readFile(${JSON.stringify(path)}${bound === undefined ? "" : `, ${bound}`})))`,
    ],
    {
      env: { ...process.env, ...env },
      encoding: "utf8",
    },
  );
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string;
}

test("a byte order mark is dropped on the libc path (this process), bounded or not", () => {
  assert.is(readFile(withBom), TEXT);
  assert.is(readFile(withBom, 1 << 20), TEXT);
});

test("and on the node:fs path (OVS_VIF_NO_FFI=1), bounded or not, so both read the same text", () => {
  for (const bound of [undefined, 1 << 20]) {
    assert.is(readIn({ OVS_VIF_NO_FFI: "1" }, withBom, bound), TEXT, `node:fs, bound ${bound}`);
    assert.is(readIn({}, withBom, bound), TEXT, `libc, bound ${bound}`);
  }
});

test.run();
