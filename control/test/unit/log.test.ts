/**
 * Logs: serve's records are JSON lines when stderr is a pipe and readable
 * lines on a terminal (a real pty from script(1)); the dataplane's log
 * reaches a client through DataplaneService.GetDataplaneLog (history,
 * follow, bad requests), here on the fake dataplane with a log file.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import type * as api from '../../src/gen';
import { wantsPretty } from '../../src/log';
import { ROOT } from '../helpers/env';
import { type Harness, startHarness } from './helpers';

const LOG_JS = path.join(ROOT, 'dist', 'control', 'src', 'log.js');
const script = `require(${JSON.stringify(LOG_JS)}).createLogger().info({ port: 'p0', n: 3 }, 'hello log')`;

describe('logs', function () {
  this.timeout(20000);

  it('are JSON on a pipe and readable on a terminal', () => {
    const env = { ...process.env, LINERATE_LOG_FORMAT: '' };
    const piped = execFileSync('/bin/sh', ['-c', `${process.execPath} -e "$0" 2>&1`, script], { encoding: 'utf8', env });
    const rec = JSON.parse(piped.trim()) as Record<string, unknown>;
    assert.equal(rec.msg, 'hello log');
    assert.equal(rec.level, 30);
    assert.equal(rec.port, 'p0');
    // script(1) runs the command on a pseudo-terminal: stderr is a TTY there.
    const tty = execFileSync('script', ['-qec', `${process.execPath} -e '${script.replace(/'/g, "'\\''")}'`, '/dev/null'],
      { encoding: 'utf8', env });
    const plain = tty.replace(/\x1b\[[0-9;]*m/g, '').trim();
    assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello log \{"port":"p0","n":3\}$/, JSON.stringify(tty));
    assert.throws(() => JSON.parse(tty));
  });

  it('LINERATE_LOG_FORMAT overrides the terminal test', () => {
    assert.equal(wantsPretty({ LINERATE_LOG_FORMAT: 'json' }, true), false);
    assert.equal(wantsPretty({ LINERATE_LOG_FORMAT: 'pretty' }, false), true);
    assert.equal(wantsPretty({}, true), true);
    assert.equal(wantsPretty({}, false), false);
  });
});

describe('DataplaneService.GetDataplaneLog', function () {
  this.timeout(20000);
  let h: Harness;
  let logPath = '';
  beforeEach(async () => {
    h = await startHarness();
    logPath = path.join(h.dir, 'run', 'dataplane.log');
  });
  afterEach(async () => { await h.close(); });

  const read = (req: api.GetDataplaneLogRequest, until?: (lines: string[]) => boolean): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const got: string[] = [];
      const s = h.client.dataplane.getDataplaneLog(req);
      s.on('data', (m: api.DataplaneLog__Output) => {
        got.push(...m.lines);
        if (until?.(got)) {
          s.cancel();
          resolve(got);
        }
      });
      s.on('error', (e: { code?: number }) => (e.code === status.CANCELLED ? resolve(got) : reject(e)));
      s.on('end', () => resolve(got));
    });

  it('sends the last lines, then follows what is appended', async () => {
    fs.writeFileSync(logPath, Array.from({ length: 250 }, (_, i) => `line ${i}`).join('\n') + '\n');
    assert.deepEqual(await read({ lines: 3 }), ['line 247', 'line 248', 'line 249']);
    assert.equal((await read({})).length, 100, 'default: 100 lines');
    assert.equal((await read({ lines: 10000 })).length, 250);
    const follow = read({ lines: 1, follow: true }, (l) => l.includes('LINERATE: second'));
    await new Promise((r) => setTimeout(r, 300));
    fs.appendFileSync(logPath, 'LINERATE: part');
    await new Promise((r) => setTimeout(r, 300));
    fs.appendFileSync(logPath, 'ial\nLINERATE: second\n');
    // The line written in two parts arrives whole, once.
    assert.deepEqual(await follow, ['line 249', 'LINERATE: partial', 'LINERATE: second']);
  });

  it('refuses a bad request and says when there is no log', async () => {
    await assert.rejects(read({ lines: 10001 }), (e: { code: number; details: string }) =>
      e.code === status.INVALID_ARGUMENT && /^lines: at most 10000/.test(e.details));
    await assert.rejects(read({}), (e: { code: number; details: string }) =>
      e.code === status.FAILED_PRECONDITION && /no dataplane log at .*dataplane\.log/.test(e.details));
  });
});
