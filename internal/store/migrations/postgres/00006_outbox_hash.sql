-- +goose Up
-- link: the envelope hash next to each outbox row, so the delivery worker
-- checks the partner's receipts without decoding its own envelopes again.
-- Rows written before this column exist keep '' and are decoded as before.
ALTER TABLE outbox ADD COLUMN envelope_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN envelope_hash;
