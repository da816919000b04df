// Language pie charts are computed when read: before InsightView.pie runs its SQL, this brings the
// language stats of the chart's repositories up to date (src/server/language-stats.ts). The
// repositories are looked up as the requester, so row-level security applies; the cache is written
// with the owner pool.
import { sideEffectWithPgClient } from 'postgraphile/@dataplan/pg';
import type { NodePostgresPgClient } from 'postgraphile/adaptors/pg';
import { wrapPlans } from 'postgraphile/utils';
import { languagePieRepositoryIds } from '../store/language-stats.ts';
import { type LanguageStatsOptions, refreshLanguageStats } from './language-stats.ts';

export function makeLanguagePiePlugin(options: LanguageStatsOptions): GraphileConfig.Plugin {
  return wrapPlans((build) => ({
    InsightView: {
      pie: (plan, $view) => {
        const executor = build.input.pgRegistry.pgResources.insight_view!.executor;
        const $id = ($view as unknown as { get(attribute: string): import('postgraphile/grafast').Step }).get('id');
        // The pg adaptor's client wraps the requester's connection, inside its transaction.
        sideEffectWithPgClient(executor, $id, async (client: NodePostgresPgClient, viewId: unknown) => {
          await refreshLanguageStats(options, await languagePieRepositoryIds(client.rawClient, Number(viewId)));
        });
        return plan();
      },
    },
  }));
}
