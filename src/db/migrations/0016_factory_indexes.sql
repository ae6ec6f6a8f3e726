-- The factory page reads a window of days (7 to 90) of merged branches, finished gate runs, retried
-- attempts and agent sessions; without these it scans each table whole on every refresh.
CREATE INDEX branches_merged_at ON branches (ended_at) WHERE status = 'merged';
CREATE INDEX gate_runs_ended_at ON gate_runs (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX gate_attempts_retried ON gate_attempts (started_at) WHERE attempt > 1;
CREATE INDEX agent_sessions_created_at ON agent_sessions (created_at);
-- Not the factory's: an automation follows the firings back from a task it is asked about (no loops).
CREATE INDEX automation_firings_task ON automation_firings (task_id) WHERE task_id IS NOT NULL;
