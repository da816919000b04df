// Runs one git command and returns its stdout; a failure is an Error carrying git's message.
import { spawn } from 'node:child_process';

export interface RunGitOptions {
  /** Repository (bare mirror or work tree); passed as --git-dir when `bare`. */
  cwd?: string;
  gitDir?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Stops git and fails after this long. */
  timeoutMs?: number;
}

export class GitError extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(args: string[], exitCode: number | null, stderr: string) {
    const detail = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' | ');
    super(
      `git ${args[0]} failed${exitCode === null ? ' (timed out or killed)' : ` (exit ${exitCode})`}: ${detail || 'no message'}`,
    );
    this.name = 'GitError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Settings that keep git from prompting or reading the user's configuration. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  LC_ALL: 'C',
  // Registered repositories may belong to another OS user (the service often runs as its own).
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'safe.directory',
  GIT_CONFIG_VALUE_0: '*',
};

export function runGit(args: string[], options: RunGitOptions = {}): Promise<Buffer> {
  const fullArgs = options.gitDir ? ['--git-dir', options.gitDir, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn('git', fullArgs, {
      cwd: options.cwd,
      env: { ...process.env, ...GIT_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new GitError(args, code, stderr)),
    );
    child.stdin.on('error', () => {}); // git may exit before reading its input
    child.stdin.end(options.input);
  });
}
