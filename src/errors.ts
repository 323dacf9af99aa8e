// Typed errors. Every error carries what it is about (a field and the
// offending value, the OVSDB or device cause, the command that failed); the
// text shown to the operator is built once, at the edge (src/cli/runner.ts
// with formatError), as one line.

/** Bad input: a field (a parameter, an environment variable, a xenstore key,
 * a file and the path inside it) holds a value that cannot be used. Nothing
 * has been changed. */
export class InputError extends Error {
  override readonly name: string = "InputError";
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field} ${JSON.stringify(value)}: ${reason}`);
  }
}

/** A command line of the wrong shape: an unknown option, an option without
 * its value, a surplus or missing argument. Exit code 2. */
export class UsageError extends InputError {
  override readonly name = "UsageError";
}

/** A precondition on the system does not hold (the bridge is missing, the
 * device does not exist). Nothing has been changed. */
export class StateError extends Error {
  override readonly name = "StateError";
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field} ${JSON.stringify(value)}: ${reason}`);
  }

  /** The same condition, named by another field (the caller's name for it). */
  renamed(field: string): StateError {
    return new StateError(field, this.value, this.reason);
  }
}

export type OvsdbErrorKind = "endpoint" | "connect" | "timeout" | "socket" | "closed" | "transaction" | "protocol" | "rpc" | "vswitchd";

/** OVSDB could not be reached, answered with an error, or timed out; or
 * ovs-vswitchd did not apply a committed change in time (kind "vswitchd"). */
export class OvsdbError extends Error {
  override readonly name = "OvsdbError";
  readonly details: unknown;
  constructor(
    readonly kind: OvsdbErrorKind,
    message: string,
    opts: { details?: unknown; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.details = opts.details;
  }
}

/** ovs-vswitchd could not attach the device (Interface ofport -1 / error). */
export class DeviceError extends Error {
  override readonly name = "DeviceError";
  constructor(
    readonly device: string,
    readonly reason: string,
  ) {
    super(`device ${JSON.stringify(device)}: ${reason}`);
  }
}

/** A command that failed: what ran, its exit code and the tail of its output. */
export class CommandError extends Error {
  override readonly name = "CommandError";
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly output: string,
  ) {
    super(`${command} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ""}${output ? `: ${output}` : ""}`);
  }
}

/** Output of the Ganeti CLI that ovs-vif cannot read. */
export class GanetiOutputError extends Error {
  override readonly name = "GanetiOutputError";
  constructor(
    readonly what: string,
    readonly text: string,
    readonly reason: string,
  ) {
    super(`cannot read ${what} ${JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text)}: ${reason}`);
  }
}

/** A step failed after its OVSDB transaction was committed. `state` says
 * what the database holds now: the change rolled back, or still committed
 * (when even the rollback could not be done). */
export class AfterCommitError extends Error {
  override readonly name = "AfterCommitError";
  constructor(
    override readonly cause: Error,
    readonly state: "rolled back" | "committed",
    readonly detail: string,
  ) {
    super(`${cause.message}; ${state}: ${detail}`, { cause });
  }
}

// Characters that must never reach a terminal, a log or xenstore as they
// are: C0 controls (a \r returns to the start of the line and hides what
// came before it, an ESC starts a terminal sequence), DEL, C1 controls, the
// Unicode line and paragraph separators, and the bidirectional controls
// (which reorder what is shown).
// eslint-disable-next-line no-control-regex
export const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const CONTROL = new RegExp(CONTROL_CHAR.source, "g");
const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character written as an escape: \n, \r, \t,
 * \xHH below 0x100, \uXXXX above. Text without any comes back as it is. */
export function escapeControls(text: string): string {
  if (!CONTROL.test(text)) return text;
  CONTROL.lastIndex = 0;
  return text.replace(CONTROL, (ch) => {
    const code = ch.charCodeAt(0);
    return SHORT[ch] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
}

/** One line: the message trimmed, every control character in it escaped
 * (a value a caller put in as it was typed included), so it is one line on
 * stderr, in the logs and in xenstore's hotplug-error. */
export function formatError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return escapeControls(text.trim());
}

/** 2 for a command line of the wrong shape, 1 for everything else. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? 2 : 1;
}
