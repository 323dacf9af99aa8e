// The boot storm's node: one bridge, VMS NICs (a tap and its Xen vif keys
// each, with their own VLANs), the state every phase starts from, and the
// check of every port afterwards.
import { spawnSync } from "node:child_process";
import type { OvsHandle } from "../../test/harness/ovs.ts";
import type { XenVif } from "../../test/harness/xen-domain.ts";
import type { XenstoredHandle } from "../../test/harness/xenstore.ts";

export interface Nic {
  /** Device (a tap), vif{domid}.0. */
  dev: string;
  tag: number;
  trunks: number[];
  vif: XenVif;
}

export interface StormNode {
  ovs: OvsHandle;
  xs: XenstoredHandle;
  nics: Nic[];
}

/** ovs-vsctl with time for a thousand ports. */
const vsctl = (ovs: OvsHandle, ...args: string[]): Promise<string> => ovs.vsctl("--timeout=120", ...args);

/** VMS taps (one `ip -batch`) and their vifs' xenstore keys (test/harness/xen-domain.ts), bridge key sw1.T:A:3000 each. */
export async function createNics(ovs: OvsHandle, xs: XenstoredHandle, vms: number): Promise<Nic[]> {
  const { makeXenVif } = await import("../../test/harness/xen-domain.ts");
  const plan = Array.from({ length: vms }, (_, i) => ({ domid: 101 + i, tag: 10 + (i % 90), trunks: [2000 + (i % 40), 3000] }));
  const ipr = spawnSync("ip", ["-batch", "-"], { input: plan.map((p) => `tuntap add dev vif${p.domid}.0 mode tap\n`).join(""), encoding: "utf8" });
  if (ipr.status !== 0) throw new Error(`creating taps: ${ipr.stderr}`);
  const nics: Nic[] = [];
  for (const p of plan) {
    const vif = await makeXenVif(ovs, xs, p.domid, { bridge: `sw1.${p.tag}:${p.trunks.join(":")}` }, { createDevice: false });
    nics.push({ dev: vif.device, tag: p.tag, trunks: p.trunks, vif });
  }
  return nics;
}

export async function portCount(ovs: OvsHandle): Promise<number> {
  return (await vsctl(ovs, "--no-wait", "list-ports", "sw1")).split("\n").filter(Boolean).length;
}

/** Every NIC's port gone, status keys removed, devices down: the state each contender starts from. */
export async function cleanState({ ovs, xs, nics }: StormNode, base: number): Promise<void> {
  await vsctl(ovs, ...nics.flatMap((n) => ["--", "--if-exists", "del-port", n.dev]));
  // One xenstore-rm per key: xenstore-rm runs all its paths in one transaction, aborted by the first missing one.
  const keys = nics.flatMap((n) => [`${n.vif.backend}/hotplug-status`, `${n.vif.backend}/hotplug-error`]);
  spawnSync("bash", ["-c", 'for p in "$@"; do xenstore-rm -s "$p" 2>/dev/null; done', "rm", ...keys], { env: { ...process.env, ...xs.env } });
  const left = spawnSync("xenstore-ls", ["-s", "/local/domain/0/backend/vif"], { env: { ...process.env, ...xs.env }, encoding: "utf8" }).stdout;
  if (/hotplug-(status|error)/.test(left)) throw new Error("hotplug-status keys left after clean-up");
  const r = spawnSync("ip", ["-batch", "-"], { input: nics.map((n) => `link set dev ${n.dev} down\n`).join(""), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip -batch: ${r.stderr}`);
  const count = await portCount(ovs);
  if (count !== base) throw new Error(`after clean-up sw1 has ${count} ports, expected ${base}`);
}

/** Every NIC's port on sw1 with its tag and trunks (and vlan_mode when ovs-vif); for Xen, every hotplug-status. */
export async function checkPorts({ ovs, xs, nics }: StormNode, ovsVif: boolean, family: string): Promise<{ badPorts: string[]; notConnected: string[] }> {
  const out = await vsctl(ovs, "--no-wait", "--format=csv", "--data=bare", "--no-headings", "--columns=name,tag,trunks,vlan_mode", "list", "port");
  const rows = new Map(
    out
      .trim()
      .split("\n")
      .map((l) => l.split(","))
      .map((f) => [
        f[0]!,
        {
          tag: f[1]!,
          trunks: f[2]!
            .replace(/"/g, "")
            .split(/\s+/)
            .filter(Boolean)
            .map(Number)
            .sort((a, b) => a - b),
          mode: f[3]!,
        },
      ]),
  );
  const onBridge = new Set((await vsctl(ovs, "--no-wait", "list-ports", "sw1")).split("\n").filter(Boolean));
  const badPorts: string[] = [];
  for (const n of nics) {
    const r = rows.get(n.dev);
    if (!r || !onBridge.has(n.dev)) badPorts.push(`${n.dev}: no port on sw1`);
    else if (r.tag !== String(n.tag) || r.trunks.join(",") !== n.trunks.join(","))
      badPorts.push(`${n.dev}: tag=${r.tag} trunks=${r.trunks.join(",")}, expected ${n.tag} and ${n.trunks.join(",")}`);
    else if (ovsVif && r.mode !== "native-untagged") badPorts.push(`${n.dev}: vlan_mode=${r.mode || "[]"}, expected native-untagged`);
  }
  const notConnected: string[] = [];
  if (family === "xen") {
    // One read per key (xenstore-read stops at the first missing one).
    const script = 'for p in "$@"; do printf "%s\\n" "$(xenstore-read -s "$p" 2>/dev/null || echo "(missing)")"; done';
    const r = spawnSync("bash", ["-c", script, "read", ...nics.map((n) => `${n.vif.backend}/hotplug-status`)], {
      env: { ...process.env, ...xs.env },
      encoding: "utf8",
    });
    const statuses = r.stdout.split("\n");
    nics.forEach((n, i) => {
      if (statuses[i] !== "connected") notConnected.push(`${n.dev}: hotplug-status ${statuses[i] || "(missing)"}`);
    });
  }
  return { badPorts, notConnected };
}

/** A Xen hook's own words about its failure: hotplug-error, as the toolstack reads it. */
export async function hotplugError(xs: XenstoredHandle, n: Nic): Promise<string> {
  const error = await xs.read(`${n.vif.backend}/hotplug-error`).catch(() => undefined);
  return error === undefined ? "" : `hotplug-error: ${error.trim()}`;
}
