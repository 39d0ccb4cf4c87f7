package finintel

import (
	"puente/internal/blob"
	"puente/internal/caveats"
	"puente/internal/input"

	"puente/internal/fault"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// Limits on a disclosure's files.
const (
	MaxAttachment  = 20 << 20
	MaxAttachments = 10
)

// Attachment is a file that goes with a disclosure, named by its SHA-256.
type Attachment struct {
	SHA256      string `json:"sha256"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// KindAttachment carries a file's bytes on the disclosure's stream, ahead
// of the disclosure that names it.
const KindAttachment = "finintel.attachment"

// AddAttachment adds a file to a draft. The bytes are stored once, by
// SHA-256, beside the liaison files.
func (s *Service) AddAttachment(ctx context.Context, u *auth.User, id, name, contentType string, data []byte) (*Attachment, error) {
	if err := input.FileName("attachments", name); err != nil {
		return nil, err
	}
	if len(data) > MaxAttachment {
		return nil, fault.Field("attachments", "attachment_too_large")
	}
	if contentType == "" || len(contentType) > 200 {
		contentType = http.DetectContentType(data)
	}
	sum := sha256.Sum256(data)
	a := &Attachment{SHA256: hex.EncodeToString(sum[:]), Name: name, ContentType: contentType, Size: int64(len(data))}
	err := s.onOwn(ctx, u, auth.FinIntelWrite, id, StatusDraft, func(ctx context.Context, tx *store.Tx, _ *Disclosure) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM disclosure_attachments WHERE disclosure_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("counting attachments: %w", err)
		}
		if n >= MaxAttachments {
			return fault.Field("attachments", "too_many_attachments")
		}
		if _, err := blob.Put(ctx, tx, data); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO disclosure_attachments (disclosure_id, sha256, name, content_type) VALUES (?, ?, ?, ?)
			ON CONFLICT (disclosure_id, sha256) DO UPDATE SET name = excluded.name`, id, a.SHA256, a.Name, a.ContentType); err != nil {
			return fmt.Errorf("attaching: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE disclosures SET updated_at = ? WHERE id = ?`, s.Now().UnixMilli(), id)
		s.changed(tx, "d:"+id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// RemoveAttachment takes a file off a draft.
func (s *Service) RemoveAttachment(ctx context.Context, u *auth.User, id, sha string) error {
	return s.onOwn(ctx, u, auth.FinIntelWrite, id, StatusDraft, func(ctx context.Context, tx *store.Tx, _ *Disclosure) error {
		if _, err := tx.Exec(ctx, `DELETE FROM disclosure_attachments WHERE disclosure_id = ? AND sha256 = ?`, id, sha); err != nil {
			return fmt.Errorf("removing attachment: %w", err)
		}
		s.changed(tx, "d:"+id)
		return blob.DropUnnamed(ctx, tx, []string{sha})
	})
}

func attachmentsOf(ctx context.Context, q store.Querier, id string) ([]Attachment, error) {
	rows, err := q.Query(ctx, `SELECT a.sha256, a.name, a.content_type, b.size FROM disclosure_attachments a JOIN attachments b ON b.sha256 = a.sha256
		WHERE a.disclosure_id = ? ORDER BY a.name, a.sha256`, id)
	if err != nil {
		return nil, fmt.Errorf("reading attachments: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.SHA256, &a.Name, &a.ContentType, &a.Size); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AttachmentData returns one of a disclosure's files. Downloading the
// partner's file takes its data out of puente: it is an export, allowed
// only where the caveats permit, logged and reported every time.
func (s *Service) AttachmentData(ctx context.Context, u *auth.User, id, sha string) (*Attachment, []byte, error) {
	d, err := s.disclosure(ctx, s.db.Read(), u, id)
	if err != nil {
		return nil, nil, err
	}
	if d.Sealed() {
		return nil, nil, ErrSealed
	}
	var a Attachment
	var data []byte
	err = s.db.Read().QueryRow(ctx, `SELECT a.sha256, a.name, a.content_type, b.size, b.data FROM disclosure_attachments a JOIN attachments b ON b.sha256 = a.sha256
		WHERE a.disclosure_id = ? AND a.sha256 = ?`, id, sha).Scan(&a.SHA256, &a.Name, &a.ContentType, &a.Size, &data)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNotFound
	} else if err != nil {
		return nil, nil, fmt.Errorf("reading attachment: %w", err)
	}
	if d.Origin != s.self {
		if !u.Can(auth.ExportPartnerData) {
			return nil, nil, ErrForbidden
		}
		if !d.Caveats.Permits(caveats.Export, "") {
			return nil, nil, s.refuse(ctx, u, d, "export", ErrExportForbidden)
		}
		if err := s.access(ctx, u, trustlog.KindDataExported, "", false, d); err != nil {
			return nil, nil, fmt.Errorf("logging the download: %w", err)
		}
	}
	return &a, data, nil
}

// sendAttachments enqueues a disclosure's files on its stream, ahead of
// the disclosure, and returns their descriptions for its body.
func (s *Service) sendAttachments(ctx context.Context, tx *store.Tx, id string, c caveats.Caveats) ([]Attachment, error) {
	atts, err := attachmentsOf(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		var data []byte
		if err := tx.QueryRow(ctx, `SELECT data FROM attachments WHERE sha256 = ?`, a.SHA256).Scan(&data); err != nil {
			return nil, fmt.Errorf("reading attachment %s: %w", a.Name, err)
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindAttachment, Version: 1, Stream: discStream(id), Caveats: c, RawBody: data}); err != nil {
			return nil, fmt.Errorf("sending attachment %s: %w", a.Name, err)
		}
		if err := blob.Crossed(ctx, tx, a.SHA256, discStream(id)); err != nil {
			return nil, err
		}
	}
	return atts, nil
}

// applyAttachment stores a partner's file, named by its own SHA-256.
func (s *Service) applyAttachment(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	if !strings.HasPrefix(env.Stream, "finintel:d:") {
		return link.Reject("attachment came on stream %s", env.Stream)
	}
	if len(env.Body) > MaxAttachment {
		return link.Reject("attachment is larger than %d bytes", MaxAttachment)
	}
	return blob.Received(ctx, tx, env.Body, env.Stream)
}

// attachReceived records the files a received disclosure names; each must
// have arrived before it, with that size.
func attachReceived(ctx context.Context, tx *store.Tx, id, stream string, atts []Attachment) error {
	if len(atts) > MaxAttachments {
		return link.Reject("too many attachments")
	}
	for _, a := range atts {
		if input.FileName("name", a.Name) != nil || input.Text("content_type", a.ContentType, 200, 0) != nil {
			return link.Reject("attachment %s is described wrongly", a.SHA256)
		}
		if err := blob.CheckReference(ctx, tx, a.SHA256, a.Size, stream); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO disclosure_attachments (disclosure_id, sha256, name, content_type) VALUES (?, ?, ?, ?)`, id, a.SHA256, a.Name, a.ContentType); err != nil {
			return fmt.Errorf("recording attachment: %w", err)
		}
	}
	return nil
}
