import { pino, type Logger } from 'pino';

/** Structured JSON lines on stderr, one logger for the daemon. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'berthd' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
