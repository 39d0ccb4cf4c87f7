package extradition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/blob"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/input"
	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Link kinds of a case's documents, on the case's stream: the file's
// bytes (and its translation's) first, then the description naming them.
const (
	KindCaseFile     = "extradition.case.attachment"
	KindCaseDocument = "extradition.case.document"
)

// KindLogDocument logs a document added to a case, on both sides.
const KindLogDocument = "extradition.case.document"

// The kinds of documents of a formal request. Art10 are those the 1978
// treaty's Art. 10 asks of every formal request: the warrant, the facts
// and the offence, the evidence, the person's identification and the
// texts of the laws (offence, penalty, limitation).
var (
	DocumentKinds = []string{"warrant", "charges", "evidence", "identity", "legal_texts", "other"}
	Art10         = []string{"warrant", "charges", "evidence", "identity", "legal_texts"}
)

// Limits on a case's files.
const (
	MaxDocument  = 20 << 20
	MaxDocuments = 50
)

// Document is one document of a case, with its translation into the
// requested side's language when it has one.
type Document struct {
	ID          string    `json:"id"`
	Case        string    `json:"case"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	Language    string    `json:"language"` // es or en
	Certified   bool      `json:"certified"`
	Translation *DocFile  `json:"translation,omitempty"`
	Side        string    `json:"side"`
	Agency      string    `json:"agency"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	// Delivered is the sender's view of the link receipt (never sent).
	Delivered bool `json:"delivered,omitempty"`
}

// DocFile is a document's translation.
type DocFile struct {
	Name     string `json:"name"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
	Language string `json:"language"`
}

// Language is the language of side's courts and ministries.
func Language(side string) string {
	if side == "MX" {
		return "es"
	}
	return "en"
}

// Translated reports whether d reads in the language of side (the
// requested side): written in it, or with a translation into it.
func (d *Document) Translated(side string) bool {
	return d.Language == Language(side) || (d.Translation != nil && d.Translation.Language == Language(side))
}

// NewDocument is what a user adds: the description, the bytes and,
// optionally, a translation's.
type NewDocument struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Language    string `json:"language"`
	Certified   bool   `json:"certified"`
	// Translated says the document is translated into the requested
	// side's language: it must then be written in it or come with the
	// translation.
	Translated      bool   `json:"translated"`
	Content         []byte `json:"content"` // base64 in JSON
	TranslationName string `json:"translation_name,omitempty"`
	Translation     []byte `json:"translation,omitempty"`
}

// checkDocument verifies a description, as added and as the partner's
// arrives.
func checkDocument(d *Document) error {
	if !slices.Contains(DocumentKinds, d.Kind) {
		return fault.Field("kind", "invalid_document_kind")
	}
	if err := input.FileName("name", d.Name); err != nil {
		return err
	}
	if d.Language != "es" && d.Language != "en" {
		return fault.Field("language", "invalid_language")
	}
	if err := input.Text("content_type", d.ContentType, 200, 0); err != nil {
		return err
	}
	if t := d.Translation; t != nil {
		if err := input.FileName("translation_name", t.Name); err != nil {
			return err
		}
		if t.Language != "es" && t.Language != "en" || t.Language == d.Language {
			return fault.Field("translation_language", "invalid_language")
		}
	}
	return nil
}

// AddDocument adds a document to a case of which our side is the
// requesting one (the formal request's documents are its own), and sends
// it with its translation.
func (s *Service) AddDocument(ctx context.Context, u *auth.User, caseID string, in NewDocument) (*Document, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	if len(in.Content) == 0 {
		return nil, fault.Field("content", "required")
	}
	if len(in.Content) > MaxDocument || len(in.Translation) > MaxDocument {
		return nil, fault.Field("content", "document_too_large")
	}
	ct := in.ContentType
	if ct == "" {
		ct = http.DetectContentType(in.Content)
	}
	d := &Document{ID: link.NewID(), Case: caseID, Kind: in.Kind, Name: strings.TrimSpace(in.Name), SHA256: blob.Sum(in.Content), Size: int64(len(in.Content)),
		ContentType: ct, Language: in.Language, Certified: in.Certified, Side: s.self, Agency: u.Agency, By: u.Username, At: s.Now()}
	if len(in.Translation) > 0 {
		d.Translation = &DocFile{Name: strings.TrimSpace(in.TranslationName), SHA256: blob.Sum(in.Translation), Size: int64(len(in.Translation))}
		d.Translation.Language = "es"
		if d.Language == "es" {
			d.Translation.Language = "en"
		}
	}
	if err := checkDocument(d); err != nil {
		return nil, err
	}
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := loadCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if c.Requesting != s.self {
			return fault.Field("case", "not_requesting")
		}
		if c.Closed() {
			return fault.Field("case", "case_closed")
		}
		if in.Translated && !d.Translated(c.Requested) {
			return fault.Field("translated", "translated_without_translation")
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM case_documents WHERE case_id = ?`, caseID).Scan(&n); err != nil {
			return fmt.Errorf("counting documents: %w", err)
		}
		if n >= MaxDocuments {
			return fault.Field("documents", "too_many")
		}
		stream := caseStream(caseID)
		cav := s.DefaultCaveats()
		for _, data := range [][]byte{in.Content, in.Translation} {
			if len(data) == 0 {
				continue
			}
			if _, err := blob.Put(ctx, tx, data); err != nil {
				return err
			}
			if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindCaseFile, Version: 1, Stream: stream, Caveats: cav, RawBody: data}); err != nil {
				return fmt.Errorf("sending a document: %w", err)
			}
			if err := blob.Crossed(ctx, tx, blob.Sum(data), stream); err != nil {
				return err
			}
		}
		env, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindCaseDocument, Version: 1, Stream: stream, Caveats: cav, Body: d})
		if err != nil {
			return fmt.Errorf("sending a document: %w", err)
		}
		if err := insertDocument(ctx, tx, d, env.ID); err != nil {
			return err
		}
		s.changed(tx, "c:"+caseID)
		return s.log.Record(ctx, tx, KindLogDocument, "case:"+caseID, fmt.Sprintf("kind=%s sha256=%s", d.Kind, d.SHA256))
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func insertDocument(ctx context.Context, tx *store.Tx, d *Document, envelope string) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding a document: %w", err)
	}
	tsha := ""
	if d.Translation != nil {
		tsha = d.Translation.SHA256
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_documents (case_id, id, sha256, translation_sha, envelope_id, doc) VALUES (?, ?, ?, ?, ?, ?)`,
		d.Case, d.ID, d.SHA256, tsha, envelope, string(doc)); err != nil {
		return fmt.Errorf("storing a document: %w", err)
	}
	return nil
}

// applyCaseFile stores a document's bytes from the partner.
func (s *Service) applyCaseFile(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	if !strings.HasPrefix(env.Stream, "extradition:c:") {
		return link.Reject("a case file came on stream %s", env.Stream)
	}
	if len(env.Body) > MaxDocument {
		return link.Reject("a case file is larger than %d bytes", MaxDocument)
	}
	return blob.Received(ctx, tx, env.Body, env.Stream)
}

// applyCaseDocument records the partner's document, whose files must have
// crossed on the case's stream with their sizes.
func (s *Service) applyCaseDocument(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var d Document
	if err := link.DecodeBody(env, &d); err != nil {
		return err
	}
	if !link.ValidID(d.ID) || env.Stream != caseStream(d.Case) || d.Side != s.partner || d.At.IsZero() || d.Delivered ||
		text("by", d.By, MaxShort, true) != nil || !slices.Contains(Agencies[s.partner], d.Agency) {
		return link.Reject("case document does not fit stream %s", env.Stream)
	}
	if err := checkDocument(&d); err != nil {
		return link.Reject("case document %s does not check: %v", d.ID, err)
	}
	c, err := loadCase(ctx, tx, d.Case)
	if errors.Is(err, ErrCaseNotFound) {
		return link.Reject("document of case %s, which we do not know", d.Case)
	} else if err != nil {
		return err
	}
	if c.Requesting != s.partner {
		return link.Reject("document of case %s from the side that is not requesting", d.Case)
	}
	if err := blob.CheckReference(ctx, tx, d.SHA256, d.Size, env.Stream); err != nil {
		return err
	}
	if d.Translation != nil {
		if err := blob.CheckReference(ctx, tx, d.Translation.SHA256, d.Translation.Size, env.Stream); err != nil {
			return err
		}
	}
	d.At = d.At.UTC()
	if err := insertDocument(ctx, tx, &d, env.ID); err != nil {
		return link.Reject("document %s arrived twice", d.ID)
	}
	c.Envelopes = append(c.Envelopes, env.ID)
	if err := s.saveCase(ctx, tx, c, false); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogDocument, "case:"+d.Case, fmt.Sprintf("kind=%s sha256=%s by=%s", d.Kind, d.SHA256, s.partner))
}

// Documents are a case's documents, oldest first; ours say whether the
// partner's node has received them.
func (s *Service) Documents(ctx context.Context, u *auth.User, caseID string) ([]Document, error) {
	if !s.CaseVisible(u) {
		return nil, ErrCaseNotFound
	}
	rows, err := s.db.Read().Query(ctx, `SELECT d.doc, COALESCE(o.state, '') FROM case_documents d LEFT JOIN outbox o ON o.envelope_id = d.envelope_id
		WHERE d.case_id = ? ORDER BY d.doc`, caseID)
	if err != nil {
		return nil, fmt.Errorf("reading documents: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		var doc, state string
		if err := rows.Scan(&doc, &state); err != nil {
			return nil, fmt.Errorf("reading documents: %w", err)
		}
		var d Document
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("reading a document: %w", err)
		}
		d.Delivered = d.Side == s.self && state == "delivered"
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Document) int { return a.At.Compare(b.At) })
	return out, rows.Err()
}

// DocumentData returns a document's bytes, or its translation's. Taking
// the partner's file out of puente is an export: it needs the permission,
// the caveats must allow it, and it is logged and reported.
func (s *Service) DocumentData(ctx context.Context, u *auth.User, caseID, docID string, translation bool) (*Document, string, []byte, error) {
	if !s.CaseVisible(u) {
		return nil, "", nil, ErrCaseNotFound
	}
	var doc, envID string
	err := s.db.Read().QueryRow(ctx, `SELECT doc, envelope_id FROM case_documents WHERE case_id = ? AND id = ?`, caseID, docID).Scan(&doc, &envID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil, ErrCaseNotFound
	} else if err != nil {
		return nil, "", nil, fmt.Errorf("reading a document: %w", err)
	}
	var d Document
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, "", nil, fmt.Errorf("reading a document: %w", err)
	}
	sha, name := d.SHA256, d.Name
	if translation {
		if d.Translation == nil {
			return nil, "", nil, ErrCaseNotFound
		}
		sha, name = d.Translation.SHA256, d.Translation.Name
	}
	if d.Side != s.self {
		if !u.Can(auth.ExportPartnerData) || !s.DefaultCaveats().Permits(caveats.Export, "") {
			return nil, "", nil, ErrForbidden
		}
		if s.cfg.Trust != nil {
			err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
				return s.cfg.Trust.RecordAccess(ctx, tx, trust.Access{Action: trustlog.KindDataExported, User: u.Username, Name: u.DisplayName, Agency: u.Agency, EnvelopeIDs: []string{envID}})
			})
			if err != nil {
				return nil, "", nil, fmt.Errorf("logging the download: %w", err)
			}
		}
	}
	var data []byte
	if err := s.db.Read().QueryRow(ctx, `SELECT data FROM attachments WHERE sha256 = ?`, sha).Scan(&data); err != nil {
		return nil, "", nil, fmt.Errorf("reading a document's bytes: %w", err)
	}
	return &d, name, data, nil
}

// Checklist is, per Art. 10 kind, whether the case has such a document,
// certified, and readable in the requested side's language.
type Checklist struct {
	Kind       string `json:"kind"`
	Present    bool   `json:"present"`
	Certified  bool   `json:"certified"`
	Translated bool   `json:"translated"`
}

// Art10Checklist is the formal request's checklist for c and its docs.
func Art10Checklist(c *Case, docs []Document) []Checklist {
	var out []Checklist
	for _, k := range Art10 {
		cl := Checklist{Kind: k}
		for _, d := range docs {
			if d.Kind != k {
				continue
			}
			cl.Present = true
			cl.Certified = cl.Certified || d.Certified
			cl.Translated = cl.Translated || d.Translated(c.Requested)
		}
		out = append(out, cl)
	}
	return out
}
