// Xen's vif-openvswitch: `vif-openvswitch online|offline|add|remove [k=v...]`
// with vif / XENBUS_PATH / INTERFACE in the environment.
import { GLOBAL_HELP } from "../src/cli/args.ts";
import type { EntryPoint, Invocation } from "../src/cli/runner.ts";
import { connectOvsdb } from "../src/context.ts";
import { plug, qosFields, unplug } from "../src/plug.ts";
import { nodeDefaultsLevel } from "../src/sources/defaults.ts";
import { parseXenInvocation, readXenVifKeys, reportXenFailure, targetDeviceName, xenDesiredPort, xenLogFile } from "../src/sources/xen.ts";
import { openXenStore } from "../src/sources/xenstore.ts";
import { loadDeviceCalls } from "../src/netdev.ts";
import { mark } from "../src/trace.ts";
import { describeVlan, vlanMode } from "../src/vlan.ts";
import { ID } from "../src/ovsdb/keys.ts";

const HELP = `usage: vif-openvswitch online|offline|add|remove [bridge=BR[.N][:A:B...]] [type_if=vif|tap] [options]
       ovs-vif xen-vif online|offline|add|remove ...

Xen hotplug script: attaches the backend device ($vif, or $INTERFACE for
the emulated tap twin) to the Open vSwitch bridge named by xenstore's
$XENBUS_PATH/bridge (or the bridge= argument), in one OVSDB transaction with
explicit vlan_mode: br (untagged only), br.N (access N), br:A:B (trunk of A,B,
tagged only), br.N:A:B (N untagged + A,B tagged). A backend 'vlan' key
(xl vlan=) overrides the suffix. Writes hotplug-status / hotplug-error.

${GLOBAL_HELP}`;

async function run({ args, ctx, env, failure }: Invocation): Promise<number> {
  mark("xen hook loaded");
  failure.prefix = `${args.positionals[0] ?? "hotplug"} failed`;
  const inv = parseXenInvocation(args.positionals, env);
  if (!inv) return 0;
  failure.fields = { device: inv.device };
  // Both connections at once: their latencies overlap.
  const db = connectOvsdb(ctx);
  db.catch(() => undefined);
  const xs = await openXenStore({ timeoutMs: Math.min(ctx.opts.timeoutMs, 5000) });
  mark("xenstore connected");
  try {
    const up = inv.command === "online" || inv.command === "add";
    const reading = readXenVifKeys(xs, inv.xenbusPath, up);
    // While xenstored answers: what the device steps need.
    if (up && !ctx.dryRun) loadDeviceCalls();
    const keys = await reading;
    mark("xenstore read");
    const device = targetDeviceName(inv, keys);
    if (!up) {
      const res = await unplug(device, ctx, db);
      if (!ctx.dryRun) ctx.log.info(`${inv.command} ok`, { device, bridge: res.bridges.join(",") || undefined, removed: res.removed });
      return 0;
    }
    const started = Date.now();
    const { desired, vlanSource } = xenDesiredPort(inv, keys, device, (bridge) => [nodeDefaultsLevel(bridge)]);
    const res = await plug({ desired, device: inv.device, deviceField: inv.typeIf === "tap" ? "INTERFACE" : "vif", renameField: "vifname", xenBackend: true }, ctx, db);
    if (ctx.dryRun) return 0;
    await xs.write(`${inv.xenbusPath}/hotplug-status`, "connected");
    mark("hotplug-status written");
    ctx.log.info(`${inv.command} ok`, {
      vm: desired.interfaceIds[ID.xenVmName],
      device,
      bridge: desired.bridge,
      vlan_mode: vlanMode(desired.vlan),
      vlan: describeVlan(desired.vlan),
      vlan_from: vlanSource,
      mtu: desired.mtu ?? res.bridgeMtu,
      ...qosFields(res),
      ofport: res.ofport,
      ms: Date.now() - started,
    });
    return 0;
  } finally {
    xs.close();
    await db.then((c) => c.close(), () => undefined);
  }
}

export const xenHook: EntryPoint = {
  tag: "vif-openvswitch",
  help: HELP,
  logFile: xenLogFile,
  run,
  reportFailure: reportXenFailure,
};
