// Applies the schema exactly as CI does: the graphile-migrate CLI with the project's .gmrc, which
// first installs Graphile Worker's schema (beforeAllMigrations). It runs as a child process so the
// migrator's pooled connection (whose error handler exits the process) never lives in the service.
// Processes starting together (several workers) take turns on an advisory lock: graphile-migrate
// itself fails outright ("Failed to get exclusive lock") when another migration is running.
import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../project-root.ts';
import type { Logger } from '../logger.ts';
import { takeMigrationLock } from '../store/maintenance.ts';

export interface MigrateOptions {
  connectionString: string;
  logger: Logger;
}

export async function migrateDatabase(options: MigrateOptions): Promise<void> {
  const client = new pg.Client({
    connectionString: options.connectionString,
    application_name: 'code-insights-migrate',
  });
  await client.connect();
  try {
    await takeMigrationLock(client);
    await runMigrate(options);
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => {});
  }
}

async function runMigrate({ connectionString, logger }: MigrateOptions): Promise<void> {
  const cli = path.join(projectRoot, 'node_modules', 'graphile-migrate', 'dist', 'cli.js');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: connectionString,
    // Hooks run `graphile-worker`; its `#!/usr/bin/env node` must find the project's Node.
    PATH: `${path.join(projectRoot, 'node_modules', '.bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  for (const name of Object.keys(env)) if (name.startsWith('GM_')) delete env[name];
  delete env.SHADOW_DATABASE_URL;
  delete env.ROOT_DATABASE_URL;

  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', '--forceActions'], {
      cwd: projectRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve(text);
      const lines = text
        .trim()
        .split('\n')
        .filter((line) => line.trim() !== '');
      const reason =
        lines
          .filter((line) => /error/i.test(line))
          .slice(-3)
          .join(' | ') || lines.slice(-3).join(' | ');
      reject(new Error(`migration failed: ${reason || `graphile-migrate exited with code ${code}`}`));
    });
  });
  for (const line of output.trim().split('\n')) if (line.trim()) logger.debug(line);
  const applied = output.match(/(\d+) committed migrations executed/);
  logger.info(applied ? `applied ${applied[1]} migration(s)` : 'database schema is up to date');
}
