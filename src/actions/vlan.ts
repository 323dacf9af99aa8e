// `ovs-vif vlan add|remove|set`: a Ganeti NIC's vlan changed in Ganeti
// (without hot-modifying the guest's NIC) and on its running port in place.
import { connectOvsdb, out, type RunContext } from "../context.ts";
import { InputError } from "../errors.ts";
import { run } from "../exec.ts";
import { findNic, networksOf, noHotplugOptions, queryInstance } from "../ganeti/query.ts";
import { ganetiPorts, networksFrom, reconcileGanetiPorts } from "../ganeti/reconcile.ts";
import { reportOutcomes } from "../outcome.ts";
import { editVlan, type VlanEdit } from "../ganeti/vlan-edit.ts";
import { ID } from "../ovsdb/keys.ts";

/** The edit, validated before Ganeti is asked anything, applied; the exit code. */
export async function changeNicVlan(instance: string, nicId: string, edit: VlanEdit, ctx: RunContext): Promise<number> {
  const inst = await queryInstance(instance);
  const nic = findNic(inst, nicId);
  if (nic.mode !== "openvswitch") throw new InputError("NIC", nicId, `is mode ${nic.mode}, not openvswitch`);
  const { before, after } = editVlan(nic.vlan, edit);
  out(`${instance} nic ${nic.index}: vlan ${JSON.stringify(before)} -> ${JSON.stringify(after)}\n`);
  if (before === after) return 0;
  if (!ctx.dryRun) {
    // Ganeti stores "" as no VLAN; modify needs the key with an empty value then.
    await run("gnt-instance", ["modify", ...(await noHotplugOptions()), "--net", `${nic.index}:modify,vlan=${after}`, instance], { timeoutMs: 300_000 });
    ctx.log.info("vlan changed in Ganeti", { instance, nic: nic.index, before, after });
  }
  const db = await connectOvsdb(ctx).catch(() => undefined);
  if (!db) {
    out("no OVSDB on this node: the instance-modify hook applies it where the instance runs\n");
    return 0;
  }
  try {
    const ports = (await ganetiPorts(db, ctx, instance)).filter((p) => p.ifaceIds[ID.nicUuid] === nic.uuid);
    if (ports.length === 0) {
      out(`${instance} nic ${nic.index}: no running port on this node (the instance-modify hook applies it where it runs)\n`);
      return 0;
    }
    const updated = { ...inst, nics: inst.nics.map((n) => (n.uuid === nic.uuid ? { ...n, vlan: after } : n)) };
    const results = await reconcileGanetiPorts(db, ctx, ports, [updated], networksFrom(await networksOf([updated])));
    return reportOutcomes(results, ctx, "vlan ") ? 1 : 0;
  } finally {
    db.close();
  }
}
