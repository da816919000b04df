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

/** A mirror that cannot be read as the repository it mirrors: a ref names an object it lacks. */
export class DamagedMirrorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DamagedMirrorError';
  }
}

/**
 * The commit at the tip of `branch` in the mirror, or null for an empty repository (no refs at
 * all). Anything else that keeps the tip from being read is an error, never "nothing to count": a
 * branch whose commit the mirror lacks (DamagedMirrorError), or a branch that does not exist while
 * others do.
 */
export async function resolveBranchHead(mirrorDir: string, branch: string): Promise<string | null> {
  try {
    return (await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { gitDir: mirrorDir }))
      .toString()
      .trim();
  } catch (error) {
    if (!(error instanceof GitError && error.exitCode === 1)) throw error;
  }
  // rev-parse only says "not a commit". for-each-ref reads refs without their objects.
  const anyRef = (await runGit(['for-each-ref', '--count=1', '--format=%(refname)'], { gitDir: mirrorDir }))
    .toString()
    .trim();
  if (!anyRef) return null;
  const tip = (await runGit(['for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`], { gitDir: mirrorDir }))
    .toString()
    .trim();
  if (tip) {
    throw new DamagedMirrorError(
      `branch ${branch} points to ${tip.slice(0, 12)}, which the mirror does not have as a commit: the mirror is damaged`,
    );
  }
  throw new Error(`branch ${branch} does not exist in the repository (it has other refs); set the branch to follow`);
}

/** What git says when the local repository, not the remote or the network, is at fault. */
const LOCAL_DAMAGE =
  /bad object|missing (?:blob|tree|commit|object)|corrupt|did not send all necessary objects|unable to read|invalid (?:sha1|object)|bad tree|fatal: packfile/i;

/** Whether a failed fetch's message points to damage in the mirror itself (worth an fsck). */
export function suggestsLocalDamage(error: unknown): boolean {
  return error instanceof GitError && LOCAL_DAMAGE.test(error.stderr);
}

/**
 * Whether git finds objects missing in the mirror (`fsck --connectivity-only`: reachability, no
 * content checks). An fsck that does not finish in five minutes answers "not known to be damaged".
 */
export async function mirrorIsDamaged(mirrorDir: string): Promise<boolean> {
  try {
    await runGit(['fsck', '--connectivity-only', '--no-progress', '--no-dangling'], {
      gitDir: mirrorDir,
      timeoutMs: 5 * 60_000,
    });
    return false;
  } catch (error) {
    if (error instanceof GitError) return error.exitCode !== null;
    throw error;
  }
}

/**
 * Clones a damaged mirror again. The damaged one is kept aside until the new clone works, and put
 * back if it does not (a fetch may still repair it later).
 */
export async function recloneMirror(options: SyncMirrorOptions): Promise<MirrorState> {
  const aside = `${options.mirrorDir}.damaged-${process.pid}-${Date.now()}`;
  fs.renameSync(options.mirrorDir, aside);
  try {
    const state = await syncMirror(options);
    fs.rmSync(aside, { recursive: true, force: true });
    return state;
  } catch (error) {
    if (!mirrorExists(options.mirrorDir)) {
      fs.rmSync(options.mirrorDir, { recursive: true, force: true });
      fs.renameSync(aside, options.mirrorDir);
    } else fs.rmSync(aside, { recursive: true, force: true });
    throw error;
  }
}

/** Longer than a clone may take (syncMirror's 10-minute timeout): older leftovers are abandoned. */
const ABANDONED_AFTER_MS = 15 * 60_000;

/**
 * Removes what interrupted clones and re-clones left in a mirrors directory (`<id>.git.partial-<pid>-<ms>`,
 * `<id>.git.damaged-<pid>-<ms>`): those older than any clone may take, whose process is gone (or is
 * an earlier process with this one's pid, as in a container). A damaged mirror whose re-clone never
 * finished is put back, not removed: it may be the only copy of the history.
 */
export function removeAbandonedClones(mirrorsDir: string, now = Date.now()): string[] {
  if (!fs.existsSync(mirrorsDir)) return [];
  const startedAt = now - process.uptime() * 1000;
  const removed: string[] = [];
  for (const entry of fs.readdirSync(mirrorsDir)) {
    const match = /^(.*\.git)\.(partial|damaged)-(\d+)-(\d+)$/.exec(entry);
    if (!match) continue;
    const [, mirror, kind, pid, createdAt] = match as unknown as [string, string, string, string, string];
    if (now - Number(createdAt) < ABANDONED_AFTER_MS) continue;
    const ours = Number(pid) === process.pid;
    if (ours ? Number(createdAt) >= startedAt : processIsAlive(Number(pid))) continue;
    const leftover = path.join(mirrorsDir, entry);
    if (kind === 'damaged' && !mirrorExists(path.join(mirrorsDir, mirror))) {
      fs.rmSync(path.join(mirrorsDir, mirror), { recursive: true, force: true });
      fs.renameSync(leftover, path.join(mirrorsDir, mirror));
    } else fs.rmSync(leftover, { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
