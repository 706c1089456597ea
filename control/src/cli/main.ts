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
import { parseCpuList } from '../system/cpus';
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
      configFile: path.resolve(o.demo ? demoConfigPath : o.config!),
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

// ---------------------------------------------------------------- queue
const queueTable = (m: api.QueueMap__Output): string => {
  const lines = m.queues.map((q) => `${q.port.padEnd(10)} ${String(q.queue).padStart(5)}  ${String(q.worker).padStart(6)} ` +
    `${String(q.lcore).padStart(5)}  ${(q.rx?.mpps ?? 0).toFixed(3).padStart(8)}  ${String(q.rx?.packets ?? 0).padStart(12)}  ${q.moves}`);
  return `queue map v${m.version}, ${m.workers} worker(s); last move live in ${m.lastMoveMs.toFixed(3)} ms\n` +
    `port       queue  worker lcore      Mpps       packets  moves\n${lines.join('\n')}`;
};
const queue = program.command('queue').description('RX queues: which worker polls which (port, queue)');
queue.command('list').description('the queue -> worker map with each queue\'s traffic')
  .option('--port <name>', 'only this port').option('--json', 'JSON output')
  .action((o: { port?: string; json?: boolean }) => withClient(async (c) => {
    const m = await c.queue.listQueues({ port: o.port ?? '' });
    if (o.json) return json(m);
    process.stdout.write(queueTable(m) + '\n');
  }));
queue.command('move <port> <queue> <worker>').description('have worker <worker> poll <port>\'s RX queue <queue> from now on (under traffic)')
  .option('--json', 'JSON output')
  .action((p: string, q: string, w: string, o: { json?: boolean }) => withClient(async (c) => {
    const m = await c.queue.moveQueues({ moves: [{ port: p, queue: intOpt('queue', 0xffff)(q), worker: intOpt('worker', 0xffff)(w) }] });
    if (o.json) return json(m);
    process.stdout.write(queueTable(m) + '\n');
  }));

queue.command('rebalance').description('reassign the RX queues from their measured load (heaviest first onto the least loaded worker)')
  .option('--dry-run', 'plan and report only')
  .option('--json', 'JSON output')
  .action((o: { dryRun?: boolean; json?: boolean }) => withClient(async (c) => {
    const r = await c.queue.rebalance({ dryRun: !!o.dryRun });
    if (o.json) return json(r);
    const loads = (l: api.WorkerLoad__Output[]): string => l.map((w) => `w${w.worker} ${w.busyPercent.toFixed(1)} % (${w.rxQueues} q)`).join(', ');
    process.stdout.write(`load over ${r.intervalSeconds.toFixed(1)} s: before ${loads(r.before)}; after ${loads(r.after)}\n` +
      (r.moves.length ? `${o.dryRun ? 'would move' : 'moved'}: ${r.moves.map((m) => `${m.port}/${m.queue} -> w${m.worker}`).join(', ')}\n` : 'no move\n') +
      (r.map ? queueTable(r.map) + '\n' : ''));
  }));
queue.command('set <port>').description('give a port a new number of RX queues (that port restarts; the others keep forwarding); --rss sets its hash fields')
  .option('--rx <n>', 'RX queues')
  .option('--tx <n>', 'TX queues: one per worker, the only count accepted')
  .option('--rss <fields>', 'RSS hash fields afterwards, as queue rss --fields')
  .option('--json', 'JSON output')
  .action((p: string, o: { rx?: string; tx?: string; rss?: string; json?: boolean }) => withClient(async (c) => {
    if (o.rx === undefined && o.tx === undefined && o.rss === undefined) throw new Error('queue set: --rx, --tx or --rss');
    const m = o.rx !== undefined || o.tx !== undefined
      ? await c.queue.setQueueCount({ port: p, rxQueues: o.rx === undefined ? 0 : intOpt('--rx', 0xffff)(o.rx),
        txQueues: o.tx === undefined ? 0 : intOpt('--tx', 0xffff)(o.tx) })
      : null;
    const r = o.rss !== undefined ? await c.queue.setRss({ port: p, fields: o.rss.split(',').filter(Boolean) }) : null;
    if (o.json) return json({ map: m, rss: r });
    if (m) process.stdout.write(queueTable(m) + '\n');
    if (r) process.stdout.write(rssLine(r) + '\n');
  }));
const rssLine = (r: api.RssConf__Output): string =>
  `${r.port}: RSS on ${r.fields.join(',') || 'nothing (off)'} (rss_hf ${r.rssHf}) over ${r.rxQueues} RX queue(s)\n` +
  `  supported: ${r.supported.join(',') || '-'}\n  default:   ${r.defaults.join(',') || '-'}`;
queue.command('rss <port>').description('the port\'s RSS hash fields (DPDK\'s names: ipv4, ipv4-tcp, ...); --fields sets them')
  .option('--fields <list>', 'fields or groups (ip, tcp, udp, sctp, tunnel, vlan), comma-separated')
  .option('--json', 'JSON output')
  .action((p: string, o: { fields?: string; json?: boolean }) => withClient(async (c) => {
    const r = o.fields !== undefined
      ? await c.queue.setRss({ port: p, fields: o.fields.split(',').filter(Boolean) })
      : await c.queue.getRss({ port: p });
    if (o.json) return json(r);
    process.stdout.write(rssLine(r) + '\n');
  }));
queue.command('reta <port>').description('the port\'s RSS redirection table (entry -> RX queue); --spread or --set writes it')
  .option('--spread <queues>', 'every entry, round-robin over these RX queues (e.g. 0-3 or 0,2)')
  .option('--set <entries>', 'these entries only: ENTRY=QUEUE,... (e.g. 0=1,5=0)')
  .option('--json', 'JSON output')
  .action((p: string, o: { spread?: string; set?: string; json?: boolean }) => withClient(async (c) => {
    let r = await c.queue.getReta({ port: p });
    if (o.spread !== undefined || o.set !== undefined) {
      const n = r.retaSize;
      const groups = Array.from({ length: n / 64 }, () => ({ mask: 0n, queues: new Array<number>(64).fill(0) }));
      const put = (i: number, q: number): void => {
        if (!(i >= 0 && i < n)) throw new Error(`entry ${i}: the table has ${n} entries`);
        groups[i >> 6].mask |= 1n << BigInt(i & 63);
        groups[i >> 6].queues[i & 63] = q;
      };
      if (o.spread !== undefined) {
        const qs = parseCpuList(o.spread, '--spread');
        if (!qs.length) throw new Error('--spread: no queue');
        for (let i = 0; i < n; i++) put(i, qs[i % qs.length]);
      }
      for (const kv of o.set ? o.set.split(',') : []) {
        const m = /^(\d+)=(\d+)$/.exec(kv.trim());
        if (!m) throw new Error(`--set: ENTRY=QUEUE expected, got ${JSON.stringify(kv)}`);
        put(Number(m[1]), Number(m[2]));
      }
      r = await c.queue.setReta({ port: p, retaSize: n, groups: groups.map((g) => ({ mask: g.mask.toString(), queues: g.queues })) });
    }
    if (o.json) return json(r);
    const rows = r.groups.map((g, i) => `${String(i * 64).padStart(5)}: ${g.queues.join(' ')}`);
    process.stdout.write(`${r.port}: ${r.retaSize} entries over ${r.rxQueues} RX queue(s)\n${rows.join('\n')}\n`);
  }));

// ---------------------------------------------------------------- irq
const irqResult = (r: string): string => r.replace(/^IRQ_RESULT_/, '').toLowerCase();
const irqChangeLine = (c: api.IrqChange__Output): string =>
  `${String(c.irq).padStart(5)}  ${irqResult(c.result).padEnd(12)} ${(c.before || '-').padEnd(8)} -> ${(c.after || '-').padEnd(8)}` +
  ` effective ${(c.effectiveAffinity || '-').padEnd(6)} ${c.name}${c.error ? `  (${c.error})` : ''}`;
const irqChanges = (r: api.IrqChanges__Output, o: { json?: boolean }): void => {
  if (o.json) return json(r);
  if (r.cpus) process.stdout.write(`CPUs ${r.cpus} cleared of IRQs, which go to ${r.housekeepingCpus}; ${r.unchanged} IRQ(s) were clear already\n`);
  if (r.changes.length) process.stdout.write(`  IRQ  result       before      after\n${r.changes.map(irqChangeLine).join('\n')}\n`);
  process.stdout.write(`${r.journaled} IRQ(s) in the journal (restore puts them back)\n`);
  if (r.changes.some((c) => c.result === 'IRQ_RESULT_REFUSED' || c.result === 'IRQ_RESULT_NOT_FOLLOWED')) process.exitCode = 3;
};
const irq = program.command('irq').description('kernel IRQs and their CPU affinity');
irq.command('list').description('IRQs of the host, or of one kernel network device, with their affinity')
  .option('--device <netdev>', 'only this kernel network device\'s IRQs (e.g. eth0)')
  .option('--json', 'JSON output')
  .action((o: { device?: string; json?: boolean }) => withClient(async (c) => {
    const r = await c.irq.listIrqs({ device: o.device ?? '' });
    if (o.json) return json(r);
    const lines = r.irqs.map((i) => `${String(i.irq).padStart(5)}  ${i.affinity.padEnd(10)} ${(i.effectiveAffinity || '-').padEnd(10)}` +
      ` ${String(i.counts.reduce((a, n) => a + BigInt(n), 0n)).padStart(10)}  ${i.name || '-'}${i.source ? ` [${i.source}]` : ''}` +
      `${i.journaled ? `  (was ${i.originalAffinity})` : ''}`);
    process.stdout.write(`online CPUs ${r.onlineCpus}\n  IRQ  affinity   effective  interrupts  name\n${lines.join('\n')}\n`);
  }));
irq.command('set <irq> <cpus>').description('set one IRQ\'s affinity (CPU list such as 0-1,4)')
  .action((n: string, cpus: string) => withClient(async (c) => {
    process.stdout.write(irqChangeLine(await c.irq.setIrqAffinity({ irq: intOpt('irq', 0xffffffff)(n), cpus })) + '\n');
  }));
irq.command('isolate').description('steer IRQs off the dataplane\'s worker lcores (or --cpus); journaled for restore')
  .option('--device <netdev>', 'only this kernel network device\'s IRQs')
  .option('--cpus <list>', 'CPUs to clear (default: the worker lcores of serve\'s config)')
  .option('--json', 'JSON output')
  .action((o: { device?: string; cpus?: string; json?: boolean }) => withClient(async (c) => {
    irqChanges(await c.irq.isolateIrqs({ device: o.device ?? '', cpus: o.cpus ?? '' }), o);
  }));
irq.command('restore').description('put back every IRQ affinity linerate changed').option('--json', 'JSON output')
  .action((o: { json?: boolean }) => withClient(async (c) => irqChanges(await c.irq.restoreIrqs({}), o)));

irq.command('channels <netdev>').description('a kernel network device\'s channels (ethtool -l); --rx/--tx/--combined set them (ethtool -L)')
  .option('--rx <n>', 'RX channels').option('--tx <n>', 'TX channels').option('--combined <n>', 'combined channels')
  .option('--json', 'JSON output')
  .action((dev: string, o: { rx?: string; tx?: string; combined?: string; json?: boolean }) => withClient(async (c) => {
    const n = (v: string | undefined, what: string): number => (v === undefined ? 0 : intOpt(what, 0xffff)(v));
    const set = o.rx !== undefined || o.tx !== undefined || o.combined !== undefined;
    const r = set
      ? await c.irq.setChannels({ device: dev, channels: { rx: n(o.rx, '--rx'), tx: n(o.tx, '--tx'), combined: n(o.combined, '--combined') } })
      : await c.irq.getChannels({ device: dev });
    if (o.json) return json(r);
    const f = (x: api.ChannelCounts__Output | null): string => (x ? `rx ${x.rx} tx ${x.tx} other ${x.other} combined ${x.combined}` : '-');
    process.stdout.write(`${r.device}: current ${f(r.current)}; max ${f(r.max)}\n`);
  }));

// ---------------------------------------------------------------- cores
program.command('cores').description('CPU layout: main and worker lcores, housekeeping and isolated CPUs, worker load')
  .option('--json', 'JSON output')
  .option('--pin <cpus>', 'first pin serve\'s own threads to these CPUs ("housekeeping" for the housekeeping CPUs)')
  .action((o: { json?: boolean; pin?: string }) => withClient(async (c) => {
    if (o.pin !== undefined) await c.core.pinControlPlane({ cpus: o.pin === 'housekeeping' ? '' : o.pin });
    const r = await c.core.getCores({});
    if (o.json) return json(r);
    const role = (x: string): string => x.replace(/^CORE_ROLE_/, '').toLowerCase();
    const lines = r.cores.map((k) => {
      const load = [`lcores ${k.lcores.join(',') || '-'}`, ...k.workers.map((w) => `worker ${w.worker}: ${w.busyPercent.toFixed(1)} % busy, ` +
        `${(w.rx?.mpps ?? 0).toFixed(3)} Mpps, ${w.cyclesPerPacket.toFixed(0)} cycles/pkt, ${w.rxQueues} rx queue(s)`)].join('; ');
      const flags = [k.isolated ? 'isolcpus' : '', k.nohzFull ? 'nohz_full' : '', k.controlPlane ? 'serve' : ''].filter(Boolean).join(',');
      const queues = k.queues.map((q) => `${' '.repeat(44)}  ${`${q.port}/${q.queue}`.padEnd(12)} w${q.worker}  ` +
        `${(q.rx?.mpps ?? 0).toFixed(3)} Mpps, ${q.busyPercent.toFixed(1)} % of the CPU (estimated)`);
      return [`${String(k.cpu).padStart(4)}  ${role(k.role).padEnd(13)} ${flags.padEnd(24)} ${load}`, ...queues].join('\n');
    });
    const cp = r.controlPlane;
    process.stdout.write(`online ${r.onlineCpus}; main lcore ${r.mainLcore} (CPU ${r.mainCpus}); worker lcores ${r.workerLcores || '-'}` +
      ` (CPU ${r.workerCpus || '-'}); ` +
      `housekeeping ${r.housekeepingCpus || '-'}; isolated ${r.isolatedCpus || '-'}; nohz_full ${r.nohzFullCpus || '-'}` +
      `${r.attached ? '' : ' (dataplane not attached: lcores from the config)'}\n` +
      ` CPU  role          flags                    load\n${lines.join('\n')}\n` +
      `serve pid ${cp?.pid}: ${cp?.threads.length} threads on CPUs ${cp?.cpus}\n`);
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
