// A byte stream to a local daemon (ovsdb-server, xenstored): Bun's own
// sockets when running on Bun, node:net elsewhere. In the compiled binary,
// importing node:net and its first connect cost ~4 ms; Bun.connect ~0.4 ms.

export interface StreamTarget {
  path?: string;
  host?: string;
  port?: number;
  /** TLS with a client certificate (PEM texts), as OVSDB's ssl: remotes use. */
  tls?: { key: string; cert: string; ca: string };
}

export interface StreamEvents {
  data(chunk: Uint8Array): void;
  /** The stream ended or failed; `code` is an errno name. */
  end(code: string, message: string): void;
}

export interface Stream {
  write(data: string | Uint8Array): void;
  close(): void;
  /** Keep the process alive only while something is awaited. */
  ref(): void;
  unref(): void;
}

export class ConnectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function describe(target: StreamTarget): string {
  return target.path ?? `${target.host}:${target.port}`;
}

function errCode(err: unknown, fallback: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : fallback;
}

/** A failed handshake in our words (the runtime's message names neither
 * the CA nor what to look at); OpenSSL's verify code kept in parentheses. */
export function tlsProblem(error: { code?: string; message?: string } | null | undefined): string {
  const code = typeof error?.code === "string" ? error.code : "";
  const shown = code && !code.startsWith("ERR_") ? ` (${code})` : "";
  if (code === "CERT_HAS_EXPIRED") return `the server's certificate has expired${shown}`;
  if (code === "CERT_NOT_YET_VALID") return `the server's certificate is not valid yet${shown}`;
  if (/CERT|ISSUER|SIGNATURE|UNABLE_TO_VERIFY/.test(code)) return `the server's certificate does not verify against the CA certificate${shown}`;
  if (code === "ECONNRESET" || /disconnected|socket hang up|reset/i.test(error?.message ?? ""))
    return "the server closed the connection during the handshake (no TLS there, or it refused this client's certificate)";
  return `the handshake failed${shown}`;
}

export function openStream(target: StreamTarget, timeoutMs: number, events: StreamEvents): Promise<Stream> {
  return typeof Bun !== "undefined" ? openBunStream(target, timeoutMs, events) : openNodeStream(target, timeoutMs, events);
}

async function openBunStream(target: StreamTarget, timeoutMs: number, events: StreamEvents): Promise<Stream> {
  const bun = Bun!;
  const queue: Uint8Array[] = [];
  let ended = false;
  const finish = (code: string, message: string) => {
    if (ended) return;
    ended = true;
    events.end(code, message);
  };
  const flush = (s: BunSocket) => {
    while (queue.length > 0) {
      const head = queue[0]!;
      const n = s.write(head);
      if (n < head.length) {
        queue[0] = head.subarray(Math.max(n, 0));
        return;
      }
      queue.shift();
    }
  };
  const handlers: BunSocketHandlers = {
    data: (_s, chunk) => events.data(chunk),
    drain: (s) => flush(s),
    close: (_s, error) => finish(error ? errCode(error, "EIO") : "ECONNRESET", `${describe(target)}: ${error ? error.message : "connection closed"}`),
    end: () => finish("ECONNRESET", `${describe(target)}: connection closed by the peer`),
    error: (_s, error) => finish(errCode(error, "EIO"), `${describe(target)}: ${error.message}`),
  };
  // OVSDB's SSL checks the peer's certificate against the CA, not its name
  // (OVS certificates name no host): the chain is verified here, not the name.
  let handshaken: Promise<void> | undefined;
  if (target.tls) {
    handshaken = new Promise<void>((resolve, reject) => {
      handlers.handshake = (_s, ok, error) => {
        if (ok || error?.code === "ERR_TLS_CERT_ALTNAME_INVALID") resolve();
        else reject(new ConnectError("ETLS", `TLS: ${tlsProblem(error)}`));
      };
    });
    handshaken.catch(() => undefined);
  }
  const options =
    target.path !== undefined
      ? { unix: target.path, socket: handlers }
      : { hostname: target.host!, port: target.port!, socket: handlers, ...(target.tls ? { tls: { ...target.tls, rejectUnauthorized: false } } : {}) };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = bun.connect(options);
  const socket = await Promise.race([
    connecting,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        connecting.then(
          (s) => s.terminate(),
          () => undefined,
        );
        reject(new ConnectError("ETIMEDOUT", `${describe(target)}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
    }),
  ])
    .catch((err: unknown) => {
      if (err instanceof ConnectError) throw err;
      throw new ConnectError(errCode(err, "EIO"), `${describe(target)}: ${errCode(err, (err as Error).message)}`);
    })
    .finally(() => clearTimeout(timer));
  if (handshaken) {
    let hsTimer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      hsTimer = setTimeout(() => reject(new ConnectError("ETIMEDOUT", `${describe(target)}: no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    });
    late.catch(() => undefined);
    await Promise.race([handshaken, late])
      .catch((err: unknown) => {
        socket.terminate();
        throw err;
      })
      .finally(() => clearTimeout(hsTimer));
  }
  const encoder = new TextEncoder();
  return {
    write: (data) => {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      if (queue.length === 0) {
        const n = socket.write(bytes);
        if (n >= bytes.length) return;
        queue.push(bytes.subarray(Math.max(n, 0)));
      } else {
        queue.push(bytes);
      }
    },
    close: () => {
      ended = true;
      socket.terminate();
    },
    ref: () => socket.ref(),
    unref: () => socket.unref(),
  };
}

async function openNodeStream(target: StreamTarget, timeoutMs: number, events: StreamEvents): Promise<Stream> {
  const { connect } = await import("node:net");
  const tls = target.tls ? await import("node:tls") : undefined;
  return new Promise<Stream>((resolve, reject) => {
    const sock =
      target.path !== undefined
        ? connect({ path: target.path })
        : tls && target.tls
          ? tls.connect({
              host: target.host!,
              port: target.port!,
              key: target.tls.key,
              cert: target.tls.cert,
              ca: target.tls.ca,
              checkServerIdentity: () => undefined,
            })
          : connect({ host: target.host!, port: target.port! });
    let ended = false;
    const finish = (code: string, message: string) => {
      if (ended) return;
      ended = true;
      events.end(code, message);
    };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ConnectError("ETIMEDOUT", `${describe(target)}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new ConnectError(errCode(err, "EIO"), `${describe(target)}: ${errCode(err, err.message)}`));
    };
    sock.once("error", onError);
    sock.once(target.tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      sock.removeListener("error", onError);
      sock.on("data", (chunk: Buffer) => events.data(chunk));
      sock.on("error", (err) => finish(errCode(err, "EIO"), `${describe(target)}: ${err.message}`));
      sock.on("close", () => finish("ECONNRESET", `${describe(target)}: connection closed`));
      resolve({
        write: (data) => void sock.write(data),
        close: () => {
          ended = true;
          sock.destroy();
        },
        ref: () => void sock.ref(),
        unref: () => void sock.unref(),
      });
    });
  });
}
