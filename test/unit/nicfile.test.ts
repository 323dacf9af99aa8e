// The NIC file reader (src/sources/nicfile.ts): the shell assignments
// Ganeti writes for a Xen NIC, read exactly as bash reads them (checked
// against bash itself on the same files), never executed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { catchInputError } from "../harness/assert.ts";
import { parseShellAssignments, readNicFile } from "../../src/sources/nicfile.ts";

const dir = mkdtempSync(join(tmpdir(), "ovs-vif-nicfile-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

/** What bash makes of a file (sourced, never executed beyond assignments: these samples are trusted). */
function bashVars(text: string, names: string[]): Record<string, string> {
  const file = join(dir, "sample");
  writeFileSync(file, text);
  const script = 'source "$1"; shift; for n in "$@"; do if [ -n "${!n+x}" ]; then printf "%s\\0%s\\0" "$n" "${!n}"; fi; done';
  const r = spawnSync("bash", ["-c", script, "_", file, ...names], { encoding: "utf8", env: { PATH: process.env.PATH } });
  if (r.status !== 0) throw new Error(`bash failed: ${r.stderr}`);
  const parts = r.stdout.split("\0");
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

const SAMPLES: string[] = [
  // Ganeti 3.0's own output (hv_xen._WriteNICInfoFile), tags joined with "\ ".
  'TAGS="web\\ ovs-vif:rate:100M\\ a.b"\nNETWORK_NAME="net1"\nNETWORK_TAGS="x y"\nMAC=aa:00:00:00:00:01\nIP=192.0.2.1\nINTERFACE_INDEX=0\nINTERFACE_NAME=eth0\nINTERFACE_UUID=6f2c1a4e-0000-4000-8000-000000000001\nMODE=openvswitch\nLINK=sw1\nVLAN=.3:10:20\n',
  'TAGS=""\nMAC=aa:00:00:00:00:01\nINTERFACE_INDEX=1\nINTERFACE_UUID=u\nMODE=bridged\nLINK=xenbr0\nVLAN=\n',
  'A=\'single $HOME `x` \\n\'\nB="dq \\$ \\` \\" \\\\ \\n \\a"\nC=un\\ quoted\\$x\nD=con\'cat\'"en"ated\n',
  "# comment\n  export E=1 F=2   # trailing comment\nG=a#b\nH=\nI=$\nJ=a$\nK='multi\nline'\nL=\"multi\nline\"\nM=con\\\ntinued\nN=last",
  "O=\"a\\\nb\"\nP=x=y=z\nQ='~/x'\nQ2=a~b\nR=*\nS='\\'\n",
];

test("NIC files read exactly as bash reads them (differential)", () => {
  for (const text of SAMPLES) {
    const ours = parseShellAssignments(text, "sample");
    const theirs = bashVars(text, Object.keys(ours).concat(["TAGS", "MODE", "VLAN", "nosuch"]));
    assert.equal(ours, theirs, `sample ${JSON.stringify(text)}`);
  }
});

const REFUSED: [string, RegExp][] = [
  ["VLAN=$(reboot)", /line 1 "VLAN=\$\(reboot\)": parameter expansion and command substitution are not supported/],
  ["VLAN=${X}", /not supported/],
  ['VLAN="$HOME"', /not supported/],
  ["VLAN=`id`", /command substitution is not supported/],
  ["MODE=x; reboot", /unsupported shell syntax ";"/],
  ["MODE=x && reboot", /unsupported shell syntax "&"/],
  ["MODE=x | cat", /unsupported shell syntax "\|"/],
  ["MODE=x >/etc/passwd", /unsupported shell syntax ">"/],
  ["A=1\nreboot now", /line 2 "reboot now": "reboot" is not a NAME=value assignment/],
  ["A='open", /line 1 "A='open": unterminated single quote/],
  ['A="open', /unterminated double quote/],
  ["1A=2", /"1A=2" is not a NAME=value assignment/],
  ["A=~/x", /tilde expansion is not supported/],
  ["A=.3:~x", /tilde expansion is not supported/],
];

test("shell constructs a NIC file must not contain are refused with file, line and text", () => {
  for (const [text, pattern] of REFUSED) {
    const err = catchInputError(() => parseShellAssignments(text, "/run/nic/x/0"), text);
    assert.match(err.message, /^\/run\/nic\/x\/0 line \d+ /);
    assert.match(err.message, pattern, text);
  }
});

test("in a CRLF file the carriage return ends a word (it is not part of the value)", () => {
  assert.equal(parseShellAssignments("MODE=openvswitch\r\nLINK=sw1\r\n", "f"), { MODE: "openvswitch", LINK: "sw1" });
});

test("readNicFile: a missing file is undefined (the issue-944 case), not an error; a present one is read", () => {
  assert.is(readNicFile(join(dir, "nope", "0")), undefined);
  writeFileSync(join(dir, "nic0"), "MODE=routed\nIP=192.0.2.1\n");
  assert.equal(readNicFile(join(dir, "nic0")), { MODE: "routed", IP: "192.0.2.1" });
});

test.run();
