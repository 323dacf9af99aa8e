// Hostile command lines for the operator commands (status, doctor,
// reconcile, qos, switch, watch, gc, detach): an option a mode does not
// take is refused in every mode, naming it and what the mode takes (status
// --cluster --node, doctor --cluster --root/--from/--node were ignored);
// node names are checked the same by every command that takes one (doctor
// took 'a b' where status refused it); status --prometheus into a target it
// cannot write fails naming the file and leaves no temporary file behind.
// Each refusal: one line, non-zero exit without a signal, OVSDB and the
// links as they were.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedSuites, quoted, withControl, type Random } from "../harness/hostile.ts";
import { endSuite, makeRefuser, type HostileCall, type Refuser } from "../harness/hostile-run.ts";
import { startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let dir: string;
let run: Refuser;
const t0 = performance.now();

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hcmd-"));
  await ovs.addBridge("sw1");
  run = makeRefuser(ovs);
});

test.after(() => endSuite("hostile-commands", t0, { run, ovs, dir }));

/** A mode, the options it takes, and every option of its command (with a value when it takes one). */
interface Mode {
  args: string[];
  context: string;
  takes: string[];
  all: Record<string, string | undefined>;
}

const STATUS_ALL = { instance: "inst1", json: undefined, prometheus: "/tmp/x.prom", "no-headers": undefined, from: "/tmp/g.json", node: "node1" };
const DOCTOR_ALL = { json: undefined, root: "/", from: "/tmp/g.json", node: "node1" };
const QOS_ALL = { rate: "10M", burst: "1M", "rx-rate": "10M", "rx-burst": "1M", node: "node1" };
const RECONCILE_ALL = { instance: "inst1", export: "/tmp/g.json", from: "/tmp/g.json" };

const MODES: Mode[] = [
  { args: ["status", "--cluster"], context: "status --cluster", takes: ["json", "no-headers"], all: STATUS_ALL },
  { args: ["doctor", "--cluster"], context: "doctor --cluster", takes: ["json"], all: DOCTOR_ALL },
  { args: ["reconcile", "--cluster"], context: "reconcile --cluster", takes: [], all: RECONCILE_ALL },
  { args: ["qos", "set", "inst1", "0"], context: "qos set", takes: ["rate", "burst", "rx-rate", "rx-burst", "node"], all: QOS_ALL },
  { args: ["qos", "unset", "inst1", "0"], context: "qos unset", takes: ["node"], all: QOS_ALL },
  { args: ["qos", "show", "inst1"], context: "qos show", takes: [], all: QOS_ALL },
  { args: ["switch", "show"], context: "switch show", takes: ["spec"], all: { spec: "/tmp/s.json", node: "node1", group: "default" } },
  { args: ["switch", "check"], context: "switch check", takes: ["spec"], all: { spec: "/tmp/s.json", node: "node1", group: "default" } },
];

/** Every option a mode does not take, in each spelling (--opt VALUE, --opt=VALUE). */
function inapplicable(): HostileCall[] {
  const calls: HostileCall[] = [];
  for (const m of MODES) {
    for (const [opt, value] of Object.entries(m.all)) {
      if (m.takes.includes(opt)) continue;
      const spellings = value === undefined ? [[`--${opt}`]] : [[`--${opt}`, value], [`--${opt}=${value}`]];
      for (const given of spellings) {
        calls.push({
          cls: "commands: an option the mode does not take",
          label: `${m.args.join(" ")} ${given.join(" ")}`,
          args: [...m.args, ...given],
          mentions: [`--${opt}`],
          says: new RegExp(`not an option of ${m.context} \\(it takes `),
          timeoutMs: 20000,
        });
      }
    }
  }
  return calls;
}

test("every mode refuses each option it does not take, naming it and what the mode takes; nothing is asked of Ganeti or OVSDB", async () => {
  const calls = inapplicable();
  assert.ok(calls.length >= 40, `${calls.length} calls`);
  for (const c of calls) await run.refused(c);
});

test("options no command takes, and a surplus argument, are refused by each command", async () => {
  for (const cmd of [["status"], ["doctor"], ["reconcile"], ["gc"], ["detach", "--iface", "tap0"], ["watch"], ["qos", "show", "inst1"], ["switch", "show"]]) {
    await run.refused({
      cls: "commands: an unknown option",
      label: `${cmd.join(" ")} --bogus`,
      args: [...cmd, "--bogus"],
      mentions: ["--bogus"],
      says: /unknown option/,
      timeoutMs: 20000,
    });
    await run.refused({
      cls: "commands: an unknown option",
      label: `${cmd.join(" ")} --bridge sw1`,
      args: [...cmd, "--bridge", "sw1"],
      mentions: ["--bridge"],
      timeoutMs: 20000,
    });
  }
  for (const cmd of [["status"], ["doctor"], ["reconcile"], ["gc"]]) {
    await run.refused({
      cls: "commands: a surplus argument",
      label: `${cmd.join(" ")} extra`,
      args: [...cmd, "extra"],
      mentions: [quoted("extra")],
      timeoutMs: 20000,
    });
  }
});

/** A node name no command takes; the same rule in status, doctor, qos and the Ganeti hooks. */
function badNode(r: Random): HostileCall {
  const value = r.pick([
    () => "a b",
    () => "",
    () => "..",
    () => `node1..example`,
    () => `-node1`,
    () => `node${"1".repeat(r.int(253, 300))}`,
    () => withControl(r, "node1"),
    () => `node1${r.pick([";", "$(id)", "/", "|", "`", "'", '"', "é", ":", "*", " ", "\\"])}x`,
  ])();
  const cmd = r.pick([["status"], ["doctor"], ["qos", "set", "inst1", "0", "--rate", "10M"]]);
  const viaEnv = r.int(0, 3) === 0 && cmd[0] !== "qos";
  return {
    cls: "commands: a node name",
    label: `${cmd.join(" ")} ${viaEnv ? "OVS_VIF_NODE_NAME" : "--node"} ${JSON.stringify(value)}`,
    args: viaEnv ? cmd : [...cmd, "--node", value],
    ...(viaEnv ? { env: { OVS_VIF_NODE_NAME: value } } : {}),
    mentions: [viaEnv ? "OVS_VIF_NODE_NAME" : "--node"],
    timeoutMs: 20000,
  };
}

test("the issue's example: doctor --node 'a b' is refused as status refuses it", async () => {
  for (const cmd of ["status", "doctor"]) {
    await run.refused({
      cls: "commands: a node name",
      label: `${cmd} --node 'a b'`,
      args: [cmd, "--node", "a b"],
      mentions: ["--node", quoted("a b")],
      says: /not a Ganeti node name/,
    });
  }
});

generatedSuites(test, [["node names", badNode, 60, 5]], async (c) => {
  // qos set (a node name before Ganeti is asked) and reconcile --from name the node the same way.
  await run.refused(c);
});

test("status --prometheus into a target it cannot write: one line naming the file, no temporary file left, the target unchanged", async () => {
  const asDir = join(dir, "metrics.prom");
  mkdirSync(asDir);
  const ro = join(dir, "ro");
  mkdirSync(ro);
  writeFileSync(join(ro, "keep.prom"), "old\n");
  chmodSync(ro, 0o555);
  const targets: [string, string][] = [
    ["a directory", asDir],
    ["in a missing directory", join(dir, "missing", "x.prom")],
    ["a file under a file", join(dir, "ro", "keep.prom", "x")],
  ];
  // root writes into a 0555 directory: only the others can fail here.
  for (const [what, target] of targets) {
    await run.refused({
      cls: "commands: status --prometheus target",
      label: `status --prometheus ${what}`,
      args: ["status", "--prometheus", target],
      mentions: ["--prometheus", quoted(target)],
      says: /cannot be written/,
      timeoutMs: 30000,
    });
  }
  const left = (d: string) => readdirSync(d).filter((f) => f.includes(".tmp-"));
  assert.equal(left(dir), [], "no temporary file beside the targets");
  assert.equal(left(ro), [], "none in the read-only directory");
  assert.equal(readdirSync(asDir), [], "the directory target untouched");
});

test.run();
