-- +goose Up
-- operations: each operation is one JSON document (doc) with the columns
-- it is listed by. local_agencies is " A B " for word matching.
CREATE TABLE operations (
    id             TEXT PRIMARY KEY,
    origin         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    pair           TEXT NOT NULL,
    starts_at      BIGINT NOT NULL,
    ends_at        BIGINT NOT NULL,
    local_agencies TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    checked_at     BIGINT NOT NULL DEFAULT 0,
    doc            TEXT NOT NULL
);
CREATE INDEX operations_by_start ON operations (starts_at);

-- op_reports: units' status reports, ours and the partner's shared ones.
CREATE TABLE op_reports (
    id           TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    side         TEXT NOT NULL,
    unit         TEXT NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    status       TEXT NOT NULL,
    note         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    by_user      TEXT NOT NULL
);
CREATE INDEX op_reports_by_unit ON op_reports (operation_id, side, unit, at);

-- op_conflicts: blind deconfliction hits on our operations. id is the
-- finder's; a conflict the partner found appears once per operation of
-- ours it confirmed.
CREATE TABLE op_conflicts (
    id           TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    found_by     TEXT NOT NULL,
    status       TEXT NOT NULL,
    starts_at    BIGINT NOT NULL,
    found_at     BIGINT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (id, operation_id)
);
CREATE INDEX op_conflicts_by_operation ON op_conflicts (operation_id);

-- +goose Down
DROP TABLE op_conflicts;
DROP TABLE op_reports;
DROP TABLE operations;
