-- +goose Up
-- blob: which stream each file's bytes crossed on, either way, so the
-- partner can name only a file it sent (or we sent) on that stream, and
-- bytes that no row names can be dropped once they are old.
CREATE TABLE blob_streams (
    sha256 TEXT NOT NULL,
    stream TEXT NOT NULL,
    at     BIGINT NOT NULL,
    PRIMARY KEY (sha256, stream)
);
-- Files that crossed before: on the stream of the thread or disclosure
-- that names them.
INSERT INTO blob_streams (sha256, stream, at)
    SELECT DISTINCT a.sha256, 'liaison:' || m.thread_id, 0 FROM message_attachments a JOIN messages m ON m.id = a.message_id;
INSERT INTO blob_streams (sha256, stream, at)
    SELECT DISTINCT a.sha256, 'finintel:d:' || a.disclosure_id, 0 FROM disclosure_attachments a JOIN disclosures d ON d.id = a.disclosure_id
    WHERE d.status NOT IN ('draft', 'submitted');

-- +goose Down
DROP TABLE blob_streams;
