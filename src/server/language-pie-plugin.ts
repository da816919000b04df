// Language pie charts are computed when read: before InsightView.pie runs its SQL, this brings the
// language stats of the chart's repositories up to date (src/server/language-stats.ts). The
// repositories are looked up as the requester, so row-level security applies; the cache is written
// with the owner pool.
import { sideEffectWithPgClient, type PgClient } from 'postgraphile/@dataplan/pg';
import { wrapPlans } from 'postgraphile/utils';
import { type LanguageStatsOptions, refreshLanguageStats } from './language-stats.ts';

const LANGUAGE_PIE_REPOSITORIES = `
  select distinct r.id
    from insight_view_series vs
    join insight_series s on s.id = vs.insight_series_id
    cross join lateral unnest(insight_series_repository_ids(s)) r(id)
   where vs.insight_view_id = $1 and s.just_in_time`;

export function makeLanguagePiePlugin(options: LanguageStatsOptions): GraphileConfig.Plugin {
  return wrapPlans((build) => ({
    InsightView: {
      pie: (plan, $view) => {
        const executor = build.input.pgRegistry.pgResources.insight_view!.executor;
        const $id = ($view as unknown as { get(attribute: string): import('postgraphile/grafast').Step }).get('id');
        sideEffectWithPgClient(executor, $id, async (client: PgClient, viewId: unknown) => {
          const { rows } = await client.query<{ id: number }>({ text: LANGUAGE_PIE_REPOSITORIES, values: [viewId] });
          await refreshLanguageStats(options, rows.map((row) => row.id));
        });
        return plan();
      },
    },
  }));
}
