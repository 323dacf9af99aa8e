// Waiting for ovs-vswitchd (src/ovsdb/transact.ts: watchCfg, checkInterface)
// against a scripted client: what the monitor asks for, and when the
// monitor's own view of the new Interface answers without a read.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Json, OperationResult, OvsdbClient } from "../../src/ovsdb/client.ts";
import { checkInterface, watchCfg } from "../../src/ovsdb/transact.ts";
import { Deadline } from "../../src/deadline.ts";

const IFACE = "5a3e0c1e-0000-4000-8000-000000000001";
const OTHER = "5a3e0c1e-0000-4000-8000-000000000002";

/** A client whose monitor answers `initial`, and whose reads answer `row` (or fail the test when `reads` is 0). */
function scripted(o: { initial?: Json; row?: Record<string, Json>; reads?: number }) {
  const requests: { method: string; params: Json[] }[] = [];
  const selects: Json[][] = [];
  const client = {
    database: "Open_vSwitch",
    onUpdate: undefined as ((id: Json, update: Json) => void) | undefined,
    request(method: string, params: Json[]): Promise<Json> {
      requests.push({ method, params });
      return Promise.resolve(method === "monitor" ? (o.initial ?? { Open_vSwitch: { root: { new: { cur_cfg: 4 } } } }) : {});
    },
    transact(ops: Json[]): Promise<OperationResult[]> {
      selects.push(ops);
      if (o.reads === 0) throw new Error("read the Interface although the monitor had answered");
      return Promise.resolve([{ rows: o.row ? [o.row] : [] }]);
    },
  };
  const update = (u: Json) => client.onUpdate?.(requests.find((r) => r.method === "monitor")!.params[1]!, u);
  return { db: client as unknown as OvsdbClient, requests, selects, update };
}

const deadline = () => new Deadline(2000);

test("a plain cur_cfg watch monitors Open_vSwitch only", () => {
  const s = scripted({});
  watchCfg(s.db, deadline());
  assert.equal(s.requests[0]!.params[2], { Open_vSwitch: { columns: ["cur_cfg"] } });
});

test("an interface watch also monitors new and changed Interface rows, without their initial rows", () => {
  const s = scripted({});
  watchCfg(s.db, deadline(), { interfaces: true });
  assert.equal((s.requests[0]!.params[2] as Record<string, Json>).Interface, {
    columns: ["ofport", "error"],
    select: { initial: false, insert: true, modify: true, delete: false },
  });
});

test("the ofport the update with cur_cfg brings answers without reading the Interface", async () => {
  const s = scripted({ reads: 0 });
  const watch = watchCfg(s.db, deadline(), { interfaces: true });
  const done = watch.until(5);
  await Promise.resolve();
  s.update({ Interface: { [IFACE]: { new: { ofport: ["set", []], error: ["set", []] } } } });
  s.update({
    Open_vSwitch: { root: { new: { cur_cfg: 5 } } },
    Interface: { [IFACE]: { new: { ofport: 7, error: ["set", []] } }, [OTHER]: { new: { ofport: 3, error: ["set", []] } } },
  });
  await done;
  assert.is(await checkInterface(s.db, IFACE, "vif5.0", deadline(), watch), 7);
  assert.is(s.selects.length, 0);
});

test("an Interface the monitor saw with an error is read again, and ovs-vswitchd's error reported", async () => {
  const s = scripted({ row: { ofport: -1, error: "could not open network device vif5.0 (No such device)" } });
  const watch = watchCfg(s.db, deadline(), { interfaces: true });
  s.update({
    Open_vSwitch: { root: { new: { cur_cfg: 5 } } },
    Interface: { [IFACE]: { new: { ofport: -1, error: "could not open network device vif5.0 (No such device)" } } },
  });
  await watch.until(5);
  try {
    await checkInterface(s.db, IFACE, "vif5.0", deadline(), watch);
    assert.unreachable("an attach error must throw");
  } catch (err) {
    assert.match((err as Error).message, /ovs-vswitchd could not attach it: could not open network device vif5.0/);
  }
  assert.is(s.selects.length, 1);
});

test("an Interface the monitor did not see with an ofport (another row, or none yet) is read from OVSDB", async () => {
  const s = scripted({ row: { ofport: 9, error: ["set", []] } });
  const watch = watchCfg(s.db, deadline(), { interfaces: true });
  s.update({ Open_vSwitch: { root: { new: { cur_cfg: 5 } } }, Interface: { [OTHER]: { new: { ofport: 3, error: ["set", []] } } } });
  await watch.until(5);
  assert.is(await checkInterface(s.db, IFACE, "vif5.0", deadline(), watch), 9);
  assert.is(s.selects.length, 1);
  assert.equal((s.selects[0]![0] as { where: Json }).where, [["_uuid", "==", ["uuid", IFACE]]]);
});

test("an Interface read that finds no ofport fails naming the device", async () => {
  const s = scripted({ row: { ofport: ["set", []], error: ["set", []] } });
  try {
    await checkInterface(s.db, IFACE, "vif5.0", deadline());
    assert.unreachable("no ofport must throw");
  } catch (err) {
    assert.match((err as Error).message, /vif5.0/);
    assert.match((err as Error).message, /ovs-vswitchd could not attach it \(ofport \[\]\)/);
  }
});

test.run();
