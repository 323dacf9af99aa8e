// This node's name as Ganeti knows it.
import { hostname } from "node:os";
import { run } from "../exec.ts";

/** `--node`, else `hostname --fqdn` (Ganeti's node names are FQDNs), else the kernel's hostname. */
export async function localNodeName(option?: string): Promise<string> {
  if (option) return option;
  try {
    const r = await run("hostname", ["--fqdn"], { timeoutMs: 5000 });
    const name = r.stdout.trim();
    if (name) return name;
  } catch {
    // no resolvable FQDN: fall back
  }
  return hostname();
}
