/**
 * serve's logger (pino) on stderr, stdout staying free for CLI output:
 * JSON lines when stderr is not a terminal (journald, files, log shippers,
 * the tests), one readable line per record (pino-pretty: time, level,
 * message, fields) when it is. LINERATE_LOG sets the level;
 * LINERATE_LOG_FORMAT=json|pretty overrides the terminal test.
 */
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

/** Whether records go out readable (a terminal, or LINERATE_LOG_FORMAT=pretty) rather than as JSON. */
export function wantsPretty(env: NodeJS.ProcessEnv = process.env, isTty = !!process.stderr.isTTY): boolean {
  const f = env.LINERATE_LOG_FORMAT;
  if (f === 'json') return false;
  if (f === 'pretty') return true;
  return isTty;
}

/** The readable destination on fd (synchronous, like the JSON one: nothing is lost on exit). */
export function prettyDestination(fd = 2, colorize = true): pino.DestinationStream {
  return pretty({ destination: fd, sync: true, colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', singleLine: true });
}

export function createLogger(level: string = process.env.LINERATE_LOG ?? 'info'): Logger {
  const dest = wantsPretty() ? prettyDestination(2) : pino.destination({ fd: 2, sync: true });
  return pino({ name: 'linerate', level }, dest);
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
