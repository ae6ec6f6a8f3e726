-- The append-only event log, which is also the transactional outbox: a state change and its event
-- are written in one transaction; the relay publishes rows whose published_at is null, in id order.
CREATE TABLE events (
  id            bigserial PRIMARY KEY,
  subject       text        NOT NULL,
  type          text        NOT NULL,
  repo          text        NOT NULL,
  branch        text,
  data          jsonb,
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  published_at  timestamptz
);

CREATE INDEX events_unpublished ON events (id) WHERE published_at IS NULL;
CREATE INDEX events_repo ON events (repo, id);

-- Where each durable subscriber of the embedded bus has read up to, so a restart resumes there.
CREATE TABLE event_cursors (
  consumer      text PRIMARY KEY,
  last_event_id bigint NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Identifies this factory's log on a shared NATS server: bus message ids are `<instance>:<event id>`,
-- so two factories (or two test databases) publishing event 1 are not mistaken for duplicates.
CREATE TABLE instance (
  only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  id        uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO instance DEFAULT VALUES;
