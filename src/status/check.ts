// One line of doctor: a check, its verdict and what to do about it.
export type Verdict = "ok" | "warn" | "fail";

export interface Check {
  check: string;
  result: Verdict;
  detail: string;
  /** What to do about it (warn, fail). */
  hint?: string;
}
