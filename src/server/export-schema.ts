// The GraphQL schema as SDL, for the committed schema.graphql (apps and reviewers read it; a test
// fails when it drifts from the live schema). Building it needs a migrated database.
import { postgraphile } from 'postgraphile';
import { printSchema } from 'postgraphile/graphql';
import type pg from 'pg';
import { makePreset } from './postgraphile-preset.ts';

export async function exportSchema(pool: pg.Pool): Promise<string> {
  // The schema does not depend on the data directory or the secret; neither is used here.
  const preset = makePreset({ pool, dataDir: '', jwtSecret: new Uint8Array(32) });
  const pgl = postgraphile(preset);
  try {
    return `${printSchema(await pgl.getSchema())}\n`;
  } finally {
    await pgl.release();
    for (const service of preset.pgServices ?? []) await service.release?.();
  }
}
