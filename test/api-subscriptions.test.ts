// Backfill progress is pushed over graphql-transport-ws: the current state at once, then an event
// when the backfill advances. The view in each event is read as the subscriber (RLS applies), and
// a view the subscriber may not see cannot be subscribed to.
import test from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { useTestDatabase } from './helpers/database.ts';
import { subscribe } from './helpers/graphql-ws.ts';
import { startTestServer } from './helpers/server.ts';

const SECRET = new TextEncoder().encode('subscriptions-test-secret-long-enough-for-hs256');
const token = (userId: number) => issueToken({ userId, orgIds: [], admin: false, ttl: '5m' }, SECRET);

test('backfillProgress pushes the view when its backfill advances, to those who may see it', async (t) => {
  const db = await useTestDatabase(t);
  const view = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Debt', '[{"query": "TODO"}]', null, null, 'WEEK', 1, null, 1)`,
    )
  ).rows[0].id;
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const query = `subscription { backfillProgress(viewId: ${view}) { insightView { title loading seriesStatus { backfillState } } } }`;

  const mine = await subscribe(t, server.url, query, await token(1));
  const first = await mine.next();
  t.deepEqual(first.payload.data.backfillProgress.insightView, {
    title: 'Debt',
    loading: true,
    seriesStatus: [{ backfillState: 'new' }],
  });
  // Without a grant the subscription is refused, and no event tells when the backfill moves.
  const theirs = await subscribe(t, server.url, query, await token(2));
  const refused = await theirs.next();
  t.regex(JSON.stringify(refused.payload), new RegExp(`no insight view ${view} that you may see`));
  t.false(JSON.stringify(refused.payload).includes('Debt'));

  // The LISTEN may start a moment after the first event: repeat the change until it is seen.
  const states = ['processing', 'completed'];
  let pushed;
  for (let attempt = 0; attempt < 60 && !pushed; attempt++) {
    await db.pool.query(`update insight_series_backfill set state = $1`, [states[attempt % 2]]);
    pushed = await mine.next(500).catch(() => undefined);
  }
  t.truthy(pushed, 'an event arrived after the backfill changed');
  t.true(states.includes(pushed!.payload.data.backfillProgress.insightView.seriesStatus[0].backfillState));
  await t.throwsAsync(theirs.next(500), { message: /no subscription message/ }, 'the refused subscriber got nothing');
});

test('a subscription with a forged token gets an error and no data', async (t) => {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const forged = await issueToken(
    { userId: 1, orgIds: [], admin: false, ttl: '5m' },
    new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256'),
  );
  const subscription = await subscribe(
    t,
    server.url,
    'subscription { backfillProgress(viewId: 1) { insightView { title } } }',
    forged,
  );
  const message = await subscription.next();
  t.not(message.type, 'next');
  t.regex(JSON.stringify(message.payload), /invalid token: bad signature/);
});
