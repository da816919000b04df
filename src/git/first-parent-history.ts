// The first-parent history of a branch with committer times, and the commit each sample time
// resolves to: the first commit on that history (newest first) committed at or before the time,
// which is what `git rev-list --first-parent -1 --before=<time>` answers, for many times at once.
import { runGit } from './run-git.ts';

export interface HistoryCommit {
  oid: string;
  /** Committer time, epoch seconds. */
  committedAt: number;
}

export async function firstParentHistory(gitDir: string, branch: string): Promise<HistoryCommit[]> {
  const output = (
    await runGit(['log', '--first-parent', '--format=%H %ct', `refs/heads/${branch}`, '--'], { gitDir })
  ).toString();
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [oid, time] = line.split(' ');
      return { oid: oid!, committedAt: Number(time) };
    });
}

/** For each time, the commit it resolves to, or undefined before the first commit. */
export function resolveSampleCommits(history: HistoryCommit[], times: Date[]): Array<string | undefined> {
  return times.map((time) => {
    const seconds = Math.floor(time.getTime() / 1000);
    return history.find((commit) => commit.committedAt <= seconds)?.oid;
  });
}
