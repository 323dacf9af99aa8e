// Native xenstore client (src/sources/xenstore.ts) against a real xenstored,
// with the stock CLI clients (xenstore-read/-write/-rm/-list) as the oracle.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openXenStore, XenStoreError, type XenStore } from "../../src/sources/xenstore.ts";
import { startXenstored, type XenstoredHandle } from "../harness/xenstore.ts";

const dirs: string[] = [];
const daemons: XenstoredHandle[] = [];
const clients: XenStore[] = [];
const servers: Server[] = [];
let xsd: XenstoredHandle;
let xs: XenStore;

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "ovs-vif-xenstore-"));
  dirs.push(d);
  return d;
}

function removeDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

async function teardown(): Promise<void> {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.close();
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  removeDirs();
}

// The harness kills its daemons on exit/signals; also clean up on a crash here.
process.on("exit", removeDirs);
process.on("uncaughtException", (err) => {
  console.error(err);
  void teardown().finally(() => process.exit(1));
});
process.on("unhandledRejection", (err) => {
  console.error(err);
  void teardown().finally(() => process.exit(1));
});

async function daemon(): Promise<XenstoredHandle> {
  const d = await startXenstored(tempDir());
  daemons.push(d);
  return d;
}

async function client(path: string, timeoutMs?: number): Promise<XenStore> {
  const c = await openXenStore({ path, timeoutMs });
  clients.push(c);
  return c;
}

/** Expects `p` to reject with a XenStoreError; returns it and the time taken. */
async function rejection(p: Promise<unknown>): Promise<{ err: XenStoreError; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (err) {
    if (!(err instanceof XenStoreError)) throw new Error(`expected XenStoreError, got ${String(err)}`);
    return { err, ms: Date.now() - t0 };
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** A unix socket server that accepts connections and hands each to `onConn`. */
async function fakeServer(onConn: (sock: Socket) => void): Promise<string> {
  const path = join(tempDir(), "fake.sock");
  const server = createServer(onConn);
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  return path;
}

test.before(async () => {
  xsd = await daemon();
  xs = await client(xsd.socketPath);
});

test.after(teardown);

test("client write is seen by xenstore-read", async () => {
  await xs.write("/local/domain/0/backend/vif/5/0/bridge", "br0.10:20:30");
  assert.is(await xsd.read("/local/domain/0/backend/vif/5/0/bridge"), "br0.10:20:30");
});

test("xenstore-write is seen by client read", async () => {
  await xsd.write("/local/domain/5/vm", "/vm/1234-abcd");
  assert.is(await xs.read("/local/domain/5/vm"), "/vm/1234-abcd");
  // overwrite
  await xsd.write("/local/domain/5/vm", "/vm/other");
  assert.is(await xs.read("/local/domain/5/vm"), "/vm/other");
});

test("values round-trip byte-exactly (empty, spaces, newline, UTF-8)", async () => {
  const values = ["", "with space", "two\nlines", "naïve ☃ ünïcode", "x".repeat(3000)];
  for (const [i, v] of values.entries()) {
    await xs.write(`/rt/c${i}`, v);
    assert.is(await xsd.read(`/rt/c${i}`), v, `client write #${i} via oracle`);
    await xsd.write(`/rt/o${i}`, v);
    assert.is(await xs.read(`/rt/o${i}`), v, `oracle write #${i} via client`);
  }
});

test("read of a missing key is undefined", async () => {
  assert.is(await xsd.read("/no/such/key"), undefined); // oracle agrees it is missing
  assert.is(await xs.read("/no/such/key"), undefined);
  await xsd.write("/parent/present", "1");
  assert.is(await xs.read("/parent/absent"), undefined);
});

test("a directory node reads as the empty string", async () => {
  await xsd.write("/dirnode/child", "1");
  assert.is(await xs.read("/dirnode"), "");
});

test("rm removes a subtree; rm of a missing path is fine", async () => {
  await xsd.write("/gone/a", "1");
  await xsd.write("/gone/b/c", "2");
  await xsd.write("/kept", "3");
  await xs.rm("/gone");
  assert.is(await xsd.read("/gone"), undefined);
  assert.is(await xsd.read("/gone/b/c"), undefined);
  assert.is(await xsd.read("/kept"), "3");
  assert.not.ok((await xsd.ls("/")).includes("gone"));
  await xs.rm("/gone"); // already gone
  await xs.rm("/never/existed/at/all");
  assert.is(await xs.read("/gone"), undefined);
});

test("directory lists the same children as xenstore-list", async () => {
  const names = ["bridge", "mac", "ip", "frontend-id", "mtu", "vifname"];
  await Promise.all(names.map((n, i) => xsd.write(`/local/domain/0/backend/vif/7/0/${n}`, String(i))));
  const got = await xs.directory("/local/domain/0/backend/vif/7/0");
  const oracle = await xsd.ls("/local/domain/0/backend/vif/7/0");
  assert.equal([...got].sort(), [...names].sort());
  assert.equal([...got].sort(), [...oracle].sort());
  assert.equal(await xs.directory("/local/domain/0/backend/vif/7/0/mac"), []); // leaf
  assert.equal(await xs.directory("/no/such/dir"), []);
});

test("50 pipelined reads via Promise.all return the right values", async () => {
  const keys = Array.from({ length: 50 }, (_, i) => `/pipe/k${i}`);
  await Promise.all(keys.map((k, i) => xsd.write(k, `value-${i}-${"z".repeat(i)}`)));
  const got = await Promise.all(keys.map((k) => xs.read(k)));
  assert.equal(
    got,
    keys.map((_, i) => `value-${i}-${"z".repeat(i)}`),
  );
  // mixed with misses and other ops in the same batch
  const mixed = await Promise.all([xs.read("/pipe/k3"), xs.read("/pipe/none"), xs.directory("/pipe"), xs.read("/pipe/k49")]);
  assert.is(mixed[0], "value-3-zzz");
  assert.is(mixed[1], undefined);
  assert.is((mixed[2] as string[]).length, 50);
  assert.is(mixed[3], `value-49-${"z".repeat(49)}`);
});

test("requests really are pipelined and matched by req_id", async () => {
  // A fake xenstored that answers only after all 50 requests have arrived,
  // in reverse order: a client that waits for each reply would time out.
  const path = await fakeServer((sock) => {
    let buf = Buffer.alloc(0);
    const reqs: { type: number; id: number; key: string }[] = [];
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32LE(12)) {
        const len = buf.readUInt32LE(12);
        reqs.push({ type: buf.readUInt32LE(0), id: buf.readUInt32LE(4), key: buf.subarray(16, 16 + len - 1).toString() });
        buf = buf.subarray(16 + len);
      }
      if (reqs.length < 50) return;
      for (const r of [...reqs].reverse()) {
        const payload = Buffer.from(`answer:${r.key}`);
        const hdr = Buffer.alloc(16);
        hdr.writeUInt32LE(r.type, 0);
        hdr.writeUInt32LE(r.id, 4);
        hdr.writeUInt32LE(payload.length, 12);
        sock.write(Buffer.concat([hdr, payload]));
      }
    });
  });
  const c = await client(path, 2000);
  const keys = Array.from({ length: 50 }, (_, i) => `/p/${i}`);
  const got = await Promise.all(keys.map((k) => c.read(k)));
  assert.equal(
    got,
    keys.map((k) => `answer:${k}`),
  );
});

test("error replies become XenStoreError with the errno name", async () => {
  const { err } = await rejection(xs.read("/bad//path"));
  assert.is(err.code, "EINVAL");
  assert.is(err.op, "read");
  assert.is(err.path, "/bad//path");
  assert.match(err.message, "/bad//path");
  const big = await rejection(xs.write("/big", "x".repeat(5000)));
  assert.is(big.err.code, "E2BIG");
  // the connection is still usable after errors
  await xs.write("/after-errors", "ok");
  assert.is(await xsd.read("/after-errors"), "ok");
});

test("openXenStore() without a path uses $XENSTORED_PATH", async () => {
  const saved = process.env.XENSTORED_PATH;
  process.env.XENSTORED_PATH = xsd.env.XENSTORED_PATH;
  try {
    const c = await openXenStore();
    clients.push(c);
    await xsd.write("/via-env", "yes");
    assert.is(await c.read("/via-env"), "yes");
  } finally {
    if (saved === undefined) delete process.env.XENSTORED_PATH;
    else process.env.XENSTORED_PATH = saved;
  }
});

test("missing socket path fails fast with ENOENT naming the path", async () => {
  const path = join(tempDir(), "no-such-socket");
  const { err, ms } = await rejection(openXenStore({ path, timeoutMs: 1000 }));
  assert.is(err.code, "ENOENT");
  assert.match(err.message, path);
  assert.ok(ms < 1000, `took ${ms} ms`);
});

test("socket of a stopped xenstored: the open connection fails at once, a new one is refused (ECONNREFUSED) within its timeout", async () => {
  const d = await daemon();
  const c = await client(d.socketPath, 1000);
  await d.write("/x", "1");
  assert.is(await c.read("/x"), "1");
  await d.stop();
  await d.stop(); // idempotent
  // the open connection fails promptly instead of hanging until the timeout
  const live = await rejection(c.read("/x"));
  assert.ok(["ECONNRESET", "EPIPE"].includes(live.err.code), live.err.code);
  assert.ok(live.ms < 1000, `took ${live.ms} ms`);
  // and a new connection is refused: refused connects are retried (xenstored
  // listens with a backlog of 1) until the timeout, not past it
  const { err, ms } = await rejection(openXenStore({ path: d.socketPath, timeoutMs: 1000 }));
  assert.is(err.code, "ECONNREFUSED");
  assert.match(err.message, d.socketPath);
  assert.ok(ms < 1100, `took ${ms} ms`);
});

test("a daemon that never answers times out with ETIMEDOUT, not a hang", async () => {
  const path = await fakeServer(() => {
    /* accept and stay silent */
  });
  const c = await client(path, 300);
  const t0 = Date.now();
  const [a, b] = await Promise.all([rejection(c.read("/local/domain/1/vm")), rejection(c.write("/k", "v"))]);
  const ms = Date.now() - t0;
  assert.is(a.err.code, "ETIMEDOUT");
  assert.is(b.err.code, "ETIMEDOUT");
  assert.is(a.err.path, "/local/domain/1/vm");
  assert.match(a.err.message, path);
  assert.ok(ms >= 250 && ms < 2000, `took ${ms} ms`);
});

test("close() rejects later requests clearly", async () => {
  const c = await client(xsd.socketPath);
  c.close();
  const { err } = await rejection(c.read("/kept"));
  assert.is(err.code, "ECLOSED");
});

test.run();
