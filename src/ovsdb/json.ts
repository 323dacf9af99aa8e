// The JSON values of OVSDB's protocol (RFC 7047).
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Row = Record<string, Json>;

/** One entry of a transact result: per operation, or a trailing commit error. */
export interface OperationResult {
  rows?: Row[];
  uuid?: [string, string];
  count?: number;
  error?: string;
  details?: string;
}
