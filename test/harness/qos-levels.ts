import type { NicIdentity } from "../../src/nic.ts";
// Reference values and QoS levels shared by the policing tests (qos, node
// defaults, port): one full frame in kb, Xen's rate key, the environment's
// OVS_VIF_RATE/OVS_VIF_BURST level and a node defaults file.
import { parseXenRate, valueLevel, type QosLevel } from "../../src/qos.ts";
import { defaultsLevel, parseNodeDefaults, type NodeDefaults } from "../../src/sources/defaults.ts";

export const MTU_1500_KB = 12; // ceil((1500 + 14) * 8 / 1024)
export const MTU_9000_KB = 71; // ceil((9000 + 14) * 8 / 1024)

/** A Xen backend's `rate` key. */
export const XEN_FIELD = "/local/domain/0/backend/vif/5/0/rate";

/** The level Xen's rate key gives: empty without the key. */
export function xenLevel(raw?: string): QosLevel {
  const level: QosLevel = { name: `xenstore ${XEN_FIELD}` };
  if (raw !== undefined) level.ovs = parseXenRate(XEN_FIELD, raw);
  return level;
}

/** The level of OVS_VIF_RATE / OVS_VIF_BURST. */
export const envLevel = (rate?: string, burst?: string): QosLevel => valueLevel("environment", rate, burst, "OVS_VIF_RATE", "OVS_VIF_BURST");

/** The node defaults file at its default path: a node-wide rate, and
 * bridges with their own rate and burst, a burst only, and no limit. */
export const DPATH = "/etc/ovs-vif/defaults.json";
export const GOOD_DEFAULTS_TEXT = JSON.stringify({
  version: 1,
  default: { rate: "1G" },
  bridges: { sw1: { rate: "100M", burst: "10M" }, sw2: { burst: "20M" }, open: { rate: "unlimited" } },
});
export const GOOD_DEFAULTS: NodeDefaults = parseNodeDefaults(DPATH, GOOD_DEFAULTS_TEXT);

/** The defaults level of a bridge with its own entry (sw1: 100M, burst 10M). */
export const sw1Defaults = (): QosLevel => defaultsLevel(DPATH, GOOD_DEFAULTS, "sw1");
/** The defaults level of a bridge without an entry (the node-wide 1G). */
export const sw9Defaults = (): QosLevel => defaultsLevel(DPATH, GOOD_DEFAULTS, "sw9");

/** Two NICs of one instance, as tags name them (index, name or UUID). */
export const UUID0 = "9f3c1d2e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
export const UUID1 = "1b2c3d4e-5f60-4718-892a-3b4c5d6e7f80";
export const NIC0: NicIdentity = { index: 0, name: "eth0", uuid: UUID0 };
export const NIC1: NicIdentity = { index: 1, name: "eth1", uuid: UUID1 };
