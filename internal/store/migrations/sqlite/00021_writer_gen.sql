-- +goose Up
-- Every write transaction on a PostgreSQL store counts itself here, under
-- the writers' lock (store.WriterLock), so that a process can tell whether
-- another process has written since its own last commit, and whether
-- what it remembers of the store (store.Counter) still holds. An SQLite
-- store asks the engine instead (PRAGMA data_version) and never uses it.
CREATE TABLE writer_gen (
    id  INTEGER PRIMARY KEY,
    gen BIGINT NOT NULL
);
INSERT INTO writer_gen (id, gen) VALUES (1, 0);

-- +goose Down
DROP TABLE writer_gen;
