-- +goose Up
-- finintel: disclosures, requests for information, consent, feedback.
-- Times are Unix milliseconds; signed facts (release, answer, decision
-- times) are copied from the envelope bodies, so both nodes hold the same.
CREATE TABLE disclosures (
    id               TEXT PRIMARY KEY,
    origin           TEXT NOT NULL,
    from_agency      TEXT NOT NULL,
    to_agency        TEXT NOT NULL,
    status           TEXT NOT NULL,
    title            TEXT NOT NULL,
    criminal_group   TEXT NOT NULL DEFAULT '',
    narrative        TEXT NOT NULL DEFAULT '',
    caveats          TEXT NOT NULL,
    content          TEXT NOT NULL,
    n_subjects       BIGINT NOT NULL DEFAULT 0,
    n_accounts       BIGINT NOT NULL DEFAULT 0,
    n_transactions   BIGINT NOT NULL DEFAULT 0,
    content_sha256   TEXT NOT NULL DEFAULT '',
    rfi_id           TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    submitted_by     TEXT NOT NULL DEFAULT '',
    submitted_at     BIGINT NOT NULL DEFAULT 0,
    return_note      TEXT NOT NULL DEFAULT '',
    released_by      TEXT NOT NULL DEFAULT '',
    released_at      BIGINT NOT NULL DEFAULT 0,
    received_at      BIGINT NOT NULL DEFAULT 0,
    envelope_id      TEXT NOT NULL DEFAULT '',
    local_agencies   TEXT NOT NULL,
    evidential_at    BIGINT NOT NULL DEFAULT 0,
    evidential_by    TEXT NOT NULL DEFAULT '',
    retention_until  BIGINT NOT NULL DEFAULT 0,
    recalled_at      BIGINT NOT NULL DEFAULT 0,
    sealed_at        BIGINT NOT NULL DEFAULT 0,
    seal_reason      TEXT NOT NULL DEFAULT '',
    seal_attested_at BIGINT NOT NULL DEFAULT 0,
    seal_envelope    TEXT NOT NULL DEFAULT '',
    screened_at      BIGINT NOT NULL DEFAULT 0,
    screening        TEXT NOT NULL DEFAULT '',
    hits             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX disclosures_activity ON disclosures (updated_at);
CREATE INDEX disclosures_envelope ON disclosures (envelope_id);
-- Exact identifier keys of a disclosure's subjects and accounts, for
-- "known to us?" badges.
CREATE TABLE disclosure_keys (
    disclosure_id TEXT NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    PRIMARY KEY (disclosure_id, key)
);
CREATE INDEX disclosure_keys_key ON disclosure_keys (key);

-- A disclosure's files; the bytes live once in attachments, by SHA-256.
CREATE TABLE disclosure_attachments (
    disclosure_id TEXT NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    sha256        TEXT NOT NULL REFERENCES attachments (sha256),
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    PRIMARY KEY (disclosure_id, sha256)
);

CREATE TABLE rfis (
    id             TEXT PRIMARY KEY,
    origin         TEXT NOT NULL,
    from_agency    TEXT NOT NULL,
    to_agency      TEXT NOT NULL,
    urgency        TEXT NOT NULL,
    title          TEXT NOT NULL,
    questions      TEXT NOT NULL,
    subjects       TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    deadline_at    BIGINT NOT NULL,
    status         TEXT NOT NULL,
    final_at       BIGINT NOT NULL DEFAULT 0,
    reminded_at    BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL,
    local_agencies TEXT NOT NULL,
    envelope_id    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rfis_activity ON rfis (updated_at);
CREATE TABLE rfi_responses (
    id            TEXT PRIMARY KEY,
    rfi_id        TEXT NOT NULL REFERENCES rfis (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    disclosure_id TEXT NOT NULL DEFAULT '',
    author        TEXT NOT NULL,
    author_agency TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX rfi_responses_rfi ON rfi_responses (rfi_id, at);

CREATE TABLE consents (
    id            TEXT PRIMARY KEY,
    disclosure_id TEXT NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    origin        TEXT NOT NULL,
    agency        TEXT NOT NULL,
    use_kind      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    conditions    TEXT NOT NULL DEFAULT '',
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX consents_disclosure ON consents (disclosure_id);

CREATE TABLE disseminations (
    id            BIGSERIAL PRIMARY KEY,
    disclosure_id TEXT NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    agency        TEXT NOT NULL,
    consent_id    TEXT NOT NULL DEFAULT '',
    by_user       TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX disseminations_disclosure ON disseminations (disclosure_id);

CREATE TABLE feedback (
    id            TEXT PRIMARY KEY,
    disclosure_id TEXT NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    origin        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    amount        TEXT NOT NULL DEFAULT '',
    currency      TEXT NOT NULL DEFAULT '',
    count         BIGINT NOT NULL DEFAULT 0,
    note          TEXT NOT NULL DEFAULT '',
    author        TEXT NOT NULL,
    author_agency TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX feedback_disclosure ON feedback (disclosure_id);

-- +goose Down
DROP TABLE feedback;
DROP TABLE disseminations;
DROP TABLE consents;
DROP TABLE rfi_responses;
DROP TABLE rfis;
DROP TABLE disclosure_attachments;
DROP TABLE disclosure_keys;
DROP TABLE disclosures;
