// The precedence table of QoS sources for one Ganeti NIC (src/qos.ts):
// a case's tags, the NIC, the MTU and what it resolves to; one test each.
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_MTU } from "../../src/port.ts";
import { resolvePolicing, NO_POLICING, type Policing } from "../../src/qos.ts";
import { ganetiLevels } from "../../src/qos-tags.ts";
import type { NicIdentity } from "../../src/nic.ts";
import { expectInputError } from "./assert.ts";
import { NIC0 } from "./qos-levels.ts";

export type Want = Policing | { error: { field: string; value: string; mentions?: string[] } };

export interface PrecedenceCase {
  name: string;
  inst: string[];
  /** The network's tags; none when left out. */
  net?: string[];
  /** The NIC; NIC0 (index 0, eth0) when left out. */
  nic?: NicIdentity;
  mtu?: number;
  want: Want;
  rateSource?: string;
  burstSource?: string;
}

/** The tags of the worked example: an instance rate, a per-NIC rate for NIC 1, a network rate. */
export const doneWhenInst = ["ovs-vif:rate:100M", "ovs-vif:nic:1:rate:10M"];
export const doneWhenNet = ["ovs-vif:rate:1G"];

/** One test per case. */
export function testPrecedence(test: Test, cases: PrecedenceCase[]): void {
  for (const c of cases) {
    test(`precedence: ${c.name}`, () => {
      const mtu = c.mtu ?? DEFAULT_MTU;
      const run = () => resolvePolicing(ganetiLevels(c.inst, c.net ?? [], c.nic ?? NIC0), mtu);
      if ("error" in c.want) {
        const { field, value, mentions } = c.want.error;
        const err = expectInputError(run, field, value);
        for (const m of mentions ?? []) assert.ok(err.message.includes(m), `message ${JSON.stringify(err.message)} mentions ${m}`);
        return;
      }
      const got = run();
      assert.equal(got.policing, c.want);
      if (c.rateSource !== undefined) assert.is(got.rateSource, c.rateSource);
      if (c.burstSource !== undefined) assert.is(got.burstSource, c.burstSource);
      // The policing is a fresh object, never the shared frozen NO_POLICING.
      assert.is.not(got.policing, NO_POLICING);
    });
  }
}
