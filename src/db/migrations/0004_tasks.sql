-- Tasks: markdown with front matter. Known keys are columns; unknown front-matter keys live in
-- `extra`, in their order, so a task file is written back as it came.
CREATE TABLE tasks (
  id          text        PRIMARY KEY,
  repo        text        NOT NULL,
  title       text        NOT NULL,
  priority    smallint    NOT NULL CHECK (priority BETWEEN 0 AND 4),
  status      text        NOT NULL CHECK (status IN ('open', 'in_progress', 'needs_human', 'closed')),
  depends_on  text[]      NOT NULL DEFAULT '{}',
  body        text        NOT NULL DEFAULT '',
  extra       json        NOT NULL DEFAULT '{}',  -- json, not jsonb: jsonb would reorder the keys
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The inbox: one repo and status, by priority then age.
CREATE INDEX tasks_inbox ON tasks (repo, status, priority, created_at);
CREATE INDEX tasks_by_priority ON tasks (priority, created_at);
-- "What does this task block?" is a lookup of the reverse edges.
CREATE INDEX tasks_depends_on ON tasks USING gin (depends_on);
