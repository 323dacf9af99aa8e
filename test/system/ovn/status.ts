// status (JSON and human) on an OVN port: its logical port, binding and
// port security; doctor's OVN checks: NB answers, the chassis, and the
// Geneve MTU warning. Apart from the tests that change OVN: these only read.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runBinary } from "../../harness/ovs.ts";
import { B, type World } from "./world.ts";

export function registerStatus(w: World): void {
  test("status shows an OVN port's logical port, binding and port security; doctor checks NB, the chassis and the Geneve MTU", async () => {
    const r = await runBinary(w.c1.ovs, ["status", "--json", "--node", "n1"], { env: { OVS_VIF_OVN: w.config } });
    const s = JSON.parse(r.stdout) as {
      ports: {
        port: string;
        state: string;
        ovn?: { lsp: string; bound_to?: string; ovn_installed: boolean; port_security?: string[]; requested_chassis?: string[] };
      }[];
    };
    const p = s.ports.find((x) => x.ovn?.lsp === B.uuid);
    assert.ok(p, r.stdout);
    assert.equal(p!.ovn, { lsp: B.uuid, ovn_installed: true, port_security: [`${B.mac} ${B.ip}`], requested_chassis: ["c1"], bound_to: "c1" });
    const human = await runBinary(w.c1.ovs, ["status", "--node", "n1"], { env: { OVS_VIF_OVN: w.config } });
    assert.match(human.stdout, new RegExp(`lsp ${B.uuid} bound to c1 \\(requested c1\\), ovn-installed, port security ${B.mac} ${B.ip.replace(/\./g, "\\.")}`));
    const d = await runBinary(w.c1.ovs, ["doctor", "--node", "n1"], { env: { OVS_VIF_OVN: w.config } });
    assert.match(d.stdout, /ok   ovn nb: unix:.*nb\.sock answers/);
    assert.match(d.stdout, /ok   ovn chassis: chassis c1, SB unix:.*, encap geneve 198\.51\.100\.201/);
    // br-int keeps OVS's 1500; the underlay is 1500 too: a full-size VM frame does not fit Geneve.
    assert.match(d.stdout, /warn ovn mtu: VM ports get br-int's MTU 1500; with Geneve \(58 bytes\) that needs 1558 on br-phy, which has 1500/);
    console.log(
      d.stdout
        .split("\n")
        .filter((l) => l.includes(" ovn "))
        .map((l) => `  ${l}`)
        .join("\n"),
    );
  });
}
