// A stand-in for Ganeti's CLI (gnt-instance list/add-tags/remove-tags/modify,
// gnt-network list, gnt-node list, gnt-cluster command/copyfile) for tests
// that need no cluster. `release` picks how `gnt-instance modify` treats a
// running instance's NIC: 3.0 changes the configuration only (--hotplug to
// hotplug; no --no-hotplug), 3.1 hot-modifies by default and, without -f and
// without a terminal, exits 1 at its question printing nothing. It is written in Python
// so list fields print exactly as Ganeti 3.0 prints them (checked against
// the real CLI): str() of a Python list for nic.uuids/names/vlans and
// nic.networks.names, comma-joined for the fields Ganeti's gnt-instance
// overrides (tags, nic.modes/links/networks/macs) and for network tags.
// The real-cluster tests check the real CLI.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FakeNic {
  uuid: string;
  name?: string | null;
  mac: string;
  mode: string;
  link: string;
  vlan: string;
  network?: string | null;
  ip?: string | null;
}
export interface FakeInstance {
  name: string;
  pnode: string;
  tags: string[];
  nics: FakeNic[];
}
export interface FakeState {
  instances: FakeInstance[];
  networks: { name: string; tags: string[]; network6?: string }[];
  /** For gnt-node list and gnt-cluster: every node runs here. */
  nodes?: { name: string; group: string; offline?: boolean }[];
  /** Nodes where gnt-cluster copyfile fails. */
  copyFails?: string[];
  /** The Ganeti release whose CLI behaviour is faked (default 3.0). */
  release?: "3.0" | "3.1";
  calls: string[][];
}

const SCRIPT = String.raw`#!/usr/bin/env python3
import json, os, sys
STATE = os.environ["FAKE_GANETI_STATE"]
prog = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(STATE) as f:
    st = json.load(f)
st["calls"].append([prog] + args)
def save():
    with open(STATE, "w") as f:
        json.dump(st, f)
def opt(name):
    i = args.index(name)
    v = args[i + 1]
    del args[i:i + 2]
    return v
if prog == "gnt-instance" and args[0] == "list":
    args.pop(0)
    fields = None
    for a in list(args):
        if a.startswith("--separator="):
            sep = a.split("=", 1)[1]; args.remove(a)
        elif a == "--no-headers":
            args.remove(a)
    fields = opt("-o").split(",")
    names = args
    insts = st["instances"]
    if names:
        unknown = [n for n in names if n not in [i["name"] for i in insts]]
        if unknown:
            sys.stderr.write("Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nInstance(s) '%s' not known\n" % unknown[0])
            save(); sys.exit(1)
        insts = [i for i in insts if i["name"] in names]
    joined = {"tags", "nic.modes", "nic.links", "nic.networks", "nic.macs", "nic.ips"}
    def val(inst, f):
        nics = inst["nics"]
        v = {"name": inst["name"], "pnode": inst["pnode"], "tags": inst["tags"],
             "nic.uuids": [n["uuid"] for n in nics], "nic.names": [n.get("name") for n in nics],
             "nic.vlans": [n["vlan"] for n in nics], "nic.modes": [n["mode"] for n in nics],
             "nic.links": [n["link"] for n in nics], "nic.networks.names": [n.get("network") for n in nics],
             "nic.macs": [n["mac"] for n in nics], "nic.ips": [n.get("ip") for n in nics]}[f]
        if f in joined:
            return ",".join(str(x) for x in v)
        return str(v)
    for inst in insts:
        print(sep.join(val(inst, f) for f in fields))
elif prog == "gnt-instance" and args[0] in ("add-tags", "remove-tags"):
    inst = [i for i in st["instances"] if i["name"] == args[1]][0]
    for t in args[2:]:
        if args[0] == "add-tags":
            if t not in inst["tags"]: inst["tags"].append(t)
        else:
            if t not in inst["tags"]:
                sys.stderr.write("Failure: prerequisites not met for this operation:\nTag(s) '%s' not found\n" % t); save(); sys.exit(1)
            inst["tags"].remove(t)
elif prog == "gnt-instance" and args[0] == "modify":
    # gnt-instance modify [--no-hotplug] --net IDX:modify,key=value[,key=value] INSTANCE
    release = st.get("release", "3.0")
    if "--help" in args:
        print("  --no-hotplug            Hotplug supported devices (NICs and Disks)" if release != "3.0" else "  --hotplug               Hotplug supported devices (NICs and Disks)")
        save(); sys.exit(0)
    hotplug = release != "3.0"
    if "--no-hotplug" in args:
        if release == "3.0":
            sys.stderr.write("Usage: gnt-instance modify ...\n\ngnt-instance: error: no such option: --no-hotplug\n"); save(); sys.exit(2)
        args.remove("--no-hotplug"); hotplug = False
    if hotplug and "-f" not in args and ":modify," in " ".join(args):
        # "You are about to hot-modify a NIC ... Continue?" with no terminal.
        save(); sys.exit(1)
    spec = opt("--net")
    inst = [i for i in st["instances"] if i["name"] == args[1]][0]
    idx, rest = spec.split(":", 1)
    action, *pairs = rest.split(",")
    assert action == "modify", spec
    for p in pairs:
        k, v = p.split("=", 1)
        inst["nics"][int(idx)][k] = v
elif prog == "gnt-node" and args[0] == "list":
    # -o name,offline (every node) or -o group NODE
    fields = [a for a in args if a not in ("list", "--no-headers") and not a.startswith("--separator")]
    fields.remove("-o")
    out, names = fields[0], fields[1:]
    for n in st.get("nodes", []):
        if names and n["name"] not in names: continue
        print(n["group"] if out == "group" else "%s|%s" % (n["name"], "Y" if n.get("offline") else "N"))
elif prog == "gnt-cluster" and args[0] in ("command", "copyfile"):
    # As Ganeti prints them; the command runs here, once per node asked.
    action = args.pop(0)
    nodes = []
    while args and args[0] == "-n":
        nodes.append(opt("-n"))
    nodes = nodes or [n["name"] for n in st.get("nodes", []) if not n.get("offline")]
    if action == "copyfile":
        for n in nodes:
            if n in st.get("copyFails", []):
                sys.stderr.write("Copy of file %s to node %s:1811 failed\n" % (args[0], n))
    else:
        import subprocess
        for n in nodes:
            r = subprocess.run(args[0], shell=True, capture_output=True, text=True)
            print("-" * 48)
            print("node: %s" % n)
            sys.stdout.write(r.stdout + r.stderr)
            print("return code = %d" % r.returncode)
elif prog == "gnt-network" and args[0] == "list":
    fields = opt("-o").split(",") if "-o" in args else ["name", "tags"]
    for n in st["networks"]:
        v = {"name": n["name"], "tags": ",".join(n["tags"]), "network6": str(n.get("network6"))}
        print("|".join(v[f] for f in fields))
else:
    sys.stderr.write("fake ganeti: unsupported: %s %s\n" % (prog, args)); save(); sys.exit(2)
save()
`;

export interface FakeGaneti {
  dir: string;
  env: Record<string, string>;
  state(): FakeState;
  setState(s: FakeState): void;
}

export function installFakeGaneti(dir: string, initial: Omit<FakeState, "calls">): FakeGaneti {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const name of ["gnt-instance", "gnt-network", "gnt-node", "gnt-cluster"]) {
    writeFileSync(join(bin, name), SCRIPT);
    chmodSync(join(bin, name), 0o755);
  }
  const statePath = join(dir, "ganeti-state.json");
  writeFileSync(statePath, JSON.stringify({ ...initial, calls: [] }));
  return {
    dir,
    env: { PATH: `${bin}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`, FAKE_GANETI_STATE: statePath },
    state: () => JSON.parse(readFileSync(statePath, "utf8")) as FakeState,
    setState: (s) => writeFileSync(statePath, JSON.stringify(s)),
  };
}
