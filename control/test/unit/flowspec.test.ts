/**
 * The readable flow syntax (model/flowspec.ts) and flow validation
 * (tables/flow.ts) without a dataplane: what the CLI and the config file
 * turn into FlowService messages, the field each bad rule is refused on,
 * config flows as initial desired state, and the model <-> addon
 * translation that reconcile compares.
 */
import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ConfigError, parseConfig } from '../../src/config/schema';
import { PortMap } from '../../src/dataplane/translate';
import { ApiError } from '../../src/errors';
import { flowSpec, matchText, parseAction, parseMatch } from '../../src/model/flowspec';
import { initialChanges } from '../../src/server';
import { type Flow, flowFromDp, flowText, parseFlow, toFlowEntry } from '../../src/tables/flow';
import { baseConfig } from './helpers';

const ports = new Set(['p0', 'p1']);

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `ApiError expected, got ${String(e)}`);
    return e;
  }
  assert.fail('accepted');
}

describe('flow syntax and validation', () => {
  it('reads the issue\'s example and the other clauses', () => {
    assert.deepEqual(parseMatch('ip src 10.0.0.0/8 and tcp dport 443', 'match'),
      { family: 'FAMILY_IPV4', src: '10.0.0.0/8', protocol: 'tcp', dstPort: { first: 443, last: 443 } });
    assert.deepEqual(parseMatch('ip6 dst 2001:db8::/32 udp sport 1000-2000', 'match'),
      { family: 'FAMILY_IPV6', dst: '2001:db8::/32', protocol: 'udp', srcPort: { first: 1000, last: 2000 } });
    assert.deepEqual(parseMatch('in-port p0 and dscp 46 and tcp flags syn/syn,ack', 'match'),
      { family: 'FAMILY_IPV4', inPort: 'p0', dscp: { value: 46, mask: 0 }, protocol: 'tcp', tcpFlags: { value: 2, mask: 18 } });
    assert.deepEqual(parseMatch('src 2001:db8::5', 'match'), { family: 'FAMILY_IPV6', src: '2001:db8::5/128' });
    assert.deepEqual(parseMatch('any', 'match'), { family: 'FAMILY_IPV4' });
    assert.deepEqual(parseAction('forward p1 via 10.0.0.1', 'action'), { kind: 'FORWARD', port: 'p1', via: '10.0.0.1' });
    assert.deepEqual(parseAction('forward:p1@10.0.0.1', 'action'), { kind: 'FORWARD', port: 'p1', via: '10.0.0.1' });
    assert.deepEqual(parseAction('drop', 'action'), { kind: 'DROP' });
    assert.match(refusal(() => parseMatch('ip src 10.0.0.0/8 and dst 2001:db8::1', 'match')).message, /^match: mixes IPv4 and IPv6/);
    assert.match(refusal(() => parseMatch('ip frm 1.2.3.4', 'match')).message, /^match: unknown word "frm" at position 2/);
    assert.match(refusal(() => parseAction('forward', 'action')).message, /^action: expected drop, continue or forward/);
  });

  it('validates like the dataplane, naming the field', () => {
    const f = (match: string, action = 'drop', extra: Partial<Parameters<typeof flowSpec>[0]> = {}) =>
      parseFlow(flowSpec({ id: 1, match, action, ...extra }), 'updates[0].flow', ports, false);
    const flow = f('ip src 10.0.0.0/8 and tcp dport 443', 'drop', { priority: 10 });
    assert.deepEqual(flow, { id: 1, table: 'wildcard', priority: 10, family: 4, src: '10.0.0.0/8', proto: 6, dport: [443, 443], action: 'drop' });
    const cases: [() => unknown, status, RegExp][] = [
      [() => f('udp dport 90-80'), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.match\.dst_port: range 90-80 is reversed/],
      [() => f('src 10.0.0.1/8'), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.match\.src: host bits set/],
      [() => f('in-port p9'), status.NOT_FOUND, /^updates\[0\]\.flow\.match\.in_port: unknown port "p9"/],
      [() => f('any', 'forward p7'), status.NOT_FOUND, /^updates\[0\]\.flow\.action\.port: unknown port "p7"/],
      [() => f('any', 'drop', { priority: 65536 }), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.priority: 65536 is out of range 0\.\.65535/],
      [() => f('dport 80'), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.match\.dst_port: ports need protocol tcp, udp or sctp/],
      [() => f('udp flags syn'), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.match\.tcp_flags: needs protocol tcp/],
      [() => f('src 10.0.0.0/8', 'drop', { exact: true }), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.match\.protocol: an exact flow names its protocol/],
      [() => f('src 10.0.0.0/8 dst 10.0.0.2 udp sport 1 dport 2', 'drop', { exact: true }), status.INVALID_ARGUMENT,
        /^updates\[0\]\.flow\.match\.src: an exact flow matches a whole address \(\/32\)/],
      [() => f('src 10.0.0.1 dst 10.0.0.2 udp sport 1-2 dport 2', 'drop', { exact: true }), status.INVALID_ARGUMENT,
        /^updates\[0\]\.flow\.match\.src_port: an exact flow matches one port/],
      [() => f('any', 'drop', { exact: true, priority: 3 }), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.priority: exact flows have no priority/],
      [() => f('any', 'drop', { setDscp: 64 }), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.action\.set_dscp\.dscp: must be 0\.\.63/],
      [() => f('ip6 any', 'forward p1 via 10.0.0.1'), status.INVALID_ARGUMENT, /^updates\[0\]\.flow\.action\.via: IPv4 gateway in an IPv6 flow/],
    ];
    for (const [fn, code, msg] of cases) {
      const e = refusal(fn);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, msg);
    }
    const vlan = refusal(() => parseFlow({ id: 1, table: 'FLOW_TABLE_WILDCARD', match: { family: 'FAMILY_IPV4', vlan: 10 }, action: { kind: 'DROP' } },
      'f', ports, false));
    assert.equal(vlan.code, status.UNIMPLEMENTED);
  });

  it('round-trips through the addon entry (what reconcile compares) and back to the syntax', () => {
    const map = new PortMap([{ portId: 0, name: 'p0' }, { portId: 1, name: 'p1' }] as never);
    const flows: Flow[] = [
      parseFlow(flowSpec({ id: 4, match: 'in-port p0 and ip6 src 2001:db8::/48 and udp dport 53', action: 'forward p1 via 2001:db8::9',
        priority: 9, mirror: 'p1', setDscp: 10 }), 'f', ports, false),
      parseFlow(flowSpec({ id: 5, match: 'src 10.0.0.1 dst 10.0.0.2 tcp sport 1 dport 2', action: 'drop', exact: true }), 'f', ports, false),
      parseFlow(flowSpec({ id: 6, match: 'tcp flags syn/syn,ack and dscp 8/56', action: 'continue' }), 'f', ports, false),
      parseFlow(flowSpec({ id: 7, match: 'udp', action: 'continue', meter: 'cir=1.25m,cbs=10k,pir=2.5m,pbs=20k,mark=10/14' }), 'f', ports, false),
      parseFlow(flowSpec({ id: 8, match: 'udp', action: 'continue', meter: 'cir=1000,cbs=1500,pir=1000,pbs=1500' }), 'f', ports, false),
    ];
    assert.deepEqual(flows[3].meter, { cir: 1250000, cbs: 10000, pir: 2500000, pbs: 20000, mode: 'mark', yellowDscp: 10, redDscp: 14 });
    assert.deepEqual(flows[4].meter, { cir: 1000, cbs: 1500, pir: 1000, pbs: 1500, mode: 'drop-red' });
    const m = (meter: string) => refusal(() => parseFlow(flowSpec({ id: 1, match: 'any', action: 'drop', meter }), 'u', ports, false)).message;
    assert.match(m('cir=10,cbs=10,pir=5,pbs=10'), /^u\.action\.meter\.pir: 5 is below cir 10/);
    assert.match(m('cir=10,pir=20,pbs=10'), /^u\.action\.meter\.cbs: must be an integer >= 1/);
    assert.match(m('cir=10,cbs=1,pir=20,pbs=10,mark=70/1'), /^u\.action\.meter\.yellow_dscp: must be 0\.\.63/);
    for (const f of flows) {
      const e = toFlowEntry(f, 'add', map);
      // what the dataplane dumps: every range and prefix spelled out
      const dumped = { ...e, meter: e.meter && { yellowDscp: 0, redDscp: 0, ...e.meter }, src: e.src ?? (f.family === 4 ? '0.0.0.0/0' : '::/0'), dst: e.dst ?? (f.family === 4 ? '0.0.0.0/0' : '::/0'),
        sportLo: e.sportLo ?? 0, sportHi: e.sportHi ?? 65535, dportLo: e.dportLo ?? 0, dportHi: e.dportHi ?? 65535,
        dscp: e.dscp ?? 0, dscpMask: e.dscpMask ?? 0, tcpFlags: e.tcpFlags ?? 0, tcpFlagsMask: e.tcpFlagsMask ?? 0, packets: 3n, bytes: 300n };
      assert.equal(flowText(flowFromDp(dumped, map)), flowText(f), `flow ${f.id}`);
    }
    assert.equal(matchText({ family: 'FAMILY_IPV4', inPort: '', src: '10.0.0.0/8', dst: '', protocol: 'tcp', srcPort: null,
      dstPort: { first: 443, last: 443 }, dscp: null, tcpFlags: null, vlan: 0 }), 'ip src 10.0.0.0/8 and tcp and dport 443');
  });

  it('takes initial flows from the config, naming a bad one', () => {
    const c = parseConfig(baseConfig({ flows: [
      { id: 1, priority: 10, match: 'ip src 10.0.0.0/8 and tcp dport 443', action: 'drop' },
      { id: 2, match: 'src 10.0.1.5 dst 10.0.2.5 udp sport 5 dport 6', action: 'forward p1', exact: true },
    ] }));
    const flows = initialChanges(c).filter((x) => x.kind === 'flow').map((x) => (x.entry as Flow).id);
    assert.deepEqual(flows, [1, 2]);
    assert.throws(() => parseConfig(baseConfig({ flows: [{ id: 1, match: 'udp dport 9-1', action: 'drop' }] })),
      (e: unknown) => e instanceof ConfigError && /flows\[0\]: flow\.match\.dst_port: range 9-1 is reversed/.test(e.message));
    assert.throws(() => parseConfig(baseConfig({ flows: [{ id: 1, match: 'any', action: 'drop' }, { id: 1, match: 'any', action: 'drop' }] })),
      (e: unknown) => e instanceof ConfigError && /flows\[1\]\.id: duplicate flow id 1/.test(e.message));
  });
});
