-- +goose Up
-- Indexes the agreement's scorecard reads instead of the documents:
-- every row's id and version of traces and training offers (store.Memo
-- decodes only the documents that changed), the answered traces per
-- agency, and the disclosures released and recalled.
CREATE INDEX traces_versions ON traces (submitted_at, id, updated_at);
CREATE INDEX traces_answered ON traces (status, origin, agency);
CREATE INDEX training_offers_versions ON training_offers (published_at, id, updated_at);
CREATE INDEX disclosures_released ON disclosures (released_at, origin);
CREATE INDEX disclosures_recalled ON disclosures (recalled_at, origin, seal_reason, seal_attested_at, sealed_at);

-- +goose Down
DROP INDEX disclosures_recalled;
DROP INDEX disclosures_released;
DROP INDEX training_offers_versions;
DROP INDEX traces_answered;
DROP INDEX traces_versions;
