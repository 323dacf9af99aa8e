// Forged and legitimate frames between pretend VMs (network namespaces),
// counted where they arrive: test/harness/forge.py sends N frames of a
// kind from one namespace, then a fence frame from the same port; a counter
// bound in the other namespace before anything is sent counts the marked
// frames until the fence arrives. OVS handles one port's frames in order,
// so every counted frame was forwarded or dropped before the fence came:
// a count cannot miss a late frame, and no sleep is guessed.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { sh } from "./proc.ts";

export const FORGE = join(import.meta.dirname, "forge.py");
const PYTHON = "/usr/bin/python3";

/** A namespace and the device in it. */
export interface Endpoint {
  ns: string;
  dev: string;
}

/** What forge.py's frames are made of; see FRAMES there. */
export interface FrameSpec {
  kind: string;
  src_mac: string;
  src_ip: string;
  src_ip6?: string;
  vlan?: number;
  spoof_mac?: string;
  spoof_ip?: string;
  spoof_ip6?: string;
  victim_ip?: string;
  victim_mac?: string;
  victim_ip6?: string;
}

export interface Delivery {
  sent: number;
  delivered: number;
}

/** forge.py in a namespace, as a child: `signalled` once it printed
 * `signal` on its first line, `result` its last line's JSON at exit. */
function forgeChild<T>(
  at: Endpoint,
  args: string[],
  signal: string,
  what: string,
): { signalled: Promise<void>; result: Promise<T>; stdin: NodeJS.WritableStream } {
  const child = spawn("ip", ["netns", "exec", at.ns, PYTHON, FORGE, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let onSignal: () => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const signalled = new Promise<void>((resolve, reject) => {
    onSignal = resolve;
    onFail = reject;
  });
  const result = new Promise<T>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.startsWith(`${signal}\n`)) onSignal();
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => {
      onFail(e);
      reject(e);
    });
    child.on("close", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !last.startsWith("{")) {
        const e = new Error(`${what} on ${at.ns}/${at.dev} failed (exit ${code}): ${err.trim() || out.trim()}`);
        onFail(e);
        reject(e);
        return;
      }
      resolve(JSON.parse(last) as T);
    });
  });
  result.catch(() => undefined);
  return { signalled, result, stdin: child.stdin };
}

/** Starts a counter of frames containing `marker` on `at`, until one with
 * `fence` arrives; resolves `ready` once it is bound. */
export function startCounter(
  at: Endpoint,
  marker: string,
  fence: string,
  seconds = 10,
): { ready: Promise<void>; done: Promise<{ count: number; fence: boolean }> } {
  const c = forgeChild<{ count: number; fence: boolean }>(at, ["count", at.dev, marker, fence, String(seconds)], "ready", "counter");
  c.stdin.end();
  return { ready: c.signalled, done: c.result };
}

/** Sends `spec` frames from `from` (no fence when fence is undefined). */
export async function sendFrames(
  from: Endpoint,
  spec: FrameSpec & { count: number; marker: string; fence?: string; fence_mac?: string; fence_ip?: string; fence_kind?: string },
): Promise<void> {
  const r = await sh("ip", ["netns", "exec", from.ns, PYTHON, FORGE, "send", from.dev, JSON.stringify(spec)], { timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`forge.py send ${spec.kind} from ${from.ns}: ${r.stderr.trim()}`);
}

/** Sends `n` frames of `spec` from `from` and counts how many reach `to`;
 * the fence goes from `fenceFrom` (the port's own MAC and address, and a
 * kind the filter passes) when the counted frames use others. */
export async function delivered(
  from: Endpoint,
  to: Endpoint,
  spec: FrameSpec,
  n: number,
  fenceFrom?: { mac: string; ip: string; kind?: string },
): Promise<Delivery> {
  const marker = randomBytes(12).toString("hex");
  const fence = randomBytes(12).toString("hex");
  const counter = startCounter(to, marker, fence);
  await counter.ready;
  await sendFrames(from, {
    ...spec,
    count: n,
    marker,
    fence,
    ...(fenceFrom ? { fence_mac: fenceFrom.mac, fence_ip: fenceFrom.ip, fence_kind: fenceFrom.kind ?? "udp4" } : {}),
  });
  const r = await counter.done;
  if (!r.fence)
    throw new Error(`${spec.kind} from ${from.ns} to ${to.ns}: the fence frame never arrived (${r.count} of ${n} counted); the count would be a guess`);
  return { sent: n, delivered: r.count };
}

/** Counts frames containing `marker` that reach `to` while `act` runs,
 * closed by a fence frame (a legitimate udp4 of `fenceSpec`) from `from`. */
export async function countDuring(from: Endpoint, to: Endpoint, marker: string, fenceSpec: FrameSpec, act: () => Promise<void>): Promise<number> {
  const fence = randomBytes(12).toString("hex");
  const counter = startCounter(to, marker, fence, 20);
  await counter.ready;
  await act();
  await sendFrames(from, { ...fenceSpec, kind: "udp4", count: 0, marker: fence, fence });
  const r = await counter.done;
  if (!r.fence) throw new Error(`counting at ${to.ns}: the fence frame never arrived (${r.count} counted)`);
  return r.count;
}

/** Sends `spec` frames from `from` every millisecond until stop(); resolves
 * `started` after the first; stop() gives the number sent. */
export function flood(from: Endpoint, spec: FrameSpec & { marker: string }): { started: Promise<void>; stop(): Promise<number> } {
  const c = forgeChild<{ sent: number }>(from, ["flood", from.dev, JSON.stringify(spec)], "started", "flood");
  return {
    started: c.signalled,
    stop: async () => {
      c.stdin.end();
      return (await c.result).sent;
    },
  };
}
