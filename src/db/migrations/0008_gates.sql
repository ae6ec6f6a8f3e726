-- Gate runs: one judging of one commit of a branch by the gates its target branch's cook.toml
-- defines. Never deleted; a newer push cancels the older head's runs, a restart interrupts and
-- starts them again.
CREATE TABLE gate_runs (
  id            text        PRIMARY KEY,            -- run_<typeid>
  branch_id     text        NOT NULL REFERENCES branches (id),
  repo          text        NOT NULL,
  head          text        NOT NULL,               -- the commit judged (a merge candidate when reason = 'merge')
  tree          text        NOT NULL,               -- its tree: results are re-used by tree and config hash
  target        text        NOT NULL,               -- the target branch whose cook.toml gave the gates
  target_commit text        NOT NULL,               -- that branch's commit when the run began
  config_hash   text        NOT NULL,
  reason        text        NOT NULL CHECK (reason IN ('push', 'done', 'rerun', 'restart', 'merge')),
  state         text        NOT NULL CHECK (state IN ('queued', 'running', 'waiting', 'passed', 'failed', 'canceled', 'interrupted')),
  error         text,                               -- why the whole run failed at once (an invalid cook.toml), one line
  requested_by  text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  ended_at      timestamptz
);

CREATE INDEX gate_runs_by_branch ON gate_runs (branch_id, id DESC);
CREATE INDEX gate_runs_unfinished ON gate_runs (state) WHERE state IN ('queued', 'running', 'waiting');
CREATE INDEX gate_runs_by_tree ON gate_runs (repo, tree, config_hash);

-- Each gate of a run, in order: what it concluded. Later gates of a failed run stay 'not_run'.
CREATE TABLE gate_results (
  run_id       text        NOT NULL REFERENCES gate_runs (id),
  position     integer     NOT NULL,
  gate         text        NOT NULL,
  kind         text        NOT NULL CHECK (kind IN ('command', 'agent_review', 'human_approval')),
  definition   json        NOT NULL,
  state        text        NOT NULL CHECK (state IN ('pending', 'running', 'waiting', 'passed', 'failed', 'canceled', 'interrupted', 'not_run')),
  reused_from  text,                                -- the run whose pass on the same tree this one takes
  summary      text,                                -- one line: why it failed, the verdict, who approved
  detail       text,                                -- a review's comments, an unparsable reply
  handed_back  boolean     NOT NULL DEFAULT false,  -- its failure was sent to the branch's agent
  started_at   timestamptz,
  ended_at     timestamptz,
  PRIMARY KEY (run_id, gate)
);

-- Every attempt of a command gate (append-only): flaky exits are retried as new attempts.
CREATE TABLE gate_attempts (
  run_id       text        NOT NULL REFERENCES gate_runs (id),
  gate         text        NOT NULL,
  attempt      integer     NOT NULL,
  state        text        NOT NULL CHECK (state IN ('running', 'passed', 'failed', 'canceled', 'interrupted')),
  exit_code    integer,
  duration_ms  integer,
  log          text        NOT NULL DEFAULT '',
  log_bytes    integer     NOT NULL DEFAULT 0,      -- bytes of output seen, kept or not
  started_at   timestamptz NOT NULL DEFAULT now(),
  ended_at     timestamptz,
  PRIMARY KEY (run_id, gate, attempt)
);

-- A reviewer's verdict on one commit of a branch; a new push leaves it behind with its commit.
CREATE TABLE approvals (
  id          text        PRIMARY KEY,              -- apr_<typeid>
  branch_id   text        NOT NULL REFERENCES branches (id),
  head        text        NOT NULL,               -- the commit judged
  gate        text        NOT NULL,
  reviewer    text        NOT NULL,
  verdict     text        NOT NULL CHECK (verdict IN ('approve', 'reject')),
  comment     text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX approvals_by_commit ON approvals (branch_id, head);

-- Merges: the intent is recorded before the default branch moves, the result after; start-up
-- reconciles an intent whose result was lost against the ref (git is the truth for refs).
CREATE TABLE merges (
  id            text        PRIMARY KEY,            -- mrg_<typeid>
  branch_id     text        NOT NULL REFERENCES branches (id),
  repo          text        NOT NULL,
  target        text        NOT NULL,               -- the branch merged into
  strategy      text        NOT NULL CHECK (strategy IN ('auto', 'ff-only', 'merge', 'squash')),
  state         text        NOT NULL CHECK (state IN ('queued', 'gating', 'merging', 'merged', 'refused', 'conflicted', 'failed')),
  head          text,                               -- the branch's commit being merged
  target_old    text,                               -- the target's commit the candidate was built on (compare-and-swap)
  candidate     text,                               -- the commit the target moves to
  gate_run_id   text        REFERENCES gate_runs (id),  -- the candidate's gating, when the target had moved
  conflicts     json        NOT NULL DEFAULT '[]',
  message       text,                               -- why it was refused or failed, or what landed
  requested_by  text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  ended_at      timestamptz
);

CREATE UNIQUE INDEX merges_one_live_per_branch ON merges (branch_id) WHERE state IN ('queued', 'gating', 'merging');
CREATE INDEX merges_by_repo ON merges (repo, id DESC);

ALTER TABLE branches ADD COLUMN auto_merge boolean NOT NULL DEFAULT false;
ALTER TABLE branches ADD COLUMN merged_commit text;
