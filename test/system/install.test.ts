// Tests for install.sh. Everything happens under --root in mkdtemp dirs, with
// a fake binary (a tiny shell script) so the tests do not depend on the build.
//
// This file removes the temp dirs after the tests; the tests, in this order,
// and what they share are in install/ (install, uninstall, the command line,
// --links-only as ovs-vif-setup, --list).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, rmSync } from "node:fs";
import { registerCli, registerList } from "./install/cli.ts";
import { registerInstall } from "./install/install.ts";
import { registerLinksOnly } from "./install/links-only.ts";
import { registerUninstall } from "./install/uninstall.ts";
import { World } from "./install/world.ts";

const w = new World();

test.after(() => {
  const dirs = w.tempDirs.splice(0);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const d of dirs) assert.not.ok(existsSync(d), `temp dir ${d} removed`);
  w.logDir = "";
});

registerInstall(w);
registerUninstall(w);
registerCli(w);
registerLinksOnly(w);
registerList(w);

test.run();
