-- Autopilot: a repo's switch (set from the CLI or web; without one, cook.toml's [autopilot] decides)
-- and every dispatch of a task to a branch.
CREATE TABLE autopilot_switches (
  repo        text        PRIMARY KEY,
  enabled     boolean     NOT NULL,
  changed_by  text        NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);

-- A dispatch is claimed ('starting') before its branch is made, so two dispatchers (a race, two
-- servers on one database) cannot both make one; the partial unique index is that claim.
-- 'started': its branch exists; 'skipped': it could not be made (reason), the task stays open;
-- 'interrupted': the server stopped before the branch was made (the task is dispatched again).
CREATE TABLE autopilot_dispatches (
  id          text        PRIMARY KEY,
  repo        text        NOT NULL,
  task_id     text        NOT NULL,
  state       text        NOT NULL CHECK (state IN ('starting', 'started', 'skipped', 'interrupted')),
  branch_id   text,
  reason      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX autopilot_dispatch_claim ON autopilot_dispatches (task_id) WHERE state = 'starting';
CREATE INDEX autopilot_dispatches_by_repo ON autopilot_dispatches (repo, state, created_at);
CREATE INDEX autopilot_dispatches_by_task ON autopilot_dispatches (task_id, created_at);
