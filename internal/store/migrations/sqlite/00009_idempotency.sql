-- +goose Up
-- idempotency: the first answer to each API request that carried an
-- Idempotency-Key, per user and key, so a retry gets it again and creates
-- nothing new. Kept for at least 24 hours.
CREATE TABLE idempotency (
    user_id     BIGINT NOT NULL,
    idem_key    TEXT NOT NULL,
    request_sha TEXT NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    response    BLOB,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- +goose Down
DROP TABLE idempotency;
