package finintel

import (
	"puente/internal/blob"

	"puente/internal/caveats"

	"context"
	"fmt"
	"time"

	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/trustlog"
)

type recallBody struct {
	DisclosureID string    `json:"disclosure_id"`
	RecalledBy   string    `json:"recalled_by"`
	RecalledAt   time.Time `json:"recalled_at"`
}

type sealedBody struct {
	DisclosureID  string    `json:"disclosure_id"`
	Reason        string    `json:"reason"` // recall or retention
	SealedAt      time.Time `json:"sealed_at"`
	ContentSHA256 string    `json:"content_sha256"`
	LogIndex      int64     `json:"log_index"`
}

// Recall asks the partner to seal its copy of one of our disclosures; the
// partner answers with a signed attestation.
func (s *Service) Recall(ctx context.Context, u *auth.User, id string) error {
	return s.onOwn(ctx, u, auth.FinIntelRelease, id, StatusReleased, func(ctx context.Context, tx *store.Tx, d *Disclosure) error {
		if !d.SealAttested.IsZero() {
			return ErrState
		}
		now := s.Now()
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, recalled_at = ?, updated_at = ? WHERE id = ?`, StatusRecalled, now.UnixMilli(), now.UnixMilli(), id); err != nil {
			return fmt.Errorf("recalling: %w", err)
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindRecall, Version: 1, Stream: discStream(id), Caveats: d.Caveats,
			Body: recallBody{DisclosureID: id, RecalledBy: u.DisplayName + " (" + u.Agency + ")", RecalledAt: now}}); err != nil {
			return fmt.Errorf("sending recall: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
}

// seal removes a received disclosure's content, keeping the metadata the
// audit needs (ids, agencies, times, counts, the content's SHA-256), logs
// the seal and sends the originator the attestation.
func (s *Service) seal(ctx context.Context, tx *store.Tx, id, reason string, now time.Time) error {
	var digest, cav string
	var sealed int64
	err := tx.QueryRow(ctx, `SELECT content_sha256, caveats, sealed_at FROM disclosures WHERE id = ? AND origin = ?`, id, s.partner).Scan(&digest, &cav, &sealed)
	if err != nil {
		return fmt.Errorf("reading disclosure to seal: %w", err)
	}
	if sealed != 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, title = '', criminal_group = '', narrative = '', content = '', screening = '', hits = '',
		sealed_at = ?, seal_reason = ?, updated_at = ? WHERE id = ?`, StatusSealed, now.UnixMilli(), reason, now.UnixMilli(), id); err != nil {
		return fmt.Errorf("sealing: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM disclosure_keys WHERE disclosure_id = ?`, id); err != nil {
		return fmt.Errorf("sealing: %w", err)
	}
	atts, err := attachmentsOf(ctx, tx, id)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM disclosure_attachments WHERE disclosure_id = ?`, id); err != nil {
		return fmt.Errorf("sealing: %w", err)
	}
	var shas []string
	for _, a := range atts {
		shas = append(shas, a.SHA256)
	}
	if err := blob.DropUnnamed(ctx, tx, shas); err != nil {
		return err
	}
	idx, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindLogSealed, Actor: "node:" + s.self, Object: "disclosure:" + id, Digest: digest, Detail: "reason=" + reason})
	if err != nil {
		return err
	}
	c, err := caveats.Decode(cav)
	if err != nil {
		return fmt.Errorf("sealing disclosure %s: %w", id, err)
	}
	if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindSealed, Version: 1, Stream: discStream(id), Caveats: c,
		Body: sealedBody{DisclosureID: id, Reason: reason, SealedAt: now, ContentSHA256: digest, LogIndex: idx[0]}}); err != nil {
		return fmt.Errorf("sending seal attestation: %w", err)
	}
	s.changed(tx, "d:"+id)
	return nil
}

// SealExpired seals every received disclosure whose retention period has
// run out by now; it returns how many.
func (s *Service) SealExpired(ctx context.Context) (int, error) {
	now := s.Now()
	rows, err := s.db.Read().Query(ctx, `SELECT id FROM disclosures WHERE origin = ? AND sealed_at = 0 AND retention_until > 0 AND retention_until <= ? LIMIT 500`, s.partner, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("finding expired disclosures: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return s.seal(ctx, tx, id, "retention", now) }); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
