-- Plans: a goal an agent broke into task drafts, kept whatever came of it (drafted, failed,
-- accepted), with the drafts, the agent's raw answer and which drafts became tasks.
CREATE TABLE plans (
  id           text        PRIMARY KEY,
  repo         text        NOT NULL,
  goal         text        NOT NULL,
  agent        text        NOT NULL,
  state        text        NOT NULL CHECK (state IN ('planning', 'drafted', 'failed', 'accepted')),
  drafts       jsonb       NOT NULL DEFAULT '[]',
  answer       text,
  error        text,
  attempts     integer     NOT NULL DEFAULT 0,
  accepted     text[]      NOT NULL DEFAULT '{}',
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plans_by_repo ON plans (repo, created_at);
