// JsonSplitter (src/ovsdb/json-stream.ts): OVSDB's back-to-back JSON-RPC
// messages split into complete values, however the bytes are chunked.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Json } from "../../src/ovsdb/json.ts";
import { JsonSplitter } from "../../src/ovsdb/json-stream.ts";

function pushAll(s: JsonSplitter, chunks: Array<string | Buffer>): Json[] {
  const out: Json[] = [];
  for (const c of chunks) out.push(...s.push(typeof c === "string" ? Buffer.from(c, "utf8") : c));
  return out;
}

function bytewise(text: string): Buffer[] {
  const b = Buffer.from(text, "utf8");
  return Array.from(b, (byte) => Buffer.from([byte]));
}

const tricky: Json[] = [
  { id: 1, method: "echo", params: [] },
  { id: 2, result: [{ rows: [{ name: "a{b}c[d]e" }] }], error: null },
  { s: 'quote " inside', t: "backslash \\ inside", u: 'both \\" and \\\\', v: "\\" },
  { s: "}}}]]]", t: "{{{[[[", u: '"{"', w: '"}"' },
  [1, [2, [3, [4, []]]], { a: [{ b: [] }] }],
  { unicode: "br\u00fc\u{1F600}{", nl: "line\nbreak", tab: "\t" },
  { id: null, method: "update", params: [null, { Interface: { x: { new: { name: "vif5.0" } } } }] },
];

test("JsonSplitter yields both of two messages that arrive in one chunk", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ['{"id":1,"result":[]}{"id":2,"result":[{}]}']), [
    { id: 1, result: [] },
    { id: 2, result: [{}] },
  ]);
});

test("JsonSplitter yields every tricky message (brackets and escapes in strings) from one chunk", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, [tricky.map((m) => JSON.stringify(m)).join("")]), tricky);
});

test("JsonSplitter yields every tricky message fed in 1-byte chunks", () => {
  const s = new JsonSplitter();
  const out: Json[] = [];
  const text = tricky.map((m) => JSON.stringify(m)).join("");
  const chunks = bytewise(text);
  for (let i = 0; i < chunks.length; i++) {
    const got = s.push(chunks[i]!);
    out.push(...got);
  }
  assert.equal(out, tricky);
});

test("JsonSplitter emits a message exactly when its last byte arrives", () => {
  const s = new JsonSplitter();
  const text = '{"a":"}","b":["]"]}';
  const chunks = bytewise(text);
  for (let i = 0; i < chunks.length - 1; i++) assert.equal(s.push(chunks[i]!), [], `byte ${i}`);
  assert.equal(s.push(chunks[chunks.length - 1]!), [{ a: "}", b: ["]"] }]);
});

test("JsonSplitter gives the same messages wherever a two-message stream is cut", () => {
  const text = '{"x":"a\\"b{"} \n[1,{"y":"\\\\"}]';
  const want: Json[] = [{ x: 'a"b{' }, [1, { y: "\\" }]];
  const b = Buffer.from(text);
  for (let cut = 0; cut <= b.length; cut++) {
    const s = new JsonSplitter();
    assert.equal(pushAll(s, [b.subarray(0, cut), b.subarray(cut)]), want, `cut at ${cut}`);
  }
});

test("JsonSplitter reassembles a multibyte UTF-8 character split across chunks", () => {
  const text = JSON.stringify({ name: "\u00e9\u{1F600}" });
  const s = new JsonSplitter();
  assert.equal(pushAll(s, bytewise(text)), [{ name: "\u00e9\u{1F600}" }]);
});

test("JsonSplitter keeps an escape across chunks cut at the backslash", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ['{"a":"x\\', '"}', '"}']), [{ a: 'x"}' }]);
  const s2 = new JsonSplitter();
  // An escaped backslash ends the escape: the next quote closes the string.
  assert.equal(pushAll(s2, ['{"a":"x\\', "\\", '"}']), [{ a: "x\\" }]);
});

test("JsonSplitter skips whitespace and newlines between (and around) messages", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ["  \n", '{"a":1}\r\n\t ', " ", '\n{"b":\n[ 2 ,\n3 ]}\n', "  "]), [{ a: 1 }, { b: [2, 3] }]);
  assert.equal(pushAll(s, ['{"c":3}']), [{ c: 3 }]);
});

test("JsonSplitter carries its state over many pushes (partial, complete + partial, complete)", () => {
  const s = new JsonSplitter();
  assert.equal(s.push(Buffer.from('{"a":')), []);
  assert.equal(s.push(Buffer.from('1}{"b":[')), [{ a: 1 }]);
  assert.equal(s.push(Buffer.from("2]")), []);
  assert.equal(s.push(Buffer.from('}  {"c"')), [{ b: [2] }]);
  assert.equal(s.push(Buffer.from(':"}"}')), [{ c: "}" }]);
  assert.equal(s.push(Buffer.alloc(0)), []);
});

test("JsonSplitter yields nested arrays as top-level messages", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ["[[[]]][[1],[2,[3]]]", "[]"]), [[[[]]], [[1], [2, [3]]], []]);
});

test("JsonSplitter throws on an unbalanced closing bracket", () => {
  assert.throws(() => new JsonSplitter().push(Buffer.from("}")), /unbalanced/);
  assert.throws(() => new JsonSplitter().push(Buffer.from("]")), /unbalanced/);
  assert.throws(() => new JsonSplitter().push(Buffer.from('{"a":1}}')), /unbalanced/);
  const s = new JsonSplitter();
  assert.equal(s.push(Buffer.from('{"a":[1]}')), [{ a: [1] }]);
  assert.throws(() => s.push(Buffer.from("]")), /unbalanced/);
});

test("JsonSplitter does not count a closing bracket inside a string", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ['{"a":"]}]}"}']), [{ a: "]}]}" }]);
});

test("JsonSplitter does not take a }{ inside a string for the end of a message", () => {
  const s = new JsonSplitter();
  assert.equal(pushAll(s, ['{"a":"}{"}{"b":"x}{y"}']), [{ a: "}{" }, { b: "x}{y" }]);
});

test("JsonSplitter waits for the rest of a message whose chunk ends with an inner closing brace", () => {
  const s = new JsonSplitter();
  assert.equal(s.push(Buffer.from('{"a":{"b":1}')), []);
  assert.equal(s.push(Buffer.from('}{"c":{}}')), [{ a: { b: 1 } }, { c: {} }]);
  assert.equal(s.push(Buffer.from('{"d":2}')), [{ d: 2 }]);
});

test("JsonSplitter copies a chunk: the caller may reuse its memory", () => {
  const s = new JsonSplitter();
  const chunk = Buffer.from('{"a":"xy');
  assert.equal(s.push(chunk), []);
  chunk.fill(0x20);
  assert.equal(s.push(Buffer.from('z"}')), [{ a: "xyz" }]);
});

test.run();
