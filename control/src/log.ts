/** pino logger on stderr (stdout stays free for CLI output). */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.LINERATE_LOG ?? 'info'): Logger {
  return pino({ name: 'linerate', level }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
