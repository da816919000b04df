// A registered repository as the workers see it, and where its mirror lives on this machine.
import path from 'node:path';

export interface Repository {
  id: number;
  name: string;
  clone_url: string;
  default_branch: string | null;
  mirror_path: string;
  last_fetch_attempt_at: Date | null;
  last_fetched_at: Date | null;
  last_fetch_error: string | null;
}

export function mirrorDirectory(dataDir: string, repository: Pick<Repository, 'id' | 'mirror_path'>): string {
  return path.join(dataDir, repository.mirror_path ?? `mirrors/${repository.id}.git`);
}
