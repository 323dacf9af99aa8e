// The least a Bun-compiled Xen hook can do: bench/run.ts compiles this file
// with the product's build flags and times it next to ovs-vif, as the
// floor of a hook in this runtime. It makes the same round trips in the
// same order as `vif-openvswitch online` (both connects at once, the
// xenstore reads pipelined, one OVSDB read while the device is set down,
// one transaction with its cur_cfg monitor, the device up, hotplug-status,
// the hotplug log and one syslog datagram, then _exit) through the same
// runtime calls (Bun.connect, bun:ffi), and leaves the same port (verified
// by the bench like every contender). It has none of ovs-vif's argument
// and input checks, planning, QoS, error handling or messages: whatever
// ovs-vif takes beyond this is its own code.
import { dlopen, FFIType, ptr } from "bun:ffi";

type P = ReturnType<typeof ptr>;
interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  ioctl(fd: number, request: number, arg: P): number;
  connect(fd: number, addr: P, len: number): number;
  send(fd: number, buf: P, len: number, flags: number): number;
  open(path: P, flags: number, mode: number): number;
  write(fd: number, buf: P, len: number): number;
  close(fd: number): number;
  _exit(code: number): void;
}

const env = process.env;
const xenbus = env.XENBUS_PATH!;
const dev = env.vif!;

type Sock = { write(d: string | Uint8Array): number; end(): void };
function connect(path: string, onData: (d: Uint8Array) => void): Promise<Sock> {
  return Bun!.connect({ unix: path, socket: { data: (_s, d) => onData(d), open() {}, error() {}, close() {} } }) as Promise<Sock>;
}

// xenstored: header (type, req_id, tx_id, len; u32 LE) + payload.
const XS_READ = 2;
const XS_WRITE = 11;
const xsWaiters = new Map<number, (v: string) => void>();
let xsBuf = new Uint8Array(0);
let xsId = 0;
const enc = new TextEncoder();
const dec = new TextDecoder();
function xsData(d: Uint8Array): void {
  const b = new Uint8Array(xsBuf.length + d.length);
  b.set(xsBuf);
  b.set(d, xsBuf.length);
  xsBuf = b;
  while (xsBuf.length >= 16) {
    const v = new DataView(xsBuf.buffer, xsBuf.byteOffset);
    const len = v.getUint32(12, true);
    if (xsBuf.length < 16 + len) return;
    const id = v.getUint32(4, true);
    const body = dec.decode(xsBuf.subarray(16, 16 + len)).replace(/\0$/, "");
    xsBuf = xsBuf.slice(16 + len);
    xsWaiters.get(id)?.(v.getUint32(0, true) === 16 ? "" : body);
  }
}
function xs(sock: Sock, type: number, payload: string): Promise<string> {
  const body = enc.encode(payload);
  const msg = new Uint8Array(16 + body.length);
  const v = new DataView(msg.buffer);
  const id = ++xsId;
  v.setUint32(0, type, true);
  v.setUint32(4, id, true);
  v.setUint32(12, body.length, true);
  msg.set(body, 16);
  sock.write(msg);
  return new Promise((r) => xsWaiters.set(id, r));
}

// OVSDB: one JSON object per message.
const dbWaiters = new Map<number, (v: any) => void>();
let onUpdate: (u: any) => void = () => {};
let dbText = "";
let dbId = 0;
function dbData(d: Uint8Array): void {
  dbText += dec.decode(d);
  for (;;) {
    let depth = 0,
      inStr = false,
      end = -1;
    for (let i = 0; i < dbText.length && end < 0; i++) {
      const c = dbText[i];
      if (inStr) {
        if (c === "\\") i++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) end = i;
    }
    if (end < 0) return;
    const msg = JSON.parse(dbText.slice(0, end + 1));
    dbText = dbText.slice(end + 1);
    if (msg.method === "update") onUpdate(msg.params[1]);
    else if (msg.id !== undefined && msg.id !== null) dbWaiters.get(msg.id)?.(msg.result);
  }
}
function db(sock: Sock, method: string, params: unknown[]): Promise<any> {
  const id = ++dbId;
  sock.write(JSON.stringify({ id, method, params }));
  return new Promise((r) => dbWaiters.set(id, r));
}

const ovsdbP = connect(`${env.OVS_RUNDIR}/db.sock`, dbData);
const xsock = await connect(env.XENSTORED_PATH!, xsData);
const keys = ["bridge", "vifname", "mac", "mtu", "vlan", "rate", "frontend-id"].map((k) => `${xenbus}/${k}`);
const domid = xenbus.split("/")[6];
const reads = [...keys, `/local/domain/${domid}/vm`, `/local/domain/${domid}/name`].map((p) => xs(xsock, XS_READ, p + "\0"));
const libc = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  open: { args: [FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  _exit: { args: [FFIType.i32], returns: FFIType.void },
}).symbols as unknown as Libc;
const ioFd = libc.socket(2, 2, 0);
const [bridgeKey, , mac, , , , , vmPath, name] = await Promise.all(reads);
const vmUuid = vmPath!.split("/").pop()!;
const [bridge, vlan] = [bridgeKey!.split(/[.:]/)[0]!, bridgeKey!.slice(bridgeKey!.split(/[.:]/)[0]!.length)];
const tag = Number(/^\.(\d+)/.exec(vlan)?.[1]);
const trunks = [...vlan.matchAll(/:(\d+)/g)].map((m) => Number(m[1]));

const ovsdb = await ovsdbP;
const read = db(ovsdb, "transact", ["Open_vSwitch", { op: "select", table: "Bridge", where: [["name", "==", bridge]], columns: ["_uuid"] }]);
// The device down, its MAC checked, while OVSDB answers.
const ifr = new Uint8Array(40);
ifr.set(enc.encode(dev));
libc.ioctl(ioFd, 0x8913, ptr(ifr)); // SIOCGIFFLAGS
if (ifr[16]! & 1) {
  ifr[16]! &= ~1;
  libc.ioctl(ioFd, 0x8914, ptr(ifr));
}
const hw = new Uint8Array(40);
hw.set(enc.encode(dev));
libc.ioctl(ioFd, 0x8927, ptr(hw)); // SIOCGIFHWADDR
const brUuid = (await read)[0].rows[0]._uuid;

// One transaction, the monitor first: cur_cfg and the new Interface's ofport.
let curCfg = -1;
let ofport = -1;
let target = Infinity;
let wake = () => {};
onUpdate = (u) => {
  for (const r of Object.values<any>(u.Open_vSwitch ?? {})) if (typeof r.new?.cur_cfg === "number") curCfg = Math.max(curCfg, r.new.cur_cfg);
  for (const r of Object.values<any>(u.Interface ?? {})) if (r.new?.name === dev && typeof r.new.ofport === "number") ofport = r.new.ofport;
  if (curCfg >= target && ofport > 0) wake();
};
const monitor = db(ovsdb, "monitor", [
  "Open_vSwitch",
  "m",
  { Open_vSwitch: { columns: ["cur_cfg"] }, Interface: { columns: ["name", "ofport"], select: { initial: false } } },
]);
const ids = [
  "map",
  [
    ["attached-mac", mac],
    ["xs-vif-uuid", vmUuid],
    ["xs-vm-uuid", vmUuid],
    ["xen-vm-name", name],
  ],
];
const result = await db(ovsdb, "transact", [
  "Open_vSwitch",
  { op: "wait", table: "Port", where: [["name", "==", dev]], columns: ["_uuid"], until: "==", rows: [], timeout: 0 },
  { op: "insert", table: "Interface", row: { name: dev, external_ids: ids }, "uuid-name": "i" },
  {
    op: "insert",
    table: "Port",
    row: { name: dev, interfaces: ["named-uuid", "i"], vlan_mode: "native-untagged", tag, trunks: ["set", trunks] },
    "uuid-name": "p",
  },
  { op: "mutate", table: "Bridge", where: [["_uuid", "==", brUuid]], mutations: [["ports", "insert", ["set", [["named-uuid", "p"]]]]] },
  { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
  { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] },
]);
onUpdate((await monitor) ?? {});
target = result[5].rows[0].next_cfg;
if (!(curCfg >= target && ofport > 0)) await new Promise<void>((r) => (wake = r));

libc.ioctl(ioFd, 0x8913, ptr(ifr));
ifr[16]! |= 1;
libc.ioctl(ioFd, 0x8914, ptr(ifr));
await xs(xsock, XS_WRITE, `${xenbus}/hotplug-status\0connected`);

const iso = new Date().toISOString();
const line = `online ok vm=${name} device=${dev} bridge=${bridge} ofport=${ofport}`;
const out = enc.encode(`least-hook: ${line}\n`);
libc.write(2, ptr(out), out.length);
const logLine = enc.encode(`${iso} least-hook[${process.pid}] info: ${line}\n`);
const fd = libc.open(ptr(enc.encode("/var/log/xen/xen-hotplug.log\0")), 0o2101 | 0o2000000, 0o644);
libc.write(fd, ptr(logLine), logLine.length);
libc.close(fd);
const addr = new Uint8Array(110);
addr[0] = 1;
addr.set(enc.encode("/dev/log"), 2);
const sfd = libc.socket(1, 2, 0);
// RFC 3164's timestamp in UTC: Date's local-time strings load the time zone
// database (~7 ms here), which is why ovs-vif asks libc's localtime_r.
const month = "JanFebMarAprMayJunJulAugSepOctNovDec".substr((Number(iso.slice(5, 7)) - 1) * 3, 3);
const stamp = `${month} ${String(Number(iso.slice(8, 10))).padStart(2)} ${iso.slice(11, 19)}`;
const datagram = enc.encode(`<30>${stamp} least-hook[${process.pid}]: ${line}`);
if (libc.connect(sfd, ptr(addr), 11) === 0) libc.send(sfd, ptr(datagram), datagram.length, 0x40);
libc._exit(0);
