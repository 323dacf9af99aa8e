// Xen's vif-openvswitch: `vif-openvswitch online|offline|add|remove [k=v...]`
// with vif / XENBUS_PATH / INTERFACE in the environment.
import { formatError } from "../src/errors.ts";
import { mark } from "../src/trace.ts";
import type { Log } from "../src/log.ts";
import { deviceExists, prepareVirtualPort, requireDevice, setLink } from "../src/netdev.ts";
import { attachPort, detachPort } from "../src/ovsdb/ports.ts";
import { Deadline } from "../src/ovsdb/transact.ts";
import type { OvsdbClient } from "../src/ovsdb/client.ts";
import { parseXenInvocation, readXenVifKeys, reportHotplugError, targetDeviceName, xenDesiredPort, type XenInvocation } from "../src/sources/xen.ts";
import { openXenStore, type XenStore } from "../src/sources/xenstore.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { describeVlan, vlanMode } from "../src/vlan.ts";
import { connectOvsdb, globalOptions, GLOBAL_HELP, makeLog, parseArgs, printTransaction, type GlobalOptions, out } from "../src/cli/common.ts";

export const XEN_HELP = `usage: vif-openvswitch online|offline|add|remove [bridge=BR[.N][:A:B...]] [type_if=vif|tap] [options]
       ovs-vif xen-vif online|offline|add|remove ...

Xen hotplug script: attaches the backend device ($vif, or $INTERFACE for
the emulated tap twin) to the Open vSwitch bridge named by xenstore's
$XENBUS_PATH/bridge (or the bridge= argument), in one OVSDB transaction with
explicit vlan_mode: br (untagged only), br.N (access N), br:A:B (trunk of A,B,
tagged only), br.N:A:B (N untagged + A,B tagged). A backend 'vlan' key
(xl vlan=) overrides the suffix. Writes hotplug-status / hotplug-error.

${GLOBAL_HELP}`;

const XEN_LOG = "/var/log/xen/xen-hotplug.log";

export async function xenHook(argv: string[], tag: string): Promise<number> {
  mark("xen hook loaded");
  const args = parseArgs(argv, {});
  if (args.help) {
    out(XEN_HELP + "\n");
    return 0;
  }
  const opts = globalOptions(args);
  const log = makeLog(tag, opts.verbose, process.env.OVS_VIF_XEN_LOG ?? XEN_LOG);
  let inv: XenInvocation | undefined;
  let xs: XenStore | undefined;
  let db: Promise<OvsdbClient> | undefined;
  try {
    inv = parseXenInvocation(args._.map(String), process.env);
    if (!inv) return 0;
    // Both connections at once: their latencies overlap.
    const deadline = new Deadline(opts.timeoutMs);
    db = connectOvsdb(opts, deadline);
    db.catch(() => undefined);
    xs = await openXenStore({ timeoutMs: Math.min(opts.timeoutMs, 5000) });
    mark("xenstore connected");
    if (inv.command === "online" || inv.command === "add") await plug(inv, xs, db, deadline, opts, log);
    else await unplug(inv, xs, db, deadline, opts, log);
    return 0;
  } catch (err) {
    const message = formatError(err);
    log.error(`${inv?.command ?? "hotplug"} failed: ${message}`, { device: inv?.device });
    if (inv && xs && !opts.dryRun) await reportHotplugError(xs, inv.xenbusPath, message);
    return 1;
  } finally {
    xs?.close();
    await db?.then((c) => c.close(), () => undefined);
    await log.close();
  }
}

async function plug(inv: XenInvocation, xs: XenStore, connecting: Promise<OvsdbClient>, deadline: Deadline, opts: GlobalOptions, log: Log): Promise<void> {
  const started = Date.now();
  const keys = await readXenVifKeys(xs, inv.xenbusPath, true);
  mark("xenstore read");
  const device = targetDeviceName(inv, keys);
  const { desired, vlanSource } = xenDesiredPort(inv, keys, device, (bridge) => [nodeDefaultsLevel(bridge)]);
  requireDevice(inv.typeIf === "tap" ? "INTERFACE" : "vif", inv.device);
  const db = await connecting;
  mark("ovsdb connected");
  if (opts.dryRun) {
    await attachPort(db, desired, { deadline, wait: false, dryRun: printTransaction });
    return;
  }
  await prepareVirtualPort(inv.device, device === inv.device ? undefined : device);
  mark("device prepared");
  const res = await attachPort(db, desired, { deadline, wait: opts.wait });
  mark("attached");
  await setLink(device, "up");
  await xs.write(`${inv.xenbusPath}/hotplug-status`, "connected");
  mark("hotplug-status written");
  log.info(`${inv.command} ok`, {
    vm: desired.interfaceIds["xen-vm-name"],
    device,
    bridge: desired.bridge,
    vlan_mode: vlanMode(desired.vlan),
    vlan: describeVlan(desired.vlan),
    vlan_from: vlanSource,
    mtu: desired.mtu ?? res.bridgeMtu,
    rate: res.policing.rate || undefined,
    burst: res.policing.burst || undefined,
    ofport: res.ofport,
    ms: Date.now() - started,
  });
}

async function unplug(inv: XenInvocation, xs: XenStore, connecting: Promise<OvsdbClient>, deadline: Deadline, opts: GlobalOptions, log: Log): Promise<void> {
  const keys = await readXenVifKeys(xs, inv.xenbusPath, false);
  const device = targetDeviceName(inv, keys);
  const db = await connecting;
  const res = await detachPort(db, device, { deadline, wait: opts.wait, ...(opts.dryRun ? { dryRun: printTransaction } : {}) });
  if (opts.dryRun) return;
  if (deviceExists(device)) await setLink(device, "down").catch(() => undefined);
  log.info(`${inv.command} ok`, { device, bridge: res.bridges.join(",") || undefined, removed: res.removed });
}
