-- API and git tokens. Only a SHA-256 of the secret is kept: tokens are 256-bit random values,
-- so a slow hash would add nothing, and lookup by hash stays an index probe.
CREATE TABLE tokens (
  id            bigserial PRIMARY KEY,
  name          text        NOT NULL,
  scope         text        NOT NULL,
  secret_hash   bytea       NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
