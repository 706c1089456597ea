/** Process liveness from /proc (a zombie counts as gone: it will never answer). */
import * as fs from 'node:fs';

export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const end = stat.lastIndexOf(')');
    return stat.slice(end + 2, end + 3) !== 'Z';
  } catch {
    return false;
  }
}
