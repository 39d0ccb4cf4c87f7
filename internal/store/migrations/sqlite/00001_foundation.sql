-- +goose Up
-- link: what crosses to and from the partner.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id   TEXT NOT NULL UNIQUE,
    stream        TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    raw           BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    done_at       BIGINT NOT NULL DEFAULT 0,
    receipt       BLOB,
    UNIQUE (stream, seq)
);
CREATE INDEX outbox_pending ON outbox (state, id);

CREATE TABLE stream_seq (
    stream   TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id TEXT NOT NULL UNIQUE,
    stream      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    sender      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    received_at BIGINT NOT NULL,
    receipt     BLOB NOT NULL,
    UNIQUE (stream, seq)
);

CREATE TABLE inbox_stream (
    stream   TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id  TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL DEFAULT '',
    reason_code  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    raw          BLOB NOT NULL,
    received_at  BIGINT NOT NULL,
    times_seen   INTEGER NOT NULL DEFAULT 1,
    receipt      BLOB NOT NULL
);
CREATE INDEX quarantine_envelope ON quarantine (envelope_id);

CREATE TABLE link_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- auth: users, sessions, API tokens.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    agency        TEXT NOT NULL,
    lang          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used  BIGINT NOT NULL DEFAULT 0
);

-- liaison: secure message threads between the two sides.
CREATE TABLE threads (
    id            TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    priority      TEXT NOT NULL,
    origin        TEXT NOT NULL,
    from_agency   TEXT NOT NULL,
    to_agency     TEXT NOT NULL,
    caveats       TEXT NOT NULL,
    local_agencies TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_activity BIGINT NOT NULL
);
CREATE INDEX threads_activity ON threads (last_activity);

CREATE TABLE messages (
    id           TEXT PRIMARY KEY,
    thread_id    TEXT NOT NULL REFERENCES threads (id),
    origin       TEXT NOT NULL,
    author       TEXT NOT NULL,
    author_agency TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    envelope_id  TEXT NOT NULL,
    read_at      BIGINT NOT NULL DEFAULT 0,
    read_by      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_thread ON messages (thread_id, created_at);

CREATE TABLE attachments (
    sha256       TEXT PRIMARY KEY,
    size         BIGINT NOT NULL,
    data         BLOB NOT NULL
);

CREATE TABLE message_attachments (
    message_id   TEXT NOT NULL REFERENCES messages (id),
    sha256       TEXT NOT NULL REFERENCES attachments (sha256),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    PRIMARY KEY (message_id, sha256)
);

-- +goose Down
DROP TABLE message_attachments;
DROP TABLE attachments;
DROP TABLE messages;
DROP TABLE threads;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE link_state;
DROP TABLE quarantine;
DROP TABLE inbox_stream;
DROP TABLE inbox;
DROP TABLE stream_seq;
DROP TABLE outbox;
