-- +goose Up
-- The name of the partner's user an access report is about, as the
-- partner's node reported it (its entry's detail "name=…"), so the page
-- says who read, not a username.
ALTER TABLE access_reports ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE access_reports DROP COLUMN actor_name;
