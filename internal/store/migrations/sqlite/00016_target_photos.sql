-- +goose Up
-- target_photos: the photos a priority target names (its doc holds their
-- descriptions), so their bytes in attachments are kept while it does.
CREATE TABLE target_photos (
    target_id TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (target_id, sha256)
);
CREATE INDEX target_photos_by_sha ON target_photos (sha256);

-- +goose Down
DROP TABLE target_photos;
