import pino from 'pino';

export type Logger = pino.Logger;

/** A pino logger to stdout, or to `destination` (tests capture lines with `{ write }`). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}
