-- +goose Up
-- cases: extradition and transfer cases, each one JSON document (doc)
-- with the columns it is listed by; envelopes are the partner's envelopes
-- behind it (comma-separated), reported when our users read the case.
CREATE TABLE cases (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    requesting TEXT NOT NULL,
    requested  TEXT NOT NULL,
    current    TEXT NOT NULL,
    closed     INTEGER NOT NULL,
    target     TEXT NOT NULL,
    grp        TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    envelopes  TEXT NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX cases_by_state ON cases (closed, updated_at);

-- case_clocks: every clock of every case, its due date computed once when
-- it starts (YYYY-MM-DD), stopped when the stage that stops it comes: the
-- sweep reads the open ones near their due date without recomputing.
-- warned is the lowest warning point given (days before the due date;
-- 0: overdue; 1000: none yet), so each point is given once.
CREATE TABLE case_clocks (
    case_id TEXT NOT NULL,
    term    TEXT NOT NULL,
    party   TEXT NOT NULL,
    due     TEXT NOT NULL,
    stopped TEXT NOT NULL,
    warned  INTEGER NOT NULL DEFAULT 1000,
    PRIMARY KEY (case_id, term)
);
CREATE INDEX case_clocks_open ON case_clocks (stopped, due);

-- +goose Down
DROP TABLE case_clocks;
DROP TABLE cases;
