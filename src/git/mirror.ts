// Keeps a bare mirror of a registered repository on this machine's disk: cloned on first use
// (into a temporary directory, renamed when complete, so a crash never leaves half a mirror) and
// fetched afterwards.
import fs from 'node:fs';
import path from 'node:path';
import { GitError, runGit } from './run-git.ts';

export interface SyncMirrorOptions {
  cloneUrl: string;
  /** Absolute path of the bare mirror (…/mirrors/<id>.git). */
  mirrorDir: string;
  /** The branch to follow; undefined: the remote's HEAD. */
  branch?: string | null;
  timeoutMs?: number;
}

export interface MirrorState {
  /** The followed branch (short name); null for an empty repository without HEAD. */
  defaultBranch: string | null;
  /** Commit at the tip of that branch; null when the branch has no commits yet. */
  head: string | null;
  cloned: boolean;
}

export function mirrorExists(mirrorDir: string): boolean {
  return fs.existsSync(path.join(mirrorDir, 'HEAD')) && fs.existsSync(path.join(mirrorDir, 'objects'));
}

/**
 * The branch the remote's HEAD points to. Every clone URL reaches git after `--`: a URL such as
 * `--upload-pack=<command>` is then a (missing) repository, never an option that runs a command.
 */
export async function remoteHeadBranch(cloneUrl: string, timeoutMs: number): Promise<string | null> {
  const output = (await runGit(['ls-remote', '--symref', '--', cloneUrl, 'HEAD'], { timeoutMs })).toString();
  const match = output.match(/^ref: refs\/heads\/(\S+)\tHEAD$/m);
  return match ? match[1]! : null;
}

/** The commit at the tip of `branch` in the mirror, or null if the branch does not exist yet. */
export async function resolveBranchHead(mirrorDir: string, branch: string): Promise<string | null> {
  try {
    return (await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { gitDir: mirrorDir }))
      .toString()
      .trim();
  } catch (error) {
    if (error instanceof GitError && error.exitCode === 1) return null;
    throw error;
  }
}

export async function syncMirror(options: SyncMirrorOptions): Promise<MirrorState> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  let cloned = false;
  if (!mirrorExists(options.mirrorDir)) {
    fs.mkdirSync(path.dirname(options.mirrorDir), { recursive: true });
    const temporary = `${options.mirrorDir}.partial-${process.pid}-${Date.now()}`;
    try {
      await runGit(['clone', '--mirror', '--quiet', '--', options.cloneUrl, temporary], { timeoutMs });
      // Another process on this machine may have finished the same clone first: keep theirs.
      if (!mirrorExists(options.mirrorDir)) {
        fs.rmSync(options.mirrorDir, { recursive: true, force: true });
        fs.renameSync(temporary, options.mirrorDir);
      }
    } finally {
      fs.rmSync(temporary, { recursive: true, force: true });
    }
    cloned = true;
  } else {
    await runGit(['fetch', '--prune', '--quiet', '--', options.cloneUrl, '+refs/*:refs/*'], {
      gitDir: options.mirrorDir,
      timeoutMs,
    });
  }
  const branch = options.branch ?? (await remoteHeadBranch(options.cloneUrl, timeoutMs));
  if (branch) await runGit(['symbolic-ref', 'HEAD', `refs/heads/${branch}`], { gitDir: options.mirrorDir });
  return { defaultBranch: branch, head: branch ? await resolveBranchHead(options.mirrorDir, branch) : null, cloned };
}
