#!/usr/bin/python3
"""Packet helper for linerate's integration tests (Debian's scapy, run with
/usr/bin/python3). JSON in, JSON out; the tests (mocha) do the asserting.

Packets are built by scapy from small declarative specs, sent on one
interface with a plain AF_PACKET socket and captured on others with
AF_PACKET sockets that skip our own outgoing frames (no BPF, so no tcpdump
needed). Every captured frame is decoded with the checksums as received and
as scapy recomputes them, so a test can check the forwarder's checksum
arithmetic independently.

Subcommands (stdout is one JSON document):
  build    --packets SPECS                   -> [{hex, decoded}]
  decode   --hex HEX                         -> decoded
  exchange --send-iface X --sniff-iface Y [--sniff-iface Z] --packets SPECS
           [--timeout S] [--expect N] [--gap-ms MS]
                                             -> {sent: [...], captured: [...]}
  stream   --send-iface X --sniff-iface Y --packets SPECS --duration S
           --pps N                           -> {sent: [{t, tag}], captured: [{t, tag}]}
           (prints STARTED on stderr when the first packet is about to go)
  reassemble  (stdin: [hex frames])         -> [hex of each reassembled IPv4 packet]
  tshark --field F [--field G ...]  (stdin: [hex frames])
                                             -> {rows: [{F: value}], expert: text}

SPECS is a JSON list (or @file, or - for stdin). A spec is {"kind": K, ...fields}; see
build_one() for the kinds and their fields. Any spec may carry "tag"
(a string written at the start of the payload, found again on capture),
"truncate" (cut the frame to N bytes) and "hex" for kind "raw".
"""
import argparse
import json
import os
import select
import socket
import sys
import threading
import time

from scapy.all import (  # noqa: E402  (scapy prints warnings on import)
    ARP, ICMP, IP, UDP, Ether, IPv6, Raw, ICMPv6EchoReply, ICMPv6EchoRequest,
    ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
    ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPerror, IPerror6,
    defragment, in6_getnsma, in6_getnsmac, inet_pton, wrpcap)

try:  # GTP-U (UDP 2152) layers: the UPF tests build and decode them
    from scapy.contrib.gtp import (  # noqa: E402
        GTP_U_Header, GTPEchoRequest, GTPEchoResponse, GTPPDUSessionContainer)
except ImportError:  # an old scapy: the gtpu kinds are then unavailable
    GTP_U_Header = None

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TAG_MAGIC = b"LRT:"


def payload(spec, default_len=18):
    """Payload = optional tag (LRT:<tag>;) padded to payload_len bytes."""
    body = b""
    if spec.get("tag") is not None:
        body = TAG_MAGIC + str(spec["tag"]).encode() + b";"
    n = max(int(spec.get("payload_len", default_len)), len(body))
    return body + b"\x00" * (n - len(body))


def ipv4_fields(spec):
    f = {"src": spec["src"], "dst": spec["dst"], "ttl": int(spec.get("ttl", 64))}
    for k in ("ihl", "len", "chksum", "proto", "version", "tos", "id", "flags", "frag"):
        if k in spec:
            f[k] = spec[k]
    return f


def build_one(spec):
    kind = spec["kind"]
    eth = {"src": spec.get("src_mac", "02:00:00:00:00:01"),
           "dst": spec.get("dst_mac", "ff:ff:ff:ff:ff:ff")}
    if "ethertype" in spec:
        eth["type"] = int(spec["ethertype"])

    if kind == "raw":
        frame = bytes.fromhex(spec["hex"])
    elif kind == "udp4":
        pkt = (Ether(**eth) / IP(**ipv4_fields(spec)) /
               UDP(sport=int(spec.get("sport", 1024)), dport=int(spec.get("dport", 9))) /
               Raw(payload(spec)))
        frame = bytes(pkt)
    elif kind == "icmp4":
        pkt = (Ether(**eth) / IP(**ipv4_fields(spec)) /
               ICMP(type=int(spec.get("type", 8)), id=int(spec.get("id", 1)),
                    seq=int(spec.get("seq", 1))) / Raw(payload(spec)))
        frame = bytes(pkt)
    elif kind == "udp6":
        ip6 = {"src": spec["src"], "dst": spec["dst"], "hlim": int(spec.get("hlim", 64))}
        if "plen" in spec:
            ip6["plen"] = int(spec["plen"])
        if "version" in spec:
            ip6["version"] = int(spec["version"])
        pkt = (Ether(**eth) / IPv6(**ip6) /
               UDP(sport=int(spec.get("sport", 1024)), dport=int(spec.get("dport", 9))) /
               Raw(payload(spec)))
        frame = bytes(pkt)
    elif kind == "icmp6_echo":
        ip6 = {"src": spec["src"], "dst": spec["dst"], "hlim": int(spec.get("hlim", 64))}
        pkt = (Ether(**eth) / IPv6(**ip6) /
               ICMPv6EchoRequest(id=int(spec.get("id", 1)), seq=int(spec.get("seq", 1)),
                                 data=payload(spec)))
        frame = bytes(pkt)
    elif kind == "arp_request":
        # Who has pdst? tell psrc (hwsrc).
        pkt = Ether(**eth) / ARP(op=1, hwsrc=eth["src"], psrc=spec["psrc"],
                                 hwdst="00:00:00:00:00:00", pdst=spec["pdst"])
        frame = bytes(pkt)
    elif kind == "arp_reply":
        pkt = Ether(**eth) / ARP(op=2, hwsrc=eth["src"], psrc=spec["psrc"],
                                 hwdst=spec.get("hwdst", eth["dst"]), pdst=spec["pdst"])
        frame = bytes(pkt)
    elif kind == "nd_ns":
        # Solicitation for target, to its solicited-node multicast group
        # unless dst / dst_mac are given.
        tgt = spec["target"]
        snm = socket.inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, tgt)))
        dst = spec.get("dst", snm)
        if "dst_mac" not in spec:
            eth["dst"] = in6_getnsmac(inet_pton(socket.AF_INET6, dst))
        pkt = (Ether(**eth) / IPv6(src=spec["src"], dst=dst, hlim=int(spec.get("hlim", 255))) /
               ICMPv6ND_NS(tgt=tgt) / ICMPv6NDOptSrcLLAddr(lladdr=eth["src"]))
        frame = bytes(pkt)
    elif kind == "nd_na":
        pkt = (Ether(**eth) / IPv6(src=spec["src"], dst=spec["dst"], hlim=255) /
               ICMPv6ND_NA(tgt=spec["target"], R=0, S=int(spec.get("solicited", 1)), O=1) /
               ICMPv6NDOptDstLLAddr(lladdr=eth["src"]))
        frame = bytes(pkt)
    elif kind in ("gtpu4", "gtpu_echo"):
        # Outer IPv4/UDP(2152) to the N3 address; a G-PDU (teid, optional UL
        # PDU Session Container with qfi, gtp_type) around an inner UDP packet
        # (inner_src -> inner_dst, IPv4 or IPv6, the tag in its payload), or an Echo Request
        # (seq). "patch": [[offset, byte], ...] spoils the frame afterwards.
        outer = (Ether(**eth) / IP(src=spec["src"], dst=spec["dst"], ttl=int(spec.get("ttl", 64))) /
                 UDP(sport=int(spec.get("sport", 2152)), dport=int(spec.get("dport", 2152))))
        if kind == "gtpu_echo":
            g = GTP_U_Header(gtp_type=1, teid=0, S=1, seq=int(spec.get("seq", 1))) / GTPEchoRequest()
        else:
            l3 = IPv6 if ":" in spec["inner_dst"] else IP
            hop = {"hlim": int(spec.get("inner_ttl", 64))} if l3 is IPv6 else {"ttl": int(spec.get("inner_ttl", 64))}
            inner = (l3(src=spec["inner_src"], dst=spec["inner_dst"], **hop) /
                     UDP(sport=int(spec.get("inner_sport", 4000)), dport=int(spec.get("inner_dport", 5000))) /
                     Raw(payload(spec)))
            gh = {"teid": int(spec["teid"]), "gtp_type": int(spec.get("gtp_type", 255))}
            if "qfi" in spec:
                g = (GTP_U_Header(E=1, next_ex=0x85, **gh) /
                     GTPPDUSessionContainer(type=int(spec.get("pdu_type", 1)), QFI=int(spec["qfi"])) / inner)
            else:
                g = GTP_U_Header(**gh) / inner
        frame = bytearray(bytes(outer / g))
        for off, byte in spec.get("patch", []):
            frame[int(off)] = int(byte)
        frame = bytes(frame)
    else:
        raise ValueError("unknown packet kind %r" % kind)

    if "truncate" in spec:
        frame = frame[: int(spec["truncate"])]
    return frame


def find_tag(frame):
    i = frame.find(TAG_MAGIC)
    if i < 0:
        return None
    j = frame.find(b";", i)
    if j < 0:
        return None
    return frame[i + len(TAG_MAGIC): j].decode(errors="replace")


def recomputed(pkt):
    """A copy of pkt with every checksum field recomputed by scapy."""
    c = pkt.copy()
    layer = c
    while layer is not None and not isinstance(layer, Raw) and layer.name != "NoPayload":
        for fname in ("chksum", "cksum"):
            if fname in layer.fields or any(f.name == fname for f in layer.fields_desc):
                layer.fields.pop(fname, None)
                setattr(layer, fname, None)
        layer = layer.payload if layer.payload else None
    return Ether(bytes(c))


def decode(frame):
    d = {"len": len(frame), "tag": find_tag(frame)}
    try:
        p = Ether(frame)
    except Exception as e:  # a frame too short to be Ethernet
        d["error"] = str(e)
        return d
    d["summary"] = p.summary()
    d["eth"] = {"src": p.src, "dst": p.dst, "type": p.type}
    try:
        r = recomputed(p)
    except Exception:
        r = None
    if IP in p:
        ip = p[IP]
        d["ipv4"] = {"src": ip.src, "dst": ip.dst, "ttl": ip.ttl, "ihl": ip.ihl, "len": ip.len,
                     "proto": ip.proto, "chksum": ip.chksum,
                     "chksum_ok": r is not None and IP in r and r[IP].chksum == ip.chksum}
    if IPv6 in p:
        ip6 = p[IPv6]
        d["ipv6"] = {"src": ip6.src, "dst": ip6.dst, "hlim": ip6.hlim, "plen": ip6.plen,
                     "nh": ip6.nh}
    if UDP in p:
        u = p[UDP]
        d["udp"] = {"sport": u.sport, "dport": u.dport, "chksum": u.chksum,
                    "chksum_ok": r is not None and UDP in r and r[UDP].chksum == u.chksum}
    if ICMP in p:
        ic = p[ICMP]
        d["icmp"] = {"type": ic.type, "code": ic.code, "chksum": ic.chksum,
                     "chksum_ok": r is not None and ICMP in r and r[ICMP].chksum == ic.chksum}
        if ic.type in (3, 11) and IPerror in p:
            q = p[IPerror]
            d["icmp"].update({"mtu": ic.nexthopmtu if ic.type == 3 and ic.code == 4 else None,
                              "quoted": {"src": q.src, "dst": q.dst, "id": q.id, "ttl": q.ttl,
                                         "len": q.len, "proto": q.proto,
                                         "hex": bytes(q)[:28].hex()}})
    for cls, name in ((ICMPv6DestUnreach, "icmp6_unreach"), (ICMPv6PacketTooBig, "icmp6_too_big"),
                      (ICMPv6TimeExceeded, "icmp6_time_exceeded")):
        if cls in p:
            ic = p[cls]
            q = p[IPerror6] if IPerror6 in p else None
            d[name] = {"type": ic.type, "code": ic.code, "cksum": ic.cksum,
                       "cksum_ok": r is not None and cls in r and r[cls].cksum == ic.cksum,
                       "mtu": getattr(ic, "mtu", None),
                       "quoted": None if q is None else {"src": q.src, "dst": q.dst, "hlim": q.hlim,
                                                         "plen": q.plen}}
    for cls, name in ((ICMPv6EchoRequest, "icmp6_echo_request"), (ICMPv6EchoReply, "icmp6_echo_reply")):
        if cls in p:
            ic = p[cls]
            d[name] = {"id": ic.id, "seq": ic.seq, "cksum": ic.cksum,
                       "cksum_ok": r is not None and cls in r and r[cls].cksum == ic.cksum}
    if GTP_U_Header is not None and GTP_U_Header in p:
        g = p[GTP_U_Header]
        d["gtpu"] = {"type": g.gtp_type, "teid": g.teid, "length": g.length, "E": g.E, "S": g.S,
                     "seq": g.seq if (g.E or g.S or g.PN) else None}
        if GTPPDUSessionContainer in p:
            c = p[GTPPDUSessionContainer]
            d["gtpu"]["container"] = {"type": c.type, "qfi": c.QFI}
        inner = g.payload
        while inner is not None and inner.name != "NoPayload" and not isinstance(inner, (IP, IPv6)):
            inner = inner.payload
        if isinstance(inner, IP):
            d["gtpu"]["inner"] = {"src": inner.src, "dst": inner.dst, "len": inner.len, "ttl": inner.ttl}
        elif isinstance(inner, IPv6):
            d["gtpu"]["inner"] = {"src": inner.src, "dst": inner.dst, "len": 40 + inner.plen, "ttl": inner.hlim}
        if GTPEchoResponse in p:
            d["gtpu"]["echo_ies"] = [[ie.ietype, bytes(ie).hex()] for ie in p[GTPEchoResponse].IE_list]
    if ARP in p:
        a = p[ARP]
        d["arp"] = {"op": a.op, "hwsrc": a.hwsrc, "psrc": a.psrc, "hwdst": a.hwdst, "pdst": a.pdst}
    if ICMPv6ND_NS in p:
        ns = p[ICMPv6ND_NS]
        d["nd_ns"] = {"target": ns.tgt,
                      "lladdr": p[ICMPv6NDOptSrcLLAddr].lladdr if ICMPv6NDOptSrcLLAddr in p else None,
                      "cksum_ok": r is not None and ICMPv6ND_NS in r and r[ICMPv6ND_NS].cksum == ns.cksum}
    if ICMPv6ND_NA in p:
        na = p[ICMPv6ND_NA]
        d["nd_na"] = {"target": na.tgt, "R": na.R, "S": na.S, "O": na.O,
                      "lladdr": p[ICMPv6NDOptDstLLAddr].lladdr if ICMPv6NDOptDstLLAddr in p else None,
                      "cksum_ok": r is not None and ICMPv6ND_NA in r and r[ICMPv6ND_NA].cksum == na.cksum}
    return d


def open_sock(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((iface, ETH_P_ALL))
    return s


def drain(s):
    """Drops what the socket queued before the test starts."""
    s.setblocking(False)
    try:
        while True:
            s.recv(65535)
    except BlockingIOError:
        pass


class Sniffer:
    """Receives frames (not our own outgoing ones) on several interfaces."""

    def __init__(self, ifaces):
        self.socks = {open_sock(i): i for i in ifaces}
        for s in self.socks:
            drain(s)
        self.frames = []   # (t, iface, bytes)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()

    def run(self):
        socks = list(self.socks)
        while not self.stop.is_set():
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                while True:
                    try:
                        data, addr = s.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if addr[2] == PACKET_OUTGOING:
                        continue
                    with self.lock:
                        self.frames.append((time.time(), self.socks[s], data))

    def count(self):
        with self.lock:
            return len(self.frames)

    def finish(self):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close()
        return self.frames


def load_specs(arg):
    if arg == "-":
        return json.load(sys.stdin)
    if arg.startswith("@"):
        with open(arg[1:]) as f:
            return json.load(f)
    return json.loads(arg)


def cmd_reassemble(a):
    """IPv4 fragments (hex frames) -> the reassembled IP packets (hex, from the IP header)."""
    frames = [Ether(bytes.fromhex(h)) for h in json.load(sys.stdin)]
    out = [bytes(p[IP]).hex() for p in defragment([f for f in frames if IP in f]) if IP in p]
    json.dump(out, sys.stdout)


def cmd_tshark(a):
    """Frames (hex) -> tshark's view of the fields asked for, one dict per frame."""
    import subprocess
    import tempfile
    frames = [Ether(bytes.fromhex(h)) for h in json.load(sys.stdin)]
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        wrpcap(f.name, frames)
        cmd = ["tshark", "-r", f.name, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
               "-o", "ip.check_checksum:TRUE"]
        for fld in a.field:
            cmd += ["-e", fld]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        warn = subprocess.run(["tshark", "-r", f.name, "-q", "-z", "expert,warn",
                               "-o", "ip.check_checksum:TRUE"], capture_output=True, text=True, check=True)
    rows = [dict(zip(a.field, line.split("|"))) for line in res.stdout.splitlines()]
    json.dump({"rows": rows, "expert": warn.stdout}, sys.stdout)


def cmd_build(a):
    return [{"hex": f.hex(), "decoded": decode(f)} for f in map(build_one, load_specs(a.packets))]


def cmd_exchange(a):
    frames = [build_one(s) for s in load_specs(a.packets)]
    sn = Sniffer(a.sniff_iface)
    sn.start()
    tx = open_sock(a.send_iface)
    sent = []
    for f in frames:
        tx.send(f)
        sent.append({"t": time.time(), "hex": f.hex(), "decoded": decode(f)})
        if a.gap_ms:
            time.sleep(a.gap_ms / 1000.0)
    tx.close()
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        if a.expect is not None and sn.count() >= a.expect:
            # Linger briefly: a duplicate or extra frame is a failure too.
            time.sleep(a.linger)
            break
        time.sleep(0.01)
    got = sn.finish()
    return {"sent": sent,
            "captured": [{"t": t, "iface": i, "hex": d.hex(), "decoded": decode(d)} for t, i, d in got]}


def cmd_stream(a):
    """Sends the specs round-robin at a fixed rate for a duration and
    reports when each tagged frame was sent and captured; tags get a
    sequence number appended (tag-N)."""
    specs = load_specs(a.packets)
    sn = Sniffer(a.sniff_iface)
    sn.start()
    tx = open_sock(a.send_iface)
    sent = []
    # Tells the caller (on stderr, stdout is the result) that traffic flows now.
    sys.stderr.write("STARTED\n")
    sys.stderr.flush()
    t0 = time.time()
    n = 0
    interval = 1.0 / a.pps
    while True:
        now = time.time()
        if now - t0 >= a.duration:
            break
        spec = dict(specs[n % len(specs)])
        spec["tag"] = "%s-%d" % (spec.get("tag", "s"), n)
        tx.send(build_one(spec))
        sent.append({"t": now, "tag": spec["tag"]})
        n += 1
        nxt = t0 + n * interval
        delay = nxt - time.time()
        if delay > 0:
            time.sleep(delay)
    tx.close()
    time.sleep(a.linger)
    got = sn.finish()
    return {"sent": sent,
            "captured": [{"t": t, "iface": i, "tag": find_tag(d)} for t, i, d in got]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--packets", required=True)
    dc = sub.add_parser("decode")
    dc.add_argument("--hex", required=True)
    for name in ("exchange", "stream"):
        e = sub.add_parser(name)
        e.add_argument("--send-iface", required=True)
        e.add_argument("--sniff-iface", action="append", required=True)
        e.add_argument("--packets", required=True)
        e.add_argument("--linger", type=float, default=0.3)
        if name == "exchange":
            e.add_argument("--timeout", type=float, default=2.0)
            e.add_argument("--expect", type=int)
            e.add_argument("--gap-ms", type=float, default=1.0)
        else:
            e.add_argument("--duration", type=float, required=True)
            e.add_argument("--pps", type=float, default=500)
    sub.add_parser("reassemble")
    t = sub.add_parser("tshark")
    t.add_argument("--field", action="append", required=True)
    a = ap.parse_args()
    if a.cmd == "reassemble":
        cmd_reassemble(a)
        return
    if a.cmd == "tshark":
        cmd_tshark(a)
        return
    if a.cmd == "build":
        out = cmd_build(a)
    elif a.cmd == "decode":
        out = decode(bytes.fromhex(a.hex))
    elif a.cmd == "exchange":
        out = cmd_exchange(a)
    else:
        out = cmd_stream(a)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    # scapy may warn on stderr; keep stdout pure JSON.
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
