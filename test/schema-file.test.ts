// schema.graphql is the live schema: regenerate it with `code-insights schema export --out schema.graphql`.
import fs from 'node:fs';
import test from 'ava';
import { SCHEMA_FILE } from '../src/cli/commands/schema.ts';
import { exportSchema } from '../src/server/export-schema.ts';
import { useTestDatabase } from './helpers/database.ts';

test('the committed schema.graphql matches the schema built from the migrations', async (t) => {
  const db = await useTestDatabase(t);
  const live = await exportSchema(db.pool);
  t.true(live.includes('type Query'));
  t.is(
    fs.readFileSync(SCHEMA_FILE, 'utf8'),
    live,
    'schema.graphql is out of date: run `npx code-insights schema export --out schema.graphql`',
  );
});
