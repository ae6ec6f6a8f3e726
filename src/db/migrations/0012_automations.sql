-- Automations ([[automations]] in cook.toml): the last slot each schedule fired for (slots missed
-- while the server was down fire once, at start-up), and each firing on an event (an event fires an
-- automation once, also when the bus delivers it again after a restart).
CREATE TABLE automation_schedules (
  repo        text        NOT NULL,
  name        text        NOT NULL,
  last_slot   timestamptz NOT NULL,
  PRIMARY KEY (repo, name)
);

CREATE TABLE automation_firings (
  repo        text        NOT NULL,
  name        text        NOT NULL,
  event_id    bigint      NOT NULL,
  task_id     text,
  fired_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, name, event_id)
);
