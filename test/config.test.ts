import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../src/config.ts';
import { projectRoot } from '../src/project-root.ts';

test('defaults: embedded database in <project>/data, port 4000, 4 jobs, info logs', (t) => {
  const config = loadConfig({});
  t.is(config.DATABASE_URL, undefined);
  t.is(config.PORT, 4000);
  t.is(config.HOST, '127.0.0.1');
  t.is(config.DATA_DIR, path.join(projectRoot, 'data'));
  t.is(config.WORKER_CONCURRENCY, 4);
  t.is(config.LOG_LEVEL, 'info');
  t.is(config.EMBEDDED_PG_PORT, undefined);
});

test('environment values are parsed and flags override them', (t) => {
  const config = loadConfig(
    {
      PORT: '8080',
      WORKER_CONCURRENCY: '8',
      LOG_LEVEL: 'DEBUG',
      DATA_DIR: 'relative/dir',
      DATABASE_URL: 'postgres://u@h/db',
    },
    { PORT: '9090' },
  );
  t.is(config.PORT, 9090);
  t.is(config.WORKER_CONCURRENCY, 8);
  t.is(config.LOG_LEVEL, 'debug');
  t.is(config.DATA_DIR, path.resolve('relative/dir'));
  t.is(config.DATABASE_URL, 'postgres://u@h/db');
});

test('empty values count as unset', (t) => {
  t.is(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT, 4000);
});

const invalid: Array<[Record<string, string>, RegExp]> = [
  [{ PORT: 'abc' }, /^Invalid configuration: PORT must be a number \(got "abc"\)$/],
  [{ PORT: '70000' }, /^Invalid configuration: PORT must be between 0 and 65535 \(got "70000"\)$/],
  [{ PORT: '1.5' }, /^Invalid configuration: PORT must be a whole number/],
  [{ WORKER_CONCURRENCY: '0' }, /^Invalid configuration: WORKER_CONCURRENCY must be at least 1 \(got "0"\)$/],
  [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL must be one of debug, info, warn, error \(got "loud"\)$/],
  [{ DATABASE_URL: 'mysql://x' }, /^Invalid configuration: DATABASE_URL must start with postgres:\/\//],
  [{ JWT_SECRET: 'short' }, /^Invalid configuration: JWT_SECRET must be at least 32 characters long$/],
  [{ EMBEDDED_PG_PORT: '-1' }, /^Invalid configuration: EMBEDDED_PG_PORT must be between 0 and 65535/],
];
for (const [env, message] of invalid) {
  test(`invalid ${Object.keys(env)[0]} stops start-up with a one-line message naming it (${Object.values(env)[0]})`, (t) => {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(error!.message, message);
    t.false(error!.message.includes('\n'));
  });
}

test('secrets are never echoed in error messages', (t) => {
  const error = t.throws(() => loadConfig({ JWT_SECRET: 'hunter2' }));
  t.false(error!.message.includes('hunter2'));
});
