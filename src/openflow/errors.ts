// Failures of the OpenFlow path to a bridge. The message names the bridge
// and what failed, in the project's one-line style; the switch's own error
// (type and code) is kept for callers that tell them apart.

export type OpenFlowErrorKind =
  /** The management socket is missing or refuses (no such bridge, no ovs-vswitchd). */
  | "connect"
  /** No answer within the deadline. */
  | "timeout"
  /** The switch closed the connection, or the socket failed. */
  | "closed"
  /** The switch does not allow OpenFlow 1.4 on this bridge. */
  | "version"
  /** The switch answered with an OpenFlow error (a flow refused, a bundle not committed). */
  | "rejected"
  /** Bytes that are not OpenFlow as ovs-vif speaks it. */
  | "protocol";

export class OpenFlowError extends Error {
  override readonly name = "OpenFlowError";
  constructor(
    readonly kind: OpenFlowErrorKind,
    readonly bridge: string,
    /** What failed, e.g. "commit of 29 flows" or "connect to /run/openvswitch/sw1.mgmt". */
    readonly what: string,
    readonly reason: string,
    /** The switch's error type and code, when it sent one. */
    readonly ofError?: { type: number; code: number },
  ) {
    super(`OpenFlow bridge ${JSON.stringify(bridge)}: ${what}: ${reason}`);
  }
}

// The names of the switch's error types and codes (OpenFlow 1.4.0,
// openflow.h), for the message of a rejected request.
const ERROR_TYPES = [
  "HELLO_FAILED",
  "BAD_REQUEST",
  "BAD_ACTION",
  "BAD_INSTRUCTION",
  "BAD_MATCH",
  "FLOW_MOD_FAILED",
  "GROUP_MOD_FAILED",
  "PORT_MOD_FAILED",
  "TABLE_MOD_FAILED",
  "QUEUE_OP_FAILED",
  "SWITCH_CONFIG_FAILED",
  "ROLE_REQUEST_FAILED",
  "METER_MOD_FAILED",
  "TABLE_FEATURES_FAILED",
  "BAD_PROPERTY",
  "ASYNC_CONFIG_FAILED",
  "FLOW_MONITOR_FAILED",
  "BUNDLE_FAILED",
];
const ERROR_CODES: Record<number, string[]> = {
  0: ["INCOMPATIBLE", "EPERM"],
  1: [
    "BAD_VERSION",
    "BAD_TYPE",
    "BAD_MULTIPART",
    "BAD_EXPERIMENTER",
    "BAD_EXP_TYPE",
    "EPERM",
    "BAD_LEN",
    "BUFFER_EMPTY",
    "BUFFER_UNKNOWN",
    "BAD_TABLE_ID",
    "IS_SLAVE",
    "BAD_PORT",
    "BAD_PACKET",
    "MULTIPART_BUFFER_OVERFLOW",
  ],
  2: [
    "BAD_TYPE",
    "BAD_LEN",
    "BAD_EXPERIMENTER",
    "BAD_EXP_TYPE",
    "BAD_OUT_PORT",
    "BAD_ARGUMENT",
    "EPERM",
    "TOO_MANY",
    "BAD_QUEUE",
    "BAD_OUT_GROUP",
    "MATCH_INCONSISTENT",
    "UNSUPPORTED_ORDER",
    "BAD_TAG",
    "BAD_SET_TYPE",
    "BAD_SET_LEN",
    "BAD_SET_ARGUMENT",
  ],
  4: [
    "BAD_TYPE",
    "BAD_LEN",
    "BAD_TAG",
    "BAD_DL_ADDR_MASK",
    "BAD_NW_ADDR_MASK",
    "BAD_WILDCARDS",
    "BAD_FIELD",
    "BAD_VALUE",
    "BAD_MASK",
    "BAD_PREREQ",
    "DUP_FIELD",
    "EPERM",
  ],
  5: ["UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS", "CANT_SYNC", "BAD_PRIORITY", "IS_SYNC"],
  17: [
    "UNKNOWN",
    "EPERM",
    "BAD_ID",
    "BUNDLE_EXIST",
    "BUNDLE_CLOSED",
    "OUT_OF_BUNDLES",
    "BAD_TYPE",
    "BAD_FLAGS",
    "MSG_BAD_LEN",
    "MSG_BAD_XID",
    "MSG_UNSUP",
    "MSG_CONFLICT",
    "MSG_TOO_MANY",
    "MSG_FAILED",
    "TIMEOUT",
    "BUNDLE_IN_PROGRESS",
  ],
};

/** "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ"-like text (the spec's names without prefixes). */
export function errorName(type: number, code: number): string {
  const t = type === 0xffff ? "EXPERIMENTER" : (ERROR_TYPES[type] ?? `type ${type}`);
  return `${t}/${ERROR_CODES[type]?.[code] ?? `code ${code}`}`;
}
