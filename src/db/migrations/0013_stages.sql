-- Stages: a person's "continue" after looking at a stage's summary; the next stage's tasks start only then.
CREATE TABLE stage_continues (
  repo          text        NOT NULL,
  stage         text        NOT NULL,
  continued_by  text        NOT NULL,
  continued_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, stage)
);
