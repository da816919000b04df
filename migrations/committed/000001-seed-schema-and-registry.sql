--! Previous: -
--! Hash: sha1:171189510974d8b147833439f516e2d3411b2571
--! Message: seed schema and registry

-- Code Insights schema, part 1: the seed contract (../shared/seeds/000_*.txt) implemented as written,
-- plus what the design needs beyond it (repository registry, idempotent points, recurring-task run
-- log). Additions are marked "addition" and described in docs/schema.md.

create extension if not exists citext;
create extension if not exists pg_trgm;

------------------------------------------------------------------------------------------------------
-- Enums
------------------------------------------------------------------------------------------------------
create type presentation_type_enum as enum ('LINE', 'PIE');
create type series_sort_direction_enum as enum ('ASC', 'DESC');
create type series_sort_mode_enum as enum ('RESULT_COUNT', 'LEXICOGRAPHICAL', 'DATE_ADDED');
create type time_unit as enum ('HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR');

------------------------------------------------------------------------------------------------------
-- Series
------------------------------------------------------------------------------------------------------
create table insight_series (
  id serial not null,
  series_id text not null,
  query text not null,
  created_at timestamp without time zone not null default current_timestamp,
  oldest_historical_at timestamp without time zone not null default (current_timestamp - '1 year'::interval),
  last_recorded_at timestamp without time zone not null default (current_timestamp - '10 years'::interval),
  next_recording_after timestamp without time zone not null default current_timestamp,
  deleted_at timestamp without time zone,
  backfill_queued_at timestamp without time zone,
  last_snapshot_at timestamp without time zone default (current_timestamp - '10 years'::interval),
  next_snapshot_after timestamp without time zone default current_timestamp,
  repositories text[],
  sample_interval_unit time_unit not null default 'MONTH'::time_unit,
  sample_interval_value integer not null default 1,
  generated_from_capture_groups boolean not null default false,
  generation_method text not null,
  just_in_time boolean not null default false,
  group_by text,
  backfill_attempts integer not null default 0,
  needs_migration boolean,
  backfill_completed_at timestamp without time zone,
  supports_augmentation boolean not null default true,
  repository_criteria text,
  constraint insight_series_pkey primary key (id)
);
create unique index insight_series_series_id_unique_idx on insight_series using btree (series_id);
create index insight_series_deleted_at_idx on insight_series using btree (deleted_at);
create index insight_series_next_recording_after_idx on insight_series using btree (next_recording_after);

comment on table insight_series is 'Data series that comprise code insights.';
comment on column insight_series.created_at is 'Timestamp when this series was created';
comment on column insight_series.deleted_at is 'Timestamp of a soft-delete of this row.';
comment on column insight_series.generation_method is 'Specifies the execution method for how this series is generated. This helps the system understand how to generate the time series data.';
comment on column insight_series.id is 'Primary key ID of this series';
comment on column insight_series.just_in_time is 'Specifies if the series should be resolved just in time at query time, or recorded in background processing.';
comment on column insight_series.last_recorded_at is 'Timestamp when this series was last recorded (non-historical).';
comment on column insight_series.next_recording_after is 'Timestamp when this series should next record (non-historical).';
comment on column insight_series.oldest_historical_at is 'Timestamp representing the oldest point of which this series is backfilled.';
comment on column insight_series.query is 'Query string that generates this series';
comment on column insight_series.repository_criteria is 'The search criteria used to determine the repositories that are included in this series.';
-- The seed attaches this text to series_id; it describes backfill_completed_at (see docs/schema.md).
comment on column insight_series.series_id is 'Stable, externally visible identifier of this series; series_points.series_id refers to it.';
comment on column insight_series.backfill_completed_at is 'Timestamp that this series completed a full repository iteration for backfill. This flag has limited semantic value, and only means it tried to queue up queries for each repository. It does not guarantee success on those queries.';

create table insight_series_backfill (
  id serial not null,
  series_id integer not null,
  repo_iterator_id integer,
  estimated_cost double precision,
  state text not null default 'new'::text,
  constraint insight_series_backfill_pk primary key (id),
  constraint insight_series_backfill_series_id_fk foreign key (series_id) references insight_series (id) on delete cascade
);

create table insight_series_incomplete_points (
  id serial not null,
  series_id integer not null,
  reason text not null,
  time timestamp without time zone not null,
  repo_id integer,
  constraint insight_series_incomplete_points_pk primary key (id),
  constraint insight_series_incomplete_points_series_id_fk foreign key (series_id) references insight_series (id) on delete cascade
);
create unique index insight_series_incomplete_points_unique_idx on insight_series_incomplete_points using btree (series_id, reason, "time", repo_id);

create table insight_series_recording_times (
  insight_series_id integer,
  recording_time timestamp with time zone,
  snapshot boolean,
  constraint insight_series_recording_time_insight_series_id_recording_t_key unique (insight_series_id, recording_time),
  constraint insight_series_id_fkey foreign key (insight_series_id) references insight_series (id) on delete cascade
);

create table archived_insight_series_recording_times (
  insight_series_id integer not null,
  recording_time timestamp with time zone not null,
  snapshot boolean not null,
  constraint archived_insight_series_recor_insight_series_id_recording_t_key unique (insight_series_id, recording_time),
  constraint insight_series_id_fkey foreign key (insight_series_id) references insight_series (id) on delete cascade
);

------------------------------------------------------------------------------------------------------
-- Points
------------------------------------------------------------------------------------------------------
create table metadata (
  id bigserial not null,
  metadata jsonb not null,
  constraint metadata_pkey primary key (id)
);
create unique index metadata_metadata_unique_idx on metadata using btree (metadata);
create index metadata_metadata_gin on metadata using gin (metadata);
comment on table metadata is 'Records arbitrary metadata about events. Stored in a separate table as it is often repeated for multiple events.';
comment on column metadata.id is 'The metadata ID.';
comment on column metadata.metadata is 'Metadata about some event, this can be any arbitrary JSON emtadata which will be returned when querying events, and can be filtered on and grouped using jsonb operators ?, ?&, ?|, and @>. This should be small data only.';

create table repo_names (
  id bigserial not null,
  name citext not null,
  constraint repo_names_pkey primary key (id),
  constraint check_name_nonempty check (name <> ''::citext)
);
create unique index repo_names_name_unique_idx on repo_names using btree (name);
create index repo_names_name_trgm on repo_names using gin (lower(name::text) gin_trgm_ops);
comment on table repo_names is 'Records repository names, both historical and present, using a unique repository _name_ ID (unrelated to the repository ID.)';
comment on column repo_names.id is 'The repository _name_ ID.';
comment on column repo_names.name is 'The repository name string, with unique constraint for table entry deduplication and trigram index for e.g. regex filtering.';

create table series_points (
  series_id text not null,
  time timestamp with time zone not null,
  value double precision not null,
  metadata_id integer,
  repo_id integer,
  repo_name_id integer,
  original_repo_name_id integer,
  capture text,
  constraint check_repo_fields_specifity check (repo_id is null and repo_name_id is null and original_repo_name_id is null or repo_id is not null and repo_name_id is not null and original_repo_name_id is not null),
  constraint series_points_metadata_id_fkey foreign key (metadata_id) references metadata (id) on delete cascade deferrable,
  constraint series_points_original_repo_name_id_fkey foreign key (original_repo_name_id) references repo_names (id) on delete cascade deferrable,
  constraint series_points_repo_name_id_fkey foreign key (repo_name_id) references repo_names (id) on delete cascade deferrable
);
create index series_points_original_repo_name_id_btree on series_points using btree (original_repo_name_id);
create index series_points_repo_id_btree on series_points using btree (repo_id);
create index series_points_repo_name_id_btree on series_points using btree (repo_name_id);
create index series_points_series_id_btree on series_points using btree (series_id);
create index series_points_series_id_repo_id_time_idx on series_points using btree (series_id, repo_id, "time");
-- addition: recording the same (series, repo, time, capture) twice must not create a second point.
create unique index series_points_point_key on series_points (series_id, repo_id, "time", capture) nulls not distinct;

comment on table series_points is 'Records events over time associated with a repository (or none, i.e. globally) where a single numerical value is going arbitrarily up and down.  Repository association is based on both repository ID and name. The ID can be used to refer toa specific repository, or lookup the current name of a repository after it has been e.g. renamed. The name can be used to refer to the name of the repository at the time of the events creation, for example to trace the change in a gauge back to a repository being renamed.';
comment on column series_points.metadata_id is 'Associated metadata for this event, if any.';
comment on column series_points.original_repo_name_id is 'The repository name as it was known at the time the event was created. It may have been renamed since.';
comment on column series_points.repo_id is 'The repository ID (from the main application DB) at the time the event was created. Note that the repository may no longer exist / be valid at query time, however.';
comment on column series_points.repo_name_id is 'The most recently known name for the repository, updated periodically to account for e.g. repository renames. If the repository was deleted, this is still the most recently known name.  null if the event was not for a single repository (i.e. a global gauge).';
comment on column series_points.series_id is 'A unique identifier for the series of data being recorded. This is not an ID from another table, but rather just a unique identifier.';
comment on column series_points.time is 'The timestamp of the recorded event.';
comment on column series_points.value is 'The floating point value at the time of the event.';

create table series_points_snapshots (
  series_id text not null,
  time timestamp with time zone not null,
  value double precision not null,
  metadata_id integer,
  repo_id integer,
  repo_name_id integer,
  original_repo_name_id integer,
  capture text,
  constraint check_repo_fields_specifity check (repo_id is null and repo_name_id is null and original_repo_name_id is null or repo_id is not null and repo_name_id is not null and original_repo_name_id is not null)
);
create index series_points_snapshots_original_repo_name_id_idx on series_points_snapshots using btree (original_repo_name_id);
create index series_points_snapshots_repo_id_idx on series_points_snapshots using btree (repo_id);
create index series_points_snapshots_repo_name_id_idx on series_points_snapshots using btree (repo_name_id);
create index series_points_snapshots_series_id_idx on series_points_snapshots using btree (series_id);
create index series_points_snapshots_series_id_repo_id_time_idx on series_points_snapshots using btree (series_id, repo_id, "time");
-- addition: a snapshot is replaced as a whole, but a retried job must still not double a point.
create unique index series_points_snapshots_point_key on series_points_snapshots (series_id, repo_id, "time", capture) nulls not distinct;
comment on table series_points_snapshots is 'Stores ephemeral snapshot data of insight recordings.';

create table archived_series_points (
  series_id text not null,
  time timestamp with time zone not null,
  value double precision not null,
  repo_id integer,
  repo_name_id integer,
  original_repo_name_id integer,
  capture text,
  constraint check_repo_fields_specifity check (repo_id is null and repo_name_id is null and original_repo_name_id is null or repo_id is not null and repo_name_id is not null and original_repo_name_id is not null),
  constraint insight_series_series_id_fkey foreign key (series_id) references insight_series (series_id) on delete cascade
);
-- addition: retention moves points with INSERT ... ON CONFLICT DO NOTHING, which needs this key.
create unique index archived_series_points_point_key on archived_series_points (series_id, repo_id, "time", capture) nulls not distinct;

------------------------------------------------------------------------------------------------------
-- Views, dashboards and grants
------------------------------------------------------------------------------------------------------
create table insight_view (
  id serial not null,
  title text,
  description text,
  unique_id text not null,
  default_filter_include_repo_regex text,
  default_filter_exclude_repo_regex text,
  other_threshold double precision,
  presentation_type presentation_type_enum not null default 'LINE'::presentation_type_enum,
  is_frozen boolean not null default false,
  default_filter_search_contexts text[],
  series_sort_mode series_sort_mode_enum,
  series_sort_direction series_sort_direction_enum,
  series_limit integer,
  series_num_samples integer,
  constraint insight_view_pkey primary key (id)
);
create unique index insight_view_unique_id_unique_idx on insight_view using btree (unique_id);
comment on table insight_view is 'Views for insight data series. An insight view is an abstraction on top of an insight data series that allows for lightweight modifications to filters or metadata without regenerating the underlying series.';
comment on column insight_view.description is 'Description of the view. This may render in a chart depending on the view type.';
comment on column insight_view.id is 'Primary key ID for this view';
comment on column insight_view.other_threshold is 'Percent threshold for grouping series under "other"';
comment on column insight_view.presentation_type is 'The basic presentation type for the insight view. (e.g Line, Pie, etc.)';
comment on column insight_view.title is 'Title of the view. This may render in a chart depending on the view type.';
comment on column insight_view.unique_id is 'Globally unique identifier for this view that is externally referencable.';

create table insight_view_grants (
  id serial not null,
  insight_view_id integer not null,
  user_id integer,
  org_id integer,
  global boolean,
  constraint insight_view_grants_pk primary key (id),
  constraint insight_view_grants_insight_view_id_fk foreign key (insight_view_id) references insight_view (id) on delete cascade
);
create index insight_view_grants_global_idx on insight_view_grants using btree (global) where global is true;
create index insight_view_grants_insight_view_id_index on insight_view_grants using btree (insight_view_id);
create index insight_view_grants_org_id_idx on insight_view_grants using btree (org_id);
create index insight_view_grants_user_id_idx on insight_view_grants using btree (user_id);
comment on table insight_view_grants is 'Permission grants for insight views. Each row should represent a unique principal (user, org, etc).';
comment on column insight_view_grants.global is 'Grant that does not belong to any specific principal and is granted to all users.';
comment on column insight_view_grants.org_id is 'Org ID that that receives this grant.';
comment on column insight_view_grants.user_id is 'User ID that that receives this grant.';

create table insight_view_series (
  insight_view_id integer not null,
  insight_series_id integer not null,
  label text,
  stroke text,
  constraint insight_view_series_pkey primary key (insight_view_id, insight_series_id),
  constraint insight_view_series_insight_series_id_fkey foreign key (insight_series_id) references insight_series (id),
  constraint insight_view_series_insight_view_id_fkey foreign key (insight_view_id) references insight_view (id) on delete cascade
);
comment on table insight_view_series is 'Join table to correlate data series with insight views';
comment on column insight_view_series.insight_series_id is 'Foreign key to insight data series.';
comment on column insight_view_series.insight_view_id is 'Foreign key to insight view.';
comment on column insight_view_series.label is 'Label text for this data series. This may render in a chart depending on the view type.';
comment on column insight_view_series.stroke is 'Stroke color metadata for this data series. This may render in a chart depending on the view type.';

create table dashboard (
  id serial not null,
  title text,
  created_at timestamp without time zone not null default now(),
  created_by_user_id integer,
  last_updated_at timestamp without time zone not null default now(),
  deleted_at timestamp without time zone,
  save boolean not null default false,
  type text not null default 'standard'::text,
  constraint dashboard_pk primary key (id)
);
comment on table dashboard is 'Metadata for dashboards of insights';
comment on column dashboard.created_at is 'Timestamp the dashboard was initially created.';
comment on column dashboard.created_by_user_id is 'User that created the dashboard, if available.';
comment on column dashboard.deleted_at is 'Set to the time the dashboard was soft deleted.';
comment on column dashboard.last_updated_at is 'Time the dashboard was last updated, either metadata or insights.';
comment on column dashboard.save is 'TEMPORARY Do not delete this dashboard when migrating settings.';
comment on column dashboard.title is 'Title of the dashboard';

create table dashboard_grants (
  id serial not null,
  dashboard_id integer not null,
  user_id integer,
  org_id integer,
  global boolean,
  constraint dashboard_grants_pk primary key (id),
  constraint dashboard_grants_dashboard_id_fk foreign key (dashboard_id) references dashboard (id) on delete cascade
);
create index dashboard_grants_dashboard_id_index on dashboard_grants using btree (dashboard_id);
create index dashboard_grants_global_idx on dashboard_grants using btree (global) where global is true;
create index dashboard_grants_org_id_idx on dashboard_grants using btree (org_id);
create index dashboard_grants_user_id_idx on dashboard_grants using btree (user_id);
comment on table dashboard_grants is 'Permission grants for dashboards. Each row should represent a unique principal (user, org, etc).';
comment on column dashboard_grants.global is 'Grant that does not belong to any specific principal and is granted to all users.';
comment on column dashboard_grants.org_id is 'Org ID that that receives this grant.';
comment on column dashboard_grants.user_id is 'User ID that that receives this grant.';

create table dashboard_insight_view (
  id serial not null,
  dashboard_id integer not null,
  insight_view_id integer not null,
  constraint dashboard_insight_view_pk primary key (id),
  constraint unique_dashboard_id_insight_view_id unique (dashboard_id, insight_view_id),
  constraint dashboard_insight_view_dashboard_id_fk foreign key (dashboard_id) references dashboard (id) on delete cascade,
  constraint dashboard_insight_view_insight_view_id_fk foreign key (insight_view_id) references insight_view (id) on delete cascade
);
create index dashboard_insight_view_dashboard_id_fk_idx on dashboard_insight_view using btree (dashboard_id);
create index dashboard_insight_view_insight_view_id_fk_idx on dashboard_insight_view using btree (insight_view_id);

------------------------------------------------------------------------------------------------------
-- Background work
------------------------------------------------------------------------------------------------------
create table repo_iterator (
  id serial not null,
  created_at timestamp without time zone default now(),
  started_at timestamp without time zone,
  completed_at timestamp without time zone,
  last_updated_at timestamp without time zone not null default now(),
  runtime_duration bigint not null default 0,
  percent_complete double precision not null default 0,
  total_count integer not null default 0,
  success_count integer not null default 0,
  repos integer[],
  repo_cursor integer default 0,
  constraint repo_iterator_pk primary key (id)
);

create table repo_iterator_errors (
  id serial not null,
  repo_iterator_id integer not null,
  repo_id integer not null,
  error_message text[] not null,
  failure_count integer default 1,
  constraint repo_iterator_errors_pk primary key (id),
  constraint repo_iterator_fk foreign key (repo_iterator_id) references repo_iterator (id)
);
create index repo_iterator_errors_fk_idx on repo_iterator_errors using btree (repo_iterator_id);

create table insights_background_jobs (
  id serial not null,
  state text default 'queued'::text,
  failure_message text,
  queued_at timestamp with time zone default now(),
  started_at timestamp with time zone,
  finished_at timestamp with time zone,
  process_after timestamp with time zone,
  num_resets integer not null default 0,
  num_failures integer not null default 0,
  last_heartbeat_at timestamp with time zone,
  execution_logs json[],
  worker_hostname text not null default ''::text,
  cancel boolean not null default false,
  backfill_id integer,
  constraint insights_background_jobs_pkey primary key (id),
  constraint insights_background_jobs_backfill_id_fkey foreign key (backfill_id) references insight_series_backfill (id) on delete cascade
);
create index insights_jobs_state_idx on insights_background_jobs using btree (state);

create table insights_data_retention_jobs (
  id serial not null,
  state text default 'queued'::text,
  failure_message text,
  queued_at timestamp with time zone default now(),
  started_at timestamp with time zone,
  finished_at timestamp with time zone,
  process_after timestamp with time zone,
  num_resets integer not null default 0,
  num_failures integer not null default 0,
  last_heartbeat_at timestamp with time zone,
  execution_logs json[],
  worker_hostname text not null default ''::text,
  cancel boolean not null default false,
  series_id integer not null,
  series_id_string text not null default ''::text,
  constraint insights_data_retention_jobs_pkey primary key (id)
);

create table migration_logs (
  id serial not null,
  migration_logs_schema_version integer not null,
  schema text not null,
  version integer not null,
  up boolean not null,
  started_at timestamp with time zone not null,
  finished_at timestamp with time zone,
  success boolean,
  error_message text,
  backfilled boolean not null default false,
  constraint migration_logs_pkey primary key (id)
);

create view insights_jobs_backfill_in_progress as
 select jobs.id,
    jobs.state,
    jobs.failure_message,
    jobs.queued_at,
    jobs.started_at,
    jobs.finished_at,
    jobs.process_after,
    jobs.num_resets,
    jobs.num_failures,
    jobs.last_heartbeat_at,
    jobs.execution_logs,
    jobs.worker_hostname,
    jobs.cancel,
    jobs.backfill_id,
    isb.state as backfill_state,
    isb.estimated_cost,
    width_bucket(isb.estimated_cost, (0)::double precision, max((isb.estimated_cost + (1)::double precision)) over (), 4) as cost_bucket
   from (insights_background_jobs jobs
     join insight_series_backfill isb on ((jobs.backfill_id = isb.id)))
  where (isb.state = 'processing'::text);
comment on view insights_jobs_backfill_in_progress is 'Backfill jobs whose backfill is processing, with the backfill''s estimated cost split into 4 buckets relative to the most expensive one (cheapest bucket is worked first).';

create view insights_jobs_backfill_new as
 select jobs.id,
    jobs.state,
    jobs.failure_message,
    jobs.queued_at,
    jobs.started_at,
    jobs.finished_at,
    jobs.process_after,
    jobs.num_resets,
    jobs.num_failures,
    jobs.last_heartbeat_at,
    jobs.execution_logs,
    jobs.worker_hostname,
    jobs.cancel,
    jobs.backfill_id,
    isb.state as backfill_state,
    isb.estimated_cost
   from (insights_background_jobs jobs
     join insight_series_backfill isb on ((jobs.backfill_id = isb.id)))
  where (isb.state = 'new'::text);
comment on view insights_jobs_backfill_new is 'Backfill jobs whose backfill has not been planned yet (state new).';

------------------------------------------------------------------------------------------------------
-- Additions beyond the seed
------------------------------------------------------------------------------------------------------
-- addition: the repository registry. repositories.id is the repo_id stored on points.
create table repositories (
  id serial primary key,
  name citext not null unique check (name <> ''),
  clone_url text not null check (clone_url <> ''),
  default_branch text,
  mirror_path text,
  created_at timestamptz not null default now(),
  last_fetch_attempt_at timestamptz,
  last_fetched_at timestamptz,
  last_fetch_error text,
  deleted_at timestamptz
);
comment on table repositories is 'Git repositories known to Code Insights. Each is kept as a bare mirror on the workers'' disks.';
comment on column repositories.id is 'Repository ID; series points store it as repo_id.';
comment on column repositories.name is 'Current repository name (for example acme/api); repo: filters match it.';
comment on column repositories.clone_url is 'Where the mirror is fetched from: a local path or any URL git can clone.';
comment on column repositories.default_branch is 'Branch followed on its first-parent history; null until the first fetch finds the remote HEAD.';
comment on column repositories.mirror_path is 'Path of the bare mirror, relative to a worker''s data directory.';
comment on column repositories.last_fetch_attempt_at is 'When a fetch was last attempted (successful or not); used for the fetch cooldown.';
comment on column repositories.last_fetched_at is 'When the mirror was last fetched successfully.';
comment on column repositories.last_fetch_error is 'Error message of the last failed fetch; null after a successful one.';
comment on column repositories.deleted_at is 'Soft-delete time; deleted repositories are no longer searched.';

-- addition: run log of recurring and maintenance tasks, in the spirit of job_state (seeds/001).
create table task_runs (
  id bigserial primary key,
  task_name text not null,
  graphile_job_id bigint,
  started_at timestamptz not null default clock_timestamp(),
  finished_at timestamptz,
  duration_ms double precision generated always as (extract(epoch from (finished_at - started_at)) * 1000) stored,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  error text,
  worker_hostname text not null default '',
  details jsonb
);
create index task_runs_task_name_started_at_idx on task_runs (task_name, started_at desc);
comment on table task_runs is 'One row per run of a recurring or maintenance task, so an operator can see the scheduler is alive.';
comment on column task_runs.task_name is 'Graphile Worker task identifier.';
comment on column task_runs.graphile_job_id is 'graphile_worker job id of the run (not a foreign key: finished jobs are deleted).';
comment on column task_runs.duration_ms is 'Run time in milliseconds; null while running.';
comment on column task_runs.status is 'running, succeeded or failed.';
comment on column task_runs.error is 'Error message of a failed run.';
comment on column task_runs.details is 'Task-specific result summary (for example rows deleted).';
