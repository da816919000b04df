// Committer times of given commits (`git log --no-walk`), for predicates such as
// repo:has.commit.after().
import { runGit } from './run-git.ts';

/** Epoch seconds per commit id. */
export async function commitTimes(gitDir: string, commits: string[]): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  if (commits.length === 0) return times;
  const output = await runGit(['log', '--no-walk=unsorted', '--format=%H %ct', ...commits, '--'], { gitDir });
  for (const line of output.toString('utf8').split('\n')) {
    const [commit, seconds] = line.split(' ');
    if (commit && seconds) times.set(commit, Number(seconds));
  }
  return times;
}
