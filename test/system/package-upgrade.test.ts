// A node upgraded from Debian 12 to 13 keeps its hooks: Ganeti's packages go
// from 3.0 to 3.1 over ovs-vif's links. In a private root over this Debian 12
// machine (test/harness/deb.ts): the ovs-vif package and ovs-vif-setup
// --ganeti, then Debian's own ganeti 3.1 packages (bookworm-backports, the
// same 3.1.0~rc2 that Debian 13 ships) installed over ganeti 3.0 with apt,
// their maintainer scripts running for real. Afterwards every hook link is
// as it was, Ganeti 3.1's own kvm-ifup still runs ovs-vif, and doctor says
// so. On Debian 13 (no Ganeti 3.0 to upgrade from) the test is skipped.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { debUnavailable, inPrivateRoot, installDebInto, mustInPrivateRoot } from "../harness/deb.ts";
import { KVM_SCRIPT_TEXT } from "../harness/kvm-script.ts";
import { portView } from "../harness/oracle.ts";
import { ROOT, startOvs, type OvsHandle } from "../harness/ovs.ts";

const BIN = "/usr/lib/ovs-vif/ovs-vif";
const installed = (pkg: string) => {
  try {
    return execFileSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" });
  } catch {
    return "";
  }
};
const why =
  debUnavailable() ??
  (installed("ganeti").startsWith("3.0") ? undefined : `the installed ganeti is ${installed("ganeti") || "none"}, not 3.0: nothing to upgrade from`);

let base = "";
let ovs: OvsHandle | undefined;

test.after(async () => {
  await ovs?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** Each Ganeti hook location ovs-vif-setup --ganeti manages -> what is there now. */
function hookLinks(root: string): Record<string, string> {
  const listed = execFileSync(join(ROOT, "install.sh"), ["--list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith("ganeti "))
    .map((l) => l.slice(7));
  return Object.fromEntries(listed.map((p) => [p, p === "/etc/ganeti/kvm-vif-bridge" ? readFileSync(join(root, p), "utf8") : readlinkSync(join(root, p))]));
}

(why ? test.skip : test)(
  "ganeti 3.0 -> 3.1 (Debian's packages, apt) over ovs-vif's hooks: every link stays, Ganeti 3.1's kvm-ifup runs ovs-vif, doctor is content",
  async () => {
    base = mkdtempSync(join(tmpdir(), "ovs-vif-upgrade-"));
    const root = join(base, "root");
    mkdirSync(join(root, "etc/apt/sources.list.d"), { recursive: true });
    await installDebInto(root);
    const before = hookLinks(root);
    assert.is(before["/etc/ganeti/kvm-vif-bridge"], KVM_SCRIPT_TEXT);
    assert.ok(
      Object.entries(before).every(([p, t]) => p === "/etc/ganeti/kvm-vif-bridge" || t === BIN),
      JSON.stringify(before),
    );
    // Debian 13's Ganeti, as bookworm-backports has it for Debian 12.
    writeFileSync(
      join(root, "etc/apt/sources.list.d/bookworm-backports.sources"),
      "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    );
    const t0 = Date.now();
    await mustInPrivateRoot(root, "apt-get", ["update", "-q"], { timeoutMs: 300_000 });
    const up = await inPrivateRoot(root, "apt-get", ["install", "-y", "-q", "--no-install-recommends", "-t", "bookworm-backports", "ganeti"], {
      timeoutMs: 600_000,
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
    assert.is(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /Unpacking ganeti \(3\.1[^)]*\) over \(3\.0/);
    const version = (await mustInPrivateRoot(root, "dpkg-query", ["-W", "-f=${Version}", "ganeti"])).trim();
    assert.match(version, /^3\.1/);
    assert.equal(hookLinks(root), before, "every hook location as ovs-vif-setup left it");
    // Ganeti 3.1's kvm-ifup (the package's, through /usr/lib/ganeti) runs ovs-vif for a NIC.
    ovs = await startOvs();
    await ovs.addBridge("sw1");
    await ovs.addTap("tap0");
    const nic = {
      INSTANCE: "inst1.example.com",
      MAC: "aa:00:00:00:00:01",
      MODE: "openvswitch",
      INTERFACE: "tap0",
      INTERFACE_INDEX: "0",
      INTERFACE_UUID: "6f2c1a4e-0000-4000-8000-000000000009",
      LINK: "sw1",
      VLAN: ".10:20",
      TAGS: "",
    };
    const onOvs = { netns: ovs.ns, binds: [[ovs.dir, "/run/openvswitch"]] as [string, string][], env: { OVS_VIF_SYSLOG: "0" } };
    const ifup = await inPrivateRoot(root, "/usr/lib/ganeti/kvm-ifup", [], { ...onOvs, env: { ...onOvs.env, ...nic } });
    assert.is(ifup.code, 0, ifup.stdout + ifup.stderr);
    const port = await portView(ovs, "tap0");
    assert.equal([port?.vlan_mode, port?.tag, port?.trunks, port?.portIds["ovs-vif-owner"]], ["native-untagged", 10, [20], "ganeti"]);
    const doctor = await inPrivateRoot(root, "ovs-vif", ["doctor"], onOvs);
    assert.match(doctor.stdout, /: ok +ganeti kvm-vif-bridge: \/etc\/ganeti\/kvm-vif-bridge runs /);
    assert.not.match(doctor.stdout, /: fail +ganeti/, doctor.stdout);
    console.log(
      `  ganeti 3.0 -> ${version} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${Object.keys(before).length} hook locations unchanged; 3.1's kvm-ifup attached tap0 (native-untagged 10 + 20); doctor: no Ganeti check fails`,
    );
  },
);

if (why) console.log(`  skipped: ${why}`);

test.run();
