package link

import (
	"context"
	"fmt"
	"time"

	"puente/internal/store"
)

// Quarantined is one refused envelope or request, kept for review.
type Quarantined struct {
	ID         int64     `json:"id"`
	EnvelopeID string    `json:"envelope_id"`
	Kind       string    `json:"kind"`
	Code       string    `json:"code"`
	Reason     string    `json:"reason"`
	Size       int       `json:"size"`
	ReceivedAt time.Time `json:"received_at"`
	TimesSeen  int       `json:"times_seen"`
}

// Quarantine lists refused envelopes, newest first.
func (l *Link) Quarantine(ctx context.Context, limit int) ([]Quarantined, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := l.cfg.DB.Read().Query(ctx, `SELECT id, envelope_id, kind, reason_code, reason, LENGTH(raw), received_at, times_seen
		FROM quarantine ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("reading quarantine: %w", err)
	}
	defer rows.Close()
	var out []Quarantined
	for rows.Next() {
		var q Quarantined
		var at int64
		if err := rows.Scan(&q.ID, &q.EnvelopeID, &q.Kind, &q.Code, &q.Reason, &q.Size, &at, &q.TimesSeen); err != nil {
			return nil, fmt.Errorf("reading quarantine: %w", err)
		}
		q.ReceivedAt = store.Time(at)
		out = append(out, q)
	}
	return out, rows.Err()
}

// Counts are the link's totals, for tests, benchmarks and reciprocity.
type Counts struct {
	Sent, Delivered, Rejected, Pending, Received, Quarantined int
}

// Counts reads the link's totals.
func (l *Link) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := l.cfg.DB.Read().QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM outbox),
		(SELECT COUNT(*) FROM outbox WHERE state = 'delivered'),
		(SELECT COUNT(*) FROM outbox WHERE state = 'rejected'),
		(SELECT COUNT(*) FROM outbox WHERE state = 'pending'),
		(SELECT COUNT(*) FROM inbox),
		(SELECT COUNT(*) FROM quarantine)`).Scan(&c.Sent, &c.Delivered, &c.Rejected, &c.Pending, &c.Received, &c.Quarantined)
	if err != nil {
		return c, fmt.Errorf("counting the link: %w", err)
	}
	return c, nil
}

// Pending counts the envelopes still waiting for the partner's receipt. It
// reads only the pending part of the outbox index, so it stays cheap to
// poll while the outbox grows.
func (l *Link) Pending(ctx context.Context) (int, error) {
	var n int
	if err := l.cfg.DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting pending envelopes: %w", err)
	}
	return n, nil
}
