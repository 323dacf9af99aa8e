// Two private OVS instances (two network namespaces: two "nodes") joined by
// two veth pairs; on each, `ovs-vif switch apply` makes a bond over its two
// veths with LACP. LACP must negotiate (ovs-appctl lacp/show and bond/show
// are the oracle), traffic must flow between the bridges' internal ports,
// and taking one link down must fail over without losing connectivity.
// Addresses are TEST-NET-2 inside these test namespaces only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary, startOvs, type OvsHandle } from "../harness/ovs.ts";
import { must, type Result } from "../harness/proc.ts";

const handles: OvsHandle[] = [];

test.after.each(async () => {
  for (const h of handles.splice(0)) await h.stop();
});

async function pair(): Promise<[OvsHandle, OvsHandle]> {
  const a = await startOvs();
  handles.push(a);
  const b = await startOvs();
  handles.push(b);
  // The userspace datapath reads the veths with packet sockets, so each
  // namespace's kernel sees the frames too and, with the default arp_ignore=0,
  // would answer ARP for the bridge's address from a veth's own MAC (a
  // race with the real answer from the bridge port). A physical NIC under
  // the kernel datapath never does that; make the test kernels behave alike.
  for (const h of [a, b]) {
    const r = await h.inNs("sysctl", ["-qw", "net.ipv4.conf.all.arp_ignore=1"]);
    if (r.code !== 0) throw new Error(`sysctl arp_ignore: ${r.stderr}`);
  }
  // Two cables between the nodes: a0-b0 and a1-b1, each end created directly
  // in its node's namespace (nothing is left in the host's namespace).
  for (const i of [0, 1]) {
    await must("ip", ["link", "add", `a${i}`, "netns", a.ns, "type", "veth", "peer", "name", `b${i}`, "netns", b.ns]);
    await a.inNs("ip", ["link", "set", `a${i}`, "up"]);
    await b.inNs("ip", ["link", "set", `b${i}`, "up"]);
  }
  return [a, b];
}

function spec(h: OvsHandle, prefix: "a" | "b", bondMode: string): void {
  writeFileSync(
    join(h.dir, "switches.json"),
    JSON.stringify({
      version: 1,
      defaults: { datapath_type: "netdev" },
      switches: [
        {
          name: "sw1",
          fail_mode: "standalone",
          managed: true,
          uplinks: [{ name: "bond0", members: [`${prefix}0`, `${prefix}1`], bond_mode: bondMode, lacp: "active", "lacp-time": "fast" }],
        },
      ],
    }),
  );
}

async function sw(h: OvsHandle, ...args: string[]): Promise<Result> {
  return runBinary(h, ["switch", ...args, "--spec", join(h.dir, "switches.json")]);
}

/** Polls `check` until it returns true; bounded (LACP fast converges in ~1-3 s). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

const negotiated = (lacp: string, m0: string, m1: string) =>
  /status: active negotiated/.test(lacp) &&
  new RegExp(`member: ${m0}: current attached`).test(lacp) &&
  new RegExp(`member: ${m1}: current attached`).test(lacp);
const enabled = (bond: string, m: string) => new RegExp(`member ${m}: enabled`).test(bond);
const disabled = (bond: string, m: string) => new RegExp(`member ${m}: disabled`).test(bond);

async function addresses(a: OvsHandle, b: OvsHandle): Promise<void> {
  for (const [h, ip] of [
    [a, "198.51.100.1/24"],
    [b, "198.51.100.2/24"],
  ] as const) {
    const r1 = await h.inNs("ip", ["addr", "add", ip, "dev", "sw1"]);
    assert.is(r1.code, 0, r1.stderr);
    const r2 = await h.inNs("ip", ["link", "set", "sw1", "up"]);
    assert.is(r2.code, 0, r2.stderr);
  }
}

/** Pings until one echo comes back, bounded: right after a link change the
 * peer still has to learn MACs / notice the dead member. */
async function ping(from: OvsHandle, to: string, what: string): Promise<void> {
  let last = "";
  await until(what, async () => {
    const r = await from.inNs("ping", ["-c", "1", "-W", "1", to], { timeoutMs: 10000 });
    last = r.stdout + r.stderr;
    return r.code === 0 && / 1 received/.test(r.stdout);
  }).catch((err) => {
    throw new Error(`${(err as Error).message}; last ping: ${last}`);
  });
}

for (const mode of ["balance-tcp", "active-backup"]) {
  test(`LACP ${mode} bond between two nodes: negotiates, carries traffic, fails over`, async () => {
    const [a, b] = await pair();
    spec(a, "a", mode);
    spec(b, "b", mode);
    for (const [h, name] of [
      [a, "node a"],
      [b, "node b"],
    ] as const) {
      const r = await sw(h, "apply");
      assert.is(r.code, 0, `${name}: ${r.stderr}${r.stdout}`);
      assert.match(
        r.stdout,
        new RegExp(`sw1: \\+ uplink bond0: bond of ${name.slice(-1)}0,${name.slice(-1)}1 \\(bond_mode ${mode}, lacp active, lacp-time fast, vlans all\\)`),
      );
    }

    // The oracle: ovs-appctl on each node.
    await until("LACP to negotiate on node a", async () => negotiated(await a.appctl("lacp/show", "bond0"), "a0", "a1"));
    await until("LACP to negotiate on node b", async () => negotiated(await b.appctl("lacp/show", "bond0"), "b0", "b1"));
    await until("both members enabled on node a", async () => {
      const s = await a.appctl("bond/show", "bond0");
      return enabled(s, "a0") && enabled(s, "a1");
    });
    const bondShow = await a.appctl("bond/show", "bond0");
    assert.match(bondShow, new RegExp(`bond_mode: ${mode}`));
    assert.match(bondShow, /lacp_status: negotiated/);

    // ovs-vif's own view agrees.
    const show = await sw(a, "show");
    assert.is(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`bond bond0: bond_mode ${mode}, lacp active, lacp-time fast, vlans all, lacp status active negotiated`));
    assert.match(show.stdout, /member a0: enabled.*lacp current attached/);
    assert.match(show.stdout, /member a1: enabled.*lacp current attached/);

    await addresses(a, b);
    await ping(a, "198.51.100.2", "a ping over the bond");

    // Failover: one cable down on node a.
    const down = await a.inNs("ip", ["link", "set", "a0", "down"]);
    assert.is(down.code, 0, down.stderr);
    await until("a0 to be disabled on node a", async () => {
      const s = await a.appctl("bond/show", "bond0");
      return disabled(s, "a0") && enabled(s, "a1");
    });
    await ping(a, "198.51.100.2", "a ping after failover");
    const after = await sw(a, "show");
    assert.match(after.stdout, /member a0: disabled/);
    assert.match(after.stdout, /member a1: enabled/);
    // Applying again changes nothing: link state is not configuration.
    const again = await sw(a, "apply");
    assert.is(again.code, 0, again.stderr);
    assert.is(again.stdout, "sw1: no changes\n");
  });
}

test.run();
