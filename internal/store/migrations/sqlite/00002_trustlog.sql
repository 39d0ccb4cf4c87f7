-- +goose Up
-- trustlog: the node's append-only Merkle log (golang.org/x/mod/sumdb/tlog).
-- data is the canonical entry text; hashes holds the tlog stored hashes
-- that record idx produces (32 bytes each, level 0 first). The other
-- columns repeat fields of data for filtering; verify checks they agree.
CREATE TABLE log_entries (
    idx     INTEGER PRIMARY KEY, -- the rowid: appends go to the end of the table
    at      BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    object  TEXT NOT NULL,
    data    BLOB NOT NULL,
    hashes  BLOB NOT NULL
);
-- Few indexes: each one costs every append. Entries of one kind are
-- appended in index order, so (kind, idx) grows at a few hot pages; a
-- random key such as the object is indexed only for first reads, which
-- are looked up to log a read once per user.
CREATE INDEX log_entries_kind ON log_entries (kind, idx);
CREATE INDEX log_entries_reads ON log_entries (object, actor) WHERE kind = 'data.read';

-- Our signed checkpoints; cosigned is the same note with the partner's
-- cosignature added once the partner has witnessed it.
CREATE TABLE log_checkpoints (
    size        BIGINT PRIMARY KEY,
    root        BLOB NOT NULL,
    note        BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    cosigned    BLOB,
    cosigned_at BIGINT NOT NULL DEFAULT 0
);

-- The partner's checkpoints that we verified and cosigned.
CREATE TABLE log_witnessed (
    size        BIGINT PRIMARY KEY,
    root        BLOB NOT NULL,
    note        BLOB NOT NULL,
    witnessed_at BIGINT NOT NULL
);

-- Alarms: forks, rollbacks, bad signatures, a stalled partner log. The
-- evidence is kept verbatim.
CREATE TABLE log_alarms (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    raised_at   BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    origin      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    evidence    BLOB NOT NULL,
    acked_at    BIGINT NOT NULL DEFAULT 0,
    acked_by    TEXT NOT NULL DEFAULT ''
);

-- What the partner reported about its users' access to data we sent.
CREATE TABLE access_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id TEXT NOT NULL,
    log_index   BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    agency      TEXT NOT NULL,
    to_agency   TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (log_index, envelope_id)
);
CREATE INDEX access_reports_envelope ON access_reports (envelope_id);

-- +goose Down
DROP TABLE access_reports;
DROP TABLE log_alarms;
DROP TABLE log_witnessed;
DROP TABLE log_checkpoints;
DROP TABLE log_entries;
