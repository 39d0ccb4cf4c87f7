// Package idempotency remembers the first answer to each API request that
// carried an Idempotency-Key header (per user and key), so a client whose
// reply was lost can send the same request again: it gets the first
// answer, and nothing is created twice on this node or sent twice to the
// partner. A key reused with another request is a conflict.
package idempotency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"puente/internal/fault"
	"puente/internal/store"
)

// Keep is how long keys are remembered, at least.
const Keep = 24 * time.Hour

// MaxKey is the longest key accepted, in bytes.
const MaxKey = 200

var (
	// ErrReused: the key came with another request before.
	ErrReused = fault.New(fault.ErrConflict, "idempotency_key_reused", "this Idempotency-Key was used with a different request")
	// ErrInProgress: the first request with this key has not finished, or
	// its outcome is unknown (the node stopped while handling it); look
	// before creating the thing again under a new key.
	ErrInProgress = fault.New(fault.ErrConflict, "idempotency_in_progress", "the first request with this Idempotency-Key has not finished, or its outcome is unknown")
)

// Answer is a stored reply.
type Answer struct {
	Status int
	Body   []byte
}

// Begin claims key for user and the request whose SHA-256 is requestSHA.
// It returns the stored answer of an earlier identical request (the
// caller replays it), or nil when the caller is first and must handle the
// request, then Finish or Abandon. It fails with ErrReused or
// ErrInProgress.
func Begin(ctx context.Context, db *store.DB, userID int64, key, requestSHA string) (*Answer, error) {
	if key == "" || len(key) > MaxKey {
		return nil, fault.Field("Idempotency-Key", "invalid_key")
	}
	var stored *Answer
	err := db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		stored = nil
		var sha string
		var status int
		var body []byte
		// The user's keys older than Keep are forgotten as they send more.
		if _, err := tx.Exec(ctx, `DELETE FROM idempotency WHERE user_id = ? AND created_at < ?`, userID, time.Now().Add(-Keep).UnixMilli()); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT request_sha, status, response FROM idempotency WHERE user_id = ? AND idem_key = ?`, userID, key).Scan(&sha, &status, &body)
		switch {
		case errors.Is(err, store.ErrNotFound):
			_, err := tx.Exec(ctx, `INSERT INTO idempotency (user_id, idem_key, request_sha, created_at) VALUES (?, ?, ?, ?)`, userID, key, requestSHA, store.Now())
			return err
		case err != nil:
			return err
		case sha != requestSHA:
			return ErrReused
		case status == 0:
			return ErrInProgress
		}
		stored = &Answer{Status: status, Body: body}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	return stored, nil
}

// Finish stores the answer to the request that claimed key.
func Finish(ctx context.Context, db *store.DB, userID int64, key string, a Answer) error {
	return db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE idempotency SET status = ?, response = ? WHERE user_id = ? AND idem_key = ?`, a.Status, a.Body, userID, key)
		return err
	})
}

// Abandon frees key after a request that created nothing (refused or
// failed), so the client may send it again.
func Abandon(ctx context.Context, db *store.DB, userID int64, key string) error {
	return db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM idempotency WHERE user_id = ? AND idem_key = ? AND status = 0`, userID, key)
		return err
	})
}
