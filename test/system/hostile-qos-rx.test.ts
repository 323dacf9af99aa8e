// Hostile receive-side QoS: an rx-burst that is not 0 but below one frame
// (0.5, 0.9, 0.000000001k, 655 bits, or below the port's frame) in every
// place one is taken: attach, qemu-ifup's OVS_VIF_RX_BURST, Ganeti tags (a
// NIC script), defaults.json and qos set (which would write the tag into
// Ganeti); and rx values that are no values. Every refusal exits non-zero
// without a signal, in one line naming the field and the value, leaves
// OVSDB and the links as they were and asks Ganeti to change nothing. 0 and
// unlimited keep their meaning: OVS's default burst.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installFakeGaneti, type FakeGaneti } from "../harness/fake-ganeti.ts";
import { badRate, generatedSuites, quoted, tinyBurst, type Random } from "../harness/hostile.ts";
import { endSuite, makeRefuser, type HostileCall, type Refuser } from "../harness/hostile-run.ts";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";

let ovs: OvsHandle;
let dir: string;
let gnt: FakeGaneti;
let run: Refuser;
const t0 = performance.now();

const UUID0 = "99999999-0000-4000-8000-000000000000";
const MAC = "aa:00:00:00:09:00";

test.before(async () => {
  ovs = await startOvs();
  dir = mkdtempSync(join(tmpdir(), "ovs-vif-hrx-"));
  gnt = installFakeGaneti(dir, {
    instances: [
      {
        name: "inst1",
        pnode: "node1.example.com",
        tags: ["ovs-vif:rx-rate:20M"],
        nics: [{ uuid: UUID0, name: "eth0", mac: MAC, mode: "openvswitch", link: "sw1", vlan: ".3", network: null }],
      },
    ],
    networks: [],
  });
  await ovs.addBridge("sw1");
  await ovs.addTap("tap0");
  await ovs.addTap("tap9");
  // inst1's running port, with its receive limit: every refused call must leave it.
  const ok = await runBinary(ovs, [], { name: "kvm-vif-bridge", env: { ...gnt.env, ...nicEnv({ INTERFACE: "tap9" }) } });
  assert.is(ok.code, 0, ok.stderr);
  run = makeRefuser(ovs);
});

test.after(() => endSuite("hostile-qos-rx", t0, { run, ovs, dir }));

function nicEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    INSTANCE: "inst1",
    MAC,
    MODE: "openvswitch",
    INTERFACE: "tap0",
    INTERFACE_INDEX: "0",
    INTERFACE_UUID: UUID0,
    INTERFACE_NAME: "eth0",
    TAGS: "ovs-vif:rx-rate:20M",
    LINK: "sw1",
    VLAN: ".3",
    ...extra,
  };
}

/** A refusal that also asked Ganeti to change nothing. */
async function refused(c: HostileCall): Promise<void> {
  const calls = gnt.state().calls.length;
  await run.refused({ ...c, env: { ...gnt.env, ...(c.env ?? {}) } });
  const after = gnt.state().calls.slice(calls);
  assert.equal(
    after.filter((x) => ["add-tags", "remove-tags", "modify"].includes(x[1] ?? "")),
    [],
    `${c.label}: Ganeti not asked to change anything`,
  );
}

let files = 0;
function defaultsFile(entry: Record<string, string>): string {
  const file = join(dir, `defaults${files++}.json`);
  writeFileSync(file, JSON.stringify({ version: 1, default: entry }));
  return file;
}

test("the examples of the issue: 0.5, 0.9 and 0.000000001k are refused in every path, not rounded to OVS's default", async () => {
  for (const v of ["0.5", "0.9", "0.000000001k"]) {
    const cls = "rx-burst: not 0, below any frame";
    await refused({
      cls,
      label: `attach --rx-burst ${v}`,
      args: ["attach", "--bridge", "sw1", "--iface", "tap0", "--rx-rate", "10M", "--rx-burst", v],
      mentions: ["--rx-burst", quoted(v), "below one frame"],
    });
    await refused({
      cls,
      label: `qemu-ifup OVS_VIF_RX_BURST=${v}`,
      args: ["tap0"],
      name: "qemu-ifup",
      env: { OVS_VIF_BRIDGE: "sw1.3", OVS_VIF_RX_RATE: "10M", OVS_VIF_RX_BURST: v },
      mentions: ["OVS_VIF_RX_BURST", quoted(v)],
    });
    await refused({
      cls,
      label: `instance tag rx-burst:${v}`,
      args: [],
      name: "kvm-vif-bridge",
      env: nicEnv({ TAGS: `ovs-vif:rx-rate:20M ovs-vif:rx-burst:${v}` }),
      mentions: ["instance tag", quoted(`ovs-vif:rx-burst:${v}`)],
    });
    const file = defaultsFile({ "rx-rate": "10M", "rx-burst": v });
    await refused({
      cls,
      label: `defaults.json rx-burst ${v}`,
      args: ["attach", "--bridge", "sw1", "--iface", "tap0"],
      env: { OVS_VIF_DEFAULTS: file },
      mentions: [`${file}: default.rx-burst`, quoted(v)],
    });
    await refused({
      cls,
      label: `qos set --rx-burst ${v}`,
      args: ["qos", "set", "inst1", "0", "--rx-rate", "10M", "--rx-burst", v],
      mentions: ["--rx-burst", quoted(v)],
    });
  }
});

test("0 and unlimited keep their documented meaning: OVS's default burst", async () => {
  for (const v of ["0", "unlimited", "0.0", "0k"]) {
    const r = await runBinary(ovs, ["attach", "--bridge", "sw1", "--iface", "tap0", "--rx-rate", "10M", "--rx-burst", v]);
    assert.is(r.code, 0, r.stderr);
    const queue = await ovs.vsctl("--columns=other_config", "find", "Queue", "external_ids:ovs-vif-port=tap0");
    assert.match(queue, /max-rate="10000000"/, `${v}: the rate`);
    assert.not.match(queue, /burst/, `${v}: no burst of ours (OVS's own)`);
  }
  assert.is((await runBinary(ovs, ["detach", "--iface", "tap0"])).code, 0);
  await run.settle();
});

type Gen = (r: Random) => HostileCall;

/** Where an rx value goes in: [label, call] for a value of `kind`. */
function rxCall(r: Random, kind: "rx-burst" | "rx-rate", value: string, cls: string): HostileCall {
  const rate = kind === "rx-burst" ? "10M" : value;
  const burst = kind === "rx-burst" ? value : undefined;
  const where = r.pick(["attach", "qemu-ifup", "instance tag", "nic tag", "network tag", "defaults", "qos set"] as const);
  const label = `${where} ${kind}=${JSON.stringify(value)}`;
  switch (where) {
    case "attach":
      return {
        cls,
        label,
        args: ["attach", "--bridge", "sw1", "--iface", "tap0", `--rx-rate=${rate}`, ...(burst !== undefined ? [`--rx-burst=${burst}`] : [])],
        mentions: [`--${kind}`, quoted(value)],
      };
    case "qemu-ifup":
      return {
        cls,
        label,
        args: ["tap0"],
        name: "qemu-ifup",
        env: { OVS_VIF_BRIDGE: "sw1.3", OVS_VIF_RX_RATE: rate, ...(burst !== undefined ? { OVS_VIF_RX_BURST: burst } : {}) },
        mentions: [kind === "rx-burst" ? "OVS_VIF_RX_BURST" : "OVS_VIF_RX_RATE", quoted(value)],
      };
    case "instance tag":
    case "nic tag":
    case "network tag": {
      const tag = `ovs-vif:${where === "nic tag" ? "nic:0:" : ""}${kind}:${value}`;
      // A network's burst goes with a network's rate (a more specific rate takes its own level's burst).
      const env =
        where === "network tag"
          ? nicEnv({ TAGS: "", NETWORK_NAME: "n1", NETWORK_TAGS: `ovs-vif:rx-rate:10M ${tag}` })
          : nicEnv({ TAGS: `ovs-vif:rx-rate:20M ${tag}` });
      return { cls, label, args: [], name: "kvm-vif-bridge", env, mentions: [where === "network tag" ? "network tag" : "instance tag", quoted(tag)] };
    }
    case "defaults": {
      const file = defaultsFile({ "rx-rate": rate, ...(burst !== undefined ? { "rx-burst": burst } : {}) });
      return {
        cls,
        label,
        args: ["attach", "--bridge", "sw1", "--iface", "tap0"],
        env: { OVS_VIF_DEFAULTS: file },
        mentions: [`${file}: default.${kind}`, quoted(value)],
      };
    }
    case "qos set":
      return {
        cls,
        label,
        args: ["qos", "set", "inst1", "0", `--rx-rate=${rate}`, ...(burst !== undefined ? [`--rx-burst=${burst}`] : [])],
        // A value refused as such names the option; one refused against the port's frame, the tag qos set would write.
        mentions: [value],
        says: new RegExp(`--${kind} |instance tag "ovs-vif:nic:0:${kind}:`),
      };
  }
}

const tinyCases: Gen = (r) => rxCall(r, "rx-burst", tinyBurst(r), "rx-burst: not 0, below any frame");
const frameCases: Gen = (r) =>
  rxCall(
    r,
    "rx-burst",
    r.pick([String(r.int(656, 12111)), `${r.int(1, 12)}k`, `0.0${String(r.int(1, 12)).padStart(2, "0")}M`]),
    "rx-burst: below the port's 1500-byte frame",
  );
const junkCases: Gen = (r) => {
  const kind = r.pick(["rx-burst", "rx-rate"] as const);
  const value = r.pick([
    () => badRate(r).replace(/ /g, "_"),
    () => `${r.int(35, 99)}G`,
    () => (kind === "rx-rate" ? String(r.int(1, 999)) : `${r.int(35, 99)}G`),
  ])();
  return rxCall(r, kind, value, `${kind}: not a value, or out of range`);
};

generatedSuites(
  test,
  [
    ["rx-burst below any frame", tinyCases, 60, 71],
    ["rx-burst below the port's frame", frameCases, 30, 72],
    ["rx values out of range or no values", junkCases, 30, 73],
  ],
  refused,
);

test.run();
