/**
 * `linerate capture` against the real linerate-dp on af_packet vdevs, run
 * by the real `linerate serve`, with real frames from scapy: the pcapng it
 * writes opens in tshark and holds exactly the frames the tcpdump filter
 * selects, byte for byte as sent; a drop capture holds the malformed
 * frames a drop reason discarded; bad requests name their field; and a
 * capture of everything at a low rate cap changes nothing the forwarder
 * counts (no drop, every frame forwarded); a capture orphaned by a killed
 * serve does not block the next one.
 *
 *   w0.host (tests) ── veth ── p0 ┐
 *                                 linerate-dp
 *   w1.host (tests) ── veth ── p1 ┘
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import type * as api from '../../src/gen';
import { CLI, PYTHON, sleep, tempDir, waitFor } from '../helpers/env';
import { dumpOnFailure, requireIntegration, startRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import * as pkt from '../helpers/pkt';
import type { PacketSpec } from '../helpers/pkt';

const P0_V4 = '10.8.0.1';
const P1_V4 = '10.8.1.1';
const HOST0_V4 = '10.8.0.2';
const GW1_V4 = '10.8.1.2';
const GW1_MAC = '02:00:5e:00:08:11';

interface Proc { done: Promise<{ code: number | null; stdout: Buffer; stderr: string }>; pid: number }

/** Runs a program; collects stdout as bytes. */
function start(file: string, args: string[], input?: Buffer): Proc {
  // No input: stdin is /dev/null. A pipe to a program that exits without
  // reading it (capinfos) raced into EPIPE on the empty write.
  const child = spawn(file, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  if (input) {
    // A reader that exits early is judged by its exit code, not by EPIPE.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  }
  const done = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })));
  return { done, pid: child.pid ?? 0 };
}

async function runOk(file: string, args: string[], input?: Buffer): Promise<Buffer> {
  const r = await start(file, args, input).done;
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The frames of a pcapng (file or bytes on stdin) as hex, read by scapy. */
async function framesOf(file: string | Buffer): Promise<string[]> {
  const code = 'import sys,json\nfrom scapy.utils import rdpcap\nimport io\n' +
    'src = sys.argv[1]\nd = open(src,"rb").read() if src != "-" else sys.stdin.buffer.read()\n' +
    'print(json.dumps([bytes(p).hex() for p in rdpcap(io.BytesIO(d))]))';
  const out = await runOk(PYTHON, ['-c', code, typeof file === 'string' ? file : '-'], typeof file === 'string' ? undefined : file);
  return JSON.parse(out.toString()) as string[];
}

describe('integration: packet capture to pcapng', function () {
  this.timeout(120000);
  let rig: Rig | undefined;
  let p0Mac = '';
  let dir = '';
  const client = () => rig!.client();
  const cli = (...args: string[]): Proc => start(process.execPath, [CLI, '--addr', `127.0.0.1:${rig!.serve.grpcPort}`, ...args]);
  const base = (): PacketSpec => ({ kind: 'udp4', src_mac: rig!.wires[0].hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.7', ttl: 64 });
  const send = (packets: PacketSpec[], expect?: number) =>
    pkt.exchange({ send: rig!.wires[0].host, sniff: [rig!.wires[1].host], packets, expect, timeout: 2 });
  /** Waits until the CLI wrote the pcapng header: the capture is armed. */
  const armed = (file: string) => waitFor(`capture header in ${file}`, () => fs.existsSync(file) && fs.statSync(file).size > 0, 15000, 50);

  before(async function () {
    requireIntegration(this);
    rig = await startRig('cap', 2, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: [`${P0_V4}/24`] },
        { name: 'p1', device: wires[1].device(1), addresses: [`${P1_V4}/24`] },
      ],
      routes: [{ prefix: '198.51.100.0/24', via: GW1_V4, port: 'p1' }],
      neighbors: [{ address: GW1_V4, mac: GW1_MAC, port: 'p1' }],
    }));
    p0Mac = (await client().port.listPorts({})).ports.find((p) => p.name === 'p0')!.mac;
    dir = tempDir('cap');
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  it('writes exactly the filtered frames, byte-identical, in a pcapng tshark opens', async () => {
    const file = path.join(dir, 'udp7777.pcapng');
    const want = 6;
    const c = cli('capture', 'p0', '--direction', 'rx', '--filter', 'udp dst port 7777', '--count', String(want), '-w', file);
    await armed(file);
    const specs: PacketSpec[] = [];
    for (let i = 0; i < want; i++) {
      specs.push({ ...base(), dport: 7777, sport: 2000 + i, payload_len: 20 + i * 50, tag: `match-${i}` });
      specs.push({ ...base(), dport: 8888, sport: 3000 + i, tag: `other-${i}` });
    }
    const r = await send(specs, specs.length);
    const res = await c.done;
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`^${want} frame\\(s\\) written; ${want} matched, 0 lost to a full ring, 0 over the rate cap`));
    const sent = r.sent.filter((s) => s.decoded.tag?.startsWith('match-')).map((s) => s.hex);
    assert.equal(sent.length, want);
    assert.deepEqual(await framesOf(file), sent, 'the frames as sent, in order, nothing else');
    // tshark reads it: pcapng, Ethernet, the UDP ports.
    const t = (await runOk('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.encap_type', '-e', 'udp.dstport', '-e', 'frame.len'])).toString();
    const rows = t.trim().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, want);
    rows.forEach((row, i) => {
      assert.equal(row[1], '7777');
      assert.equal(Number(row[2]), sent[i].length / 2);
    });
    const info = (await runOk('capinfos', ['-t', file])).toString();
    assert.match(info, /pcapng/i);
    assert.equal(fs.readdirSync(rig!.serve.runDir).filter((f) => f.startsWith('capture-')).length, 0, 'serve removed its file');
  });

  it('captures the frames a drop reason discarded, piped into tshark (-w - | tshark -r -)', async () => {
    const file = path.join(dir, 'drops.pcapng');
    // The pipeline an operator types; tee keeps the bytes to compare.
    const c = start('/bin/sh', ['-c', `"$0" "$1" --addr "$2" capture p0 --drops bad_checksum --count 2 -w - | tee "$3" | ` +
      'tshark -r - -T fields -e ip.checksum 2>/dev/null', process.execPath, CLI, `127.0.0.1:${rig!.serve.grpcPort}`, file]);
    await armed(file);
    const specs: PacketSpec[] = [
      { ...base(), tag: 'good-0' },
      { ...base(), chksum: 0x1234, tag: 'bad-0' },
      { ...base(), tag: 'good-1' },
      { ...base(), chksum: 0x4321, ttl: 9, tag: 'bad-1' },
    ];
    const r = await send(specs, 2);
    const res = await c.done;
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.stdout.toString().trim().split('\n'), ['0x1234', '0x4321'], 'tshark read the stream');
    const bad = r.sent.filter((s) => s.decoded.tag?.startsWith('bad-')).map((s) => s.hex);
    assert.deepEqual(await framesOf(file), bad, 'the malformed frames themselves');
    assert.match(res.stderr, /^2 frame\(s\) written; 2 matched/);
  });

  it('refuses bad requests naming the field, and a second capture while one runs', async () => {
    const fail = (req: api.CaptureRequest): Promise<{ code?: number; details?: string }> => new Promise((resolve) => {
      const s = client().capture.capture(req);
      s.on('error', resolve);
      s.on('data', () => s.cancel());
      s.on('end', () => resolve({}));
    });
    const is = async (req: api.CaptureRequest, code: status, msg: RegExp) => {
      const e = await fail(req);
      assert.equal(e.code, code, `${JSON.stringify(req)}: ${e.details}`);
      assert.match(e.details ?? '', msg);
    };
    await is({ port: 'p0', filter: 'udp and and' }, status.INVALID_ARGUMENT, /^filter: .*syntax error/);
    await is({ port: 'p9' }, status.NOT_FOUND, /^port: unknown port "p9"/);
    await is({ port: '' }, status.INVALID_ARGUMENT, /^port: required/);
    await is({ port: 'p0', dropReason: 'nonsense' }, status.INVALID_ARGUMENT, /^drop_reason: unknown reason "nonsense"/);
    await is({ port: 'p0', dropReason: 'no_route', direction: 'CAPTURE_DIRECTION_RX' }, status.INVALID_ARGUMENT, /^direction: a drop capture/);
    await is({ port: 'p0', queue: 5 }, status.INVALID_ARGUMENT, /^queue: port p0 has 1 queue/);
    await is({ port: 'p0', snaplen: 70000 }, status.INVALID_ARGUMENT, /^snaplen: at most 65535/);
    await is({ port: 'p0', rate: 2_000_000 }, status.INVALID_ARGUMENT, /^rate: at most/);
    await is({ port: 'p0', filter: 'x'.repeat(256) }, status.INVALID_ARGUMENT, /^filter: at most 255 bytes/);
    // One at a time: the second is refused while the first runs, and the first still works.
    const file = path.join(dir, 'first.pcapng');
    const first = cli('capture', 'p0', '--count', '1', '-w', file);
    await armed(file);
    await is({ port: 'p1' }, status.FAILED_PRECONDITION, /capture \d+ is running/);
    await send([{ ...base(), tag: 'one' }], 1);
    assert.equal((await first.done).code, 0);
    assert.equal((await framesOf(file)).length, 1);
  });

  it('under load, capturing (rate-capped) changes nothing the forwarder counts', async () => {
    const before = await client().stats.getStats({});
    const p0 = before.ports.find((p) => p.name === 'p0')!;
    const file = path.join(dir, 'load.pcapng');
    const c = cli('capture', 'p0', '--rate', '50', '-w', file);
    await armed(file);
    const n = 800;
    const specs = Array.from({ length: n }, (_, i): PacketSpec => ({ ...base(), sport: 10000 + (i % 5000), tag: `load-${i}` }));
    const r = await pkt.exchange({ send: rig!.wires[0].host, sniff: [rig!.wires[1].host], packets: specs, expect: n, timeout: 3, gapMs: 0 });
    await sleep(300);
    process.kill(c.pid, 'SIGINT');
    const res = await c.done;
    assert.equal(res.code, 0, res.stderr);
    const m = /^(\d+) frame\(s\) written; (\d+) matched, (\d+) lost to a full ring, (\d+) over the rate cap/.exec(res.stderr);
    assert.ok(m, res.stderr);
    const [written, matched, , limited] = m.slice(1).map(Number);
    assert.ok(limited > 0, `the cap held frames back: ${res.stderr}`);
    assert.ok(written <= matched && matched <= 50 * 8, `at most the cap: ${res.stderr}`);
    // Ctrl-C cancels the stream: the counters printed are the last ones sent (at most ~100 ms old).
    const inFile = (await framesOf(file)).length;
    assert.ok(inFile >= written && inFile <= matched, `${inFile} frames in the file, counters: ${res.stderr}`);
    const after = await client().stats.getStats({});
    const q = after.ports.find((p) => p.name === 'p0')!;
    assert.equal(Number(q.forwarded) - Number(p0.forwarded), n, 'every frame forwarded');
    assert.equal(Number(q.dropped), Number(p0.dropped), 'no drop');
    assert.equal(r.captured.filter((f) => f.decoded.tag?.startsWith('load-')).length, n, 'every frame came out of p1');
  });

  it('a capture orphaned by a killed serve is stopped by the next serve\'s first capture', async () => {
    const orphan = path.join(dir, 'orphan.pcapng');
    const c = cli('capture', 'p0', '-w', orphan);
    await armed(orphan);
    await rig!.serve.kill9();
    const dead = await c.done;
    assert.notEqual(dead.code, 0, 'the client saw its serve go');
    assert.equal(fs.readdirSync(rig!.serve.runDir).filter((f) => f.startsWith('capture-')).length, 1, 'the dataplane still writes it');
    await rig!.serve.start();
    const file = path.join(dir, 'after.pcapng');
    const next = cli('capture', 'p0', '--count', '1', '-w', file);
    await armed(file);
    await send([{ ...base(), tag: 'after' }], 1);
    const res = await next.done;
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await framesOf(file)).length, 1);
    assert.equal(fs.readdirSync(rig!.serve.runDir).filter((f) => f.startsWith('capture-')).length, 0, 'the orphan\'s file removed');
    assert.match(rig!.serve.output, /stopped a capture no client streams any more/);
  });

  describe('cleanup', () => {
    it('leaves no process, interface, socket, stats or hugepage file behind', () => {
      const r = rig;
      rig = undefined;
      stopRigAndCheckClean(r!);
    });
  });
});
