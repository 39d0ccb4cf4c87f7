-- +goose Up
-- case_documents: the documents of an extradition case (the formal
-- request's Art. 10 documents, mostly), each a file in attachments named
-- by its SHA-256, and its translation's when it has one ('' if not); doc
-- is the JSON description both nodes hold alike.
CREATE TABLE case_documents (
    case_id         TEXT NOT NULL,
    id              TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    translation_sha TEXT NOT NULL,
    envelope_id     TEXT NOT NULL,
    doc             TEXT NOT NULL,
    PRIMARY KEY (case_id, id)
);
CREATE INDEX case_documents_by_sha ON case_documents (sha256);
CREATE INDEX case_documents_by_translation ON case_documents (translation_sha);

-- +goose Down
DROP TABLE case_documents;
