#!/usr/bin/python3
# Sends hand-made Ethernet frames on one interface through an AF_PACKET
# socket, for the OVN harness (test/harness/ovn.ts):
#
#   rawframe.py rarp IFACE MAC
#       one RARP request (ethertype 0x8035, opcode 3, sender = target = MAC,
#       addresses 0.0.0.0), padded to 60 bytes: what QEMU announces after a
#       live migration.
#   rawframe.py icmp IFACE SRC_MAC DST_MAC SRC_IP DST_IP COUNT
#       COUNT ICMP echo requests with exactly these Ethernet and IPv4
#       source and destination addresses (sequence numbers 1..COUNT).
import socket
import struct
import sys
import time


def mac(text):
    b = bytes.fromhex(text.replace(":", ""))
    if len(b) != 6:
        raise SystemExit(f"bad MAC {text!r}")
    return b


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rarp(src):
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 3, src, bytes(4), src, bytes(4))
    frame = b"\xff" * 6 + src + struct.pack("!H", 0x8035) + arp
    return frame + bytes(max(0, 60 - len(frame)))


def icmp_echo(src_mac, dst_mac, src_ip, dst_ip, seq):
    payload = b"ovs-vif-ovn-harness"
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4F56, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0x4000, 64, 1, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", 0x0800) + ip + icmp


def main(argv):
    if len(argv) == 3 and argv[0] == "rarp":
        frames = [rarp(mac(argv[2]))]
    elif len(argv) == 7 and argv[0] == "icmp":
        _, _, smac, dmac, sip, dip, count = argv
        frames = [icmp_echo(mac(smac), mac(dmac), sip, dip, i) for i in range(1, int(count) + 1)]
    else:
        raise SystemExit("usage: rawframe.py rarp IFACE MAC | icmp IFACE SRC_MAC DST_MAC SRC_IP DST_IP COUNT")
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((argv[1], 0))
    for i, f in enumerate(frames):
        if i:
            time.sleep(0.01)
        s.send(f)


if __name__ == "__main__":
    main(sys.argv[1:])
