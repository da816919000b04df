#!/usr/bin/env node
// Entry point of the `code-insights` command. Plain JavaScript so that any Node can run it: when
// the current Node is older than the project's (the machines' system Node is 20), it re-executes
// itself on the Node 24 installed by the `node` devDependency, then loads the TypeScript CLI
// through Node's built-in type stripping.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 24;
const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..', '..');
const major = Number(process.versions.node.split('.')[0]);

// Grafast reads this at import time; production unless the developer says otherwise.
process.env.GRAPHILE_ENV ??= 'production';

if (major >= MIN_MAJOR) {
  await import('./main.ts');
} else {
  const candidates = [
    path.join(projectRoot, 'node_modules', 'node', 'bin', 'node'),
    path.join(projectRoot, 'node_modules', '.bin', 'node'),
  ];
  const node24 = candidates.find((file) => existsSync(file));
  if (!node24) {
    process.stderr.write(
      `code-insights needs Node ${MIN_MAJOR}+ (this is ${process.version}); run \`npm install\` in ${projectRoot} to install it.\n`,
    );
    process.exit(1);
  }
  const child = spawn(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Pass signals on, so Ctrl-C and SIGTERM stop the real process cleanly.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    // Die of the same signal, so callers see what happened.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
}
