// The package installed with dpkg -i into the node's private root: its
// files and enabled units (the host untouched), systemd-analyze verify,
// ovs-vif-setup and Ganeti's own kvm-ifup through the packaged binary,
// doctor, the Xen hook path, an upgrade over itself, install.sh refusing
// the package's files, and the gc unit's
// ExecStart against planted stale rows. Apart from the .deb's own checks
// and from removal: these run in order on one installed root.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { inPrivateRoot, mustInPrivateRoot } from "../../harness/deb.ts";
import { KVM_SCRIPT_TEXT, KVM_TARGET } from "../../harness/kvm-script.ts";
import { listRows, portView } from "../../harness/oracle.ts";
import { BINARY, ROOT, startOvs } from "../../harness/ovs.ts";
import { BIN, hostRun, lines, skip, VERSION, type World } from "./world.ts";

// ------------------------------------------------------------------ installed

/** Where the units are enabled: each service in multi-user.target, each path unit in paths.target. */
const ENABLEMENT: Record<string, string> = {
  "ovs-vif-gc.service": "multi-user.target.wants",
  "ovs-vif-watch.service": "multi-user.target.wants",
  "ovs-vif-gc.path": "paths.target.wants",
  "ovs-vif-watch.path": "paths.target.wants",
};
const enablementLinks = () => Object.entries(ENABLEMENT).map(([unit, wants]) => `/etc/systemd/system/${wants}/${unit}`);

/** An enablement link names the unit the package installed: deb-systemd-helper
 * writes /lib/systemd/system/UNIT on Debian 12 (where /lib is /usr/lib) and
 * /usr/lib/systemd/system/UNIT on Debian 13; both are the same file. */
function assertEnabled(root: string, unit: string): void {
  const target = readlinkSync(join(root, "etc/systemd/system", ENABLEMENT[unit]!, unit));
  assert.ok([`/lib/systemd/system/${unit}`, `/usr/lib/systemd/system/${unit}`].includes(target), `${unit} enabled (-> ${target})`);
}

export function registerInstalled(w: World): void {
  test("dpkg -i into a private root: the files, the four units enabled, no hook enabled, the host untouched", async () => {
    if (skip("install")) return;
    const hostBefore = ["/usr/lib/ovs-vif", "/etc/systemd/system/multi-user.target.wants/ovs-vif-gc.service", "/var/lib/ovs-vif"].map(existsSync);
    const r = await inPrivateRoot(w.root, "dpkg", ["-i", w.deb], { timeoutMs: 300_000 });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Setting up ovs-vif \(/);
    // The package's files in the root (upper layers), made by dpkg and its scripts.
    assert.ok(lstatSync(join(w.root, BIN)).isFile());
    assert.is(readlinkSync(join(w.root, "usr/sbin/ovs-vif")), "../lib/ovs-vif/ovs-vif");
    // The package's directories (the host may hold /var/lib/ovs-vif already: look at the merged view).
    const listed = lines(await mustInPrivateRoot(w.root, "dpkg", ["-L", "ovs-vif"]));
    for (const d of ["/etc/ovs-vif", "/var/lib/ovs-vif"]) {
      assert.ok(listed.includes(d), `${d} is the package's`);
      assert.is((await inPrivateRoot(w.root, "test", ["-d", d])).code, 0, `${d} exists`);
    }
    for (const unit of Object.keys(ENABLEMENT)) assertEnabled(w.root, unit);
    // No hook: nothing in /etc but the enablement links.
    const etc = lines(hostRun("find", [join(w.root, "etc"), "-mindepth", "1", "-not", "-type", "d"])).map((p) => p.slice(w.root.length));
    assert.equal(etc.sort(), enablementLinks().sort());
    assert.not.ok(existsSync(join(w.root, "etc/ganeti")));
    assert.equal(
      ["/usr/lib/ovs-vif", "/etc/systemd/system/multi-user.target.wants/ovs-vif-gc.service", "/var/lib/ovs-vif"].map(existsSync),
      hostBefore,
      "the host is untouched",
    );
    const status = await mustInPrivateRoot(w.root, "dpkg-query", ["-W", "-f", "${Status} ${Version}", "ovs-vif"]);
    assert.is(status, `install ok installed ${VERSION}`);
    assert.is((await mustInPrivateRoot(w.root, "ovs-vif", ["--version"])).trim(), `ovs-vif ${VERSION}`);
  });

  test("systemd-analyze verify accepts the four units (with their ExecStart installed)", async () => {
    if (skip("systemd-analyze")) return;
    const r = await inPrivateRoot(w.root, "systemd-analyze", ["verify", ...Object.keys(ENABLEMENT).map((u) => `/usr/lib/systemd/system/${u}`)]);
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stdout + r.stderr, /ovs-vif/, `nothing said about our units: ${r.stderr}`);
  });

  test("ovs-vif-setup --ganeti --qemu links the hooks; Ganeti's own kvm-ifup then attaches a tap to OVS through the packaged binary", async () => {
    if (skip("kvm-ifup")) return;
    w.ovs = await startOvs();
    await w.ovs.addBridge("sw1");
    const setup = await mustInPrivateRoot(w.root, "ovs-vif-setup", ["--ganeti", "--qemu"]);
    assert.ok(lines(setup).includes(`write /etc/ganeti/kvm-vif-bridge (exec ${KVM_TARGET})`), setup);
    assert.is(readFileSync(join(w.root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT);
    assert.is(readlinkSync(join(w.root, "etc/ovs-vif/qemu-ifup")), BIN);
    assert.ok(readFileSync(join(w.root, "var/lib/ovs-vif/setup-created-dirs"), "utf8").includes("/etc/ganeti/network"));
    if (!existsSync("/usr/lib/ganeti/kvm-ifup")) {
      console.log("  kvm-ifup part skipped: no /usr/lib/ganeti/kvm-ifup (package ganeti)");
      return;
    }
    await w.ovs.addTap("tap0");
    const env = {
      INSTANCE: "inst1.example.com",
      MAC: "aa:00:00:00:00:01",
      MODE: "openvswitch",
      INTERFACE: "tap0",
      INTERFACE_INDEX: "0",
      INTERFACE_UUID: "6f2c1a4e-0000-4000-8000-000000000001",
      LINK: "sw1",
      VLAN: ".10:20",
      TAGS: "",
    };
    const r = await inPrivateRoot(w.root, "/usr/lib/ganeti/kvm-ifup", [], { ...w.onOvs(), env: { ...w.onOvs().env, ...env } });
    assert.is(r.code, 0, r.stdout + r.stderr);
    const port = await portView(w.ovs, "tap0");
    assert.ok(port, "kvm-ifup -> /etc/ganeti/kvm-vif-bridge -> /usr/lib/ovs-vif/kvm-vif-bridge attached tap0");
    assert.is(port!.bridge, "sw1");
    assert.is(port!.vlan_mode, "native-untagged");
    assert.is(port!.tag, 10);
    assert.equal(port!.trunks, [20]);
    assert.is(port!.portIds["ovs-vif-owner"], "ganeti");
    assert.is(port!.ifaceIds["ganeti-instance"], "inst1.example.com");
  });

  test("ovs-vif doctor on the installed node: OVSDB, the Ganeti hook links and the package's directories are ok", async () => {
    if (skip("doctor")) return;
    const r = await inPrivateRoot(w.root, "ovs-vif", ["doctor"], w.onOvs());
    const ok = (check: string) => assert.match(r.stdout, new RegExp(`: ok +${check}`), `${check}: ${r.stdout}`);
    ok("ovsdb");
    ok(`ganeti kvm-vif-bridge: /etc/ganeti/kvm-vif-bridge runs ${KVM_TARGET} -> ovs-vif`);
    ok("ganeti hook instance-start: ");
    ok("xen vif-custom \\(Ganeti on Xen\\): ");
    ok("directory /etc/ovs-vif: exists");
    ok("directory /var/lib/ovs-vif: exists");
    assert.not.match(r.stdout, /: fail +(ganeti|xen|directory)/, r.stdout);
  });

  test("ovs-vif-setup --xen leaves Xen's vif-openvswitch and prints the xl line; the package's script path is the Xen hook", async () => {
    if (skip("xen")) return;
    const stock = "/etc/xen/scripts/vif-openvswitch";
    const shaIn = async () => (await inPrivateRoot(w.root, "sha256sum", [stock])).stdout;
    const before = await shaIn();
    const out = await mustInPrivateRoot(w.root, "ovs-vif-setup", ["--xen"]);
    assert.ok(lines(out).includes('xen:   vif.default.script="/usr/lib/ovs-vif/vif-openvswitch"'), out);
    assert.is(await shaIn(), before);
    assert.not.ok(existsSync(join(w.root, stock)) || existsSync(join(w.root, `${stock}.ovs-vif-orig`)), "nothing written at Xen's script");
    const help = await mustInPrivateRoot(w.root, "/usr/lib/ovs-vif/vif-openvswitch", ["--help"]);
    assert.match(help, /^usage: vif-openvswitch online\|offline\|add\|remove/);
  });

  test("dpkg -i again (an upgrade): the enabled hooks and the units' enablement stay", async () => {
    if (skip("upgrade")) return;
    const links = () =>
      lines(hostRun("find", [join(w.root, "etc"), "-type", "l"]))
        .sort()
        .map((l) => `${l} -> ${readlinkSync(l)}`);
    const before = links();
    assert.ok(
      before.some((l) => l.endsWith(`/etc/ganeti/hooks/instance-start-post.d/ovs-vif -> ${BIN}`)),
      before.join("\n"),
    );
    assert.is(readFileSync(join(w.root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT);
    const r = await inPrivateRoot(w.root, "dpkg", ["-i", w.deb], { timeoutMs: 300_000 });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Unpacking ovs-vif \(.*\) over \(/);
    assert.not.match(r.stdout + r.stderr, /disabling the hooks/);
    assert.equal(links(), before);
    assert.is(readFileSync(join(w.root, "etc/ganeti/kvm-vif-bridge"), "utf8"), KVM_SCRIPT_TEXT);
  });

  test("install.sh on a node with the package refuses to remove or replace the package's binary (dpkg -S names its owner), and changes nothing", async () => {
    if (skip("install.sh over the package")) return;
    const before = lines(hostRun("find", [w.root, "-printf", "%p %y %s %l\\n"])).sort();
    for (const args of [["--uninstall"], ["--qemu", "--binary", BINARY]]) {
      const r = await inPrivateRoot(w.root, join(ROOT, "install.sh"), args);
      assert.is(r.code, 1, r.stdout + r.stderr);
      assert.is(r.stdout, "");
      assert.match(
        r.stderr,
        /^install\.sh: \/usr\/lib\/ovs-vif\/ovs-vif belongs to the Debian package ovs-vif: install\.sh neither replaces nor removes it .*nothing changed\n$/,
      );
    }
    assert.equal(lines(hostRun("find", [w.root, "-printf", "%p %y %s %l\\n"])).sort(), before, "the root as it was");
  });

  test("ovs-vif-gc.service's ExecStart removes ovs-vif's stale ports and orphaned QoS rows, and only those", async () => {
    if (skip("gc unit")) return;
    const unit = readFileSync(join(w.root, "usr/lib/systemd/system/ovs-vif-gc.service"), "utf8");
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(" ");
    assert.equal(exec, ["/usr/sbin/ovs-vif", "gc"]);
    const unitEnv = Object.fromEntries([...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const condition = /^ConditionPathExists=(.*)$/m.exec(unit)?.[1];
    assert.is(condition, "/run/openvswitch/db.sock");
    const o = w.ovs!;
    const run = (file: string, args: string[]) => mustInPrivateRoot(w.root, file, args, { ...w.onOvs(), env: { ...unitEnv } });
    // Ports of VMs that ran before "the crash": attached by the packaged binary, then their taps vanish.
    for (const [tap, args] of [
      ["vif5.0", ["--owner", "xen", "--rx-rate", "20M"]],
      ["tap7", ["--owner", "qemu"]],
    ] as const) {
      await o.addTap(tap);
      await run("ovs-vif", ["attach", "--bridge", "sw1", "--iface", tap, ...args]);
      await o.inNs("ip", ["link", "del", tap]);
    }
    // A foreign port whose device is gone too, a live ovs-vif port (tap0 from kvm-ifup, or a new one).
    await o.vsctl("add-port", "sw1", "foreign0");
    if (!(await portView(o, "tap0"))) {
      await o.addTap("tap0");
      await run("ovs-vif", ["attach", "--bridge", "sw1", "--iface", "tap0", "--owner", "ganeti"]);
    }
    const marked = (await o.vsctl("create", "qos", "type=linux-htb", "external_ids:ovs-vif-port=gone0")).trim();
    const foreignQos = (await o.vsctl("create", "qos", "type=linux-htb", "other_config:max-rate=1000000")).trim();
    assert.is((await listRows(o, "QoS")).length, 3, "vif5.0's, the orphan and the foreign one");
    assert.ok((await inPrivateRoot(w.root, "test", ["-S", condition!], w.onOvs())).code === 0, "the unit's condition holds");

    const out = await run(exec![0]!, exec!.slice(1));
    assert.match(out, /^removed vif5\.0 from sw1 \(owner xen\): device gone$/m);
    assert.match(out, /^removed tap7 from sw1 \(owner qemu\): device gone$/m);
    assert.match(out, new RegExp(`^removed orphaned QoS row ${marked} \\(made for port gone0`, "m"));
    assert.is(lines(out).length, 3, out);
    assert.is(await portView(o, "vif5.0"), undefined);
    assert.is(await portView(o, "tap7"), undefined);
    assert.ok(await portView(o, "foreign0"), "the foreign port stays");
    assert.ok(await portView(o, "tap0"), "the live port stays");
    assert.equal(
      (await listRows(o, "QoS")).map((q) => q._uuid),
      [foreignQos],
      "only the foreign QoS row is left",
    );
    assert.is((await listRows(o, "Queue")).length, 0, "vif5.0's queue went with its QoS row");
    assert.is((await run(exec![0]!, exec!.slice(1))).trim(), "no stale ports", "a second run finds nothing");
  });
}
