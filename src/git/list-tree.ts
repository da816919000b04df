// Lists every file of a commit with its blob id and size (`git ls-tree -r -l -z`).
import { runGit } from './run-git.ts';

export interface TreeEntry {
  path: string;
  oid: string;
  /** Bytes; undefined when the listing came from a diff (the reader then checks the content). */
  size: number | undefined;
  mode: string;
}

/** Regular files and executables only: symlinks and submodules are not searched. */
const SEARCHED_MODES = new Set(['100644', '100755']);

export async function listTree(gitDir: string, commit: string): Promise<TreeEntry[]> {
  const output = await runGit(['ls-tree', '-r', '-l', '-z', '--full-tree', commit], { gitDir });
  const entries: TreeEntry[] = [];
  const text = output.toString('utf8');
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\0', start);
    const record = text.slice(start, end < 0 ? text.length : end);
    start = end < 0 ? text.length : end + 1;
    const tab = record.indexOf('\t');
    const [mode, , oid, size] = record.slice(0, tab).split(/ +/);
    if (!SEARCHED_MODES.has(mode!)) continue;
    entries.push({ path: record.slice(tab + 1), oid: oid!, size: Number(size), mode: mode! });
  }
  return entries;
}
