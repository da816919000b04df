// The repository of the first-run demo: this project's own git history when it has one (a clone)
// long enough for a weekly chart, otherwise a year of bundled history built once into DATA_DIR (an
// installed package has no .git; a young clone would draw a flat line).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GIT_ENV } from '../git/run-git.ts';
import { projectRoot } from '../project-root.ts';

/** Whether `dir` is a clone whose history goes back far enough to draw the demo chart (8 weeks). */
function hasLongHistory(dir: string): boolean {
  if (!fs.existsSync(path.join(dir, '.git'))) return false;
  try {
    const times = execFileSync('git', ['-C', dir, 'log', '--format=%ct', 'HEAD'], {
      env: { ...process.env, ...GIT_ENV },
      encoding: 'utf8',
    });
    const first = Number(times.trim().split('\n').at(-1));
    return Number.isFinite(first) && Date.now() / 1000 - first > 8 * 7 * 86_400;
  } catch {
    return false;
  }
}

/** A year of monthly commits in which TODOs pile up and FIXMEs come and go. */
function bundledHistory(): Buffer {
  const parts: string[] = [];
  const start = Date.UTC(new Date().getUTCFullYear() - 1, new Date().getUTCMonth(), 1) / 1000;
  for (let month = 0; month < 12; month++) {
    const todo = Array.from({ length: month + 1 }, (_, i) => `// TODO: step ${i + 1}\n`).join('');
    const fixme = Array.from({ length: month % 4 }, (_, i) => `# FIXME ${i + 1}\n`).join('');
    const files: Record<string, string> = {
      'src/app.ts': `export const month = ${month};\n${todo}`,
      'scripts/build.sh': `echo build\n${fixme}`,
    };
    const when = start + month * 30 * 86_400;
    parts.push(
      `commit refs/heads/main\nmark :${month + 1}\ncommitter Demo <demo@example.com> ${when} +0000\ndata <<EOM\nmonth ${month + 1}\nEOM\n`,
    );
    if (month > 0) parts.push(`from :${month}\n`);
    for (const [file, content] of Object.entries(files))
      parts.push(`M 100644 inline ${file}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
  }
  return Buffer.from(`${parts.join('')}done\n`);
}

/** A path git can clone for the demo repository. */
export function demoRepositoryPath(dataDir: string): string {
  if (hasLongHistory(projectRoot)) return projectRoot;
  const bare = path.join(dataDir, 'demo-repository.git');
  if (!fs.existsSync(path.join(bare, 'HEAD'))) {
    fs.mkdirSync(bare, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', bare], {
      env: { ...process.env, ...GIT_ENV },
    });
    execFileSync('git', ['--git-dir', bare, 'fast-import', '--quiet', '--done'], {
      env: { ...process.env, ...GIT_ENV },
      input: bundledHistory(),
    });
  }
  return bare;
}
