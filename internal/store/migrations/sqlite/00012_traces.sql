-- +goose Up
-- traces: firearm trace requests, ours and the partner's, each one JSON
-- document (doc) with the columns it is listed by. gun is "MAKE|SERIAL",
-- for merging duplicates of one gun.
CREATE TABLE traces (
    id           TEXT PRIMARY KEY,
    origin       TEXT NOT NULL,
    status       TEXT NOT NULL,
    agency       TEXT NOT NULL,
    gun          TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX traces_by_gun ON traces (origin, gun);
CREATE INDEX traces_by_status ON traces (status, submitted_at);

-- +goose Down
DROP TABLE traces;
