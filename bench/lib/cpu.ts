// CPU time of a daemon (all its threads) and of this process's children, for the boot storm.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

export interface CpuSample {
  /** utime + stime from /proc/PID/stat, ms (CLK_TCK resolution). */
  statMs: number;
  /** Sum of /proc/PID/task/*\/schedstat on-CPU time, ms (ns resolution; threads alive at the sample). */
  schedMs: number;
}

export function cpuSample(pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields after "(comm)": state=3 ... utime=14 stime=15 (1-based in proc(5)) -> index 11, 12 here
  const statMs = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  let schedNs = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      schedNs += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread gone
    }
  }
  return { statMs, schedMs: schedNs / 1e6 };
}

/** CPU time (utime + stime, ms) of this process's waited-for children: the hooks and everything they ran. */
export function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
}

export function readPidFile(path: string): number {
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!(pid > 0)) throw new Error(`no pid in ${path}`);
  return pid;
}
