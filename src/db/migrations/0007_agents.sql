-- Agent sessions: one native session of an agent CLI on a branch, across every prompt given to it
-- (the first, follow-ups, a human's answers). Never deleted: a merged or abandoned branch keeps
-- its sessions, their events, tokens and cost.
CREATE TABLE agent_sessions (
  id                 text        PRIMARY KEY,            -- ses_<typeid>
  branch_id          text        NOT NULL REFERENCES branches (id),
  environment_id     text        REFERENCES environments (id),
  agent              text        NOT NULL,               -- the configured name ([agents.<name>])
  kind               text        NOT NULL,               -- claude | codex | gemini | opencode | cursor | command
  native_id          text,                               -- the CLI's own session id, once it said it
  model              text,
  status             text        NOT NULL CHECK (status IN ('running', 'paused', 'waiting', 'completed', 'failed', 'interrupted')),
  reason             text,                               -- why it is waiting, failed, interrupted or paused; one line
  outcome            text        CHECK (outcome IN ('done', 'help')),  -- what the agent said of its run (cook done / ask-for-help)
  runs               integer     NOT NULL DEFAULT 0,     -- prompts run so far
  turns              integer     NOT NULL DEFAULT 0,     -- model turns (requests answered) so far
  exit_code          integer,                            -- of the last run
  input_tokens       bigint      NOT NULL DEFAULT 0,
  output_tokens      bigint      NOT NULL DEFAULT 0,
  cache_read_tokens  bigint      NOT NULL DEFAULT 0,
  cache_write_tokens bigint      NOT NULL DEFAULT 0,
  cost_usd           numeric(14, 6) NOT NULL DEFAULT 0,
  cost_source        text        CHECK (cost_source IN ('reported', 'price_table')),
  duration_ms        bigint      NOT NULL DEFAULT 0,     -- sum over runs
  created_by         text        NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  run_started_at     timestamptz,
  ended_at           timestamptz,
  resume_at          timestamptz                         -- a paused session resumes then (rate limit reset)
);

CREATE INDEX agent_sessions_by_branch ON agent_sessions (branch_id, id);
CREATE INDEX agent_sessions_active ON agent_sessions (status) WHERE status IN ('running', 'paused');

-- Every event of a session, in order (core/agent-event.ts), as the branch page replays it.
CREATE TABLE agent_events (
  session_id text        NOT NULL REFERENCES agent_sessions (id),
  seq        integer     NOT NULL,
  run        integer     NOT NULL,
  kind       text        NOT NULL,
  data       json        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, seq)
);
