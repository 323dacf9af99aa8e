// OVSDB's JSON encoding of column values (src/ovsdb/values.ts, RFC 7047
// section 5.1): building sets, maps and uuids, and reading them back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OvsdbError } from "../../src/errors.ts";
import { map, mapEntries, namedUuid, optional, optionalAtom, set, setItems, uuid, uuidOf } from "../../src/ovsdb/values.ts";

test("uuid, namedUuid and set build OVSDB's tagged arrays", () => {
  assert.equal(uuid("b-1"), ["uuid", "b-1"]);
  assert.equal(namedUuid("port"), ["named-uuid", "port"]);
  assert.equal(set([10, 20]), ["set", [10, 20]]);
  assert.equal(set([]), ["set", []]);
});

test("map writes its entries sorted by key (so equal maps encode equally)", () => {
  assert.equal(map({ z: "1", a: "2", m: "3" }), [
    "map",
    [
      ["a", "2"],
      ["m", "3"],
      ["z", "1"],
    ],
  ]);
  assert.equal(map({}), ["map", []]);
});

test("optional: an absent value is the empty set, a present one is the bare atom", () => {
  assert.equal(optional(undefined), ["set", []]);
  assert.is(optional(3), 3);
  assert.is(optional(0), 0);
});

test("setItems reads a set column: a bare atom is a one-element set, nothing is empty", () => {
  assert.equal(setItems(["set", [1, 2]]), [1, 2]);
  assert.equal(setItems(7), [7]);
  assert.equal(setItems(["set", []]), []);
  assert.equal(setItems(undefined), []);
});

test("optionalAtom reads an optional scalar: undefined for the empty set", () => {
  assert.is(optionalAtom(["set", []]), undefined);
  assert.is(optionalAtom(3), 3);
  assert.is(optionalAtom(["set", ["secure"]]), "secure");
});

test("mapEntries reads a map column and ignores anything that is not a string pair", () => {
  assert.equal(
    mapEntries([
      "map",
      [
        ["a", "1"],
        ["b", "2"],
      ],
    ]),
    { a: "1", b: "2" },
  );
  assert.equal(mapEntries(["map", [["a", 1], ["b"], "c", ["d", "4"]]]), { d: "4" });
  assert.equal(mapEntries(["set", []]), {});
  assert.equal(mapEntries(undefined), {});
  // Round trip.
  assert.equal(mapEntries(map({ y: "1", x: "2" })), { x: "2", y: "1" });
});

test("uuidOf returns the uuid string and refuses anything else as a protocol error", () => {
  assert.is(uuidOf(["uuid", "p-1"]), "p-1");
  for (const bad of [undefined, "p-1", ["named-uuid", "p"], ["uuid", 5], ["set", []]]) {
    assert.throws(
      () => uuidOf(bad as never),
      (err: unknown) => err instanceof OvsdbError && err.kind === "protocol",
      JSON.stringify(bad),
    );
  }
});

test.run();
