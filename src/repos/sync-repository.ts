// Fetches a registered repository into this machine's mirror and records the outcome in SQL
// (last attempt, last success, last error without credentials, the followed branch).
import type pg from 'pg';
import { errorMessage } from '../logger.ts';
import { redactCredentials } from '../git/redact-credentials.ts';
import {
  DamagedMirrorError,
  type MirrorState,
  mirrorExists,
  mirrorIsDamaged,
  recloneMirror,
  resolveBranchHead,
  suggestsLocalDamage,
  type SyncMirrorOptions,
  syncMirror,
} from '../git/mirror.ts';
import { recordFetchAttempt, recordFetchError, recordFetchSuccess } from '../store/repositories.ts';
import { mirrorDirectory, type Repository } from './repository.ts';

export interface SyncRepositoryOptions {
  pool: pg.Pool;
  dataDir: string;
  repository: Repository;
}

export async function syncRepository({ pool, dataDir, repository }: SyncRepositoryOptions): Promise<MirrorState> {
  await recordFetchAttempt(pool, repository.id);
  try {
    const state = await syncOrRepair({
      cloneUrl: repository.clone_url,
      mirrorDir: mirrorDirectory(dataDir, repository),
      branch: repository.default_branch,
    });
    await recordFetchSuccess(pool, repository.id, state.defaultBranch);
    return state;
  } catch (error) {
    // lastFetchError is readable by anyone who sees the repository: git's message may quote the URL.
    const message = redactCredentials(errorMessage(error));
    await recordFetchError(pool, repository.id, message);
    throw new Error(message, { cause: error });
  }
}

/** Fetches the mirror; one that git finds damaged (objects missing) is cloned again instead. */
async function syncOrRepair(options: SyncMirrorOptions): Promise<MirrorState> {
  try {
    return await syncMirror(options);
  } catch (error) {
    // An fsck walks the whole history: only when git's message points to the mirror itself (a
    // network or authentication failure says nothing about it).
    const damaged =
      error instanceof DamagedMirrorError ||
      (suggestsLocalDamage(error) && mirrorExists(options.mirrorDir) && (await mirrorIsDamaged(options.mirrorDir)));
    if (!damaged) throw error;
    return recloneMirror(options);
  }
}

/**
 * The mirror and followed branch of a repository, cloning it first if this machine has no mirror
 * yet (a worker on another host can take any repository).
 */
export async function ensureMirror(
  options: SyncRepositoryOptions,
): Promise<{ gitDir: string; branch: string | null; head: string | null }> {
  const gitDir = mirrorDirectory(options.dataDir, options.repository);
  if (!mirrorExists(gitDir) || !options.repository.default_branch) {
    const state = await syncRepository(options);
    return { gitDir, branch: state.defaultBranch, head: state.head };
  }
  const branch = options.repository.default_branch;
  try {
    return { gitDir, branch, head: await resolveBranchHead(gitDir, branch) };
  } catch (error) {
    if (!(error instanceof DamagedMirrorError)) throw error;
    // Fetch (and re-clone if the fetch cannot mend it); if that fails too, the error stands.
    const state = await syncRepository(options);
    return { gitDir, branch: state.defaultBranch, head: state.head };
  }
}
