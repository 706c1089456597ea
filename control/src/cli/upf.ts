/**
 * The CLI's UPF commands (SessionService, UpfService):
 *   linerate session add|mod FILE   sessions as JSON (proto field names, camelCase or
 *                                   snake_case; one object or a list; '-' = stdin)
 *   linerate session del SEID...
 *   linerate session show SEID      the session with its URR counters
 *   linerate session list
 *   linerate upf config [--n3 ADDR] [--access P,...] [--core P,...]
 *   linerate upf stats
 * Registered by main.ts; each command is a gRPC client of serve.
 */
import * as fs from 'node:fs';
import { status } from '@grpc/grpc-js';
import type { Command } from 'commander';
import type { LinerateClient } from '../client';
import type * as api from '../gen';

type WithClient = (fn: (c: LinerateClient) => Promise<void>) => Promise<void>;

const snakeToCamel = (k: string): string => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Keys in snake_case become camelCase, recursively (map values keep their keys). */
function camel(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camel);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [snakeToCamel(k), camel(x)]));
  return v;
}

function readSessions(file: string): api.Session[] {
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  const v = camel(JSON.parse(text)) as api.Session | api.Session[];
  return Array.isArray(v) ? v : [v];
}

function pdrLine(p: api.Pdr__Output): string {
  const key = p.sourceInterface === 'INTERFACE_ACCESS'
    ? `teid ${p.localFTeid?.teid} @ ${p.localFTeid?.address}${p.qfi !== undefined ? ` qfi ${p.qfi}` : ''}` : `ue ${p.ueAddress}`;
  return `  pdr ${p.id} prec ${p.precedence} ${p.sourceInterface.replace('INTERFACE_', '').toLowerCase()} ${key} -> far ${p.farId}` +
    `${p.qerIds.length ? ` qer ${p.qerIds.join(',')}` : ''}${p.urrIds.length ? ` urr ${p.urrIds.join(',')}` : ''}`;
}

export function sessionText(s: api.Session__Output): string {
  const lines = [`session ${s.seid}`, ...s.pdrs.map(pdrLine)];
  for (const f of s.fars) {
    const o = f.outerHeaderCreation;
    lines.push(`  far ${f.id} ${f.action.replace('FAR_ACTION_', '').toLowerCase()}` +
      `${f.action === 'FAR_ACTION_FORWARD' ? ` to ${f.destinationInterface.replace('INTERFACE_', '').toLowerCase()}` : ''}` +
      `${o ? ` gtpu teid ${o.peer?.teid} @ ${o.peer?.address} qfi ${o.qfi}` : ''}`);
  }
  for (const q of s.qers) {
    lines.push(`  qer ${q.id} gate ul ${q.gateUl.replace('GATE_', '').toLowerCase()} dl ${q.gateDl.replace('GATE_', '').toLowerCase()}` +
      ` mbr ul ${q.mbrUl} dl ${q.mbrDl} bit/s`);
  }
  for (const u of s.urrs) lines.push(`  urr ${u.id} ul ${u.ulPackets} pkts ${u.ulBytes} bytes, dl ${u.dlPackets} pkts ${u.dlBytes} bytes`);
  return lines.join('\n');
}

export function registerUpfCommands(program: Command, withClient: WithClient): void {
  const session = program.command('session').description('UPF sessions (PDR, FAR, QER, URR)');
  const write = (op: api.SessionOp, file: string): Promise<void> => withClient(async (c) => {
    const sessions = readSessions(file);
    const r = await c.session.write({ updates: sessions.map((s) => ({ op, session: s })) });
    r.statuses.forEach((s) => {
      if (s.code) process.stderr.write(`session ${s.seid}: ${status[s.code] ?? s.code}: ${s.message}\n`);
    });
    process.stdout.write(`applied ${r.applied} of ${sessions.length}\n`);
    if (r.statuses.some((s) => s.code)) process.exitCode = 1;
  });
  session.command('add <file>').description("create sessions from a JSON file ('-' = stdin)")
    .action((file: string) => write('SESSION_OP_CREATE', file));
  session.command('mod <file>').description('replace the rules of existing sessions')
    .action((file: string) => write('SESSION_OP_MODIFY', file));
  session.command('del <seid...>').description('delete sessions')
    .action((seids: string[]) => withClient(async (c) => {
      const r = await c.session.write({ updates: seids.map((seid) => ({ op: 'SESSION_OP_DELETE', session: { seid } })) });
      r.statuses.forEach((s) => { if (s.code) process.stderr.write(`session ${s.seid}: ${status[s.code] ?? s.code}: ${s.message}\n`); });
      process.stdout.write(`deleted ${r.applied}\n`);
      if (r.statuses.some((s) => s.code)) process.exitCode = 1;
    }));
  session.command('show <seid>').description('one session with its URR counters').option('--json', 'JSON output')
    .action((seid: string, o: { json?: boolean }) => withClient(async (c) => {
      const s = await c.session.read({ seid });
      process.stdout.write((o.json ? JSON.stringify(s, null, 2) : sessionText(s)) + '\n');
    }));
  session.command('list').description('every session with its counters').option('--json', 'one JSON object per line')
    .action((o: { json?: boolean }) => withClient(async (c) => {
      const all = await c.session.listAll({});
      if (all.length) process.stdout.write(all.map((s) => (o.json ? JSON.stringify(s) : sessionText(s))).join('\n') + '\n');
    }));

  const upf = program.command('upf').description('the UPF: N3 address, port roles, counters');
  upf.command('config').description('show, or set, the N3 address and the ports facing ACCESS (N3) and CORE (N6)')
    .option('--n3 <address>', 'the N3 IPv4 address (GTP-U is taken to it)')
    .option('--access <ports>', 'comma-separated ports facing the gNBs')
    .option('--core <ports>', 'comma-separated ports facing the data network')
    .option('--json', 'JSON output')
    .action((o: { n3?: string; access?: string; core?: string; json?: boolean }) => withClient(async (c) => {
      let cfg = await c.upf.getConfig({});
      if (o.n3 !== undefined || o.access !== undefined || o.core !== undefined) {
        const ports: Record<string, api.Interface> = { ...cfg.ports };
        for (const p of (o.access ?? '').split(',').filter(Boolean)) ports[p] = 'INTERFACE_ACCESS';
        for (const p of (o.core ?? '').split(',').filter(Boolean)) ports[p] = 'INTERFACE_CORE';
        cfg = await c.upf.setConfig({ n3Address: o.n3 ?? cfg.n3Address, ports });
      }
      if (o.json) return void process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
      const roles = Object.entries(cfg.ports).map(([p, i]) => `${p}=${i.replace('INTERFACE_', '').toLowerCase()}`).join(' ');
      process.stdout.write(`n3 ${cfg.n3Address || '-'}  ports ${roles || '-'}\n`);
    }));
  upf.command('stats').description('sessions, UPF counters and the gtpu_* / upf_* drops').option('--json', 'JSON output')
    .action((o: { json?: boolean }) => withClient(async (c) => {
      const s = await c.upf.getStats({});
      if (o.json) return void process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      const lines = [`sessions ${s.sessions}/${s.sessionsMax}  f-teids ${s.ulKeys}  ue ips ${s.dlKeys}  memory ${(Number(s.bytes) / 1e6).toFixed(1)} MB`];
      for (const [k, v] of Object.entries(s.counters)) lines.push(`  ${k.padEnd(22)} ${v}`);
      for (const [k, v] of Object.entries(s.drops)) lines.push(`  drop ${k.padEnd(17)} ${v}`);
      process.stdout.write(lines.join('\n') + '\n');
    }));
}
