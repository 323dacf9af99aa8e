// Typed errors. Every error carries what it is about (a field and the
// offending value, or the OVSDB/device cause); the text shown to the operator
// is formatted once, at the edge (formatError), as one line.

/** Bad input: a field (a parameter, an environment variable, a xenstore key)
 * holds a value that cannot be used. Nothing has been changed. */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field} ${JSON.stringify(value)}: ${reason}`);
  }
}

/** OVSDB could not be reached, answered with an error, or timed out. */
export class OvsdbError extends Error {
  override readonly name = "OvsdbError";
  constructor(
    readonly cause_: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A precondition in the database does not hold (e.g. the bridge is missing). */
export class StateError extends Error {
  override readonly name = "StateError";
  constructor(
    readonly field: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${field} ${JSON.stringify(value)}: ${reason}`);
  }
}

/** ovs-vswitchd could not attach the device (Interface ofport -1 / error). */
export class DeviceError extends Error {
  override readonly name = "DeviceError";
  constructor(
    readonly device: string,
    reason: string,
  ) {
    super(`device ${JSON.stringify(device)}: ${reason}`);
  }
}

export function formatError(err: unknown): string {
  if (err instanceof Error) {
    const text = err.message;
    return text.replace(/\s*\n\s*/g, " ").trim();
  }
  return String(err);
}
