// Shared assertions for the unit tests: errors of bad input.
import * as assert from "uvu/assert";
import { InputError } from "../../src/errors.ts";

/** Runs `fn`, which must throw an InputError about `field` carrying the
 * whole `value`, with a message that names both and gives a reason. */
export function expectInputError(fn: () => unknown, field: string, value: string, reasonPattern?: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  const label = `${field} ${JSON.stringify(value)}`;
  if (!(caught instanceof InputError)) {
    assert.unreachable(`${label}: expected an InputError, got ${caught === undefined ? "no error" : String(caught)}`);
    throw new Error("unreachable");
  }
  assert.is(caught.name, "InputError", `${label}: name`);
  assert.is(caught.field, field, `${label}: field`);
  assert.is(caught.value, value, `${label}: value must be the whole offending string`);
  assert.ok(caught.reason.length > 0, `${label}: reason must not be empty`);
  assert.ok(caught.message.includes(field), `${label}: message ${JSON.stringify(caught.message)} names the field`);
  assert.ok(caught.message.includes(JSON.stringify(value)), `${label}: message ${JSON.stringify(caught.message)} names the value`);
  assert.ok(caught.message.includes(caught.reason), `${label}: message ${JSON.stringify(caught.message)} gives the reason`);
  if (reasonPattern) assert.match(caught.reason, reasonPattern, `${label}: reason`);
  return caught;
}

/** Runs `fn`, which must throw an InputError; returns it for callers that
 * pin down only part of it (the field, the reason, the message). */
export function catchInputError(fn: () => unknown, label: string): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    assert.unreachable(`${label}: expected an InputError, got ${String(err)}`);
  }
  assert.unreachable(`${label}: expected an InputError, got no error`);
  throw new Error("unreachable");
}
