// Daily usage limits (usage_quotas), set through the core writer.
import type { Queryable } from './queryable.ts';

/** Sets the daily limit of an event type; null removes it. */
export async function setDailyUsageLimit(db: Queryable, eventType: string, dailyLimit: number | null): Promise<void> {
  await db.query('select insights_core.set_daily_usage_limit($1, $2)', [eventType, dailyLimit]);
}
