CREATE TABLE api_keys (
    public_key TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    allowed_domains TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE usage_events (
    event_id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    public_key TEXT REFERENCES api_keys (public_key),
    origin TEXT NOT NULL,
    succeeded INTEGER NOT NULL,
    classification TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX usage_events_by_key_and_time ON usage_events (public_key, created_at);

CREATE INDEX usage_events_by_origin ON usage_events (origin);
