// Every Graphile Worker task the service runs, by identifier. One task per file in tasks/, named as
// its identifier. Recurring tasks are wrapped with withRunLog so each run shows in task_runs; their
// schedule is the insights_core.recurring_tasks table (read by start-worker.ts as the crontab).
import type { TaskList } from 'graphile-worker';
import { identifier as backfillNewId, makeTask as makeBackfillNew } from '../../tasks/backfill_new.ts';
import { identifier as backfillStepId, makeTask as makeBackfillStep } from '../../tasks/backfill_step.ts';
import {
  identifier as enqueueDueRecordingsId,
  makeTask as makeEnqueueDueRecordings,
} from '../../tasks/enqueue_due_recordings.ts';
import { identifier as ensurePartitionsId, makeTask as makeEnsurePartitions } from '../../tasks/ensure_partitions.ts';
import { identifier as enqueueRetentionId, makeTask as makeEnqueueRetention } from '../../tasks/enqueue_retention.ts';
import {
  identifier as pruneDeletedSeriesId,
  makeTask as makePruneDeletedSeries,
} from '../../tasks/prune_deleted_series.ts';
import { identifier as pruneTaskRunsId, makeTask as makePruneTaskRuns } from '../../tasks/prune_task_runs.ts';
import { identifier as recordSeriesId, makeTask as makeRecordSeries } from '../../tasks/record_series.ts';
import { identifier as retainSeriesId, makeTask as makeRetainSeries } from '../../tasks/retain_series.ts';
import { identifier as syncDueReposId, makeTask as makeSyncDueRepos } from '../../tasks/sync_due_repos.ts';
import { identifier as syncRepoId, makeTask as makeSyncRepo } from '../../tasks/sync_repo.ts';
import { withFinalPayloadErrors } from './payload.ts';
import { withRunLog } from './run-log.ts';
import type { TaskContext } from './task-context.ts';

export function makeTaskList(context: TaskContext): TaskList {
  const tasks: TaskList = {
    [pruneTaskRunsId]: withRunLog(pruneTaskRunsId, makePruneTaskRuns(context), context.pool),
    [syncDueReposId]: withRunLog(syncDueReposId, makeSyncDueRepos(context), context.pool),
    [enqueueDueRecordingsId]: withRunLog(enqueueDueRecordingsId, makeEnqueueDueRecordings(context), context.pool),
    [enqueueRetentionId]: withRunLog(enqueueRetentionId, makeEnqueueRetention(context), context.pool),
    [pruneDeletedSeriesId]: withRunLog(pruneDeletedSeriesId, makePruneDeletedSeries(context), context.pool),
    [ensurePartitionsId]: withRunLog(ensurePartitionsId, makeEnsurePartitions(context), context.pool),
    [retainSeriesId]: withFinalPayloadErrors(makeRetainSeries(context), context.pool),
    [syncRepoId]: withFinalPayloadErrors(makeSyncRepo(context), context.pool),
    [recordSeriesId]: withFinalPayloadErrors(makeRecordSeries(context), context.pool),
    [backfillNewId]: withFinalPayloadErrors(makeBackfillNew(context), context.pool),
    [backfillStepId]: withFinalPayloadErrors(makeBackfillStep(context), context.pool),
  };
  // Sorted by identifier, because a starting worker inserts its identifiers into Graphile Worker's
  // task table in this order, while a transaction of ours may add jobs for two identifiers not yet
  // there (creating an insight: backfill_new, then record_series). Opposite orders deadlock (40P01);
  // one order makes the later inserter wait instead. Our SQL functions add jobs in identifier order
  // too; the demo seed, which does not, runs before the worker starts (src/service.ts).
  return Object.fromEntries(Object.entries(tasks).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
