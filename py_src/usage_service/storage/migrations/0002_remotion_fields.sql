ALTER TABLE usage_events ADD COLUMN is_still INTEGER NOT NULL DEFAULT 0;

ALTER TABLE usage_events ADD COLUMN is_production INTEGER;

CREATE INDEX usage_events_keyless_by_time ON usage_events (created_at) WHERE public_key IS NULL
