// BACKFILL_DAILY_BUDGET_PER_USER is applied to the database at start-up (usage_quotas is what the
// SQL checks): a number sets the limit, "off" removes it, unset leaves whatever a DBA set.
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { setDailyUsageLimit } from '../store/usage-limits.ts';

export async function applyUsageLimit(connectionString: string, config: Config, logger: Logger): Promise<void> {
  const budget = config.BACKFILL_DAILY_BUDGET_PER_USER;
  if (budget === undefined) return;
  const limit = budget === 'off' ? null : budget;
  // Its own connection: this runs before the service's pools exist.
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await setDailyUsageLimit(client, 'backfill_cost', limit);
  } finally {
    await client.end();
  }
  logger.info(limit === null ? 'daily backfill budget per user: off' : `daily backfill budget per user: ${limit}`);
}
