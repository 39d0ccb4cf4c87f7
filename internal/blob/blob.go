// Package blob keeps the bytes of attached files once each, by SHA-256
// (table attachments), and which link stream each crossed on, either way
// (table blob_streams). Liaison messages and disclosures name files by
// SHA-256; the partner may name only a file that crossed on the same
// stream, so an envelope can neither borrow our other files nor learn
// whether we hold one.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"puente/internal/link"
	"puente/internal/store"
)

// Sum is the hex SHA-256 that names data.
func Sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Put stores data (once) and returns its SHA-256.
func Put(ctx context.Context, tx *store.Tx, data []byte) (string, error) {
	sha := Sum(data)
	if _, err := tx.Exec(ctx, `INSERT INTO attachments (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING`, sha, len(data), data); err != nil {
		return "", fmt.Errorf("storing a file: %w", err)
	}
	return sha, nil
}

// Crossed records that the file sha crossed the link on stream: a
// partner's file arrived on it, or we sent ours on it.
func Crossed(ctx context.Context, tx *store.Tx, sha, stream string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO blob_streams (sha256, stream, at) VALUES (?, ?, ?) ON CONFLICT (sha256, stream) DO NOTHING`,
		sha, stream, store.Now()); err != nil {
		return fmt.Errorf("recording a file's stream: %w", err)
	}
	return nil
}

// Received stores a partner's file that arrived on stream.
func Received(ctx context.Context, tx *store.Tx, data []byte, stream string) error {
	sha, err := Put(ctx, tx, data)
	if err != nil {
		return err
	}
	return Crossed(ctx, tx, sha, stream)
}

// CheckReference accepts a partner's reference to file sha of size bytes
// in an envelope on stream only if that file crossed on that stream with
// that size. Every other case is one and the same refusal, so the
// partner learns nothing about the files this node holds.
func CheckReference(ctx context.Context, tx *store.Tx, sha string, size int64, stream string) error {
	var got int64
	err := tx.QueryRow(ctx, `SELECT b.size FROM blob_streams s JOIN attachments b ON b.sha256 = s.sha256 WHERE s.sha256 = ? AND s.stream = ?`,
		sha, stream).Scan(&got)
	if errors.Is(err, store.ErrNotFound) || err == nil && got != size {
		return link.Reject("attachment %s of %d bytes did not arrive on stream %s", sha, size, stream)
	}
	if err != nil {
		return fmt.Errorf("reading a file's stream: %w", err)
	}
	return nil
}

// Orphans are kept this long after they crossed, so a file that arrived
// ahead of the message naming it is not dropped meanwhile.
const OrphanAge = 7 * 24 * time.Hour

// DropOrphans deletes the bytes of files no message or disclosure names
// (the tables that name files: message_attachments, disclosure_attachments,
// case_documents, target_photos)
// and that did not cross the link in the last OrphanAge; it returns how
// many it deleted.
func DropOrphans(ctx context.Context, tx *store.Tx, now time.Time) (int64, error) {
	res, err := tx.Exec(ctx, `DELETE FROM attachments WHERE
		NOT EXISTS (SELECT 1 FROM message_attachments m WHERE m.sha256 = attachments.sha256)
		AND NOT EXISTS (SELECT 1 FROM disclosure_attachments d WHERE d.sha256 = attachments.sha256)
		AND NOT EXISTS (SELECT 1 FROM case_documents c WHERE c.sha256 = attachments.sha256 OR c.translation_sha = attachments.sha256)
		AND NOT EXISTS (SELECT 1 FROM target_photos t WHERE t.sha256 = attachments.sha256)
		AND NOT EXISTS (SELECT 1 FROM blob_streams s WHERE s.sha256 = attachments.sha256 AND s.at > ?)`, now.Add(-OrphanAge).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("dropping files nothing names: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.Exec(ctx, `DELETE FROM blob_streams WHERE NOT EXISTS (SELECT 1 FROM attachments b WHERE b.sha256 = blob_streams.sha256)`); err != nil {
		return 0, fmt.Errorf("dropping files nothing names: %w", err)
	}
	return n, nil
}

// DropUnnamed deletes at once the bytes of the files shas that no message
// or disclosure names any more (a sealed disclosure's), whenever they
// crossed.
func DropUnnamed(ctx context.Context, tx *store.Tx, shas []string) error {
	for _, sha := range shas {
		if _, err := tx.Exec(ctx, `DELETE FROM attachments WHERE sha256 = ?
			AND NOT EXISTS (SELECT 1 FROM message_attachments WHERE sha256 = ?)
			AND NOT EXISTS (SELECT 1 FROM disclosure_attachments WHERE sha256 = ?)
			AND NOT EXISTS (SELECT 1 FROM case_documents WHERE sha256 = ? OR translation_sha = ?)
			AND NOT EXISTS (SELECT 1 FROM target_photos WHERE sha256 = ?)`, sha, sha, sha, sha, sha, sha); err != nil {
			return fmt.Errorf("removing file bytes: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM blob_streams WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?)`, sha, sha); err != nil {
			return fmt.Errorf("removing file bytes: %w", err)
		}
	}
	return nil
}
