// The hook environments of the lifecycle test: a capture hook of our own,
// installed first in every pre.d/post.d of the captured paths, records each
// environment Ganeti gives a hook; the last scenario compares the first of
// each with the committed test/fixtures/ganeti-hooks/RELEASE/*.env (which
// the unit tests read), or rewrites them with OVS_VIF_UPDATE_FIXTURES=1.
// Apart from the scenarios: it is what the whole run leaves behind, checked
// once at the end.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ganetiRelease } from "../../harness/ganeti-release.ts";
import { capturedPaths, fixtureDir, PHASES, fixtureName, formatEnvFile, normalizeHookValue, parseEnvFile } from "../../harness/hook-fixtures.ts";
import type { World } from "./world.ts";

/** Records the exact environment of each hook run; perl, because a shell or
 * Python adds variables of its own (PWD, LC_CTYPE). */
const CAPTURE_HOOK = `#!/usr/bin/perl
use strict;
use Time::HiRes qw(time);
my $name = ($ENV{GANETI_HOOKS_PATH} // "unknown") . "-" . ($ENV{GANETI_HOOKS_PHASE} // "unknown");
my $file = sprintf("/var/log/ganeti/hook-env/%s.%.6f.%d.env", $name, time(), $$);
open(my $f, ">", $file) or die "$file: $!";
print $f "$_=$ENV{$_}\\n" for sort keys %ENV;
close($f) or die "$file: $!";
`;

/** The capture hook, first in every pre.d/post.d of the captured paths
 * (the node's private /etc/ganeti/hooks, bind-mounted from the cluster's
 * temp dir `clusterDir`); where it writes, seen from the host. */
export function installCaptureHooks(clusterDir: string): string {
  const captureDir = join(clusterDir, "varlog/hook-env");
  mkdirSync(captureDir, { recursive: true });
  for (const path of capturedPaths(ganetiRelease())) {
    for (const phase of PHASES) {
      const dir = join(clusterDir, "root/etc/ganeti/hooks", `${path}-${phase}.d`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "00-capture-env"), CAPTURE_HOOK);
      chmodSync(join(dir, "00-capture-env"), 0o755);
    }
  }
  return captureDir;
}

/** The last scenario. */
export function registerHookFixtures(w: World): void {
  // ------------------------------------------------------------------ fixtures
  test("the hook environments Ganeti sent are the committed fixtures test/fixtures/ganeti-hooks/RELEASE/*.env of the running release (UUIDs and tag order aside)", () => {
    const update = process.env.OVS_VIF_UPDATE_FIXTURES === "1";
    const FIXTURE_DIR = fixtureDir(ganetiRelease());
    if (update) mkdirSync(FIXTURE_DIR, { recursive: true });
    for (const path of capturedPaths(ganetiRelease())) {
      for (const phase of PHASES) {
        // The first run of each: inst1's start, the modify of `vlan add`.
        const runs = w.captured(path, phase);
        assert.ok(runs.length > 0, `${path} ${phase} hook ran`);
        const env = runs[0]!;
        assert.is(env.GANETI_HOOKS_PATH, path);
        assert.is(env.GANETI_HOOKS_PHASE, phase);
        const foreign = Object.keys(env).filter((k) => k !== "PATH" && !k.startsWith("GANETI_"));
        assert.equal(foreign, [], `${path}-${phase}: only PATH and GANETI_* (Ganeti clears the environment)`);
        const name = fixtureName(path, phase);
        const file = join(FIXTURE_DIR, name);
        if (update) {
          writeFileSync(file, formatEnvFile(env));
          console.log(`  wrote ${FIXTURE_DIR}/${name}: ${Object.keys(env).length} variables (${runs.length} run(s) captured)`);
          continue;
        }
        assert.ok(existsSync(file), `${file} missing: run with OVS_VIF_UPDATE_FIXTURES=1`);
        const fixture = parseEnvFile(readFileSync(file, "utf8"), file);
        const keys = (e: Record<string, string>) => Object.keys(e).sort();
        const missing = keys(fixture).filter((k) => !(k in env));
        const added = keys(env).filter((k) => !(k in fixture));
        assert.equal([missing, added], [[], []], `${name}: variables [missing now, new now] (OVS_VIF_UPDATE_FIXTURES=1 rewrites)`);
        const differ = keys(env).filter((k) => normalizeHookValue(k, env[k]!) !== normalizeHookValue(k, fixture[k]!));
        assert.equal(differ, [], `${name}: values differ: ${differ.map((k) => `${k}=${env[k]} (fixture ${fixture[k]})`).join("; ")}`);
        console.log(`  ${name}: ${Object.keys(env).length} variables as in the fixture (${runs.length} run(s) captured)`);
      }
    }
  });
}
