/// <reference lib="dom" />
// The dashboard in headless Chromium (Debian's chromium, driven by playwright-core): sign in with a
// token, create an insight in the form (the parser's message shows while typing), wait for its
// backfill, and check the chart's points and legend; a view without a grant is not listed. Saves
// a screenshot to test-output/dashboard.png.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { chromium } from 'playwright-core';
import { issueToken } from '../../src/auth/tokens.ts';
import { projectRoot } from '../../src/project-root.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { startTestWorker } from '../helpers/worker.ts';
import { createFixtureRepository, tempDir } from '../fixtures/git-repository.ts';

const SECRET = new TextEncoder().encode('e2e-test-secret-that-is-long-enough-for-hs256');
const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => fs.existsSync(file));

test('create an insight in the dashboard, watch it backfill, and see its chart', async (t) => {
  if (!CHROMIUM)
    throw new Error("Chromium not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH");
  const db = await useTestDatabase(t);
  const day = 86_400_000;
  const repo = createFixtureRepository(`${tempDir(t)}/api.git`, [
    { date: new Date(Date.now() - 50 * day).toISOString(), files: { 'a.ts': 'TODO one\n' } },
    { date: new Date(Date.now() - 30 * day).toISOString(), files: { 'b.ts': 'TODO two\nTODO three\n' } },
    { date: new Date(Date.now() - 10 * day).toISOString(), files: { 'c.ts': 'TODO four\n' } },
  ]);
  await db.pool.query(`select insights_core.register_repository($1, 'acme/api')`, [repo.path]);
  const secret = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Secret view', '[{"query": "FIXME"}]', array['acme/api'], null, 'WEEK', 1, null, 2)`,
    )
  ).rows[0].id;
  const worker = await startTestWorker(t, db.connectionString);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET, dataDir: worker.dataDir });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.url);
  await page.fill('#token', await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '1h' }, SECRET));
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#signed-in:not([hidden])');

  await page.click('#new-insight');
  await page.fill('input[name=title]', 'E2E TODOs');
  await page.fill('.series-row .query', 'TODO file:(');
  await page.waitForSelector('.series-row .check.bad');
  t.regex(
    (await page.textContent('.series-row .check')) ?? '',
    /invalid regular expression in file:.* at 10/,
    "the parser's message while typing",
  );
  // The capture-group toggle: the same query is checked as a detect-and-track series.
  await page.fill('.series-row .query', 'TODO');
  await page.waitForSelector('.series-row .check.ok');
  await page.check('.series-row .capture-toggle');
  await page.waitForSelector('.series-row .check.bad');
  t.regex((await page.textContent('.series-row .check')) ?? '', /needs a regexp with a capturing group/);
  await page.uncheck('.series-row .capture-toggle');
  await page.waitForSelector('.series-row .check.ok');
  await page.fill('input[name=repositories]', 'acme/api');
  await page.fill('input[name=samples]', '8');
  await page.click('#create button[type=submit]');

  // Settled: the backfill is done and the first recording and snapshot are stored.
  const view = await waitFor(
    async () => (await db.pool.query(`select id from insight_view where title = 'E2E TODOs'`)).rows[0],
    30_000,
    'the view',
  );
  await waitFor(
    async () =>
      (
        await db.pool.query(
          `select 1 as done from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
      where vs.insight_view_id = $1 and s.backfill_completed_at is not null and s.last_snapshot_at >= s.created_at and s.next_recording_after > s.created_at`,
          [view.id],
        )
      ).rows[0],
    120_000,
    'the backfill and first recording',
  );
  const line = (
    await db.pool.query(`select "values" from insight_view_data((select v from insight_view v where id = $1))`, [
      view.id,
    ])
  ).rows[0].values as number[];
  const expected = line.length;
  t.true(expected >= 9, 'eight weekly samples and the live recording');
  t.true(
    line.slice(0, -1).some((value) => value > 0),
    'the history is not all zeros',
  );

  await page.click(`#view-${view.id}`);
  const card = `[data-view-id="${view.id}"]`;
  await page.waitForFunction(
    (selector) => document.querySelector(`${selector} .status`)?.textContent === 'up to date',
    card,
    { timeout: 60_000 },
  );
  await page.waitForFunction(
    ([selector, points]) =>
      document.querySelector(`${selector} canvas`)?.getAttribute('data-points') === String(points),
    [card, expected] as const,
    { timeout: 30_000 },
  );
  const chart = await page.evaluate((selector) => {
    const instance = (window as any).Chart.getChart(document.querySelector(`${selector} canvas`));
    return {
      values: instance.data.datasets[0].data.map((point: { y: number }) => point.y),
      legend: instance.legend.legendItems.map((item: { text: string }) => item.text),
    };
  }, card);
  t.deepEqual(chart, { values: line, legend: ['TODO'] }, 'one point per sample, with the values the API returns');

  const listed = await page.textContent('#views');
  t.true(listed!.includes('E2E TODOs'));
  t.false(listed!.includes('Secret view'), 'a view without a grant is not listed');
  t.is(await page.$(`#view-${secret}`), null);

  const output = path.join(projectRoot, 'test-output');
  fs.mkdirSync(output, { recursive: true });
  await page.screenshot({ path: path.join(output, 'dashboard.png') });
  t.deepEqual(errors, [], 'no errors in the page');
});
