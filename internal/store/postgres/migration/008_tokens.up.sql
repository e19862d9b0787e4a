-- 008: scoped API tokens. Only the sha256 of a token is stored. The same
-- version and name as the SQLite backend's 008_tokens.
CREATE TABLE tokens (
    id         text PRIMARY KEY,
    -- hex sha256 of the token the client sends.
    hash       text NOT NULL UNIQUE,
    name       text NOT NULL DEFAULT '',
    -- predict, ingest, operator or admin.
    role       text NOT NULL,
    -- '' for every pipeline.
    pipeline   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz
);
