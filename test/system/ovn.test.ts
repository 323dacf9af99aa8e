// ovs-vif's OVN mode on a private OVN with two chassis (test/harness/ovn.ts):
// Ganeti's KVM NIC script plugs VMs whose NIC is on br-int in a Ganeti
// network; the logical port is made in NB, bound, and pings cross Geneve;
// port security drops forged frames; unplug and re-plug; a missing switch,
// a dead NB and ambiguous NICs fail with one line and change nothing; and a
// live migration between the chassis with requested-chassis "src,dst" and a
// RARP, promoted by the post hook.
//
// This file starts the OVN and its two VMs and stops it; the tests, in this
// order, and what they share are in ovn/ (one OVN for all of them: plug,
// migration, status and doctor, NB over ssl, the network-rename and
// instance-remove hooks).
import { test } from "uvu";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startOvn, type Chassis } from "../harness/ovn.ts";
import { registerHooks } from "./ovn/hooks.ts";
import { registerMigration } from "./ovn/migration.ts";
import { registerNbSsl } from "./ovn/nb-ssl.ts";
import { registerPlug } from "./ovn/plug.ts";
import { registerStatus } from "./ovn/status.ts";
import { A, B, report, World } from "./ovn/world.ts";

const t0 = performance.now();
const w = new World();

test.before(async () => {
  w.ovn = await startOvn({ chassis: 2 });
  [w.c1, w.c2] = w.ovn.chassis as [Chassis, Chassis];
  await w.ovn.nbctl("ls-add", "net1");
  w.config = join(w.ovn.dir, "ovs-vif-ovn.json");
  writeFileSync(w.config, JSON.stringify({ version: 1, nb: w.ovn.nb }));
  w.a = await w.ovn.addVm(w.c1, "a", A);
  w.b = await w.ovn.addVm(w.c2, "b", B);
});

test.after(async () => {
  await w.ovn?.stop();
  report(`whole file: ${(performance.now() - t0).toFixed(0)} ms`);
});

registerPlug(w);
registerMigration(w);
registerStatus(w);
registerNbSsl(w);
registerHooks(w);

test.run();
