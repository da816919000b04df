// A small levelled logger. Lines go to stderr so stdout stays free for command output (--json):
// plain text for people, or one JSON object per line (LOG_FORMAT=json) for log collectors, with the
// fields of its context (for example the request id of an API request).
import type { LogFormat, LogLevel } from './config.ts';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger for a part of the program (scope) or a unit of work (fields on every line). */
  child(scope: string, fields?: Record<string, string | number>): Logger;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  level: LogLevel;
  scope?: string;
  /** text (default) or json. */
  format?: LogFormat;
  fields?: Record<string, string | number>;
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void;
}

/**
 * One log line per event, whatever the text holds: a repository name, a query or git's output with
 * a line break or a terminal escape must not forge a line of its own (control characters are written
 * as JSON would, `\n`, `\u001b`).
 */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (char) =>
    char === '\n' ? '\\n' : char === '\r' ? '\\r' : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const threshold = ORDER[options.level];
  const fields = options.fields ?? {};
  const shownFields = Object.entries(fields)
    .map(([name, value]) => ` ${name}=${oneLine(String(value))}`)
    .join('');
  const emit = (level: LogLevel, message: string) => {
    if (ORDER[level] < threshold) return;
    const time = new Date().toISOString();
    if (options.format === 'json') {
      write(
        `${JSON.stringify({ time, level, ...(options.scope ? { scope: options.scope } : {}), ...fields, message })}\n`,
      );
      return;
    }
    const scope = options.scope ? ` ${options.scope}:` : '';
    write(`${time} ${level.toUpperCase().padEnd(5)}${scope}${shownFields} ${oneLine(message)}\n`);
  };
  return {
    level: options.level,
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (scope, more) =>
      createLogger({
        ...options,
        scope: options.scope ? `${options.scope}/${scope}` : scope,
        fields: { ...fields, ...more },
      }),
  };
}

/** Message of anything thrown, for log lines and user-facing errors. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
