// Where ovs-vif's node files and its state live, and the variables that move
// them (tests, other layouts): declared once, for every module that reads,
// writes, copies or checks them.

/** The node-group switch spec (ovs-vif switch). */
export const SPEC_PATH = "/etc/ovs-vif/switches.json";
/** The node's QoS (and port security) defaults. */
export const DEFAULTS_PATH = "/etc/ovs-vif/defaults.json";
/** The node's OVN settings; without it a NIC on br-int is a plain port. */
export const OVN_CONFIG_PATH = "/etc/ovs-vif/ovn.json";
/** ovs-vif's state: Ganeti's exported view, the last reconcile's time. */
export const STATE_DIR = "/var/lib/ovs-vif";

/** `--spec FILE`, else $OVS_VIF_SWITCHES, else /etc/ovs-vif/switches.json. */
export function specPath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.OVS_VIF_SWITCHES || SPEC_PATH;
}

export function defaultsPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_VIF_DEFAULTS || DEFAULTS_PATH;
}

export function ovnConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_VIF_OVN || OVN_CONFIG_PATH;
}

/** OVS_VIF_STATE_DIR for tests. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_VIF_STATE_DIR || STATE_DIR;
}

/** Ganeti's view as the master exported it, at the same path on every node. */
export function snapshotFile(env: NodeJS.ProcessEnv = process.env): string {
  return `${stateDir(env)}/ganeti.json`;
}
