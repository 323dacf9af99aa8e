// Private OVS "nodes" for the switch system tests: one started per call and
// stopped after the test that started it, veth pairs for uplinks, the spec
// file in the OVS's own directory, and `ovs-vif switch` run against it.
import type { Test } from "uvu";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary, startOvs, type OvsHandle } from "./ovs.ts";
import type { Result } from "./proc.ts";

/** Registers the teardown on `test` and returns the function that starts a
 * private OVS; every one started in a test is stopped after it. */
export function ovsPerTest(test: Test): () => Promise<OvsHandle> {
  const handles: OvsHandle[] = [];
  test.after.each(async () => {
    for (const h of handles.splice(0)) await h.stop();
  });
  return async () => {
    const h = await startOvs();
    handles.push(h);
    return h;
  };
}

/** veth pairs inside the namespace: `names` are the ends the switch uses
 * (their peers are NAMEp); `up` sets both ends up. */
export async function addVeths(h: OvsHandle, names: string[], opts: { up?: boolean } = {}): Promise<void> {
  for (const d of names) {
    const r = await h.inNs("ip", ["link", "add", d, "type", "veth", "peer", "name", `${d}p`]);
    if (r.code !== 0) throw new Error(`ip link add ${d}: ${r.stderr}`);
    if (opts.up) {
      await h.inNs("ip", ["link", "set", d, "up"]);
      await h.inNs("ip", ["link", "set", `${d}p`, "up"]);
    }
  }
}

/** The spec file of this OVS's tests. */
export const specFile = (h: OvsHandle): string => join(h.dir, "switches.json");

export function writeSpec(h: OvsHandle, doc: unknown): string {
  const file = specFile(h);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

/** `ovs-vif switch ARGS --spec FILE` with the compiled binary, against this OVS. */
export function switchCmd(h: OvsHandle, ...args: string[]): Promise<Result> {
  return runBinary(h, ["switch", ...args, "--spec", specFile(h)]);
}
