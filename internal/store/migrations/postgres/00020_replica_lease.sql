-- +goose Up
-- Replicas: several `puente serve` processes may share one PostgreSQL
-- store. The one named in replica_lease does the node's once-only work
-- (delivery, checkpoints, the areas' scheduled workers) while its lease
-- lasts; every such write checks the lease in its own transaction
-- (package replica). replica_terms keeps each term: who led from when.
-- An SQLite store serves one process and never uses them.
CREATE TABLE replica_lease (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    epoch       BIGINT NOT NULL,
    backend_pid INTEGER NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE replica_terms (
    epoch       BIGINT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at BIGINT NOT NULL
);

-- The term under which the node's delivery worker stored an envelope's
-- receipt (0: a single process), so that what each leader did can be told.
ALTER TABLE outbox ADD COLUMN settled_epoch BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE outbox DROP COLUMN settled_epoch;
DROP TABLE replica_terms;
DROP TABLE replica_lease;
