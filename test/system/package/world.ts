// What the tests of package.test.ts share: why they are skipped here (if
// they are), the package's version and binary path, the .deb built in the
// set-up, the temp dir and the node's private root the install tests work
// in, the private OVS some of them start, and small helpers (host commands,
// line lists, file digests). Apart from the test groups so each of them
// reads the same state.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { debUnavailable, type PrivateRootOptions } from "../../harness/deb.ts";
import { ROOT, type OvsHandle } from "../../harness/ovs.ts";

export const why = debUnavailable();
export const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
export const BIN = "/usr/lib/ovs-vif/ovs-vif";

export const lines = (s: string) => s.split("\n").filter((l) => l !== "");
export const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

export const skip = (name: string) => {
  if (why) console.log(`  skipped (${why}): ${name}`);
  return Boolean(why);
};

/** Runs a host command synchronously; throws when it fails. */
export function hostRun(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: "utf8", maxBuffer: 64 << 20 });
}

/** The .deb, where the tests work, and the private OVS once a test started it. */
export class World {
  deb = "";
  base = "";
  root = ""; // the node's private root: etc/, usr/, var/ upper layers
  ovs: OvsHandle | undefined;

  /** The private OVS, its network namespace and its socket at the default path. */
  onOvs(): PrivateRootOptions {
    return { netns: this.ovs!.ns, binds: [[this.ovs!.dir, "/run/openvswitch"]], env: { OVS_VIF_SYSLOG: "0" } };
  }
}
