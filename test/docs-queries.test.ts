// The worked queries of docs/api.md run without errors against the real schema.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { projectRoot } from '../src/project-root.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';

test('every GraphQL example in docs/api.md is valid against the schema', async (t) => {
  const db = await useTestDatabase(t);
  const secret = new TextEncoder().encode('docs-test-secret-long-enough-for-hs256-xx');
  const server = await startTestServer(t, db.connectionString, { jwtSecret: secret });
  const doc = fs.readFileSync(path.join(projectRoot, 'docs', 'api.md'), 'utf8');
  const block = doc.match(/```graphql\n([\s\S]*?)```/)![1]!;
  const queries = block
    .split(/\n(?=# \d+\.)/)
    .map((q) => q.replace(/^#.*\n/, '').trim())
    .filter(Boolean);
  t.is(queries.length, 5);
  const token = await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '5m' }, secret);
  for (const query of queries) {
    const { body } = await postGraphql(server.url, query, token);
    t.is(body.errors, undefined, `${query}\n${JSON.stringify(body.errors)}`);
  }
});
