// When ovs-vswitchd does not apply a change within --timeout, the command
// fails and its line says what OVSDB holds: a plug is rolled back (the port
// removed again); when even that cannot be done (ovsdb-server gone), the
// line says the port stays committed. A removal or an in-place change stays
// committed (it is the desired state) and the line says so.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { portView } from "../harness/oracle.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { must } from "../harness/proc.ts";

let ovs: OvsHandle;

test.before(async () => {
  ovs = await startOvs();
  await ovs.addBridge("sw1");
  await ovs.addTap("tap0");
  await ovs.addTap("tap1");
});

test.after(async () => {
  vswitchd("SIGCONT");
  await ovs?.stop();
});

const pid = (name: string) => Number(readFileSync(join(ovs.dir, `${name}.pid`), "utf8").trim());
const vswitchd = (signal: NodeJS.Signals) => {
  try {
    process.kill(pid("ovs-vswitchd"), signal);
  } catch {
    /* not running */
  }
};

test("a plug whose change ovs-vswitchd does not apply in time is rolled back, and the line says so", async () => {
  const before = await ovs.dump();
  vswitchd("SIGSTOP");
  const t0 = Date.now();
  const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "tap0", "--vlan", ".3", "--timeout", "1"]);
  vswitchd("SIGCONT");
  assert.is(r.code, 1);
  assert.ok(Date.now() - t0 < 5000, "bounded by --timeout (plus the rollback)");
  const lines = r.stderr.trim().split("\n");
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /ovs-vswitchd did not apply the change within 1 s/);
  assert.match(lines[0]!, /rolled back: port tap0 removed from sw1 again/);
  assert.is(await portView(ovs, "tap0"), undefined, "no port left");
  // next_cfg moved on; every port, interface and bridge is as it was.
  const strip = (d: string) => d.replace(/next_cfg\s*:\s*\d+/g, "next_cfg");
  assert.is(strip(await ovs.dump()), strip(before));
});

test("a removal ovs-vswitchd does not apply in time stays committed, and the line says so", async () => {
  assert.is((await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "tap1"])).code, 0);
  vswitchd("SIGSTOP");
  const r = await runBinary(ovs, ["detach", "--iface", "tap1", "--timeout", "1"]);
  vswitchd("SIGCONT");
  assert.is(r.code, 1);
  assert.match(
    r.stderr.trim(),
    /^ovs-vif: error: ovs-vswitchd did not apply the change within 1 s .*; committed: the removal of tap1 is in OVSDB; ovs-vswitchd applies it when it catches up$/,
  );
  assert.is(await portView(ovs, "tap1"), undefined, "removed in OVSDB");
});

test("when ovsdb-server is gone too, the plug cannot be rolled back: the line says the port stays committed", async () => {
  vswitchd("SIGSTOP");
  const run = runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "tap0", "--timeout", "2"]);
  // Let the commit happen, then take ovsdb-server away while the command waits.
  await new Promise((r) => setTimeout(r, 700));
  const dbPid = pid("ovsdb-server");
  process.kill(dbPid, "SIGKILL");
  const r = await run;
  assert.is(r.code, 1);
  const line = r.stderr.trim();
  assert.is(line.split("\n").length, 1, line);
  assert.match(line, /committed: port tap0 stays on sw1 with its full configuration \(rollback failed: .*\); remove it with 'ovs-vif detach --iface tap0'/);
  // Restarted on the same database: the port is there, fully configured.
  await ovs.inNs("ovsdb-server", [
    join(ovs.dir, "conf.db"),
    `--remote=punix:${ovs.dbSock}`,
    `--pidfile=${join(ovs.dir, "ovsdb-server.pid")}`,
    `--unixctl=${join(ovs.dir, "ovsdb-server.ctl")}`,
    `--log-file=${join(ovs.dir, "ovsdb-server.log")}`,
    "--no-chdir",
    "--detach",
  ]);
  vswitchd("SIGCONT");
  await must("sleep", ["0.2"]);
  const p = await portView(ovs, "tap0");
  assert.ok(p, "the committed port");
  assert.equal([p!.vlan_mode, p!.bridge], ["access", "sw1"]);
});

test.run();
