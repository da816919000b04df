// Reads a query from sql/ (SQL kept as SQL, not in TypeScript strings), once per process.
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project-root.ts';

const cache = new Map<string, string>();

export function sqlFile(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(projectRoot, 'sql', `${name}.sql`), 'utf8');
    cache.set(name, text);
  }
  return text;
}
