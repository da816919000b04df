// Every Graphile Worker task the service runs, by identifier. One task per file in tasks/, named as
// its identifier. Recurring tasks are wrapped with withRunLog so each run shows in task_runs.
import type { TaskList } from 'graphile-worker';
import { identifier as backfillNewId, makeTask as makeBackfillNew } from '../../tasks/backfill_new.ts';
import { identifier as backfillStepId, makeTask as makeBackfillStep } from '../../tasks/backfill_step.ts';
import enqueueDueRecordings, { identifier as enqueueDueRecordingsId } from '../../tasks/enqueue_due_recordings.ts';
import ensurePartitions, { identifier as ensurePartitionsId } from '../../tasks/ensure_partitions.ts';
import { identifier as enqueueRetentionId, makeTask as makeEnqueueRetention } from '../../tasks/enqueue_retention.ts';
import pruneDeletedSeries, { identifier as pruneDeletedSeriesId } from '../../tasks/prune_deleted_series.ts';
import pruneTaskRuns, { identifier as pruneTaskRunsId } from '../../tasks/prune_task_runs.ts';
import { identifier as recordSeriesId, makeTask as makeRecordSeries } from '../../tasks/record_series.ts';
import retainSeries, { identifier as retainSeriesId } from '../../tasks/retain_series.ts';
import syncDueRepos, { identifier as syncDueReposId } from '../../tasks/sync_due_repos.ts';
import { identifier as syncRepoId, makeTask as makeSyncRepo } from '../../tasks/sync_repo.ts';
import { withFinalPayloadErrors } from './payload.ts';
import { withRunLog } from './run-log.ts';
import type { TaskContext } from './task-context.ts';

export function makeTaskList(context: TaskContext): TaskList {
  const tasks: TaskList = {
    [pruneTaskRunsId]: withRunLog(pruneTaskRunsId, pruneTaskRuns),
    [syncDueReposId]: withRunLog(syncDueReposId, syncDueRepos),
    [enqueueDueRecordingsId]: withRunLog(enqueueDueRecordingsId, enqueueDueRecordings),
    [enqueueRetentionId]: withRunLog(enqueueRetentionId, makeEnqueueRetention(context)),
    [pruneDeletedSeriesId]: withRunLog(pruneDeletedSeriesId, pruneDeletedSeries),
    [ensurePartitionsId]: withRunLog(ensurePartitionsId, ensurePartitions),
    [retainSeriesId]: withFinalPayloadErrors(retainSeries),
    [syncRepoId]: withFinalPayloadErrors(makeSyncRepo(context)),
    [recordSeriesId]: withFinalPayloadErrors(makeRecordSeries(context)),
    [backfillNewId]: withFinalPayloadErrors(makeBackfillNew(context)),
    [backfillStepId]: withFinalPayloadErrors(makeBackfillStep(context)),
  };
  // Sorted by identifier, because a starting worker inserts its identifiers into Graphile Worker's
  // task table in this order, while a transaction of ours may add jobs for two identifiers not yet
  // there (creating an insight: backfill_new, then record_series). Opposite orders deadlock (40P01);
  // one order makes the later inserter wait instead. Our SQL functions add jobs in identifier order
  // too; the demo seed, which does not, runs before the worker starts (src/service.ts).
  return Object.fromEntries(Object.entries(tasks).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Recurring work (crontab syntax of Graphile Worker: minute hour day month weekday task ?options).
 * The recurring_tasks table holds the same schedule for task_run_status (a test keeps them equal).
 * Daily tasks run at night UTC; ?fill=1d runs a missed day once after downtime.
 */
export const crontab = [
  '* * * * * enqueue_due_recordings',
  '*/5 * * * * sync_due_repos',
  '29 2 * * * ensure_partitions ?fill=1d',
  '41 2 * * * enqueue_retention ?fill=1d',
  '53 2 * * * prune_deleted_series ?fill=1d',
  '17 3 * * * prune_task_runs ?fill=1d',
].join('\n');
