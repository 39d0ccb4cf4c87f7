-- +goose Up
-- seizures: ours (recorded or released) and the partner's released ones,
-- each one JSON document (doc) with the columns it is listed by.
CREATE TABLE seizures (
    id           TEXT PRIMARY KEY,
    origin       TEXT NOT NULL,
    status       TEXT NOT NULL,
    agency       TEXT NOT NULL,
    pair         TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    at           BIGINT NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX seizures_by_at ON seizures (at);
CREATE INDEX seizures_by_status ON seizures (origin, status, at);

-- seizure_keys: what makes two seizures, one per side, the same event:
-- "op:ID", "serial:MAKE|SERIAL", "plate:P", "vin:V".
CREATE TABLE seizure_keys (
    key        TEXT NOT NULL,
    seizure_id TEXT NOT NULL,
    side       TEXT NOT NULL,
    PRIMARY KEY (key, seizure_id)
);
CREATE INDEX seizure_keys_by_seizure ON seizure_keys (seizure_id);

-- seizure_totals: the figures, kept up to date in the transaction that
-- records or releases a seizure. scope "all" is everything this node
-- holds; "shared" only released seizures, which both nodes hold alike.
-- Values are integers (grams, doses, units, cents), so sums do not depend
-- on the order seizures arrived in.
CREATE TABLE seizure_totals (
    scope    TEXT NOT NULL,
    side     TEXT NOT NULL,
    month    TEXT NOT NULL,
    pair     TEXT NOT NULL,
    metric   TEXT NOT NULL,
    category TEXT NOT NULL,
    value    BIGINT NOT NULL,
    PRIMARY KEY (scope, side, month, pair, metric, category)
);

-- +goose Down
DROP TABLE seizure_totals;
DROP TABLE seizure_keys;
DROP TABLE seizures;
