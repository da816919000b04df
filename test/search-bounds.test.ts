// What a search leaves behind and how much it records (issue 13, item 19): a search that misses its
// deadline leaves no git process, running or defunct; a capture-group series keeps the 500 most
// frequent values of a repository at a commit, and a point that left values out says so.
import fs from 'node:fs';
import test from 'ava';
import { SearchTimeoutError } from '../src/search/count-blobs.ts';
import { MAX_CAPTURE_VALUES, truncateCapture } from '../src/search/count-matches.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { searchCommit } from '../src/search/search-commit.ts';
import { useTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

/** This process's child processes: pid, name and state (R, S, Z for defunct...). */
function children(): Array<{ pid: number; name: string; state: string }> {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
    found.push({
      pid: Number(entry),
      name: /^Name:\s+(.*)$/m.exec(status)![1]!,
      state: /^State:\s+(\S)/m.exec(status)![1]!,
    });
  }
  return found;
}

// A million one-character matches: about a second of matching, well past a 200 ms deadline.
const SLOW = { 'slow.txt': 'ab'.repeat(500_000) };

// Serial: it counts this process's children, so no other test of this file may run git meanwhile.
test.serial('a search past its deadline leaves no git process behind, running or defunct', async (t) => {
  const repo = createFixtureRepository(`${tempDir(t)}/slow.git`, [{ date: '2024-01-01T00:00:00Z', files: SLOW }]);
  t.deepEqual(children(), [], 'none before');
  for (let i = 0; i < 3; i++) {
    // A regexp runs in a search thread, which is terminated at the deadline.
    await t.throwsAsync(
      searchCommit({ gitDir: repo.path, commit: 'main', query: parseQuery('/(.)/'), deadline: Date.now() + 200 }),
      { instanceOf: SearchTimeoutError },
    );
    t.deepEqual(children(), [], `no git left after regexp search ${i + 1}`);
    // A literal runs in this thread and stops between blobs.
    await t.throwsAsync(
      searchCommit({ gitDir: repo.path, commit: 'main', query: parseQuery('ab'), deadline: Date.now() - 1 }),
      { instanceOf: SearchTimeoutError },
    );
    t.deepEqual(children(), [], `no git left after literal search ${i + 1}`);
  }
  // And still none a moment later (a defunct process stays until someone waits for it).
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.deepEqual(children(), []);
});

test('a capture-group search keeps the 500 most frequent values and says how many it left out', async (t) => {
  t.is(MAX_CAPTURE_VALUES, 500);
  // 600 distinct values: v0..v99 six times each, v100..v599 once; ties broken by code-unit order.
  const lines: string[] = [];
  for (let i = 0; i < 600; i++) for (let k = 0; k < (i < 100 ? 6 : 1); k++) lines.push(`v=${i};`);
  const repo = createFixtureRepository(`${tempDir(t)}/many.git`, [
    { date: '2024-01-01T00:00:00Z', files: { 'values.txt': `${lines.join('\n')}\n` } },
  ]);
  const result = await searchCommit({
    gitDir: repo.path,
    commit: 'main',
    query: parseQuery('/v=(\\d+);/', { capture: true }),
    deadline: Date.now() + 30_000,
  });
  t.is(result.value, 1100, 'the total counts every match');
  t.is(result.captures!.size, 500);
  for (let i = 0; i < 100; i++) t.is(result.captures!.get(String(i)), 6, `the frequent value ${i} is kept`);
  const once = [...result.captures!.keys()].filter((value) => Number(value) >= 100);
  const expectedOnce = Array.from({ length: 500 }, (_, i) => String(i + 100))
    .sort()
    .slice(0, 400);
  t.deepEqual(once.sort(), expectedOnce.sort(), 'among equal counts, the first in code-unit order');
  t.deepEqual(result.capturesOmitted, { values: 100, count: 100 });

  const few = await searchCommit({
    gitDir: repo.path,
    commit: 'main',
    query: parseQuery('/v=(\\d)\\d;/', { capture: true }),
    deadline: Date.now() + 30_000,
  });
  t.is(few.captures!.size, 9);
  t.is(few.capturesOmitted, undefined, 'under the cap nothing is left out');
});

test('a capture value is cut at 100 code units, never inside a surrogate pair', (t) => {
  t.is(truncateCapture('x'.repeat(150)), 'x'.repeat(100));
  t.is(truncateCapture(`${'x'.repeat(99)}😀tail`), 'x'.repeat(99), 'the emoji would be half a character');
  t.is(truncateCapture(`${'x'.repeat(98)}😀tail`), `${'x'.repeat(98)}😀`);
  t.is(truncateCapture('short'), 'short');
});

test('a recording over the capture cap stores the 500 most frequent values and an incomplete point', async (t) => {
  const db = await useTestDatabase(t);
  const lines: string[] = [];
  for (let i = 0; i < 520; i++) lines.push(`v=${i};`);
  // A value whose 100th code unit starts an emoji: stored cut before it, not refused by jsonb.
  for (let k = 0; k < 5; k++) lines.push(`v=${'x'.repeat(99)}😀;`);
  const repo = createFixtureRepository(`${tempDir(t)}/many.git`, [
    { date: new Date(Date.now() - 20 * 86_400_000).toISOString(), files: { 'values.txt': `${lines.join('\n')}\n` } },
  ]);
  await db.pool.query(`select insights_core.register_repository($1, 'acme/many')`, [repo.path]);
  const view = await db.pool.query<{ id: number }>(
    `select (insights_core.create_line_insight('values', '[{"query": "/v=([^;]+);/", "capture_groups": true}]',
             array['acme/many'], null, 'WEEK', 1, now() - interval '15 days', 1)).id`,
  );
  const { rows } = await db.pool.query<{ id: number; series_id: string }>(
    `select s.id, s.series_id from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
      where vs.insight_view_id = $1`,
    [view.rows[0]!.id],
  );
  const series = rows[0]!;
  await startTestWorker(t, db.connectionString);
  await db.pool.query(
    `select graphile_worker.add_job('record_series', json_build_object('series_id', $1::int, 'mode', 'snapshot'))`,
    [series.id],
  );
  const stored = await waitFor(
    async () =>
      (
        await db.pool.query<{ n: number; emoji: number }>(
          `select count(*)::int as n, count(*) filter (where capture = repeat('x', 99) and value = 5)::int as emoji
             from series_points_snapshots where series_id = $1 having count(*) > 0`,
          [series.series_id],
        )
      ).rows[0],
    120_000,
    'the snapshot',
  );
  t.deepEqual(stored, { n: 500, emoji: 1 }, 'the 500 most frequent values, the emoji one among them');
  // (The backfill runs meanwhile and marks its own sample times: count the snapshot's.)
  const incomplete = await db.pool.query(
    `select reason from insight_series_incomplete_points
      where series_id = $1 and reason = 'capture-limit'
        and time in (select timezone('utc', p.time) from series_points_snapshots p where p.series_id = $2)`,
    [series.id, series.series_id],
  );
  t.is(incomplete.rows.length, 1, 'the snapshot point says values were left out');

  // The backfill (weekly samples after the commit) marks its points the same way.
  await waitFor(
    async () =>
      (
        await db.pool.query(`select 1 from insight_series_backfill where series_id = $1 and state = 'completed'`, [
          series.id,
        ])
      ).rows[0],
    120_000,
    'the backfill',
  );
  const backfilled = await db.pool.query<{ n: number; marked: number }>(
    `select count(distinct p.time)::int as n,
            (select count(*)::int from insight_series_incomplete_points i
              where i.series_id = $2 and i.reason = 'capture-limit'
                and i.time in (select timezone('utc', q.time) from series_points q where q.series_id = $1)) as marked
       from series_points p where p.series_id = $1`,
    [series.series_id, series.id],
  );
  // Two backfilled samples and, if it ran by now, the first recording.
  t.true(backfilled.rows[0]!.n >= 2, JSON.stringify(backfilled.rows[0]));
  t.is(backfilled.rows[0]!.marked, backfilled.rows[0]!.n, 'each sample over the cap is marked');
});
