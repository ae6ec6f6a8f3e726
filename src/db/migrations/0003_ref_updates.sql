-- Every ref a push moved, as the post-receive hook reported it: the forge's own history of pushes.
CREATE TABLE ref_updates (
  id            bigserial PRIMARY KEY,
  repo          text        NOT NULL,
  ref           text        NOT NULL,
  old_sha       text        NOT NULL,
  new_sha       text        NOT NULL,
  pusher        text        NOT NULL,
  push_options  jsonb       NOT NULL DEFAULT '[]',
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ref_updates_repo_ref ON ref_updates (repo, ref, id);
