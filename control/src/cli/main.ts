#!/usr/bin/env node
/**
 * linerate CLI. `serve` runs the control plane; every other command is a
 * gRPC client of it (--addr, default 127.0.0.1:50051, or unix:/path; TLS
 * and token options as the config's grpc section). A failed call prints
 * the gRPC status name and message and exits non-zero.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import type * as api from '../gen';
import { DEFAULT_ADDR, type LinerateClient, createClient, describeError } from '../client';
import { type Config, ConfigError, loadConfigFile } from '../config/schema';
import { createLab, destroyLab } from '../lab/lab';
import { createLogger } from '../log';
import { demoConfigPath } from '../paths';
import { startServer } from '../server';
import { flowSpec, matchText } from '../model/flowspec';
import { neighborsTable, portsTable, routeLine, statsScreen } from './format';
import { registerUpfCommands } from './upf';

const program = new Command();
program
  .name('linerate')
  .description('DPDK poll-mode forwarder: control plane and CLI')
  .addOption(new Option('--addr <host:port>', 'gRPC address of linerate serve (or unix:/path)').env('LINERATE_ADDR').default(DEFAULT_ADDR))
  .addOption(new Option('--tls-ca <file>', 'use TLS; the server certificate must chain to this CA (PEM)').env('LINERATE_TLS_CA'))
  .addOption(new Option('--tls-cert <file>', 'client certificate for mutual TLS (PEM; with --tls-key)').env('LINERATE_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'private key of --tls-cert (PEM)').env('LINERATE_TLS_KEY'))
  .addOption(new Option('--tls-server-name <name>', 'name the server certificate must carry (default: the --addr host)'))
  .addOption(new Option('--token-file <file>', 'bearer token for grpc.token (file content, trimmed)').env('LINERATE_TOKEN_FILE'));

interface GlobalOpts { addr: string; tlsCa?: string; tlsCert?: string; tlsKey?: string; tlsServerName?: string; tokenFile?: string }

/** Runs `fn` with a client; reports errors as "STATUS: message" and sets the exit code. */
async function withClient(fn: (c: LinerateClient) => Promise<void>): Promise<void> {
  const { addr, ...o } = program.opts<GlobalOpts>();
  let c: LinerateClient;
  try {
    c = createClient(addr, o);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    await fn(c);
  } catch (e) {
    process.stderr.write(`${describeError(e)}\n`);
    process.exitCode = 1;
  } finally {
    c.close();
  }
}

const json = (x: unknown): void => { process.stdout.write(JSON.stringify(x, null, 2) + '\n'); };
const familyOpt = (f?: string): api.Family => (f === '4' ? 4 : f === '6' ? 6 : 0);

// ---------------------------------------------------------------- serve
program
  .command('serve')
  .description('run the control plane: gRPC API, attach to (or start) the dataplane, reconcile')
  .option('--config <file>', 'YAML configuration')
  .option('--demo', 'self-contained demo: two namespaces joined by the forwarder (no NIC needed)')
  .option('--listen <host:port>', 'gRPC listen address, or unix:/path (overrides the config)')
  .option('--insecure', 'allow plaintext gRPC on a non-loopback address (as grpc.insecure: true; warned about)')
  .option('--state-dir <dir>', 'desired state directory (overrides the config)')
  .option('--run-dir <dir>', 'control socket and dataplane log directory (overrides the config)')
  .option('--stop-dataplane', 'on exit also stop the dataplane (and remove the lab)')
  .option('--no-spawn', 'never start linerate-dp; wait for one to answer on the control socket')
  .option('--metrics-listen <host:port>', 'Prometheus /metrics address ("" = off, port 0 = any free port; overrides the config)')
  .action(async (o: { config?: string; demo?: boolean; listen?: string; insecure?: boolean; stateDir?: string; runDir?: string;
    stopDataplane?: boolean; spawn: boolean; metricsListen?: string }) => {
    const log = createLogger();
    let config: Config;
    try {
      if (o.demo && o.config) throw new Error('--demo and --config are exclusive');
      if (!o.demo && !o.config) throw new Error('serve needs --config FILE or --demo');
      config = loadConfigFile(o.demo ? demoConfigPath : o.config!);
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(2);
    }
    const demoDir = path.join(os.tmpdir(), 'linerate-demo');
    const stopAll = !!(o.demo || o.stopDataplane);
    const lab = config.lab;
    const server = await startServer({
      beforeAttach: lab ? async () => {
        try {
          await createLab(lab, log);
        } catch (e) {
          if (stopAll) await destroyLab(lab, log); // ours to remove: do not leave half a lab
          throw e;
        }
      } : undefined,
      config,
      log,
      listen: o.listen,
      metricsListen: o.metricsListen,
      insecure: o.insecure,
      reloadOnSighup: true, // certificates and token file
      stateDir: o.stateDir ?? (o.demo ? path.join(demoDir, 'state') : undefined),
      runDir: o.runDir ?? (o.demo ? path.join(demoDir, 'run') : undefined),
      spawn: o.spawn === false ? false : undefined,
    }).catch((e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(e instanceof ConfigError ? 2 : 1);
    });

    let exiting = false;
    const shutdown = (sig: string): void => {
      if (exiting) {
        log.warn('second signal: exiting now');
        process.exit(1);
      }
      exiting = true;
      log.info({ signal: sig, stopDataplane: stopAll }, 'shutting down');
      void (async () => {
        await server.stop({ stopDataplane: stopAll });
        if (stopAll && config.lab) await destroyLab(config.lab, log);
        process.exit(0);
      })();
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));

    server.waitAttached(120000).then(
      () => {
        if (!o.demo) return;
        const cli = `node ${path.relative(process.cwd(), path.join(__dirname, 'main.js')) || 'dist/control/src/cli/main.js'}`;
        const addr = server.address === DEFAULT_ADDR ? '' : ` --addr ${server.address}`;
        process.stdout.write([
          '',
          'linerate demo is up: lr-demo-a (10.0.1.2, 2001:db8:1::2) <-> p0 [forwarder] p1 <-> lr-demo-b (10.0.2.2, 2001:db8:2::2)',
          '',
          '  try it:      ip netns exec lr-demo-a ping 10.0.2.2',
          '               ip netns exec lr-demo-a ping -6 2001:db8:2::2',
          `  watch Mpps:  npx linerate${addr} stats --watch      (or: ${cli}${addr} stats --watch)`,
          `  inspect:     npx linerate${addr} port list | route list | neigh list`,
          '',
          '  Ctrl-C stops the demo (dataplane and namespaces included).',
          '',
        ].join('\n'));
      },
      (e: Error) => log.error({ err: e.message }, 'still no dataplane; retrying in the background'),
    );
  });

// ---------------------------------------------------------------- port
const port = program.command('port').description('ports of the dataplane');
port.command('list').description('list ports with addresses and counters').option('--json', 'JSON output')
  .action((o: { json?: boolean }) => withClient(async (c) => {
    const { ports } = await c.port.listPorts({});
    if (o.json) json(ports);
    else process.stdout.write(portsTable(ports) + '\n');
  }));
port.command('show <name>').description('one port').action((name: string) => withClient(async (c) => json(await c.port.getPort({ name }))));

// ---------------------------------------------------------------- addr
const addr = program.command('addr').description('port addresses');
addr.command('add <cidr...>').description('add addresses (CIDR) to a port').requiredOption('--port <name>', 'port name')
  .action((cidrs: string[], o: { port: string }) => withClient(async (c) => {
    const r = await c.port.addAddresses({ port: o.port, addresses: cidrs.map((cidr) => ({ cidr })) });
    process.stdout.write(`${o.port}: ${r.addresses.map((a) => a.cidr).join(' ')}\n`);
  }));
addr.command('del <cidr...>').description('remove addresses (CIDR) from a port').requiredOption('--port <name>', 'port name')
  .action((cidrs: string[], o: { port: string }) => withClient(async (c) => {
    const r = await c.port.deleteAddresses({ port: o.port, addresses: cidrs.map((cidr) => ({ cidr })) });
    process.stdout.write(`${o.port}: ${r.addresses.map((a) => a.cidr).join(' ') || '(no address)'}\n`);
  }));

// ---------------------------------------------------------------- route
const route = program.command('route').description('routing table');
route.command('add <prefix>').description('insert a route').requiredOption('--port <name>', 'output port')
  .option('--via <ip>', 'gateway (default: on-link)')
  .option('--modify', 'replace the next hops of an existing route instead')
  .action((prefix: string, o: { port: string; via?: string; modify?: boolean }) => withClient(async (c) => {
    const r: api.Route = { prefix, nextHops: [{ port: o.port, via: o.via ?? '' }] };
    await c.route.write({ updates: [{ type: o.modify ? 'MODIFY' : 'INSERT', route: r }] });
  }));
route.command('del <prefix...>').description('delete routes').action((prefixes: string[]) => withClient(async (c) => {
  await c.route.deleteRoutes({ prefixes });
}));
route.command('get <prefix>').description('one route').action((prefix: string) => withClient(async (c) => {
  process.stdout.write(routeLine(await c.route.getRoute({ prefix })) + '\n');
}));
route.command('list').description('stream the routing table')
  .addOption(new Option('--family <n>', 'IP version').choices(['4', '6']))
  .option('--no-connected', 'leave out connected routes')
  .option('--json', 'one JSON object per line')
  .action((o: { family?: string; connected: boolean; json?: boolean }) => withClient(async (c) => {
    for await (const page of c.route.listRoutes({ family: familyOpt(o.family), excludeConnected: !o.connected, pageSize: 4096 })) {
      const lines = page.routes.map((r) => (o.json ? JSON.stringify(r) : routeLine(r)));
      if (!process.stdout.write(lines.join('\n') + '\n')) await new Promise((r) => process.stdout.once('drain', r));
    }
  }));

// ---------------------------------------------------------------- neigh
const neigh = program.command('neigh').description('neighbor table (ARP / ND)');
neigh.command('add <ip> <mac>').description('add a static neighbor').requiredOption('--port <name>', 'port')
  .action((address: string, mac: string, o: { port: string }) => withClient(async (c) => {
    await c.neighbor.addNeighbors({ neighbors: [{ port: o.port, address, mac }] });
  }));
neigh.command('del <ip>').description('delete a static neighbor').requiredOption('--port <name>', 'port')
  .action((address: string, o: { port: string }) => withClient(async (c) => {
    await c.neighbor.deleteNeighbors({ neighbors: [{ port: o.port, address, mac: '' }] });
  }));
neigh.command('list').description('static, learned and incomplete entries')
  .addOption(new Option('--family <n>', 'IP version').choices(['4', '6']))
  .option('--port <name>', 'only this port')
  .option('--json', 'JSON output')
  .action((o: { family?: string; port?: string; json?: boolean }) => withClient(async (c) => {
    const { neighbors } = await c.neighbor.listNeighbors({ family: familyOpt(o.family), port: o.port ?? '' });
    if (o.json) json(neighbors);
    else process.stdout.write(neighborsTable(neighbors) + '\n');
  }));

// ---------------------------------------------------------------- flow
const flow = program.command('flow').description('flow tables: wildcard rules and exact-match flows');
const intOpt = (name: string, max: number) => (v: string): number => {
  if (!/^\d+$/.test(v) || Number(v) > max) throw new Error(`${name} must be an integer 0..${max}`);
  return Number(v);
};
flow.command('add <match...>')
  .description("insert a flow, e.g. flow add --id 7 --priority 10 'ip src 10.0.0.0/8 and tcp dport 443' --action drop")
  .option('--id <n>', 'rule id (default: one above the highest in use)', intOpt('--id', 0xffffffff))
  .option('--priority <n>', 'wildcard priority 0..65535, higher wins (ties: lower id)', intOpt('--priority', 65535))
  .option('--exact', 'exact-match (5-tuple) table')
  .option('--action <action>', "drop | continue | 'forward PORT [via IP]'", 'continue')
  .option('--mirror <port>', 'send a copy of every matching frame out of this port')
  .option('--set-dscp <n>', 'rewrite the DSCP', intOpt('--set-dscp', 63))
  .option('--meter <spec>', 'trTCM: cir=RATE,cbs=BYTES,pir=RATE,pbs=BYTES[,mark=YELLOW/RED] (bytes/s; k m g); red dropped unless mark=')
  .option('--modify', 'replace an existing flow of this id instead')
  .action((words: string[], o: { id?: number; priority?: number; exact?: boolean; action: string; mirror?: string; setDscp?: number;
    meter?: string; modify?: boolean }) => withClient(async (c) => {
    let id = o.id;
    if (id === undefined) {
      const all = await c.flow.readAll({});
      id = all.reduce((m, f) => Math.max(m, Number(f.id) + 1), 1);
    }
    const f = flowSpec({ id, match: words.join(' '), action: o.action, priority: o.priority, exact: o.exact, mirror: o.mirror,
      setDscp: o.setDscp, meter: o.meter });
    await c.flow.write({ updates: [{ type: o.modify ? 'MODIFY' : 'INSERT', flow: f }] });
    process.stdout.write(`flow ${id}\n`);
  }));
flow.command('del <id...>').description('delete flows by id')
  .option('--exact', 'they are in the exact-match table')
  .option('--continue-on-error', 'delete the ones that exist, report the others')
  .action((ids: string[], o: { exact?: boolean; continueOnError?: boolean }) => withClient(async (c) => {
    const r = await c.flow.write({
      atomicity: o.continueOnError ? 'CONTINUE_ON_ERROR' : 'ROLLBACK_ON_ERROR',
      updates: ids.map((id) => ({ type: 'DELETE', flow: { id: intOpt('id', 0xffffffff)(id), table: o.exact ? 'FLOW_TABLE_EXACT' : 'FLOW_TABLE_WILDCARD' } })),
    });
    r.statuses.forEach((s, i) => { if (s.code) process.stderr.write(`${ids[i]}: ${status[s.code] ?? s.code}: ${s.message}\n`); });
    process.stdout.write(`deleted ${r.applied}\n`);
    if (r.statuses.some((s) => s.code)) process.exitCode = 1;
  }));
flow.command('list').description('flows with their counters, in id order')
  .addOption(new Option('--table <t>', 'only this table').choices(['wildcard', 'exact']))
  .addOption(new Option('--family <n>', 'IP version').choices(['4', '6']))
  .option('--json', 'one JSON object per line')
  .action((o: { table?: string; family?: string; json?: boolean }) => withClient(async (c) => {
    const table = o.table === 'wildcard' ? 'FLOW_TABLE_WILDCARD' : o.table === 'exact' ? 'FLOW_TABLE_EXACT' : 'FLOW_TABLE_UNSPECIFIED';
    for await (const page of c.flow.read({ table, family: familyOpt(o.family), pageSize: 4096 })) {
      const lines = page.flows.map((f) => {
        if (o.json) return JSON.stringify(f);
        const a = f.action;
        const act = !a ? '?' : a.kind === 'FORWARD' ? `forward ${a.port}${a.via ? ` via ${a.via}` : ''}` : a.kind.toLowerCase();
        const m = a?.meter;
        const meter = m ? ` meter cir=${m.cir},cbs=${m.cbs},pir=${m.pir},pbs=${m.pbs}${m.mode === 'MARK' ? `,mark=${m.yellowDscp}/${m.redDscp}` : ''}` : '';
        const mods = `${a?.mirrorPort ? ` mirror ${a.mirrorPort}` : ''}${a?.setDscp ? ` set-dscp ${a.setDscp.dscp}` : ''}${meter}`;
        const where = f.table === 'FLOW_TABLE_EXACT' ? 'exact' : `prio ${f.priority}`;
        return `${String(f.id).padStart(6)}  ${where.padEnd(10)} ${matchText(f.match)} -> ${act}${mods}  [${f.packets} pkts, ${f.bytes} bytes]`;
      });
      if (lines.length && !process.stdout.write(lines.join('\n') + '\n')) await new Promise((r) => process.stdout.once('drain', r));
    }
  }));
flow.command('stats').description('table sizes, classifier memory and build time').option('--json', 'JSON output')
  .action((o: { json?: boolean }) => withClient(async (c) => {
    const s = await c.flow.getFlowStats({});
    if (o.json) return json(s);
    const mb = (b: string): string => (Number(b) / 1e6).toFixed(1);
    process.stdout.write(`wildcard: ${s.wildcardRules}/${s.wildcardMax} rules, classifier ${mb(s.aclBytes)} MB, ` +
      `last build ${s.lastBuildMs.toFixed(1)} ms (${s.builds} builds)\n` +
      `exact:    ${s.exactRules}/${s.exactMax} flows, ${mb(s.exactBytes)} MB\n`);
  }));

// ---------------------------------------------------------------- session, upf
registerUpfCommands(program, withClient);

// ---------------------------------------------------------------- stats
program.command('stats').description('counters and rates (Mpps per port, queue and worker)')
  .option('--watch', 'refresh in place')
  .option('--interval <ms>', 'refresh period in ms (min 100)', '1000')
  .option('--json', 'JSON (one object per line with --watch)')
  .action((o: { watch?: boolean; interval: string; json?: boolean }) => withClient(async (c) => {
    if (!o.watch) {
      const s = await c.stats.getStats({});
      if (o.json) process.stdout.write(JSON.stringify(s) + '\n');
      else process.stdout.write(statsScreen(s) + '\n');
      return;
    }
    const stream = c.stats.watchStats({ intervalMs: Number(o.interval) });
    const stop = (): void => stream.cancel();
    process.once('SIGINT', stop);
    const tty = process.stdout.isTTY && !o.json;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (s: api.Stats__Output) => {
        if (o.json) process.stdout.write(JSON.stringify(s) + '\n');
        else process.stdout.write((tty ? '\x1b[H\x1b[2J' : '\n') + statsScreen(s) + '\n');
      });
      stream.on('error', (e: { code?: number }) => (e.code === status.CANCELLED ? resolve() : reject(e))); // Ctrl-C
      stream.on('end', resolve);
    });
  }));

// ---------------------------------------------------------------- capture
program.command('capture <port>').description('capture a port\'s frames (or what a drop reason discarded) to pcapng')
  .requiredOption('-w, --write <file>', 'pcapng file to write, - for stdout (e.g. | tshark -r -)')
  .option('--queue <q>', 'only this queue')
  .addOption(new Option('--direction <dir>', 'received, sent or both').choices(['rx', 'tx', 'both']))
  .option('--filter <expr>', 'tcpdump (pcap-filter) expression')
  .option('--count <n>', 'stop after n frames (default: until Ctrl-C)')
  .option('--snaplen <bytes>', 'bytes kept per frame (default 65535)')
  .option('--drops <reason>', 'capture the frames this drop reason discarded (e.g. bad_checksum) instead')
  .option('--rate <fps>', 'frames per second at most (default 10000)')
  .action((portName: string, o: { write: string; queue?: string; direction?: string; filter?: string; count?: string;
    snaplen?: string; drops?: string; rate?: string }) => withClient(async (c) => {
    const int = (v: string | undefined, what: string): number | undefined => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new Error(`--${what}: not a number: ${v}`);
      return Number(v);
    };
    const dir = { rx: 'CAPTURE_DIRECTION_RX', tx: 'CAPTURE_DIRECTION_TX', both: 'CAPTURE_DIRECTION_BOTH' } as const;
    const req: api.CaptureRequest = {
      port: portName, filter: o.filter ?? '', count: String(int(o.count, 'count') ?? 0), snaplen: int(o.snaplen, 'snaplen') ?? 0,
      rate: int(o.rate, 'rate') ?? 0, dropReason: o.drops ?? '',
      direction: o.direction ? dir[o.direction as keyof typeof dir] : 'CAPTURE_DIRECTION_UNSPECIFIED',
      ...(o.queue !== undefined ? { queue: int(o.queue, 'queue') } : {}),
    };
    const toStdout = o.write === '-';
    const out = toStdout ? null : fs.openSync(o.write, 'w');
    const stream = c.capture.capture(req);
    process.once('SIGINT', () => stream.cancel());
    let last: api.CaptureCounters__Output | null = null;
    try {
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (m: api.CaptureChunk__Output) => {
          if (m.data.length) {
            if (out !== null) fs.writeSync(out, m.data);
            else if (!process.stdout.write(m.data)) { stream.pause(); process.stdout.once('drain', () => stream.resume()); }
          }
          if (m.counters) last = m.counters;
        });
        stream.on('error', (e: { code?: number }) => (e.code === status.CANCELLED ? resolve() : reject(e)));
        stream.on('end', resolve);
      });
    } finally {
      if (out !== null) fs.closeSync(out);
    }
    const l = last as api.CaptureCounters__Output | null;
    if (l) process.stderr.write(`${l.written} frame(s) written; ${l.matched} matched, ${l.ringFull} lost to a full ring, ${l.rateLimited} over the rate cap\n`);
  }));

// ---------------------------------------------------------------- dataplane
const dataplane = program.command('dataplane').description('the dataplane process');
dataplane.command('status').description('attachment state, pid, boot id, packet pool use, /metrics address').option('--json', 'JSON output')
  .action((o: { json?: boolean }) => withClient(async (c) => {
    const d = await c.dataplane.getDataplane({});
    if (o.json) return json(d);
    const size = Number(d.mbufsSize);
    const used = Number(d.mbufsInUse);
    process.stdout.write(`${d.attached ? 'attached' : 'NOT attached'} to ${d.name} pid ${d.pid} boot ${BigInt(d.bootId).toString(16)}` +
      ` (${d.ports} ports, ${d.workers} workers); desired: ${d.routes} routes, ${d.neighbors} neighbors, ${d.addresses} addresses;` +
      ` attaches ${d.attaches}, spawns ${d.spawns}\n` +
      `mbufs: ${used} in use of ${size}${size ? ` (${((used / size) * 100).toFixed(1)} %)` : ''}\n` +
      `metrics: ${d.metricsAddress ? `http://${d.metricsAddress}/metrics` : 'off'}\n`);
  }));

dataplane.command('log').description('the dataplane\'s log (its output, kept by serve in runDir/dataplane.log)')
  .option('-n, --lines <n>', 'lines of history (max 10000)', '100')
  .option('-f, --follow', 'keep printing lines as the dataplane writes them (Ctrl-C stops)')
  .action((o: { lines: string; follow?: boolean }) => withClient(async (c) => {
    const stream = c.dataplane.getDataplaneLog({ lines: Number(o.lines), follow: !!o.follow });
    process.once('SIGINT', () => stream.cancel());
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (m: api.DataplaneLog__Output) => { if (m.lines.length) process.stdout.write(m.lines.join('\n') + '\n'); });
      stream.on('error', (e: { code?: number }) => (e.code === status.CANCELLED ? resolve() : reject(e)));
      stream.on('end', resolve);
    });
  }));

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`${e instanceof ConfigError ? e.message : describeError(e)}\n`);
  process.exit(1);
});
