// Pretend Xen domains for tests: the backend's xenstore keys and device, as
// the toolstack leaves them before it runs the vif script.
import type { OvsHandle } from "./ovs.ts";
import { runBinary } from "./ovs.ts";
import type { XenstoredHandle } from "./xenstore.ts";
import type { Result } from "./proc.ts";

export interface XenVif {
  domid: number;
  devid: number;
  device: string;
  backend: string;
  name: string;
  uuid: string;
  mac: string;
}

export interface VifKeys {
  bridge?: string;
  vifname?: string;
  mtu?: string;
  vlan?: string;
  rate?: string;
}

export async function makeXenVif(
  ovs: OvsHandle,
  xs: XenstoredHandle,
  domid: number,
  keys: VifKeys,
  opts: { devid?: number; createDevice?: boolean } = {},
): Promise<XenVif> {
  const devid = opts.devid ?? 0;
  const device = `vif${domid}.${devid}`;
  const backend = `/local/domain/0/backend/vif/${domid}/${devid}`;
  const uuid = `00000000-0000-4000-8000-${String(domid).padStart(12, "0")}`;
  const name = `dom${domid}`;
  const mac = `00:16:3e:00:${(domid >> 8).toString(16).padStart(2, "0")}:${(domid & 255).toString(16).padStart(2, "0")}`;
  if (opts.createDevice !== false) await ovs.addTap(device);
  await xs.write(`${backend}/frontend-id`, String(domid));
  await xs.write(`${backend}/mac`, mac);
  for (const [k, v] of Object.entries(keys)) if (v !== undefined) await xs.write(`${backend}/${k}`, v);
  await xs.write(`/local/domain/${domid}/vm`, `/vm/${uuid}`);
  await xs.write(`/local/domain/${domid}/name`, name);
  await xs.write(`/vm/${uuid}/name`, name);
  await xs.write(`/vm/${uuid}/uuid`, uuid);
  return { domid, devid, device, backend, name, uuid, mac };
}

/** Runs the binary as Xen runs vif-openvswitch for this vif. */
export function xenHotplug(
  ovs: OvsHandle,
  xs: XenstoredHandle,
  vif: XenVif,
  command: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<Result> {
  return runBinary(ovs, [command, ...extraArgs], {
    name: "vif-openvswitch",
    env: { ...xs.env, vif: vif.device, XENBUS_PATH: vif.backend, ...env },
  });
}
