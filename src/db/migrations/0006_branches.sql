-- Branches: the unit of work. A record is never deleted; a merged or abandoned branch keeps its
-- row (and everything attached to it) and its last commit under refs/archive/.
CREATE TABLE branches (
  id           text        PRIMARY KEY,            -- brn_<typeid>
  repo         text        NOT NULL,
  name         text        NOT NULL,
  base_branch  text        NOT NULL,
  base_commit  text        NOT NULL,
  task_id      text        REFERENCES tasks (id),
  status       text        NOT NULL CHECK (status IN ('open', 'merged', 'abandoned')),
  origin       text        NOT NULL CHECK (origin IN ('create', 'push', 'adopt')),
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  ended_at     timestamptz,
  archive_ref  text
);

-- One open record per git branch; a name can be used again once its branch has ended.
CREATE UNIQUE INDEX branches_open_name ON branches (repo, name) WHERE status = 'open';
CREATE INDEX branches_by_task ON branches (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX branches_by_activity ON branches (status, updated_at DESC);

-- Environments: a checkout where a branch's work happens. A branch has at most one live one.
CREATE TABLE environments (
  id            text        PRIMARY KEY,           -- env_<typeid>
  branch_id     text        NOT NULL REFERENCES branches (id),
  backend       text        NOT NULL CHECK (backend IN ('local', 'sandbox')),
  path          text        NOT NULL,
  state         text        NOT NULL CHECK (state IN ('creating', 'ready', 'failed', 'lost', 'torn_down')),
  port_base     integer     NOT NULL,
  port_count    integer     NOT NULL,
  databases     json        NOT NULL DEFAULT '[]',
  network       boolean     NOT NULL DEFAULT true,
  setup_command text,
  setup_log     text        NOT NULL DEFAULT '',
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  torn_down_at  timestamptz
);

CREATE UNIQUE INDEX environments_live_per_branch ON environments (branch_id) WHERE state <> 'torn_down';
CREATE INDEX environments_live ON environments (state) WHERE state <> 'torn_down';
