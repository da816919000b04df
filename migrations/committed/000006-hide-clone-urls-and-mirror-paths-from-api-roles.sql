--! Previous: sha1:3e6a626a99bfb899070e87b5fad280951976f57e
--! Hash: sha1:6cc62807565848963dd1c39100bc3bfd9bf9ac44
--! Message: hide clone URLs and mirror paths from API roles

-- Clone URLs can carry credentials (https://user:token@host/repo.git) and mirror paths describe the
-- workers' disks: API roles may read every repository column but those two.
revoke select on repositories from code_insights_anonymous, code_insights_user;
grant select (id, name, default_branch, created_at, last_fetch_attempt_at, last_fetched_at, last_fetch_error, deleted_at)
  on repositories to code_insights_anonymous, code_insights_user;
