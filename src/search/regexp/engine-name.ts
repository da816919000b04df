// Which engine counts a query, for benchmark and diagnostic output.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { compileMatcher, type MatcherQuery } from '../count-matches.ts';

function re2jsVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('re2js'));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The engine a query's contents are counted with: a literal scan, V8 on translated RE2, or re2js. */
export function describeEngine(query: MatcherQuery): string {
  const matcher = compileMatcher(query, { fast: true });
  if (!matcher.canBacktrack) return 'literal scan (indexOf)';
  return matcher.usesV8
    ? `V8 on the exact translation of the RE2 pattern (re2js ${re2jsVersion()} if it runs out of time)`
    : `RE2 via re2js ${re2jsVersion()}`;
}
