// A small real guest for data-plane tests: Debian's kernel (the package
// linux-image-amd64 depends on) and an initramfs of busybox-static with the
// virtio-net and 802.1Q modules and guest-init.sh as /init, which puts the
// addresses of the kernel command line on eth0 and VLAN subinterfaces.
//
// Built at test time with `apt-get download` + `dpkg -x` and busybox's own
// `cpio -o -H newc -R 0:0` into .cache/guest/CODENAME/KEY/ (git ignores
// .cache/), KEY naming the package versions and the init script's hash;
// reused when there. Each Debian release keeps its own image (CI runs both
// from one checkout). The packages' paths are found, not assumed: Debian 13
// is usr-merged in its packages (/usr/bin/busybox, /usr/lib/modules) and
// compresses kernel modules (.ko.xz), which busybox's insmod cannot load, so
// they are unpacked into the initramfs.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./ovs.ts";
import { must } from "./proc.ts";

/** Loaded in this order by the guest's /init (dependencies first), those
 * of them the kernel has as modules; button and evdev: ACPI power-button
 * events on /dev/input (busybox acpid). */
export const GUEST_MODULES = [
  "virtio_ring",
  "virtio",
  "virtio_pci_legacy_dev",
  "virtio_pci_modern_dev",
  "virtio_pci",
  "failover",
  "net_failover",
  "virtio_net",
  "llc",
  "stp",
  "garp",
  "mrp",
  "8021q",
  "button",
  "evdev",
];
const INIT = join(ROOT, "test/harness/guest-init.sh");
/** The image cache of this Debian release (bookworm, trixie). */
function cacheDir(): string {
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1]?.replace(/"/g, "") || "unknown";
  return join(ROOT, ".cache/guest", codename);
}

export interface GuestImage {
  kernel: string;
  initrd: string;
  /** The packages it was built from, e.g. "linux-image-6.1.0-57-amd64 6.1.192-3, busybox-static 1:1.35.0-4+deb12u1+b1". */
  packages: string;
  /** False when it was taken from the cache. */
  built: boolean;
}

/** apt-cache show of the candidate versions: package -> its fields. */
async function candidates(pkgs: string[]): Promise<Map<string, string>> {
  const out = await must("apt-cache", ["show", "--no-all-versions", ...pkgs]);
  const byName = new Map<string, string>();
  for (const stanza of out.split(/\n\n+/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    if (name) byName.set(name, stanza);
  }
  for (const p of pkgs) if (!byName.has(p)) throw new Error(`apt-cache show ${p}: no candidate`);
  return byName;
}

const field = (stanza: string, name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(stanza)?.[1];

/** The kernel and initramfs, from the cache or built now. */
export async function guestImage(): Promise<GuestImage> {
  // A machine whose package lists were never fetched knows no candidates.
  const meta = (
    await candidates(["linux-image-amd64"]).catch(async () => {
      await must("apt-get", ["update", "-q"], { timeoutMs: 300000 });
      return candidates(["linux-image-amd64"]);
    })
  ).get("linux-image-amd64")!;
  const kernelPkg = /(linux-image-[^\s,]+)/.exec(field(meta, "Depends") ?? "")?.[1];
  if (!kernelPkg) throw new Error(`linux-image-amd64: no linux-image package in its Depends: ${field(meta, "Depends")}`);
  const found = await candidates([kernelPkg, "busybox-static"]);
  const pkgs = [kernelPkg, "busybox-static"].map((p) => [p, field(found.get(p)!, "Version") ?? ""] as [string, string]);
  const packages = pkgs.map(([p, v]) => `${p} ${v}`).join(", ");
  const initHash = createHash("sha256").update(readFileSync(INIT)).update(GUEST_MODULES.join(" ")).digest("hex").slice(0, 12);
  const key = `${pkgs.map(([p, v]) => `${p}_${v.replace(/[^A-Za-z0-9.+-]/g, "_")}`).join("+")}+init-${initHash}`;
  const CACHE = cacheDir();
  const dir = join(CACHE, key);
  const image = { kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.img"), packages };
  if (existsSync(image.kernel) && existsSync(image.initrd)) return { ...image, built: false };

  mkdirSync(CACHE, { recursive: true });
  const tmp = mkdtempSync(join(CACHE, "build-"));
  try {
    await must("bash", ["-c", 'cd "$1" && shift && apt-get download -q "$@"', "-", tmp, ...pkgs.map(([p, v]) => `${p}=${v}`)], { timeoutMs: 300000 });
    const debs = readdirSync(tmp).filter((f) => f.endsWith(".deb"));
    if (debs.length !== pkgs.length) throw new Error(`apt-get download: got ${debs.join(", ")}`);
    for (const deb of debs) await must("dpkg", ["-x", join(tmp, deb), join(tmp, "x")], { timeoutMs: 120000 });
    const x = join(tmp, "x");
    const ird = join(tmp, "initramfs");
    mkdirSync(join(ird, "bin"), { recursive: true });
    mkdirSync(join(ird, "lib/modules"), { recursive: true });
    const busybox = ["usr/bin/busybox", "bin/busybox"].map((p) => join(x, p)).find((p) => existsSync(p));
    if (!busybox) throw new Error("busybox-static: no /usr/bin/busybox or /bin/busybox");
    cpSync(busybox, join(ird, "bin/busybox"));
    cpSync(INIT, join(ird, "init"));
    const moduleRoots = ["usr/lib/modules", "lib/modules"].map((p) => join(x, p)).filter((p) => existsSync(p));
    const modules = (await must("find", [...moduleRoots, "-name", "*.ko", "-o", "-name", "*.ko.xz"])).split("\n").filter(Boolean);
    const builtin = (await must("find", [...moduleRoots, "-name", "modules.builtin"]))
      .split("\n")
      .filter(Boolean)
      .flatMap((f) => readFileSync(f, "utf8").split("\n"));
    // Loaded by the guest's /init in this order: the modules this kernel has
    // as files (Debian 13's builds the virtio core in).
    const load: string[] = [];
    for (const m of GUEST_MODULES) {
      const file = modules.find((f) => f.endsWith(`/${m}.ko`) || f.endsWith(`/${m}.ko.xz`));
      if (!file) {
        if (builtin.some((l) => l.endsWith(`/${m}.ko`))) continue;
        throw new Error(`${kernelPkg}: no module ${m}.ko or ${m}.ko.xz, and not built in`);
      }
      const to = join(ird, "lib/modules", `${m}.ko`);
      if (file.endsWith(".xz")) await must("bash", ["-c", 'xz -dc "$1" >"$2"', "-", file, to]);
      else cpSync(file, to);
      load.push(m);
    }
    writeFileSync(join(ird, "lib/modules/load"), `${load.join("\n")}\n`);
    const vmlinuz = readdirSync(join(x, "boot")).find((f) => f.startsWith("vmlinuz-"));
    if (!vmlinuz) throw new Error(`${kernelPkg}: no /boot/vmlinuz-*`);
    const out = join(tmp, "out");
    mkdirSync(out);
    cpSync(join(x, "boot", vmlinuz), join(out, "vmlinuz"));
    await must(
      "bash",
      ["-c", 'cd "$1" && chmod 0755 init bin/busybox && find . | ./bin/busybox cpio -o -H newc -R 0:0 | gzip -1 >"$2"', "-", ird, join(out, "initrd.img")],
      { timeoutMs: 120000 },
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
    // Images of other package versions are not used again.
    for (const old of readdirSync(CACHE)) if (old !== key && !old.startsWith("build-")) rmSync(join(CACHE, old), { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { ...image, built: true };
}

export interface GuestNet {
  /** ADDR/LEN on eth0: untagged frames, the port's native or access VLAN. */
  untagged?: string;
  /** VLAN id -> ADDR/LEN on eth0.ID (tagged). */
  vlans?: Record<number, string>;
  /** ADDR/LEN on eth1 once it appears (a NIC hot-added later). */
  second?: string;
  /** Seconds a power-button shutdown takes (answering all the while); without it the guest ignores the button. */
  shutdownSeconds?: number;
}

/** The guest's kernel command line for these addresses (see guest-init.sh). */
export function guestKernelArgs(net: GuestNet): string {
  const args = ["quiet"];
  if (net.untagged) args.push(`ovsvif.ip=${net.untagged}`);
  for (const [id, cidr] of Object.entries(net.vlans ?? {})) args.push(`ovsvif.vlan${id}=${cidr}`);
  if (net.second) args.push(`ovsvif.ip1=${net.second}`);
  if (net.shutdownSeconds !== undefined) args.push(`ovsvif.shutdown=${net.shutdownSeconds}`);
  return args.join(" ");
}

/** `-H` of gnt-instance add booting the guest: direct kernel boot from the
 * image, virtio-net without its VLAN filter (with it, QEMU 7.2 stops
 * delivering a trunk VLAN to the guest after a live migration). */
export function guestHvParams(image: GuestImage, net: GuestNet): string {
  return [
    `kvm:kernel_path=${image.kernel}`,
    `initrd_path=${image.initrd}`,
    "root_path=/dev/ram0",
    `kernel_args=${guestKernelArgs(net)}`,
    "kvm_extra=-global virtio-net-pci.ctrl_vlan=off",
  ].join(",");
}

/** `gnt-cluster modify -H` for guests that migrate: bandwidth (MiB/s) high
 * enough for a short migration; Ganeti takes it at cluster level only. */
export const GUEST_CLUSTER_HV = "kvm:migration_bandwidth=256";
