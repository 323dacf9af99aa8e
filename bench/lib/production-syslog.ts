// Syslog as production has it: a datagram socket at /dev/log read by a daemon,
// here the bench's receiver, bound over /dev/log inside the private mount
// namespace (created in a private overlay of /dev when the host has none).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { must } from "../../test/harness/proc.ts";
import { mountsBelow } from "./namespaces.ts";
import { startSyslogReceiver, type SyslogReceiver } from "./syslog-receiver.ts";

export interface DevLog {
  note: string;
  undo(): void;
}

/**
 * Makes /dev/log this socket, in the current (private!) mount namespace: a
 * bind mount over an existing /dev/log; where the host has none, /dev is first
 * covered by an overlay whose upper layer is a temp dir (its submounts moved
 * onto it), so the mount point is created there, not in the host's /dev.
 */
export async function installDevLog(socketPath: string, tmp: string, privateNamespace: boolean): Promise<DevLog> {
  if (!privateNamespace) throw new Error("/dev/log is only replaced inside the bench's private mount namespace");
  const undo: (() => void)[] = [];
  let how: string;
  if (existsSync("/dev/log")) {
    how = "bind-mounted over the existing /dev/log";
  } else {
    const layer = mkdtempSync(join(tmp, "dev-overlay-"));
    mkdirSync(join(layer, "upper"));
    mkdirSync(join(layer, "work"));
    // Submounts (pts, shm, ...) would be hidden by the overlay: move them aside, then onto it.
    const subs = mountsBelow("/dev");
    const parked = mkdtempSync(join(tmpdir(), "ovs-vif-bench-devsubs-"));
    for (const [i, p] of subs.entries()) {
      mkdirSync(join(parked, String(i)));
      await must("mount", ["--move", p, join(parked, String(i))]);
    }
    await must("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=/dev,upperdir=${join(layer, "upper")},workdir=${join(layer, "work")}`, "/dev"]);
    for (const [i, p] of subs.entries()) await must("mount", ["--move", join(parked, String(i)), p]);
    subs.forEach((_, i) => rmdirSync(join(parked, String(i))));
    rmdirSync(parked);
    writeFileSync("/dev/log", ""); // lands in the overlay's upper layer (temp dir)
    undo.push(() => spawnSync("umount", ["-l", "/dev"]));
    how = `/dev had no log: /dev is overlaid (upper layer a temp dir, ${subs.length} submounts moved onto it) and a mount point made there`;
  }
  await must("mount", ["--bind", socketPath, "/dev/log"]);
  undo.unshift(() => spawnSync("umount", ["/dev/log"]));
  return {
    note: `/dev/log: a private syslog receiver's socket, ${how}, in the bench's private mount namespace (host /dev untouched)`,
    undo: () => undo.forEach((f) => f()),
  };
}

/** net.unix.max_dgram_qlen of this (private) network namespace: Debian's systemd sets 512, the kernel default is 10. */
export function setDgramQueueLength(n: number): void {
  writeFileSync("/proc/sys/net/unix/max_dgram_qlen", `${n}\n`);
}

export interface ProductionSyslog {
  receiver: SyslogReceiver;
  notes: string[];
  stop(): void;
}

/** Production syslog inside the private namespaces: queue length as Debian sets it, a receiver, /dev/log bound to it. */
export async function productionSyslog(tmp: string, privateNamespace: boolean): Promise<ProductionSyslog> {
  setDgramQueueLength(512);
  const receiver = await startSyslogReceiver(tmp, "dgram");
  let dev: DevLog;
  try {
    dev = await installDevLog(receiver.path, tmp, privateNamespace);
  } catch (err) {
    receiver.stop();
    throw err;
  }
  return {
    receiver,
    notes: [dev.note, "net.unix.max_dgram_qlen=512 in the bench's network namespace (as Debian's systemd sets it; the kernel default is 10)"],
    stop: () => {
      dev.undo();
      receiver.stop();
    },
  };
}
