// Fetches a registered repository into this machine's mirror and records the outcome in SQL
// (last attempt, last success, last error without credentials, the followed branch).
import type pg from 'pg';
import { errorMessage } from '../logger.ts';
import { redactCredentials } from '../git/redact-credentials.ts';
import { type MirrorState, mirrorExists, resolveBranchHead, syncMirror } from '../git/mirror.ts';
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
    const state = await syncMirror({
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
  return { gitDir, branch, head: await resolveBranchHead(gitDir, branch) };
}
