/**
 * Reading the dataplane's log file (runDir/dataplane.log: the spawned
 * linerate-dp's stdout and stderr, appended across restarts, see spawn.ts)
 * for DataplaneService.GetDataplaneLog: its last lines, read from the end
 * of the file with a bounded read, and a follower that polls the file's
 * size and hands over complete lines as they are appended (a truncated or
 * replaced file is read again from its start). Serve keeps no copy: the
 * file outlives serve and is the one record of what the dataplane said.
 */
import * as fs from 'node:fs';

/** The most bytes read for the history (10000 lines of ~400 characters). */
export const MAX_TAIL_BYTES = 4 << 20;

/** The last `n` complete or final lines of `file` and the offset its end was at. Throws ENOENT. */
export function tailLines(file: string, n: number): { lines: string[]; end: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const end = fs.fstatSync(fd).size;
    const start = Math.max(0, end - MAX_TAIL_BYTES);
    const buf = Buffer.alloc(end - start);
    let got = 0;
    while (got < buf.length) {
      const r = fs.readSync(fd, buf, got, buf.length - got, start + got);
      if (r === 0) break;
      got += r;
    }
    let lines = buf.subarray(0, got).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (start > 0) lines = lines.slice(1); // the first one is cut
    return { lines: lines.slice(-n), end: start + got };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Calls onLines with each batch of complete lines appended to `file` after
 * `offset`, polling every `everyMs`. Returns stop().
 */
export function followLines(file: string, offset: number, onLines: (lines: string[]) => void, everyMs = 200): () => void {
  let pos = offset;
  let partial = '';
  let ino = -1;
  try {
    ino = fs.statSync(file).ino;
  } catch {
    /* appears later */
  }
  const tick = (): void => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return;
    }
    if (st.ino !== ino || st.size < pos) {
      ino = st.ino; // replaced or truncated: read it from the start
      pos = 0;
      partial = '';
    }
    if (st.size === pos) return;
    const fd = fs.openSync(file, 'r');
    try {
      const len = Math.min(st.size - pos, MAX_TAIL_BYTES);
      const buf = Buffer.alloc(len);
      const r = fs.readSync(fd, buf, 0, len, pos);
      pos += r;
      const text = partial + buf.subarray(0, r).toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      if (lines.length) onLines(lines);
    } finally {
      fs.closeSync(fd);
    }
  };
  const t = setInterval(tick, everyMs);
  return () => clearInterval(t);
}
