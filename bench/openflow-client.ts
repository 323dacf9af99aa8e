// What installing one port's port-security flows costs a hook, two ways:
//   (a) spawning `ovs-ofctl -O OpenFlow14 --bundle add-flows` with the
//       flows on stdin (delete by the port's cookie, then the adds), from a
//       program compiled as the product (node:child_process, as src/exec.ts);
//   (b) the native client (src/openflow/client.ts) over the bridge's
//       management socket, from a program compiled as the product: build
//       the policy, connect, one bundle, close (src/port-flows.ts).
// Both replace the same 29 flows of one port, on a bridge with 10 and with
// 1000 ports, every port carrying its own port-security flows (a host where
// every NIC is protected). Timed from spawn to exit, interleaved, against
// the floor (an empty program built the same way); "added" is the median
// minus the floor's. Each batch is checked afterwards: the port's flows in
// the table are exactly the policy's.
//
//   flock /tmp/ovs-vif-heavy.lock node_modules/.bin/bun bench/openflow-client.ts
//   OVS_VIF_BENCH_RUNS=30   runs per contender and bridge size (>= 10)
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOvs, type OvsHandle } from "../test/harness/ovs.ts";
import { OpenFlowClient } from "../src/openflow/client.ts";
import { cookieText } from "../src/openflow/match.ts";
import { portDrift } from "../src/port-flows.ts";
import { driftCount } from "../src/port-security/drift.ts";
import { EXACT_MASK, portCookie } from "../src/port-security/flows.ts";
import { buildPolicy } from "../src/port-security/policy.ts";
import { addInternalPorts } from "./lib/bridge.ts";
import { removeTemp } from "./lib/namespaces.ts";
import { installOtherPortFlows, otherPortPolicy } from "./lib/port-security.ts";
import { buildFloor, compileAsProduct, ROOT } from "./lib/product-build.ts";
import { guarded, targetLines, type Target } from "./lib/report.ts";
import { fmt, stats, statsTable } from "./lib/stats.ts";
import { timedSpawn } from "./lib/timed-spawn.ts";

const RUNS = Math.max(10, Number(process.env.OVS_VIF_BENCH_RUNS ?? 30) || 30);
const WARMUPS = 3;
const SIZES = [10, 1000];
const BUDGET_MS = 2;
const BRIDGE = "sw1";

// The native contender splits its work where a hook would: what needs no
// ofport (policy, connect) and what follows the ofport (flows, bundle,
// commit reply); it prints both (ms) for the breakdown.
const NATIVE_SRC = `import { OpenFlowClient } from ${JSON.stringify(join(ROOT, "src/openflow/client.ts"))};
import { replacePortFlows } from ${JSON.stringify(join(ROOT, "src/port-flows.ts"))};
import { buildPolicy } from ${JSON.stringify(join(ROOT, "src/port-security/policy.ts"))};
const t0 = performance.now();
const [bridge, path, name, ofport, mac, ip, prefix] = process.argv.slice(2);
const policy = buildPolicy({ mac: { field: "mac", value: mac }, ipv4: [{ field: "ip", value: ip }], ipv6Prefixes: [{ field: "subnet6", value: prefix }] });
const client = await OpenFlowClient.connect(bridge, { path, timeoutMs: 5000 });
const t1 = performance.now();
await replacePortFlows(client, { bridge, name, ofport: Number(ofport) }, policy, 5000);
const t2 = performance.now();
client.close();
console.log((t1 - t0).toFixed(3) + " " + (t2 - t1).toFixed(3));
`;

// A hook has already connected to OVSDB (Bun.connect, promises, the JSON
// path) before it could install flows: these two run that much first (a
// select of the bridge by name over db.sock), one then stops and the other
// goes on with the port security; their difference is what the flows add
// to a process that has done what a hook does.
const OVSDB_PART = `import { OvsdbClient } from ${JSON.stringify(join(ROOT, "src/ovsdb/client.ts"))};
const [bridgeName, mgmtPath] = process.argv.slice(2);
const db = await OvsdbClient.connect({ kind: "unix", path: mgmtPath.replace(/[^/]*$/, "db.sock"), text: "db" }, 5000);
const rows = await db.transact([{ op: "select", table: "Bridge", where: [["name", "==", bridgeName]], columns: ["name"] }], 5000);
if (rows[0]?.rows?.length !== 1) throw new Error("no bridge " + bridgeName);
db.close();
`;
const HOOK_FLOOR_SRC = OVSDB_PART;
const HOOK_NATIVE_SRC = `${OVSDB_PART}import { applyPortSecurity } from ${JSON.stringify(join(ROOT, "src/port-flows.ts"))};
const [bridge, path, name, ofport, mac, ip, prefix] = process.argv.slice(2);
await applyPortSecurity({ bridge, name, ofport: Number(ofport) }, { mac: { field: "mac", value: mac }, ipv4: [{ field: "ip", value: ip }], ipv6Prefixes: [{ field: "subnet6", value: prefix }] }, { timeoutMs: 5000, mgmtPath: path });
`;

const OFCTL_SRC = `import { spawn } from "node:child_process";
import { buildPolicy } from ${JSON.stringify(join(ROOT, "src/port-security/policy.ts"))};
import { desiredFlows } from ${JSON.stringify(join(ROOT, "src/port-flows.ts"))};
import { portCookie } from ${JSON.stringify(join(ROOT, "src/port-security/flows.ts"))};
import { flowText } from ${JSON.stringify(join(ROOT, "src/openflow/match.ts"))};
const [bridge, path, name, ofport, mac, ip, prefix] = process.argv.slice(2);
const port = { bridge, name, ofport: Number(ofport) };
const flows = desiredFlows(buildPolicy({ mac: { field: "mac", value: mac }, ipv4: [{ field: "ip", value: ip }], ipv6Prefixes: [{ field: "subnet6", value: prefix }] }), port);
const text = ["delete cookie=0x" + portCookie(port.ofport).toString(16) + "/0xffffffffffffffff", ...flows.map((f) => "add " + flowText(f))].join("\\n") + "\\n";
const child = spawn("ovs-ofctl", ["-O", "OpenFlow14", "--bundle", "add-flows", "unix:" + path, "-"], { stdio: ["pipe", "ignore", "inherit"] });
child.stdin.end(text);
child.on("close", (code) => process.exit(code ?? 1));
`;

interface Contender {
  key: string;
  label: string;
  file: string;
  args: (ofport: number) => string[];
}

const samples = new Map<string, number[]>();
const record = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
const lines: string[] = [];
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

async function checkPort(ovs: OvsHandle, ofport: number, after: string): Promise<void> {
  const client = await OpenFlowClient.connect(BRIDGE, { path: join(ovs.dir, `${BRIDGE}.mgmt`), timeoutMs: 30000 });
  try {
    const d = await portDrift(client, { bridge: BRIDGE, name: "p1", ofport }, buildPolicy(otherPortPolicy(1)), 30000);
    if (driftCount(d) !== 0) throw new Error(`after ${after}: port p1's flows differ from its policy (${driftCount(d)} flows)`);
    const all = await client.dumpFlows(portCookie(ofport), EXACT_MASK, 30000);
    if (all.length !== 29) throw new Error(`after ${after}: ${all.length} flows under ${cookieText(portCookie(ofport))}, expected 29`);
  } finally {
    client.close();
  }
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), "ovs-vif-bench-openflow-"));
  let ovs: OvsHandle | undefined;
  return guarded("openflow-client bench", async () => {
    log("compiling the floor and the two contenders with the product's build flags...");
    for (const [name, src] of [
      ["native", NATIVE_SRC],
      ["ofctl", OFCTL_SRC],
      ["hookfloor", HOOK_FLOOR_SRC],
      ["hooknative", HOOK_NATIVE_SRC],
    ] as const) {
      writeFileSync(join(tmp, `${name}.ts`), src);
      compileAsProduct(join(tmp, `${name}.ts`), join(tmp, name));
    }
    const floor = buildFloor(tmp);
    ovs = await startOvs();
    await ovs.addBridge(BRIDGE);
    const mgmt = join(ovs.dir, `${BRIDGE}.mgmt`);
    const input = otherPortPolicy(1);
    const portArgs = (ofport: number) => [BRIDGE, mgmt, "p1", String(ofport), input.mac.value, input.ipv4![0]!.value, input.ipv6Prefixes![0]!.value];
    const contenders: Contender[] = [
      { key: "floor", label: "floor: empty program, compiled as the product", file: floor, args: () => [] },
      { key: "native", label: "(b) native client, compiled: policy + connect + bundle", file: join(tmp, "native"), args: portArgs },
      { key: "ofctl", label: "(a) compiled program spawning ovs-ofctl --bundle", file: join(tmp, "ofctl"), args: portArgs },
      { key: "hookfloor", label: "hook-like: OVSDB connect + select, then exit", file: join(tmp, "hookfloor"), args: portArgs },
      { key: "hooknative", label: "hook-like: OVSDB connect + select, then (b)", file: join(tmp, "hooknative"), args: portArgs },
    ];
    let have = 0;
    const env = { ...process.env, ...ovs.env };
    for (const size of SIZES) {
      log(`adding ports: ${have} -> ${size}, each with its port-security flows...`);
      const t0 = performance.now();
      await addInternalPorts(ovs.vsctl, BRIDGE, have + 1, size);
      await installOtherPortFlows(ovs, BRIDGE, have + 1, size);
      have = size;
      log(`${size} ports in ${((performance.now() - t0) / 1000).toFixed(1)} s; measuring ${WARMUPS} + ${RUNS} rounds...`);
      const ofport = Number((await ovs.vsctl("get", "interface", "p1", "ofport")).trim());
      for (let i = 0; i < WARMUPS + RUNS; i++) {
        for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
          const r = await timedSpawn(c.file, c.args(ofport), env);
          if (r.code !== 0) throw new Error(`${c.label}: exit ${r.code}: ${r.stderr.trim()}`);
          if (i >= WARMUPS) {
            record(`${c.key}@${size}`, r.ms);
            if (c.key === "native") {
              const [before, after] = r.stdout.trim().split(" ").map(Number);
              record(`prepare@${size}`, before!);
              record(`after-ofport@${size}`, after!);
            }
          }
          if (c.key !== "floor" && c.key !== "hookfloor") await checkPort(ovs, ofport, `${c.label} at ${size} ports`);
        }
      }
    }
    const rows = SIZES.flatMap((size) => contenders.map((c) => ({ label: `${c.label} [${size} ports]`, xs: samples.get(`${c.key}@${size}`)! })));
    lines.push(
      "",
      `one port's 29 port-security flows replaced (delete by cookie + adds, one bundle); ${RUNS} runs each, interleaved; spawn to exit (ms)`,
      ...statsTable(rows),
      "",
    );
    const inside = SIZES.flatMap((size) => [
      { label: `policy + connect: needs no ofport [${size} ports]`, xs: samples.get(`prepare@${size}`)! },
      { label: `flows + bundle + commit reply: after the ofport [${size} ports]`, xs: samples.get(`after-ofport@${size}`)! },
    ]);
    lines.push(...statsTable(inside, "inside (b), in-process (ms)"), "");
    const targets: Target[] = [];
    lines.push("added (median minus the floor's median, ms), and (a) / (b):");
    for (const size of SIZES) {
      const m = (k: string) => stats(samples.get(`${k}@${size}`)!).median;
      const native = m("native") - m("floor");
      const ofctl = m("ofctl") - m("floor");
      const inHook = m("hooknative") - m("hookfloor");
      lines.push(
        `  ${String(size).padStart(4)} ports:  native ${fmt(native)}   ovs-ofctl ${fmt(ofctl)}   ovs-ofctl / native ${fmt(ofctl / native, 1)}x   native after a hook's OVSDB work ${fmt(inHook)}`,
      );
      if (size === SIZES[0]) {
        const after = m("after-ofport");
        targets.push({
          name: `native client adds at most ${BUDGET_MS} ms at ${size} ports, after a hook's OVSDB work`,
          value: `${fmt(inHook)} ms`,
          pass: inHook <= BUDGET_MS,
          gate: true,
        });
        targets.push({
          name: `native client alone (empty program + it) at most ${BUDGET_MS} ms`,
          value: `${fmt(native)} ms`,
          pass: native <= BUDGET_MS,
          gate: false,
        });
        targets.push({
          name: `after the ofport only (policy and connect overlapping the vswitchd wait) at most ${BUDGET_MS} ms`,
          value: `${fmt(after)} ms`,
          pass: after <= BUDGET_MS,
          gate: false,
        });
      }
    }
    lines.push("", ...targetLines(targets));
    console.log(lines.join("\n"));
    return targets.every((t) => t.pass || !t.gate) ? 0 : 1;
  }, [() => ovs?.stop(), () => removeTemp(tmp)]);
}

process.exit(await main());
