// The time budget of one run: every step (connects, transactions, waits,
// commands) takes what is left of it, so a hook never outlives --timeout.
export class Deadline {
  readonly end: number;
  constructor(readonly totalMs: number) {
    this.end = Date.now() + totalMs;
  }
  /** Milliseconds left, at least 1 (a timer of 0 would fire at once). */
  left(): number {
    return Math.max(1, this.end - Date.now());
  }
}
