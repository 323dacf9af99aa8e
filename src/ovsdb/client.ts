// A small OVSDB JSON-RPC client (RFC 7047) over a unix or tcp stream socket.
// Only what ovs-vif needs: transact, monitor updates, and answering the
// server's echo probes (ovsdb-server drops clients that do not answer).
import { OvsdbError } from "../errors.ts";
import { checkSslFiles, type Endpoint } from "../remote.ts";
import { ConnectError, openStream, type Stream, type StreamTarget } from "../stream.ts";
import { JsonSplitter } from "./json-stream.ts";

import type { Json, OperationResult } from "./json.ts";

export type { Json, OperationResult, Row } from "./json.ts";

export type { Endpoint } from "../remote.ts";
export { parseRemote, resolveEndpoint } from "../remote.ts";

/** An RPC error as ovsdb-server sends it ({"error": "unknown database",
 * "details": "...", "syntax": the whole request}): its words, not the
 * request echoed back. */
function rpcError(error: Json): string {
  if (error !== null && typeof error === "object" && !Array.isArray(error) && typeof error.error === "string") {
    return typeof error.details === "string" && error.details !== "" ? `${error.error}: ${error.details}` : error.error;
  }
  return JSON.stringify(error);
}

interface Pending {
  resolve: (value: Json) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  method: string;
}

export type UpdateHandler = (monitorId: Json, update: Json) => void;

export class OvsdbClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new JsonSplitter();
  private closedError: Error | undefined;
  onUpdate: UpdateHandler | undefined;

  private socket!: Stream;

  private constructor(
    readonly endpoint: Endpoint,
    readonly database: string,
  ) {}

  static async connect(endpoint: Endpoint, timeoutMs: number, database = "Open_vSwitch"): Promise<OvsdbClient> {
    const client = new OvsdbClient(endpoint, database);
    let target: StreamTarget;
    if (endpoint.kind === "unix") target = { path: endpoint.path! };
    else target = { host: endpoint.host!, port: endpoint.port! };
    if (endpoint.ssl) {
      // Checked where the remote was read (naming its file); here only when a caller built it itself.
      if (!endpoint.ssl.pem) checkSslFiles(endpoint, { privateKey: "private key", certificate: "certificate", caCert: "CA certificate" });
      const pem = endpoint.ssl.pem!;
      target.tls = { key: pem.key, cert: pem.cert, ca: pem.ca };
    }
    try {
      client.socket = await openStream(target, timeoutMs, {
        data: (chunk) => client.receive(chunk),
        end: (code, message) =>
          client.fail(
            new OvsdbError(
              code === "ECONNRESET" ? "closed" : "socket",
              code === "ECONNRESET" ? `OVSDB ${endpoint.text}: connection closed by the server` : `OVSDB ${endpoint.text}: ${message}`,
            ),
          ),
      });
    } catch (err) {
      if (err instanceof ConnectError && err.code === "ETIMEDOUT")
        throw new OvsdbError("timeout", `OVSDB ${endpoint.text}: no connection within ${timeoutMs} ms`);
      const code = err instanceof ConnectError ? err.code : (err as Error).message;
      if (code === "ETLS") throw new OvsdbError("connect", `OVSDB ${endpoint.text}: ${(err as Error).message}`, { cause: err });
      const hint = code === "ENOENT" || code === "ECONNREFUSED" ? " (is ovsdb-server running?)" : "";
      throw new OvsdbError("connect", `OVSDB ${endpoint.text}: ${code}${hint}`);
    }
    return client;
  }

  /** Sends one JSON-RPC request and resolves with its result. */
  request(method: string, params: Json[], timeoutMs: number): Promise<Json> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OvsdbError("timeout", `OVSDB ${this.endpoint.text}: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, method });
      this.socket.write(JSON.stringify({ id, method, params }));
    });
  }

  /** Runs one transaction; resolves with the per-operation results. Errors
   * in the results are for the caller to interpret (see checkResults). */
  async transact(ops: Json[], timeoutMs: number): Promise<OperationResult[]> {
    const result = await this.request("transact", [this.database, ...ops], timeoutMs);
    if (!Array.isArray(result)) throw new OvsdbError("protocol", `OVSDB ${this.endpoint.text}: transact returned ${JSON.stringify(result)}`);
    return result as OperationResult[];
  }

  close(): void {
    this.closedError ??= new OvsdbError("closed", `OVSDB ${this.endpoint.text}: connection closed`);
    this.socket.close();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.closedError);
      this.pending.delete(id);
    }
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private receive(chunk: Uint8Array): void {
    let messages: Json[];
    try {
      messages = this.splitter.push(chunk);
    } catch (err) {
      this.fail(new OvsdbError("protocol", `OVSDB ${this.endpoint.text}: ${(err as Error).message}`, { cause: err }));
      this.socket.close();
      return;
    }
    for (const msg of messages) this.dispatch(msg);
  }

  private dispatch(msg: Json): void {
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) return;
    const method = msg.method;
    if (typeof method === "string") {
      if (method === "echo" && msg.id !== undefined && msg.id !== null) {
        this.socket.write(JSON.stringify({ id: msg.id, result: msg.params ?? [], error: null }));
      } else if (method === "update" && Array.isArray(msg.params)) {
        this.onUpdate?.(msg.params[0] ?? null, msg.params[1] ?? null);
      }
      return;
    }
    if (typeof msg.id !== "number") return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error !== null && msg.error !== undefined) {
      p.reject(new OvsdbError("rpc", `OVSDB ${this.endpoint.text}: ${p.method} failed: ${rpcError(msg.error)}`, { details: msg.error }));
    } else {
      p.resolve(msg.result ?? null);
    }
  }
}
