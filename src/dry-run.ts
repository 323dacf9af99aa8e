// A dry run: every change a run would make is printed instead of made, by
// the one place that would make it (an OVSDB transaction by the OVSDB
// writer, ip/bridge commands by the step runner, the rest by the caller
// that owns it), so no module has a second code path for it.
export interface DryRun {
  /** One planned change, as text (a line, or several). */
  print(text: string): void;
}

/** How a dry run shows a transaction: the request that would be sent, on one line. */
export function formatTransaction(database: string, ops: unknown[]): string {
  return JSON.stringify({ method: "transact", params: [database, ...ops] });
}
