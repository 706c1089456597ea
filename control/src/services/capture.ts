/**
 * linerate.v1.CaptureService: `linerate capture`. Validates the request
 * against the attached dataplane (port, drop reason, bounds: each error
 * names its field), has the dataplane start a capture into a pcapng file
 * of its own in the run dir (LR_CTL_CAPTURE_START, through the addon),
 * streams the file's bytes as they are written, and ends the stream when
 * the dataplane says the capture is done (count reached); a cancelled call
 * stops the capture. The file is removed either way: the stream is the
 * capture.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import type { CaptureServiceHandlers } from '../gen/linerate/v1/CaptureService';
import type * as api from '../gen';
import type { Controller } from '../controller';
import type { CaptureInfo, CaptureStart } from '../dataplane/addon';
import { ApiError, invalid, toApiError } from '../errors';
import type { Logger } from '../log';
import { failStream } from './common';

export const CAPTURE_FILTER_MAX = 255;
export const CAPTURE_SNAPLEN_MAX = 65535;
export const CAPTURE_RATE_MAX = 1_000_000;
/** How often the file is read and the dataplane asked how far it is. */
const POLL_MS = 100;
const CHUNK_MAX = 1 << 20;

type Call = grpc.ServerWritableStream<api.CaptureRequest__Output, api.CaptureChunk>;

const counters = (i: CaptureInfo): api.CaptureCounters => ({
  written: i.written.toString(), matched: i.matched.toString(), ringFull: i.ringFull.toString(), rateLimited: i.rateLimited.toString(),
});

/** The dataplane's "capture.filter: ..." as the request's field: "filter: ...". */
function fieldError(e: unknown): ApiError {
  const err = toApiError(e);
  return new ApiError(err.code, err.message.replace(/^dataplane: capture\.(\w+)/, (_, f: string) => (f === 'drop_reason' ? 'drop_reason' : f)));
}

export function captureService(ctl: Controller, o: { runDir: string; dropReasons: readonly string[] }, log: Logger): CaptureServiceHandlers {
  /** The request as the addon's captureStart() takes it; throws INVALID_ARGUMENT / NOT_FOUND naming the field. */
  const validate = (r: api.CaptureRequest__Output, file: string): CaptureStart => {
    const a = ctl.attached();
    if (!r.port) throw invalid('port', 'required');
    const port = a.ports.get(r.port);
    if (!port) throw new ApiError(status.NOT_FOUND, `port: unknown port "${r.port}"`);
    let dropReason: number | undefined;
    let rx = true;
    let tx = true;
    if (r.dropReason) {
      const i = o.dropReasons.indexOf(r.dropReason);
      if (i < 0) throw invalid('drop_reason', `unknown reason "${r.dropReason}" (one of ${o.dropReasons.join(', ')})`);
      if (r.direction !== 'CAPTURE_DIRECTION_UNSPECIFIED') throw invalid('direction', 'a drop capture takes no direction');
      dropReason = i;
      rx = tx = false;
    } else if (r.direction === 'CAPTURE_DIRECTION_RX') {
      tx = false;
    } else if (r.direction === 'CAPTURE_DIRECTION_TX') {
      rx = false;
    } else if (r.direction !== 'CAPTURE_DIRECTION_UNSPECIFIED' && r.direction !== 'CAPTURE_DIRECTION_BOTH') {
      throw invalid('direction', `unknown direction ${String(r.direction)}`);
    }
    let queue: number | undefined;
    if (r.queue !== null && r.queue !== undefined && r._queue === 'queue') {
      const max = Math.max(port.rxQueues, port.txQueues);
      if (r.queue >= max) throw invalid('queue', `port ${r.port} has ${max} queue(s)`);
      queue = r.queue;
    }
    if (Buffer.byteLength(r.filter) > CAPTURE_FILTER_MAX) throw invalid('filter', `at most ${CAPTURE_FILTER_MAX} bytes`);
    if (r.snaplen > CAPTURE_SNAPLEN_MAX) throw invalid('snaplen', `at most ${CAPTURE_SNAPLEN_MAX}`);
    if (r.rate > CAPTURE_RATE_MAX) throw invalid('rate', `at most ${CAPTURE_RATE_MAX} frames/s`);
    const count = BigInt(r.count || '0');
    if (count > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid('count', `at most ${Number.MAX_SAFE_INTEGER}`);
    return { portId: port.portId, queue, rx, tx, dropReason, snaplen: r.snaplen, rate: r.rate, count: Number(count), filter: r.filter, path: file };
  };

  /** Captures this serve streams; a running one the dataplane reports beyond these is an orphan. */
  let active = 0;

  /**
   * A capture left running by a serve that died mid-stream (the dataplane
   * keeps it until its count): stopped, and the files of other serves'
   * captures removed, so that the next capture can start.
   */
  const stopOrphan = async (a: ReturnType<Controller['attached']>): Promise<boolean> => {
    if (active > 0) return false;
    const i = await a.dp.captureInfo();
    if (i.state !== 'running') return false;
    await a.dp.captureStop();
    for (const f of fs.readdirSync(o.runDir)) {
      if (/^capture-\d+-[0-9a-f]+\.pcapng$/.test(f) && !f.startsWith(`capture-${process.pid}-`)) fs.rmSync(path.join(o.runDir, f), { force: true });
    }
    log.warn({ id: i.id, written: i.written.toString() }, 'stopped a capture no client streams any more (its serve went away)');
    return true;
  };

  const run = async (call: Call): Promise<void> => {
    const file = path.join(o.runDir, `capture-${process.pid}-${crypto.randomBytes(4).toString('hex')}.pcapng`);
    const start = validate(call.request, file);
    const a = ctl.attached();
    let info: CaptureInfo;
    try {
      try {
        info = await a.dp.captureStart(start);
      } catch (e) {
        if ((e as { code?: number }).code !== status.FAILED_PRECONDITION || !(await stopOrphan(a))) throw e;
        info = await a.dp.captureStart(start);
      }
    } catch (e) {
      fs.rmSync(file, { force: true });
      throw fieldError(e);
    }
    active++;
    const id = info.id;
    log.info({ id, port: call.request.port, filter: call.request.filter, drop: call.request.dropReason || undefined }, 'capture started');
    let pos = 0;
    let ended = false;
    const readMore = (): Buffer[] => {
      const out: Buffer[] = [];
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch {
        return out;
      }
      try {
        for (;;) {
          const buf = Buffer.alloc(CHUNK_MAX);
          const n = fs.readSync(fd, buf, 0, CHUNK_MAX, pos);
          if (n <= 0) break;
          pos += n;
          out.push(buf.subarray(0, n));
        }
      } finally {
        fs.closeSync(fd);
      }
      return out;
    };
    const finish = (err?: unknown): void => {
      if (ended) return;
      ended = true;
      active--;
      clearInterval(timer);
      fs.rmSync(file, { force: true });
      if (err) failStream(call, err);
    };
    const stop = (): void => {
      if (ended) return;
      finish();
      a.dp.captureStop().then(
        (i) => log.info({ id, written: i.written.toString() }, 'capture stopped (call ended)'),
        (e: Error) => log.warn({ id, err: e.message }, 'capture stop failed'),
      );
    };
    call.on('cancelled', stop);
    call.on('close', stop);
    let busy = false;
    const timer = setInterval(() => {
      if (busy || ended) return;
      busy = true;
      a.dp.captureInfo().then((i) => {
        busy = false;
        if (ended) return;
        if (i.id !== id) return finish(new ApiError(status.ABORTED, 'the capture was replaced (dataplane restarted?)'));
        // Read after the state: once done, the file is complete.
        const chunks = readMore();
        chunks.forEach((data) => call.write({ data }));
        if (i.state === 'done') {
          call.write({ data: Buffer.alloc(0), counters: counters(i) });
          finish();
          call.end();
          log.info({ id, written: i.written.toString() }, 'capture done');
        } else if (chunks.length) {
          call.write({ data: Buffer.alloc(0), counters: counters(i) });
        }
      }, (e: unknown) => {
        busy = false;
        finish(fieldError(e));
      });
    }, POLL_MS);
  };

  return {
    Capture: (call) => {
      run(call).catch((e: unknown) => failStream(call, e));
    },
  };
}
