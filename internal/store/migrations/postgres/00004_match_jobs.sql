-- +goose Up
-- Blind bulk cross-matches this node runs against the partner's index.
CREATE TABLE match_jobs (
    id         BIGSERIAL PRIMARY KEY,
    source     TEXT NOT NULL,
    state      TEXT NOT NULL,
    total      BIGINT NOT NULL,
    done       BIGINT NOT NULL DEFAULT 0,
    hits       BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    error      TEXT NOT NULL DEFAULT ''
);
-- One row per key to evaluate; state 0 pending, 1 done.
CREATE TABLE match_job_items (
    job_id      BIGINT NOT NULL REFERENCES match_jobs (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    subject_ref TEXT NOT NULL,
    key         TEXT NOT NULL,
    state       INTEGER NOT NULL DEFAULT 0,
    hit         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX match_job_items_pending ON match_job_items (job_id, state, seq);

-- +goose Down
DROP TABLE match_job_items;
DROP TABLE match_jobs;
