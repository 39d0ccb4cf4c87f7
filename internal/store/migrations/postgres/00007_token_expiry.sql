-- +goose Up
-- auth: API tokens expire (90 days by default). Tokens made before expiry
-- existed run out 90 days after they were made.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE api_tokens SET expires_at = created_at + 7776000000 WHERE expires_at = 0;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;
