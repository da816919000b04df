// BACKFILL_DAILY_BUDGET_PER_USER is applied to the database at start-up (usage_quotas is what the
// SQL checks): a number sets the limit, "off" removes it, unset leaves whatever a DBA set.
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { queryOnce } from './query-once.ts';

export async function applyUsageLimit(connectionString: string, config: Config, logger: Logger): Promise<void> {
  const budget = config.BACKFILL_DAILY_BUDGET_PER_USER;
  if (budget === undefined) return;
  const limit = budget === 'off' ? null : budget;
  await queryOnce(connectionString, `select set_daily_usage_limit('backfill_cost', $1)`, [limit]);
  logger.info(limit === null ? 'daily backfill budget per user: off' : `daily backfill budget per user: ${limit}`);
}
