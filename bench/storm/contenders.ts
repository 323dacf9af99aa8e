// The boot storm's contenders: for Xen, the stock vif-openvswitch and ovs-vif
// as it (`online type_if=vif` with vif / XENBUS_PATH); for KVM, Ganeti's stock
// kvm-ifup + net-common and ovs-vif as kvm-vif-bridge, with the NIC
// environment Ganeti gives kvm-ifup.
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { OvsHandle } from "../../test/harness/ovs.ts";
import { must } from "../../test/harness/proc.ts";
import type { XenstoredHandle } from "../../test/harness/xenstore.ts";
import { syslogTag } from "../lib/syslog-count.ts";
import { xenStockDebs } from "../lib/xen-stock.ts";
import type { Nic } from "./node.ts";

export interface Contender {
  key: string;
  label: string;
  family: "xen" | "kvm";
  ovsVif: boolean;
  file: string;
  args: string[];
  env(n: Nic): NodeJS.ProcessEnv;
  /** Syslog lines of this contender (by content). */
  own(text: string): boolean;
}

export interface StormSetup {
  families: string[];
  binary: string;
  tmp: string;
  ovs: OvsHandle;
  xs: XenstoredHandle;
  /** The fetched xen-utils-common .deb's directory. */
  xenDebDir: string;
  /** Ganeti's stock kvm-ifup, and where it came from. */
  kvmIfup: string;
  kvmSource: string;
}

/** The contenders of each family asked for, in order; NOTES get where the stock scripts came from. */
export async function stormContenders(s: StormSetup, notes: string[]): Promise<Contender[]> {
  const contenders: Contender[] = [];
  // ovs-vif with its production defaults.
  const baseEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...s.ovs.env };
    for (const k of ["OVS_VIF_LOG_LEVEL", "OVS_VIF_SYSLOG", "OVS_VIF_TRACE", "OVS_VIF_XEN_LOG", "OVS_VIF_SYSLOG_SOCKET"]) delete env[k];
    return env;
  };
  const binDir = join(s.tmp, "bin");
  mkdirSync(binDir);
  if (s.families.includes("xen")) {
    const deb = xenStockDebs(s.xenDebDir)[0];
    if (!deb) throw new Error("xen-utils-common could not be downloaded (apt-get download); try apt-get update");
    await must("dpkg", ["-x", join(s.xenDebDir, deb), join(s.tmp, "xen-root")]);
    const stockHook = join(s.tmp, "xen-root", "etc", "xen", "scripts", "vif-openvswitch");
    symlinkSync(s.binary, join(binDir, "vif-openvswitch"));
    const xenEnv = (n: Nic) => ({ ...baseEnv(), ...s.xs.env, vif: n.dev, XENBUS_PATH: n.vif.backend });
    const args = ["online", "type_if=vif"];
    contenders.push(
      {
        key: "xen-stock",
        label: "stock vif-openvswitch",
        family: "xen",
        ovsVif: false,
        file: stockHook,
        args,
        env: xenEnv,
        own: (t) => t.includes(` ${stockHook}: `),
      },
      {
        key: "xen-ovsvif",
        label: "ovs-vif as vif-openvswitch",
        family: "xen",
        ovsVif: true,
        file: join(binDir, "vif-openvswitch"),
        args,
        env: xenEnv,
        own: (t) => syslogTag(t) === "vif-openvswitch",
      },
    );
    notes.push(`Xen stock: ${deb}`);
  }
  if (s.families.includes("kvm")) {
    const kvmIfup = s.kvmIfup;
    mkdirSync(join(s.tmp, "stock-root/etc/ganeti"), { recursive: true });
    symlinkSync(s.binary, join(binDir, "kvm-vif-bridge"));
    const kvmEnv = (extra: Record<string, string>) => (n: Nic) => ({
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      OVS_RUNDIR: s.ovs.env.OVS_RUNDIR!,
      INSTANCE: `${n.vif.name}.example.com`,
      MAC: n.vif.mac.replace(/^00:16:3e/, "aa:00:00"),
      MODE: "openvswitch",
      LINK: "sw1",
      VLAN: `.${n.tag}:${n.trunks.join(":")}`,
      INTERFACE: n.dev,
      INTERFACE_INDEX: "0",
      INTERFACE_UUID: n.vif.uuid,
      TAGS: "",
      ...extra,
    });
    contenders.push(
      {
        key: "kvm-stock",
        label: "stock kvm-ifup + net-common",
        family: "kvm",
        ovsVif: false,
        file: kvmIfup,
        args: [],
        env: kvmEnv({ GANETI_ROOTDIR: join(s.tmp, "stock-root") }),
        own: (t) => syslogTag(t) === kvmIfup,
      },
      {
        key: "kvm-ovsvif",
        label: "ovs-vif as kvm-vif-bridge",
        family: "kvm",
        ovsVif: true,
        file: join(binDir, "kvm-vif-bridge"),
        args: [],
        env: kvmEnv({}),
        own: (t) => syslogTag(t) === "kvm-vif-bridge",
      },
    );
    notes.push(`KVM stock: ${s.kvmSource}`);
  }
  return contenders;
}
