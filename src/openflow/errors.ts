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
