-- +goose Up
-- Every write transaction numbers itself here, under the writers' lock
-- (store.WriterLock), and stream_seq rows keep the number of the
-- transaction that last wrote them, so that a process can read what the
-- other processes of the node numbered since it last looked (store.Counter).
CREATE TABLE writer_gen (
    id  BIGINT PRIMARY KEY,
    gen BIGINT NOT NULL
);
INSERT INTO writer_gen (id, gen) VALUES (1, 0);

ALTER TABLE stream_seq ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX stream_seq_gen ON stream_seq (gen);

-- +goose Down
DROP INDEX stream_seq_gen;
ALTER TABLE stream_seq DROP COLUMN gen;
DROP TABLE writer_gen;
