// The core (insights_core) is not API: PostGraphile does not see it, and the API roles may execute
// only its read-only helpers (used by row-level security, the export and computed columns), never
// its writers. A writer the API needs is reached through a public SECURITY DEFINER function.
import test from 'ava';
import { useTestDatabase } from './helpers/database.ts';

const API_ROLES = ['code_insights_anonymous', 'code_insights_user', 'code_insights_admin'];

test('API roles may execute the core read-only helpers, and none of its writers', async (t) => {
  const db = await useTestDatabase(t);
  const { rows } = await db.pool.query<{ name: string; volatile: boolean; role: string; allowed: boolean }>(
    `select p.oid::regprocedure::text as name, p.provolatile = 'v' as volatile, r.role,
            has_function_privilege(r.role, p.oid, 'execute') as allowed
       from pg_proc p cross join unnest($1::text[]) as r(role)
      where p.pronamespace = 'insights_core'::regnamespace`,
    [API_ROLES],
  );
  t.true(rows.filter((r) => r.volatile).length > 50, 'the core has its writers');
  t.deepEqual(
    rows.filter((r) => r.volatile && r.allowed).map((r) => `${r.role}: ${r.name}`),
    [],
    'no API role may run a core writer',
  );
  t.deepEqual(
    rows.filter((r) => !r.volatile && !r.allowed).map((r) => `${r.role}: ${r.name}`),
    [],
    'the read-only helpers serve row-level security for every API role',
  );
});

test('an API role calling a core writer directly is refused', async (t) => {
  const db = await useTestDatabase(t);
  const client = await db.pool.connect();
  t.teardown(() => client.release(true));
  await client.query('begin');
  await client.query(
    `select set_config('role', 'code_insights_user', true), set_config('jwt.claims.user_id', '1', true)`,
  );
  const error = await t.throwsAsync(client.query(`select insights_core.dashboard_create('mine', 1)`));
  t.is((error as { code?: string }).code, '42501', 'permission denied');
  await client.query('rollback');
});
