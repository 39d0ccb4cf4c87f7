package finintel

import (
	"puente/internal/area"

	"puente/internal/caveats"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/store"
)

// Message kinds on the link, all version 1. A disclosure's envelopes share
// the stream "finintel:d:ID", a request's "finintel:r:ID", so each is
// applied in order.
const (
	KindDisclosure      = "finintel.disclosure"       // originator → recipient: a released disclosure
	KindConsentRequest  = "finintel.consent_request"  // recipient → originator
	KindConsentDecision = "finintel.consent_decision" // originator → recipient
	KindFeedback        = "finintel.feedback"         // recipient → originator
	KindRecall          = "finintel.recall"           // originator → recipient
	KindSealed          = "finintel.sealed"           // recipient → originator: the seal attestation
	KindRFI             = "finintel.rfi"              // requester → requested
	KindRFIResponse     = "finintel.rfi_response"     // requested → requester
)

// Kinds lists every kind this package handles.
var Kinds = []string{KindAttachment, KindDisclosure, KindConsentRequest, KindConsentDecision, KindFeedback, KindRecall, KindSealed, KindRFI, KindRFIResponse}

// Kinds are the financial-intelligence kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{
		{Kind: KindDisclosure, Version: 1, Handler: link.HandlerFunc(s.applyDisclosure)},
		{Kind: KindConsentRequest, Version: 1, Handler: link.HandlerFunc(s.applyConsentRequest)},
		{Kind: KindConsentDecision, Version: 1, Handler: link.HandlerFunc(s.applyConsentDecision)},
		{Kind: KindFeedback, Version: 1, Handler: link.HandlerFunc(s.applyFeedback)},
		{Kind: KindRecall, Version: 1, Handler: link.HandlerFunc(s.applyRecall)},
		{Kind: KindSealed, Version: 1, Handler: link.HandlerFunc(s.applySealed)},
		{Kind: KindRFI, Version: 1, Handler: link.HandlerFunc(s.applyRFI)},
		{Kind: KindRFIResponse, Version: 1, Handler: link.HandlerFunc(s.applyRFIResponse)},
		{Kind: KindAttachment, Version: 1, Handler: link.HandlerFunc(s.applyAttachment)},
	}
}

// disclosureRow reads the origin and state of a disclosure, for envelopes
// about it from the partner.
func (s *Service) disclosureRow(ctx context.Context, tx *store.Tx, id string) (origin, status string, sealed int64, err error) {
	err = tx.QueryRow(ctx, `SELECT origin, status, sealed_at FROM disclosures WHERE id = ?`, id).Scan(&origin, &status, &sealed)
	return
}

func (s *Service) applyDisclosure(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b disclosureBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	var cav caveats.Caveats
	if err := link.DecodeCaveats(env, &cav); err != nil {
		return err
	}
	switch {
	case !link.ValidID(b.ID) || env.Stream != discStream(b.ID):
		return link.Reject("disclosure id %q does not fit stream %s", b.ID, env.Stream)
	case b.FromAgency != auth.FIU[s.partner] || b.ToAgency != auth.FIU[s.self]:
		return link.Reject("a disclosure goes from %s to %s, not %s to %s", auth.FIU[s.partner], auth.FIU[s.self], b.FromAgency, b.ToAgency)
	case b.ReleasedAt.IsZero() || b.ReleasedBy == "" || b.CreatedBy == "":
		return link.Reject("disclosure has no release time or releaser")
	case b.ReleasedBy == b.CreatedBy:
		return link.Reject("disclosure was released by its own author")
	}
	sum := sha256.Sum256(b.Content)
	if hex.EncodeToString(sum[:]) != b.ContentSHA256 {
		return link.Reject("content does not match its SHA-256")
	}
	var c Content
	if err := link.Strict(b.Content, &c); err != nil {
		return link.Reject("content is malformed: %v", err)
	}
	d := Draft{Title: b.Title, CriminalGroup: b.CriminalGroup, Narrative: b.Narrative, Caveats: cav, RFIID: b.RFIID, Content: c}
	if err := checkDraft(&d, s.self); err != nil {
		return link.Reject("disclosure does not check: %v", err)
	}
	now := s.Now()
	released := b.ReleasedAt.UTC().Truncate(time.Millisecond)
	retain := released.Add(time.Duration(cav.RetentionDays) * 24 * time.Hour)
	_, err := tx.Exec(ctx, `INSERT INTO disclosures (id, origin, from_agency, to_agency, status, title, criminal_group, narrative, caveats, content,
		n_subjects, n_accounts, n_transactions, content_sha256, rfi_id, created_by, created_at, updated_at, released_by, released_at, received_at,
		envelope_id, local_agencies, retention_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, s.partner, b.FromAgency, b.ToAgency, StatusReceived, d.Title, d.CriminalGroup, d.Narrative, string(env.Caveats), string(b.Content),
		len(c.Subjects), len(c.Accounts), len(c.Transactions), b.ContentSHA256, b.RFIID, b.CreatedBy, released.UnixMilli(), now.UnixMilli(),
		b.ReleasedBy, released.UnixMilli(), now.UnixMilli(), env.ID, agencies(b.ToAgency), retain.UnixMilli())
	if errors.Is(err, store.ErrConflict) {
		return link.Reject("disclosure %s already exists", b.ID)
	} else if err != nil {
		return fmt.Errorf("storing disclosure: %w", err)
	}
	known, err := s.known(ctx, tx, b.ID, &c)
	if err != nil {
		return err
	}
	if len(known) > 0 {
		raw, _ := json.Marshal(known)
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET hits = ? WHERE id = ?`, string(raw), b.ID); err != nil {
			return fmt.Errorf("storing known identifiers: %w", err)
		}
	}
	if err := s.storeKeys(ctx, tx, b.ID, &c); err != nil {
		return err
	}
	if err := attachReceived(ctx, tx, b.ID, env.Stream, b.Attachments); err != nil {
		return err
	}
	s.changed(tx, "d:"+b.ID)
	tx.AfterCommit(s.kick) // screen its subjects now
	return nil
}

func (s *Service) applyConsentRequest(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b consentRequestBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if !link.ValidID(b.ID) || env.Stream != discStream(b.DisclosureID) {
		return link.Reject("consent request does not fit stream %s", env.Stream)
	}
	origin, _, _, err := s.disclosureRow(ctx, tx, b.DisclosureID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && origin != s.self) {
		return link.Reject("consent requested for %s, which is not our disclosure", b.DisclosureID)
	} else if err != nil {
		return err
	}
	switch {
	case b.Use == UseDisseminate && !slices.Contains(auth.Agencies[s.partner], b.Agency):
		return link.Reject("consent requested for unknown agency %q", b.Agency)
	case b.Use == UseEvidential && b.Agency != "":
		return link.Reject("an evidential-use request names no agency")
	case b.Use != UseDisseminate && b.Use != UseEvidential:
		return link.Reject("unknown use %q", b.Use)
	case text("reason", b.Reason, MaxText, true) != nil, text("requested_by", b.RequestedBy, MaxShort, true) != nil, b.RequestedAt.IsZero():
		return link.Reject("consent request is incomplete")
	}
	c := &Consent{ID: b.ID, DisclosureID: b.DisclosureID, Origin: s.partner, Agency: b.Agency, Use: b.Use, Reason: b.Reason, Status: ConsentPending,
		RequestedBy: b.RequestedBy, RequestedAt: b.RequestedAt.UTC().Truncate(time.Millisecond)}
	if err := s.insertConsent(ctx, tx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return link.Reject("consent request %s already exists", b.ID)
		}
		return err
	}
	s.changed(tx, "d:"+b.DisclosureID)
	return nil
}

func (s *Service) applyConsentDecision(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b consentDecisionBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if env.Stream != discStream(b.DisclosureID) || (b.Status != ConsentGranted && b.Status != ConsentDenied) || b.DecidedAt.IsZero() ||
		text("decided_by", b.DecidedBy, MaxShort, true) != nil || text("conditions", b.Conditions, MaxText, false) != nil {
		return link.Reject("consent decision is incomplete or does not fit its stream")
	}
	res, err := tx.Exec(ctx, `UPDATE consents SET status = ?, conditions = ?, decided_by = ?, decided_at = ? WHERE id = ? AND disclosure_id = ? AND origin = ? AND status = ?`,
		b.Status, b.Conditions, b.DecidedBy, b.DecidedAt.UTC().UnixMilli(), b.ID, b.DisclosureID, s.self, ConsentPending)
	if err != nil {
		return fmt.Errorf("storing consent decision: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return link.Reject("no pending consent request %s of ours", b.ID)
	}
	s.changed(tx, "d:"+b.DisclosureID)
	return nil
}

func (s *Service) applyFeedback(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var f Feedback
	if err := link.DecodeBody(env, &f); err != nil {
		return err
	}
	if !link.ValidID(f.ID) || env.Stream != discStream(f.DisclosureID) || f.Origin != s.partner {
		return link.Reject("feedback does not fit its stream")
	}
	origin, _, _, err := s.disclosureRow(ctx, tx, f.DisclosureID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && origin != s.self) {
		return link.Reject("feedback about %s, which is not our disclosure", f.DisclosureID)
	} else if err != nil {
		return err
	}
	if !slices.Contains(FeedbackKinds, f.Kind) || (f.Amount != "" && (!amountRE.MatchString(f.Amount) || !currencyRE.MatchString(f.Currency))) ||
		f.Count < 0 || text("note", f.Note, MaxText, false) != nil || text("author", f.Author, MaxShort, true) != nil ||
		!slices.Contains(auth.Agencies[s.partner], f.AuthorAgency) || f.At.IsZero() {
		return link.Reject("feedback does not check")
	}
	f.At = f.At.UTC().Truncate(time.Millisecond)
	if err := s.insertFeedback(ctx, tx, &f); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return link.Reject("feedback %s already exists", f.ID)
		}
		return err
	}
	s.changed(tx, "d:"+f.DisclosureID)
	return nil
}

func (s *Service) applyRecall(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b recallBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if env.Stream != discStream(b.DisclosureID) || b.RecalledAt.IsZero() {
		return link.Reject("recall does not fit its stream")
	}
	origin, _, _, err := s.disclosureRow(ctx, tx, b.DisclosureID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && origin != s.partner) {
		return link.Reject("recall of %s, which the partner never sent us", b.DisclosureID)
	} else if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE disclosures SET recalled_at = ? WHERE id = ?`, b.RecalledAt.UTC().UnixMilli(), b.DisclosureID); err != nil {
		return fmt.Errorf("recording recall: %w", err)
	}
	return s.seal(ctx, tx, b.DisclosureID, "recall", s.Now())
}

func (s *Service) applySealed(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b sealedBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if env.Stream != discStream(b.DisclosureID) || b.SealedAt.IsZero() || (b.Reason != "recall" && b.Reason != "retention") {
		return link.Reject("seal attestation does not fit its stream")
	}
	var origin, digest string
	err := tx.QueryRow(ctx, `SELECT origin, content_sha256 FROM disclosures WHERE id = ?`, b.DisclosureID).Scan(&origin, &digest)
	if errors.Is(err, store.ErrNotFound) || (err == nil && origin != s.self) {
		return link.Reject("seal attestation for %s, which is not our disclosure", b.DisclosureID)
	} else if err != nil {
		return err
	}
	if digest != b.ContentSHA256 {
		return link.Reject("seal attestation names content %s, we sent %s", b.ContentSHA256, digest)
	}
	// Our own copy stays whole: what is recorded is the partner's signed
	// word that its copy was sealed, and when.
	if _, err := tx.Exec(ctx, `UPDATE disclosures SET seal_reason = ?, seal_attested_at = ?, seal_envelope = ?, updated_at = ? WHERE id = ?`,
		b.Reason, b.SealedAt.UTC().UnixMilli(), env.ID, s.Now().UnixMilli(), b.DisclosureID); err != nil {
		return fmt.Errorf("storing seal attestation: %w", err)
	}
	s.changed(tx, "d:"+b.DisclosureID)
	return nil
}

func (s *Service) applyRFI(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b rfiBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if !link.ValidID(b.ID) || env.Stream != rfiStream(b.ID) {
		return link.Reject("request id %q does not fit stream %s", b.ID, env.Stream)
	}
	if b.FromAgency != auth.FIU[s.partner] || b.ToAgency != auth.FIU[s.self] {
		return link.Reject("a request goes from %s to %s", auth.FIU[s.partner], auth.FIU[s.self])
	}
	in := NewRFI{Title: b.Title, Urgency: b.Urgency, Questions: b.Questions, Subjects: b.Subjects}
	if err := checkRFI(&in); err != nil || text("created_by", b.CreatedBy, MaxShort, true) != nil || b.CreatedAt.IsZero() {
		return link.Reject("request does not check: %v", err)
	}
	created := b.CreatedAt.UTC().Truncate(time.Millisecond)
	// Our deadline is our own commitment under the agreement both signed.
	if want := s.deadline(s.self, created); !b.DeadlineAt.Equal(want) {
		return link.Reject("request deadline %s is not %s, our commitment of %d days", b.DeadlineAt.Format(time.RFC3339), want.Format(time.RFC3339), s.ResponseDays(s.self))
	}
	r := &RFI{ID: b.ID, Origin: s.partner, FromAgency: b.FromAgency, ToAgency: b.ToAgency, Urgency: b.Urgency, Title: in.Title, Questions: b.Questions,
		Subjects: b.Subjects, CreatedBy: b.CreatedBy, CreatedAt: created, DeadlineAt: b.DeadlineAt.UTC(), Status: RFIOpen, EnvelopeID: env.ID}
	if err := s.insertRFI(ctx, tx, r, b.ToAgency); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return link.Reject("request %s already exists", b.ID)
		}
		return err
	}
	tx.AfterCommit(s.kick)
	return nil
}

func (s *Service) applyRFIResponse(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b responseBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if env.Stream != rfiStream(b.RFIID) || !link.ValidID(b.ID) {
		return link.Reject("response does not fit its stream")
	}
	if (b.Kind != RespondPartial && b.Kind != RespondFull && b.Kind != RespondDecline) || text("body", b.Body, MaxText, true) != nil ||
		text("author", b.Author, MaxShort, true) != nil || !slices.Contains(auth.Agencies[s.partner], b.AuthorAgency) || b.At.IsZero() ||
		(b.DisclosureID != "" && !link.ValidID(b.DisclosureID)) {
		return link.Reject("response does not check")
	}
	var origin string
	var final int64
	err := tx.QueryRow(ctx, `SELECT origin, final_at FROM rfis WHERE id = ?`, b.RFIID).Scan(&origin, &final)
	if errors.Is(err, store.ErrNotFound) || (err == nil && origin != s.self) {
		return link.Reject("response to %s, which is not our request", b.RFIID)
	} else if err != nil {
		return err
	}
	if final != 0 {
		return link.Reject("request %s has had its final answer", b.RFIID)
	}
	b.At = b.At.UTC().Truncate(time.Millisecond)
	if err := s.applyResponse(ctx, tx, b.RFIID, &b.Response); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return link.Reject("response %s already exists", b.ID)
		}
		return err
	}
	return nil
}
