// Link-level operations on a VM's device, with iproute2. Names reaching here
// are validated device names (names.ts).
import { existsSync } from "node:fs";
import { run } from "./exec.ts";
import { StateError } from "./errors.ts";

const SYSFS = "/sys/class/net";

export function deviceExists(name: string): boolean {
  return existsSync(`${SYSFS}/${name}`);
}

export function requireDevice(field: string, name: string): void {
  if (!deviceExists(name)) throw new StateError(field, name, "no such network device");
}

/** Prepares a VM backend device as a pure switch port, as Xen's scripts do:
 * down, optionally renamed, MAC fe:ff:ff:ff:ff:ff (the highest non-broadcast
 * address, so no bridge adopts it), addresses flushed. */
export async function prepareVirtualPort(dev: string, rename?: string): Promise<string> {
  const name = rename ?? dev;
  const lines = [`link set dev ${dev} down`];
  if (rename !== undefined && rename !== dev) {
    if (deviceExists(rename)) throw new StateError("vifname", rename, `cannot rename ${dev}: a device with that name already exists`);
    await run("ip", ["link", "set", "dev", dev, "down"]);
    await run("ip", ["link", "set", "dev", dev, "name", rename]);
    lines.length = 0;
  }
  lines.push(`link set dev ${name} address fe:ff:ff:ff:ff:ff`, `address flush dev ${name}`);
  // -force: like the stock scripts, a device that refuses a MAC is not fatal.
  await run("ip", ["-force", "-batch", "-"], { input: lines.join("\n") + "\n", reject: false });
  return name;
}

export async function setLink(dev: string, state: "up" | "down"): Promise<void> {
  await run("ip", ["link", "set", "dev", dev, state]);
}
