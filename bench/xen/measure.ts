// bench/run.ts's measurement: every run verified (port security's flows
// included), then reset; warm-ups, timed rounds, cold runs, peak RSS, and the
// context (what launching a process costs).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { OvsHandle } from "../../test/harness/ovs.ts";
import type { XenVif } from "../../test/harness/xen-domain.ts";
import type { XenstoredHandle } from "../../test/harness/xenstore.ts";
import { COLD_RUNS, dropPageCache, startWatcher } from "../lib/cold.ts";
import { type BridgeMark, expectedFlows, portFlowCount, removeOfportFlows } from "../lib/port-security.ts";
import type { Samples } from "../lib/samples.ts";
import type { SpawnRecord } from "../lib/syslog-count.ts";
import { timedSpawn, type Run } from "../lib/timed-spawn.ts";
import { contenderEnv, inNamespace, type Contender } from "./contenders.ts";
import { RUNS, WARMUPS } from "./settings.ts";

/** The node under measurement and what the runs leave. */
export interface XenRig {
  ovs: OvsHandle;
  xs: XenstoredHandle;
  vif: XenVif;
  /** xen-hotplug.log, whose tail a failure shows. */
  logFile: string | undefined;
  samples: Samples;
  spawns: SpawnRecord[];
  problems: string[];
  /** sw1's port-security mark, set for the contenders with port security on. */
  mark: BridgeMark;
}

/** Untimed, before a run: the vif's ip key and the bridge's mark as the contender's node has them (the reset removed the key). */
async function prepare(rig: XenRig, c: Contender): Promise<void> {
  await rig.mark.set(c.ip !== undefined);
  if (c.ip !== undefined) await rig.xs.write(`${rig.vif.backend}/ip`, c.ip);
}

async function runIn(rig: XenRig, c: Contender): Promise<Run> {
  await prepare(rig, c);
  const run = await timedSpawn(...inNamespace(rig.ovs, c.file, c.args), contenderEnv(rig.ovs, rig.xs, rig.vif, c.env));
  rig.spawns.push({ key: c.key, start: run.start });
  return run;
}

/** Untimed oracle: the port is on sw1 with the VLANs of sw1.3:10:20, hotplug-status is connected. */
async function verify(rig: XenRig, c: Contender, run: Run): Promise<void> {
  const { ovs, xs, logFile } = rig;
  const { device: dev, mac: expectedMac, backend } = rig.vif;
  const fail = (why: string): never => {
    const tail = logFile && existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-8).join("\n") : "";
    throw new Error(`${c.label}: ${why}\n--- exit ${run.code}; stderr ---\n${run.stderr.trim()}${tail ? `\n--- xen-hotplug.log (tail) ---\n${tail}` : ""}`);
  };
  if (run.code !== 0) fail("non-zero exit");
  let out: string;
  try {
    out = await ovs.vsctl(
      "--no-wait",
      "--",
      "port-to-br",
      dev,
      "--",
      "get",
      "port",
      dev,
      "vlan_mode",
      "tag",
      "trunks",
      "--",
      "get",
      "interface",
      dev,
      "ofport",
      "external_ids:attached-mac",
    );
  } catch (err) {
    return fail(`port ${dev} not in OVSDB: ${(err as Error).message}`);
  }
  const [br, vlanMode, tag, trunks, ofport, mac] = out.trim().split("\n");
  if (br !== "sw1") fail(`port on ${br}, expected sw1`);
  if (tag !== "3" || trunks !== "[10, 20]") fail(`tag=${tag} trunks=${trunks}, expected 3 and [10, 20]`);
  if (c.ovsVif && vlanMode !== "native-untagged") fail(`vlan_mode=${vlanMode}, expected native-untagged`);
  if (mac?.replace(/"/g, "") !== expectedMac) fail(`external_ids:attached-mac=${mac}, expected ${expectedMac}`);
  if (c.waits && !(Number(ofport) > 0)) fail(`ofport=${ofport} after a waited attach`);
  const status = await xs.read(`${backend}/hotplug-status`);
  if (status !== "connected") fail(`hotplug-status=${status}`);
  // Port security: the port's flows are all in (on), or it has none (off).
  if (Number(ofport) > 0) {
    const want = c.ip !== undefined ? expectedFlows({ mac: { field: "mac", value: expectedMac }, ipv4: [{ field: "ip", value: c.ip }] }) : 0;
    const have = await portFlowCount(ovs, "sw1", Number(ofport));
    if (have !== want) fail(`${have} port-security flows under ofport ${ofport}'s cookie, expected ${want}`);
  }
}

/** Untimed reset, the same for every contender: what `offline` does (the port's flows go with it). */
async function reset(rig: XenRig): Promise<void> {
  const { device: dev, backend } = rig.vif;
  const ofport = Number((await rig.ovs.vsctl("--if-exists", "get", "interface", dev, "ofport", "--", "--if-exists", "del-port", dev)).trim());
  if (ofport > 0) await removeOfportFlows(rig.ovs, "sw1", ofport);
  await rig.xs.rm(`${backend}/ip`).catch(() => undefined);
  await rig.xs.rm(`${backend}/hotplug-status`).catch(() => undefined);
  await rig.xs.rm(`${backend}/hotplug-error`).catch(() => undefined);
  const r = await rig.ovs.inNs("ip", ["link", "set", "dev", dev, "down"]);
  if (r.code !== 0) throw new Error(`reset: ip link set ${dev} down: ${r.stderr.trim()}`);
}

/** One run timed, verified and recorded under KEY, then reset. */
async function timedOnline(rig: XenRig, c: Contender, key: string): Promise<void> {
  const run = await runIn(rig, c);
  await verify(rig, c, run);
  rig.samples.add(key, run.ms);
  await reset(rig);
}

/** Verified warm-ups (a stock script that fails them is never timed, a failing ovs-vif aborts), then timed rounds; returns the contenders still measured. */
export async function measurePhase(rig: XenRig, n: number, contenders: Contender[]): Promise<Contender[]> {
  let live = [...contenders];
  for (let w = 0; w < WARMUPS; w++) {
    for (const c of [...live]) {
      const run = await runIn(rig, c);
      try {
        await verify(rig, c, run);
      } catch (err) {
        if (c.ovsVif) throw err;
        rig.problems.push(`stock script failed its warm-up at ${n} ports, not timed: ${(err as Error).message}`);
        live = live.filter((x) => x !== c);
      }
      await reset(rig);
    }
  }
  // Timed, interleaved; the order flips every round (ABC CBA ...) so drift and
  // "who runs right after a reset" hit every contender alike.
  for (let i = 0; i < RUNS; i++) {
    for (const c of i % 2 === 0 ? live : [...live].reverse()) await timedOnline(rig, c, `${c.key}@${n}`);
  }
  return live;
}

/** Each run after the page cache was dropped (the order flips every round), timed as the warm ones. */
export async function coldPhase(rig: XenRig, n: number, contenders: Contender[]): Promise<void> {
  for (let i = 0; i < COLD_RUNS; i++) {
    for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
      dropPageCache();
      await timedOnline(rig, c, `cold-${c.key}@${n}`);
    }
  }
}

/** Cold runs of ovs-vif while `ovs-vif watch` keeps BINARY mapped, as ovs-vif-watch.service does on a node. */
export async function watchedColdPhase(rig: XenRig, n: number, ours: Contender, binary: string): Promise<void> {
  const watcher = await startWatcher(binary, contenderEnv(rig.ovs, rig.xs, rig.vif, {}));
  try {
    for (let i = 0; i < COLD_RUNS; i++) {
      dropPageCache();
      await timedOnline(rig, ours, `coldwatch@${n}`);
    }
  } finally {
    watcher.stop();
  }
}

/** Peak RSS (KiB) of one run: GNU time's %M is the largest process of the tree (wait4 rusage). */
export async function peakRss(rig: XenRig, c: Contender, tmp: string): Promise<number | undefined> {
  if (!existsSync("/usr/bin/time")) return undefined;
  const out = join(tmp, `rss-${c.key}.txt`);
  await prepare(rig, c);
  const run = await timedSpawn(
    ...inNamespace(rig.ovs, "/usr/bin/time", ["-f", "%M", "-o", out, c.file, ...c.args]),
    contenderEnv(rig.ovs, rig.xs, rig.vif, c.env),
  );
  rig.spawns.push({ key: c.key, start: run.start });
  await verify(rig, c, run);
  await reset(rig);
  const kb = Number(readFileSync(out, "utf8").trim().split("\n").pop());
  return Number.isFinite(kb) ? kb : undefined;
}

/** TIMES runs of FILE ARGS after WARM untimed ones, recorded under KEY: what launching a process costs here. */
export async function contextRuns(
  samples: Samples,
  key: string,
  times: number,
  warm: number,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  check?: (r: Run) => void,
): Promise<void> {
  for (let i = 0; i < warm + times; i++) {
    const r = await timedSpawn(file, args, env);
    if (r.code !== 0) throw new Error(`${file} ${args.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
    check?.(r);
    if (i >= warm) samples.add(key, r.ms);
  }
}
