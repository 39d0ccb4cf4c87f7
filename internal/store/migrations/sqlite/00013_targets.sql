-- +goose Up
-- targets: the priority targets of the extradition area, ours and the
-- partner's, each one JSON document (doc) with the columns it is listed
-- by. stage is where a nomination of ours stands (draft, submitted,
-- released; "received" for the partner's); status is the person's.
CREATE TABLE targets (
    id         TEXT PRIMARY KEY,
    origin     TEXT NOT NULL,
    stage      TEXT NOT NULL,
    status     TEXT NOT NULL,
    agency     TEXT NOT NULL,
    name       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX targets_by_stage ON targets (origin, stage, updated_at);

-- target_keys: the identifiers of our own nominations that are not
-- withdrawn, so the same person is not nominated twice by one side.
CREATE TABLE target_keys (
    origin    TEXT NOT NULL,
    key       TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (origin, key)
);
CREATE INDEX target_keys_by_target ON target_keys (target_id);

-- +goose Down
DROP TABLE target_keys;
DROP TABLE targets;
