#!/usr/bin/python3
# Hand-made frames for the port-security tests, sent and counted through
# AF_PACKET sockets (no scapy, no tcpdump):
#
#   forge.py send IFACE JSON
#       sends JSON["count"] frames of JSON["kind"] (see FRAMES), then one
#       fence frame (kind "fence_kind", default "udp4", with JSON["fence"]
#       as its marker, from "fence_mac"/"fence_ip" if given) unless JSON
#       has no "fence";
#       optional "vlan" tags every frame (802.1Q).
#       Every frame carries JSON["marker"] (hex) where it is harmless: a UDP
#       payload, the padding of an ARP frame, an experimental ND option
#       (type 253, RFC 4727), a BOOTP server name.
#   forge.py flood IFACE JSON
#       sends a JSON["kind"] frame (with JSON["marker"]) every millisecond
#       until its stdin closes, printing "started" after the first one and
#       the number sent at the end: frames that would slip through while a
#       port is being plugged (a send the kernel refuses, a link that is
#       down, is counted as not sent).
#   forge.py count IFACE MARKER FENCE SECONDS
#       prints "ready" once bound, then counts frames arriving on IFACE
#       (not the ones it sends) that contain MARKER (hex), until a frame
#       containing FENCE (hex) arrives or SECONDS pass; prints
#       {"count": N, "fence": true|false}. The fence goes out after the
#       counted frames from the same port, so OVS has handled every one of
#       them (forwarded or dropped) before the fence arrives: nothing is
#       missed and nothing is waited for by guess.
import json
import select
import socket
import struct
import sys
import time

from rawframe import checksum, mac  # beside this file

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def ip4(text):
    return socket.inet_pton(socket.AF_INET, text)


def ip6(text):
    return socket.inet_pton(socket.AF_INET6, text)


def ether(p, dst, ethertype, payload):
    tag = struct.pack("!HH", 0x8100, p["vlan"]) if p.get("vlan") else b""
    frame = mac(dst) + mac(p["src_mac"]) + tag + struct.pack("!H", ethertype) + payload
    return frame + bytes(max(0, 60 + len(tag) - len(frame)))


def ipv4_udp(p, src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + udp


def ipv6_packet(src, dst, proto, payload, hops=255):
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, hops, ip6(src), ip6(dst))
    pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", len(payload), proto)
    csum_at = {17: 6, 58: 2}[proto]
    payload = payload[:csum_at] + struct.pack("!H", checksum(pseudo + payload)) + payload[csum_at + 2:]
    return hdr + payload


def marker_option(p):
    body = bytes.fromhex(p["marker"])
    body += bytes((-(len(body) + 2)) % 8)
    return struct.pack("!BB", 253, (len(body) + 2) // 8) + body


def multicast_mac(addr6):
    b = ip6(addr6)
    return "33:33:" + ":".join(f"{x:02x}" for x in b[12:])


def solicited_node(addr6):
    b = ip6(addr6)
    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff0200000000000000000001ff") + b[13:])


def arp(p, op, sha, spa, tha, tpa, dst, ethertype=0x0806):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac(sha), ip4(spa), mac(tha), ip4(tpa))
    return ether(p, dst, ethertype, body + bytes.fromhex(p["marker"]))


def udp4(p):
    data = bytes.fromhex(p["marker"])
    return ether(p, p.get("dst_mac", "ff:ff:ff:ff:ff:ff"), 0x0800, ipv4_udp(p, p["src_ip"], p.get("dst_ip", "198.51.100.255"), 40000, 9, data))


def udp6(p):
    data = bytes.fromhex(p["marker"])
    udp = struct.pack("!HHHH", 40000, 9, 8 + len(data), 0) + data
    return ether(p, "33:33:00:00:00:01", 0x86DD, ipv6_packet(p["src_ip6"], "ff02::1", 17, udp, 64))


def dhcp(p, op, sip, dip, sport, dport, msg_type):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, 1, 6, 0, 0x4F56, 0, 0x8000, bytes(4), ip4(p.get("yiaddr", "0.0.0.0")), bytes(4), bytes(4), mac(p["src_mac"]) + bytes(10), bytes.fromhex(p["marker"]), b"")
    options = b"\x63\x82\x53\x63" + bytes([53, 1, msg_type])
    if op == 2:
        options += bytes([54, 4]) + ip4(sip) + bytes([1, 4, 255, 255, 255, 0, 51, 4, 0, 0, 14, 16])
    options += b"\xff"
    return ether(p, "ff:ff:ff:ff:ff:ff", 0x0800, ipv4_udp(p, sip, dip, sport, dport, bootp + options))


def ns(p, src, target, sll):
    body = struct.pack("!BBHI16s", 135, 0, 0, 0, ip6(target))
    if sll:
        body += struct.pack("!BB6s", 1, 1, mac(sll))
    body += marker_option(p)
    dst = solicited_node(target)
    return ether(p, multicast_mac(dst), 0x86DD, ipv6_packet(src, dst, 58, body))


def na(p, src, target, tll):
    body = struct.pack("!BBHI16s", 136, 0, 0, 0x20000000, ip6(target)) + struct.pack("!BB6s", 2, 1, mac(tll)) + marker_option(p)
    return ether(p, "33:33:00:00:00:01", 0x86DD, ipv6_packet(src, "ff02::1", 58, body))


def ra(p):
    prefix = struct.pack("!BBBBIII16s", 3, 4, 64, 0xC0, 86400, 14400, 0, ip6("2001:db8:bad::"))
    body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + prefix + struct.pack("!BB6s", 1, 1, mac(p["src_mac"])) + marker_option(p)
    return ether(p, "33:33:00:00:00:01", 0x86DD, ipv6_packet(p["src_ip6"], "ff02::1", 58, body))


FRAMES = {
    # Forged: what port security must stop.
    "mac": lambda p: udp4({**p, "src_mac": p["spoof_mac"]}),
    "ipv4": lambda p: udp4({**p, "src_ip": p["spoof_ip"]}),
    "garp": lambda p: arp(p, 1, p["src_mac"], p["victim_ip"], "00:00:00:00:00:00", p["victim_ip"], "ff:ff:ff:ff:ff:ff"),
    "arp-reply": lambda p: arp(p, 2, p["src_mac"], p["spoof_ip"], p["victim_mac"], p["victim_ip"], p["victim_mac"]),
    "ipv6": lambda p: udp6({**p, "src_ip6": p["spoof_ip6"]}),
    "na": lambda p: na(p, p["src_ip6"], p["victim_ip6"], p["src_mac"]),
    "ra": ra,
    "dhcp-offer": lambda p: dhcp({**p, "yiaddr": p["victim_ip"]}, 2, p["src_ip"], "255.255.255.255", 67, 68, 2),
    # Legitimate: what it must let through.
    "udp4": udp4,
    "udp6": udp6,
    "arp": lambda p: arp(p, 1, p["src_mac"], p["src_ip"], "00:00:00:00:00:00", p["victim_ip"], "ff:ff:ff:ff:ff:ff"),
    "arp-probe": lambda p: arp(p, 1, p["src_mac"], "0.0.0.0", "00:00:00:00:00:00", p["src_ip"], "ff:ff:ff:ff:ff:ff"),
    "dhcp-discover": lambda p: dhcp(p, 1, "0.0.0.0", "255.255.255.255", 68, 67, 1),
    "dad": lambda p: ns(p, "::", p["src_ip6"], None),
    "ns": lambda p: ns(p, p["src_ip6"], p["victim_ip6"], p["src_mac"]),
}


def send(iface, spec):
    p = json.loads(spec)
    frames = [FRAMES[p["kind"]](p)] * int(p["count"])
    if p.get("fence"):
        # From the port's own MAC and address (fence_mac, fence_ip when the
        # counted frames use others), so that the filter lets it through.
        fence = {**p, "marker": p["fence"], "src_mac": p.get("fence_mac", p["src_mac"]), "src_ip": p.get("fence_ip", p["src_ip"])}
        frames.append(FRAMES[p.get("fence_kind", "udp4")](fence))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for f in frames:
        s.send(f)
        time.sleep(0.002)


def flood(iface, spec):
    p = json.loads(spec)
    frame = FRAMES[p["kind"]](p)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent, started = 0, False
    while True:
        try:
            s.send(frame)
            sent += 1
        except OSError:
            pass
        if not started:
            print("started", flush=True)
            started = True
        if select.select([sys.stdin], [], [], 0.001)[0] and sys.stdin.read(1) == "":
            break
    print(json.dumps({"sent": sent}), flush=True)


def count(iface, marker, fence, seconds):
    marker, fence = bytes.fromhex(marker), bytes.fromhex(fence)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((iface, ETH_P_ALL))
    print("ready", flush=True)
    n, seen, end = 0, False, time.monotonic() + float(seconds)
    while not seen and time.monotonic() < end:
        if not select.select([s], [], [], max(0.0, end - time.monotonic()))[0]:
            continue
        data, addr = s.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        if fence in data:
            seen = True
        elif marker in data:
            n += 1
    print(json.dumps({"count": n, "fence": seen}), flush=True)


def main(argv):
    if len(argv) == 3 and argv[0] == "send":
        send(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "flood":
        flood(argv[1], argv[2])
    elif len(argv) == 5 and argv[0] == "count":
        count(*argv[1:])
    else:
        raise SystemExit("usage: forge.py send IFACE JSON | flood IFACE JSON | count IFACE MARKER FENCE SECONDS")


main(sys.argv[1:])
