-- +goose Up
-- match: this node's subject index for blind hit/no-hit matching.
CREATE TABLE subjects (
    id         BIGSERIAL PRIMARY KEY,
    ref        TEXT NOT NULL UNIQUE,
    source     TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- Normalised keys such as "curp:ZANM821122MSLMBD07"; never sent anywhere.
-- fp is the key's filter fingerprint under the OPRF key of fp_epoch
-- (0: not computed yet), so a republish evaluates only new keys.
CREATE TABLE subject_keys (
    subject_id BIGINT NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    fp         BIGINT NOT NULL DEFAULT 0,
    fp_epoch   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject_id, key)
);
CREATE INDEX subject_keys_key ON subject_keys (key);
CREATE INDEX subject_keys_epoch ON subject_keys (fp_epoch);

-- This node's OPRF keys, one per epoch; the newest is in use.
CREATE TABLE match_keys (
    epoch       BIGINT PRIMARY KEY,
    private_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The partner's published filters, by its key epoch. The large column
-- comes last: SQLite then reads the others without walking its overflow
-- pages.
CREATE TABLE match_filters (
    epoch        BIGINT PRIMARY KEY,
    keys_count   BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    fingerprints BYTEA NOT NULL
);

-- Blind evaluations per UTC day: 'served' for the partner, 'asked' of it.
CREATE TABLE match_usage (
    day         TEXT NOT NULL,
    side        TEXT NOT NULL,
    evaluations BIGINT NOT NULL,
    lookups     BIGINT NOT NULL,
    PRIMARY KEY (day, side)
);

-- 'version' grows with every change to the subjects; 'published' is the
-- version the last published filter was built from.
CREATE TABLE match_state (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- +goose Down
DROP TABLE match_state;
DROP TABLE match_usage;
DROP TABLE match_filters;
DROP TABLE match_keys;
DROP TABLE subject_keys;
DROP TABLE subjects;
