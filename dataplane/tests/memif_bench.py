#!/usr/bin/python3
"""Forwarding rate of linerate-dp against dpdk-testpmd io on memif.

Topology (the one in shared/notes/memif-and-references.md): a generator and
sink in one dpdk-testpmd (io with retry: a pcap of 64-byte UDP frames in,
memif client 0 out; memif client 1 in, net_null out) on cpu 0, and the
forwarder on cpu 1: linerate-dp (one worker, memif servers p0/p1, routes
pushed through the addon) or dpdk-testpmd io (memif servers). Runs alternate
between the two forwarders. Each run starts on a quiet machine and is
measured over a window after a warm-up; it is discarded and repeated when
either busy thread got less than 97% of its cpu in the window or the
per-second sink rates spread by more than 15% (the VM is shared).

Reported per run: Mpps at the sink (generator's port 2 Rx-pps, mean of the
per-second samples), the forwarder's own Mpps and cycles/packet: for
linerate-dp busy_cycles / rx_packets of its worker (stats memory: whole
loop iterations that received something), for testpmd its
--record-core-cycles figure (cycles of non-empty bursts / RX packets, which
leaves out its empty polls). TSC Hz / Mpps compares the two on equal terms.

usage: /usr/bin/python3 dataplane/tests/memif_bench.py [--runs 3] [--burst 64]
       [--window 5] [--only linerate|testpmd] [--dp BINARY --addon ADDON]
Needs: the built tree (linerate-dp, the addon), dpdk-testpmd, scapy, node,
hugepages. Uses both cpus at 100% for about 12 s per run.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DP = os.path.join(ROOT, "build", "dp", "dataplane", "linerate-dp")
ADDON = os.path.join(ROOT, "build", "addon", "Release", "linerate_addon.node")
HZ = os.sysconf("SC_CLK_TCK")
P0_MAC, P1_MAC, GW_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:bb"

CONFIG_JS = """
const a = require(process.argv[1]);
(async () => {
  const dp = new a.Dataplane();
  await dp.connect(process.argv[2], 10000);
  await dp.addrBatch([{ portId: 0, address: '10.1.0.1', prefixLen: 24 },
                      { portId: 1, address: '10.2.0.1', prefixLen: 24 }]);
  await dp.neighBatch([{ portId: 1, address: '10.2.0.2', mac: '%s' }]);
  await dp.routeBatch([{ prefix: '198.18.0.0/15', nextHops: [{ portId: 1, via: '10.2.0.2' }] }]);
  dp.close();
})().catch((e) => { console.error(e); process.exit(1); });
""" % GW_MAC

SNAP_JS = """
const a = require(process.argv[1]);
const s = new a.StatsReader(process.argv[2]).snapshot();
const w = s.workers[0];
console.log(JSON.stringify({ t: Number(s.takenNs), rx: Number(w.rxPackets),
  busy: Number(w.busyCycles), drops: Number(w.drops) }));
"""


def make_pcap(path):
    from scapy.all import Ether, IP, UDP, Raw, wrpcap
    frames = []
    for i in range(256):  # 256 flows, 64 bytes on the wire with the FCS
        p = (Ether(dst=P0_MAC, src="02:00:00:00:00:aa") /
             IP(src="10.1.0.2", dst="198.18.%d.%d" % (i // 16, 1 + i % 16)) /
             UDP(sport=1024 + i, dport=5000))
        frames.append(p / Raw(b"\0" * (60 - len(p))))
    wrpcap(path, frames)


def cpu_busy():
    v = list(map(int, open("/proc/stat").readline().split()[1:]))
    return sum(v) - v[3] - v[4], sum(v)


def wait_quiet(limit=900):
    t0 = time.time()
    while time.time() - t0 < limit:
        b0, a0 = cpu_busy()
        time.sleep(1)
        b1, a1 = cpu_busy()
        if (b1 - b0) / max(1, a1 - a0) < 0.05:
            return
    print("warning: the machine never went quiet", file=sys.stderr)


def thread_ticks(pid, name="rte-worker-1"):
    tot = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            s = open("/proc/%d/task/%s/stat" % (pid, t)).read()
        except OSError:
            continue
        if s[s.index("(") + 1:s.rindex(")")] == name:
            f = s.rsplit(")", 1)[1].split()
            tot += int(f[11]) + int(f[12])
    return tot


class Run:
    def __init__(self, tmp, mode, burst, window):
        self.tmp, self.mode, self.burst, self.window = tmp, mode, burst, window
        self.procs = []

    def path(self, name):
        return os.path.join(self.tmp, name)

    def spawn(self, args, log, stdin=False):
        p = subprocess.Popen(args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                             stdout=open(self.path(log), "w"), stderr=subprocess.STDOUT,
                             text=True)
        self.procs.append(p)
        return p

    def wait_for(self, path, timeout=15):
        t0 = time.time()
        while not os.path.exists(path):
            if time.time() - t0 > timeout:
                raise RuntimeError("%s did not appear (see %s)" % (path, self.tmp))
            time.sleep(0.05)

    def node(self, script, *args):
        out = subprocess.run(["node", "-e", script, ADDON] + list(args), check=True,
                             capture_output=True, text=True)
        return out.stdout

    def start_forwarder(self):
        m0 = "socket=%s,socket-abstract=no" % self.path("m0.sock")
        m1 = "socket=%s,socket-abstract=no" % self.path("m1.sock")
        if self.mode == "linerate":
            self.stats = "/dev/shm/lrd-bench-%d.stats" % os.getpid()
            self.fwd = self.spawn([
                DP, "--lcores", "0@0,1@1", "--no-pci", "--in-memory",
                "--file-prefix", "lr-dp-bench-fwd-%d" % os.getpid(), "--",
                "--name", "bench", "--ctl", self.path("ctl.sock"), "--stats", self.stats,
                "--port", "p0=net_memif0,role=server,%s,mac=%s" % (m0, P0_MAC),
                "--port", "p1=net_memif1,role=server,%s,mac=%s" % (m1, P1_MAC),
                "--routes4", "65536", "--routes6", "4096", "--neighbors", "1024",
                "--burst", str(self.burst)], "fwd.log")
            self.wait_for(self.path("ctl.sock"))
            self.node(CONFIG_JS, self.path("ctl.sock"))
        else:
            self.fwd = self.spawn([
                "dpdk-testpmd", "--lcores", "0@0,1@1", "--no-pci", "--in-memory",
                "--file-prefix", "lr-dp-bench-ref-%d" % os.getpid(),
                "--vdev", "net_memif0,role=server," + m0, "--vdev", "net_memif1,role=server," + m1,
                "--", "-i", "--burst=%d" % self.burst, "--nb-cores=1", "--record-core-cycles"],
                "fwd.log", stdin=True)
            self.wait_for(self.path("m1.sock"))
            self.cmd(self.fwd, "set fwd io", "start")

    @staticmethod
    def cmd(p, *lines):
        p.stdin.write("".join(l + "\n" for l in lines))
        p.stdin.flush()

    def start_generator(self):
        m0 = "socket=%s,socket-abstract=no" % self.path("m0.sock")
        m1 = "socket=%s,socket-abstract=no" % self.path("m1.sock")
        self.gen = self.spawn([
            "dpdk-testpmd", "--lcores", "0@1,1@0", "--no-pci", "--in-memory",
            "--file-prefix", "lr-dp-bench-gen-%d" % os.getpid(),
            "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % self.path("udp64.pcap"),
            "--vdev", "net_memif0,role=client," + m0, "--vdev", "net_memif1,role=client," + m1,
            "--vdev", "net_null0,no-rx=1", "--", "-i", "--burst=64", "--nb-cores=1"],
            "gen.log", stdin=True)
        time.sleep(1.5)
        self.cmd(self.gen, "set fwd io retry", "start")

    def snap(self):
        return json.loads(self.node(SNAP_JS, self.stats))

    def measure(self):
        self.start_forwarder()
        self.start_generator()
        time.sleep(3)  # warm-up
        self.cmd(self.gen, "show port stats 2")
        if self.mode == "linerate":
            a = self.snap()
        else:
            self.cmd(self.fwd, "clear fwd stats all")
        c0 = (thread_ticks(self.fwd.pid), thread_ticks(self.gen.pid))
        t0 = time.time()
        for _ in range(int(self.window)):  # one sink rate sample a second
            time.sleep(1)
            self.cmd(self.gen, "show port stats 2")
        c1 = (thread_ticks(self.fwd.pid), thread_ticks(self.gen.pid))
        t1 = time.time()
        if self.mode == "linerate":
            b = self.snap()
        else:
            self.cmd(self.fwd, "stop")
        time.sleep(0.5)
        self.cmd(self.gen, "stop", "quit")
        self.gen.wait(30)
        if self.mode == "linerate":
            self.fwd.send_signal(signal.SIGTERM)
            self.fwd.wait(30)
            own = (b["rx"] - a["rx"]) / ((b["t"] - a["t"]) / 1e9) / 1e6
            cyc = (b["busy"] - a["busy"]) / max(1, b["rx"] - a["rx"])
            if b["drops"] > a["drops"]:
                print("  linerate-dp dropped %d frames in the window" % (b["drops"] - a["drops"]))
        else:
            self.cmd(self.fwd, "quit")
            self.fwd.wait(30)
            m = re.search(r"CPU cycles/packet=([\d.]+).*?packets=(\d+)",
                          open(self.path("fwd.log")).read())
            cyc = float(m.group(1))
            own = int(m.group(2)) / (t1 - t0) / 1e6
        pps = [int(x) / 1e6 for x in re.findall(r"Rx-pps:\s+(\d+)", open(self.path("gen.log")).read())]
        samples = pps[-int(self.window):]
        sink = statistics.mean(samples)
        spread = (max(samples) - min(samples)) / max(1e-9, statistics.median(samples))
        share = min((y - x) / HZ / (t1 - t0) for x, y in zip(c0, c1))
        return sink, own, cyc, share, spread

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.mode == "linerate":
            try:
                os.unlink(self.stats)
            except OSError:
                pass
        for f in ("m0.sock", "m1.sock", "ctl.sock"):
            try:
                os.unlink(self.path(f))
            except OSError:
                pass
        # testpmd leaves its (--in-memory) runtime directory behind
        for role in ("gen", "ref", "fwd"):
            shutil.rmtree("/var/run/dpdk/lr-dp-bench-%s-%d" % (role, os.getpid()), ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--burst", type=int, default=64)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--only", choices=["linerate", "testpmd"])
    ap.add_argument("--dp", help="linerate-dp binary to measure (default: this tree's)")
    ap.add_argument("--addon", help="addon matching --dp (default: this tree's)")
    o = ap.parse_args()
    global DP, ADDON
    DP = os.path.abspath(o.dp) if o.dp else DP
    ADDON = os.path.abspath(o.addon) if o.addon else ADDON
    modes = [o.only] if o.only else ["testpmd", "linerate"]
    tmp = tempfile.mkdtemp(prefix="lrd-bench-")
    res = {m: [] for m in modes}
    try:
        make_pcap(os.path.join(tmp, "udp64.pcap"))
        tries = 0
        while min(len(r) for r in res.values()) < o.runs and tries < 6 * o.runs:
            tries += 1
            for mode in modes:
                if len(res[mode]) >= o.runs:
                    continue
                wait_quiet()
                r = Run(tmp, mode, o.burst, o.window)
                try:
                    sink, own, cyc, share, spread = r.measure()
                finally:
                    r.cleanup()
                ok = share >= 0.97 and spread <= 0.15
                print("%-8s burst %d: sink %6.2f Mpps  forwarder %6.2f Mpps  %6.1f cycles/packet"
                      "  (cpu %.2f, spread %2.0f%%)%s" % (mode, o.burst, sink, own, cyc, share, 100 * spread,
                                                         "" if ok else "  disturbed: discarded"), flush=True)
                if ok:
                    res[mode].append((sink, own, cyc))
        for mode in modes:
            r = res[mode]
            if r:
                print("%-8s median of %d: sink %.2f Mpps, forwarder %.2f Mpps, %.1f cycles/packet" % (
                    mode, len(r), statistics.median(x[0] for x in r),
                    statistics.median(x[1] for x in r), statistics.median(x[2] for x in r)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
