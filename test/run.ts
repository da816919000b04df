// `npm test`: prepares one PostgreSQL server (DATABASE_URL when set, otherwise a throw-away embedded
// cluster) and a migrated template database, runs ava with TAP output, and ends with the plain line
// "N passed, N failed". Without arguments the latency tests (test/latency) run last, alone.
// Each test file clones the template into its own database (test/helpers),
// so files run in parallel without seeing each other's rows.
//   npm test                      all tests
//   npm test -- test/config.test.ts   some files (arguments go to ava)
//   npm test -- --config test/latency/ava.config.js   the latency tests only
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startScratchServer } from '../src/db/scratch-database.ts';
import { createLogger } from '../src/logger.ts';
import { projectRoot } from '../src/project-root.ts';

const logger = createLogger({ level: (process.env.TEST_LOG_LEVEL as 'info') ?? 'warn', scope: 'test-run' });
const runId = `cit_${randomBytes(4).toString('hex')}`;
const server = await startScratchServer({ logger, prefix: runId, databaseUrl: process.env.DATABASE_URL });
console.log(`# tests use ${server.description}`);

let exitCode: number;
let passed = 0;
let failed = 0;
try {
  await server.createDatabase('template');
  const templateDb = `${runId}_template`;
  const ava = path.join(projectRoot, 'node_modules', 'ava', 'entrypoints', 'cli.js');
  // Without arguments: every test file, then the latency tests alone (test/latency/ava.config.js).
  const args = process.argv.slice(2);
  const runs = args.length ? [args] : [[], ['--config', 'test/latency/ava.config.js']];
  exitCode = 0;
  for (const runArgs of runs) {
    const result = await runAva(ava, runArgs, templateDb);
    passed += result.passed;
    failed += result.failed;
    if (result.code !== 0 || result.failed > 0) exitCode = 1;
  }
  if (passed === 0) exitCode = 1;
  if (passed === 0 && failed === 0) console.log('# no test ran');
} catch (error) {
  console.error(`test setup failed: ${(error as Error).message}`);
  failed = Math.max(failed, 1);
  exitCode = 1;
} finally {
  await server.close().catch((error) => console.error(`# could not clean up: ${(error as Error).message}`));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);

/** Runs ava once with TAP output, passing its lines through; counts from its summary. */
async function runAva(
  ava: string,
  args: string[],
  templateDb: string,
): Promise<{ code: number; passed: number; failed: number }> {
  const child = spawn(process.execPath, [ava, '--tap', ...args], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      GRAPHILE_ENV: 'development',
      TEST_ADMIN_URL: server.adminUrl,
      TEST_TEMPLATE_DB: templateDb,
      TEST_RUN_ID: runId,
    },
  });
  let buffered = '';
  let tapPass: number | undefined;
  let tapFail: number | undefined;
  let okLines = 0;
  let notOkLines = 0;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    process.stdout.write(chunk);
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (/^ok \d+/.test(line)) okLines++;
      else if (/^not ok \d+/.test(line)) notOkLines++;
      const pass = line.match(/^# pass (\d+)/);
      const fail = line.match(/^# fail (\d+)/);
      if (pass) tapPass = Number(pass[1]);
      if (fail) tapFail = Number(fail[1]);
    }
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const passed = tapPass ?? okLines;
  let failed = tapFail ?? notOkLines;
  // A crash that ava reports only through its exit code still counts as a failure.
  if (code !== 0 && failed === 0) failed = 1;
  return { code, passed, failed };
}
