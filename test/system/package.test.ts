// The Debian package: built from the binary under test with
// packaging/build-deb.sh, inspected (dpkg-deb -c/-I, lintian, man), then
// installed with the real dpkg into a private root (test/harness/deb.ts:
// overlays over the host's /etc, /usr and /var in a mount namespace, so the
// maintainer scripts run for real and the host is not touched). The installed
// binary runs through Ganeti's own kvm-ifup against a private OVS; the gc
// unit's ExecStart runs against planted stale rows; remove and purge leave
// nothing the package made.
//
// This file builds the .deb and tears down; the tests, in this order, and
// what they share are in package/ (one .deb and one installed root for all).
import { test } from "uvu";
import { lstatSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDeb } from "../harness/deb.ts";
import { registerDebContents } from "./package/deb-contents.ts";
import { registerInstalled } from "./package/installed.ts";
import { registerOtherRoots } from "./package/other-roots.ts";
import { registerRemoveAndPurge } from "./package/remove-purge.ts";
import { why, World } from "./package/world.ts";

const w = new World();
const t0 = Date.now();

test.before(async () => {
  if (why) return;
  const t = Date.now();
  w.deb = await buildDeb();
  console.log(`  build-deb.sh: ${w.deb.split("/").pop()} ${(lstatSync(w.deb).size / 1e6).toFixed(1)} MB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  w.base = mkdtempSync(join(tmpdir(), "ovs-vif-pkg-"));
  w.root = join(w.base, "root");
  mkdirSync(w.root);
});

test.after(async () => {
  await w.ovs?.stop();
  if (w.base) rmSync(w.base, { recursive: true, force: true });
  if (!why) console.log(`  package test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

registerDebContents(w);
registerInstalled(w);
registerRemoveAndPurge(w);
registerOtherRoots(w);

test.run();
