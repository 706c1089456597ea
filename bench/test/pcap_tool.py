#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent decoder and mangler of pktgen pcaps, for bench/test (scapy).

  pcap_tool.py decode IN.pcap          -> JSON list, one object per frame
  pcap_tool.py mangle IN OUT OPS_JSON  -> writes OUT with OPS applied

decode reports every header field the tests check, whether each checksum
is right (recomputed here by scapy, not taken from pktgen) and the pktgen
stamp found at the start of the innermost UDP payload.

mangle ops (indexes refer to IN): {"drop": [i], "dup": [i], "swap": [[i, j]],
"move_after": [[i, j]] (i goes right after j), "bad_flow": [i] (stamp flow
set to 0xffffffff), "foreign": n (n frames that are not pktgen's, first)}.
"""
import json
import struct
import sys

from scapy.all import ARP, IP, UDP, Ether, IPv6, Raw, rdpcap, wrpcap  # noqa: F401
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.layers.inet import in4_chksum
from scapy.layers.inet6 import in6_chksum
from scapy.utils import checksum

MAGIC = 0x4B50524C
STAMP = struct.Struct("<IIIIH")


def udp_checksum_ok(ip, udp_bytes):
    """None when the datagram carries no checksum (IPv4 only), else whether it is right."""
    (orig,) = struct.unpack("!H", udp_bytes[6:8])
    if orig == 0 and isinstance(ip, IP):
        return None
    zeroed = udp_bytes[:6] + b"\0\0" + udp_bytes[8:]
    calc = in4_chksum(17, ip, zeroed) if isinstance(ip, IP) else in6_chksum(17, ip, zeroed)
    return (calc or 0xFFFF) == orig


def decode_ip(ip):
    if isinstance(ip, IP):
        hdr = bytes(ip)[: ip.ihl * 4]
        return {"kind": "ipv4", "version": ip.version, "ihl": ip.ihl, "len": ip.len,
                "ttl": ip.ttl, "proto": ip.proto, "src": ip.src, "dst": ip.dst,
                "flags": int(ip.flags), "frag": ip.frag,
                "chksum_ok": checksum(hdr) == 0, "actual_len": len(bytes(ip))}
    return {"kind": "ipv6", "version": ip.version, "plen": ip.plen, "hlim": ip.hlim,
            "nh": ip.nh, "src": ip.src, "dst": ip.dst,
            "actual_plen": len(bytes(ip.payload))}


def decode_udp(ip, udp):
    raw = bytes(udp)
    return {"kind": "udp", "sport": udp.sport, "dport": udp.dport, "len": udp.len,
            "chksum": udp.chksum, "chksum_ok": udp_checksum_ok(ip, raw),
            "actual_len": len(raw)}


def decode(path):
    out = []
    for frame in rdpcap(path):
        rec = {"len": len(frame), "layers": [], "stamp": None}
        if Ether in frame:
            rec["eth"] = {"src": frame[Ether].src, "dst": frame[Ether].dst,
                          "type": frame[Ether].type}
        layer = frame[Ether].payload if Ether in frame else frame
        payload = None
        while isinstance(layer, (IP, IPv6)):
            ip = layer
            rec["layers"].append(decode_ip(ip))
            if not isinstance(ip.payload, UDP):
                break
            udp = ip.payload
            rec["layers"].append(decode_udp(ip, udp))
            inner = udp.payload
            if isinstance(inner, GTP_U_Header):
                g = {"kind": "gtpu", "version": inner.version, "pt": inner.PT,
                     "e": inner.E, "s": inner.S, "pn": inner.PN,
                     "type": inner.gtp_type, "length": inner.length, "teid": inner.teid,
                     "actual_length": len(bytes(inner)) - 8, "ext": []}
                ext = inner.payload
                while isinstance(ext, GTPPDUSessionContainer):
                    g["ext"].append({"type": 0x85, "len": ext.ExtHdrLen,
                                     "pdu_type": ext.type, "qfi": ext.QFI,
                                     "next": ext.NextExtHdr})
                    ext = ext.payload
                rec["layers"].append(g)
                layer = ext
                continue
            payload = bytes(inner)
            break
        if payload is not None and len(payload) >= STAMP.size:
            magic, flow, seq, lo, hi = STAMP.unpack(payload[: STAMP.size])
            rec["stamp"] = {"magic": magic, "flow": flow, "seq": seq, "tsc": lo | (hi << 32),
                            "ok": magic == MAGIC, "rest_zero": not any(payload[STAMP.size:])}
        out.append(rec)
    return out


def mangle(src, dst, ops):
    frames = [bytes(f) for f in rdpcap(src)]
    for i in ops.get("bad_flow", []):
        f = Ether(frames[i])
        load = bytes(f[UDP].payload)
        f[UDP].remove_payload()
        f[UDP].add_payload(Raw(load[:4] + struct.pack("<I", 0xFFFFFFFF) + load[8:]))
        frames[i] = bytes(f)
    order = list(range(len(frames)))
    for i, j in ops.get("swap", []):
        a, b = order.index(i), order.index(j)
        order[a], order[b] = order[b], order[a]
    for i, j in ops.get("move_after", []):
        order.remove(i)
        order.insert(order.index(j) + 1, i)
    for i in ops.get("dup", []):
        order.insert(order.index(i) + 1, i)
    drop = set(ops.get("drop", []))
    result = [Ether(frames[i]) for i in order if i not in drop]
    foreign = []
    for k in range(ops.get("foreign", 0)):
        if k % 2 == 0:
            foreign.append(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="10.1.0.1"))
        else:
            foreign.append(Ether() / IP(src="10.9.9.9", dst="10.1.0.1") / UDP(sport=1, dport=5001)
                           / Raw(b"not a pktgen stamp, just bytes"))
    wrpcap(dst, foreign + result)


def main(argv):
    if len(argv) == 3 and argv[1] == "decode":
        json.dump(decode(argv[2]), sys.stdout)
    elif len(argv) == 5 and argv[1] == "mangle":
        mangle(argv[2], argv[3], json.loads(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
