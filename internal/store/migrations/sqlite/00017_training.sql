-- +goose Up
-- training_offers: courses and exercises, ours and the partner's, each one
-- JSON document (doc) holding the offer, its nominations with their
-- vetting, attendance and results, and an exercise's commitments and
-- after-action reports.
CREATE TABLE training_offers (
    id           TEXT PRIMARY KEY,
    origin       TEXT NOT NULL,
    status       TEXT NOT NULL,
    start_day    TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX training_offers_by_status ON training_offers (status, published_at);

-- training_certificates: every certificate issued, by either side, as the
-- signed file (doc) both nodes keep byte for byte; revoked_at 0 while it
-- stands.
CREATE TABLE training_certificates (
    id            TEXT PRIMARY KEY,
    offer_id      TEXT NOT NULL,
    nomination_id TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    agency        TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,
    revoked_at    BIGINT NOT NULL,
    revoked_why   TEXT NOT NULL,
    doc           TEXT NOT NULL
);
CREATE INDEX training_certificates_by_offer ON training_certificates (offer_id);

-- +goose Down
DROP TABLE training_certificates;
DROP TABLE training_offers;
