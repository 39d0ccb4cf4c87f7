package finintel

import (
	"puente/internal/fault"

	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/store"
)

type consentRequestBody struct {
	ID           string    `json:"id"`
	DisclosureID string    `json:"disclosure_id"`
	Agency       string    `json:"agency,omitempty"`
	Use          string    `json:"use"`
	Reason       string    `json:"reason"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
}

type consentDecisionBody struct {
	ID           string    `json:"id"`
	DisclosureID string    `json:"disclosure_id"`
	Status       string    `json:"status"`
	Conditions   string    `json:"conditions,omitempty"`
	DecidedBy    string    `json:"decided_by"`
	DecidedAt    time.Time `json:"decided_at"`
}

// RequestConsent asks the originator for consent to pass a disclosure to
// agency (use UseDisseminate) or to use it as evidence (UseEvidential).
func (s *Service) RequestConsent(ctx context.Context, u *auth.User, id, use, agency, reason string) (*Consent, error) {
	d, err := s.received(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if d.Sealed() {
		return nil, ErrSealed
	}
	switch use {
	case UseDisseminate:
		if !slices.Contains(auth.Agencies[s.self], agency) || agency == d.ToAgency {
			return nil, fault.Field("agency", "unknown_agency")
		}
	case UseEvidential:
		agency = ""
	default:
		return nil, fault.Field("use", "invalid_use")
	}
	if err := text("reason", reason, MaxText, true); err != nil {
		return nil, err
	}
	c := &Consent{ID: link.NewID(), DisclosureID: id, Origin: s.self, Agency: agency, Use: use, Reason: reason, Status: ConsentPending,
		RequestedBy: u.DisplayName + " (" + u.Agency + ")", RequestedAt: s.Now()}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.insertConsent(ctx, tx, c); err != nil {
			return err
		}
		_, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindConsentRequest, Version: 1, Stream: discStream(id), Caveats: d.Caveats, Body: consentRequestBody{
			ID: c.ID, DisclosureID: id, Agency: agency, Use: use, Reason: reason, RequestedBy: c.RequestedBy, RequestedAt: c.RequestedAt}})
		if err != nil {
			return fmt.Errorf("sending consent request: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Service) insertConsent(ctx context.Context, tx *store.Tx, c *Consent) error {
	_, err := tx.Exec(ctx, `INSERT INTO consents (id, disclosure_id, origin, agency, use_kind, reason, status, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.DisclosureID, c.Origin, c.Agency, c.Use, c.Reason, c.Status, c.RequestedBy, c.RequestedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("writing consent request: %w", err)
	}
	return nil
}

// DecideConsent grants (with optional conditions) or denies a partner's
// request for consent about one of our disclosures.
func (s *Service) DecideConsent(ctx context.Context, u *auth.User, consentID string, grant bool, conditions string) error {
	if !u.Can(auth.FinIntelConsent) || !s.isFIU(u) {
		return ErrForbidden
	}
	if err := text("conditions", conditions, MaxText, false); err != nil {
		return err
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		var did, status, origin string
		err := tx.QueryRow(ctx, `SELECT disclosure_id, status, origin FROM consents WHERE id = ?`, consentID).Scan(&did, &status, &origin)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("reading consent: %w", err)
		}
		d, err := s.disclosure(ctx, tx, u, did)
		if err != nil {
			return err
		}
		if d.Origin != s.self || origin == s.self || status != ConsentPending {
			return ErrState
		}
		st := ConsentDenied
		if grant {
			st = ConsentGranted
		}
		now := s.Now()
		by := u.DisplayName + " (" + u.Agency + ")"
		if _, err := tx.Exec(ctx, `UPDATE consents SET status = ?, conditions = ?, decided_by = ?, decided_at = ? WHERE id = ?`, st, conditions, by, now.UnixMilli(), consentID); err != nil {
			return fmt.Errorf("deciding consent: %w", err)
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindConsentDecision, Version: 1, Stream: discStream(did), Caveats: d.Caveats, Body: consentDecisionBody{
			ID: consentID, DisclosureID: did, Status: st, Conditions: conditions, DecidedBy: by, DecidedAt: now}}); err != nil {
			return fmt.Errorf("sending consent decision: %w", err)
		}
		if err := s.entry(ctx, tx, KindLogConsent, "consent:"+consentID, "", "status="+st); err != nil {
			return err
		}
		s.changed(tx, "d:"+did)
		return nil
	})
}

func (s *Service) consents(ctx context.Context, q store.Querier, id string) ([]Consent, error) {
	rows, err := q.Query(ctx, `SELECT id, disclosure_id, origin, agency, use_kind, reason, status, conditions, requested_by, requested_at, decided_by, decided_at
		FROM consents WHERE disclosure_id = ? ORDER BY requested_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading consents: %w", err)
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		var c Consent
		var req, dec int64
		if err := rows.Scan(&c.ID, &c.DisclosureID, &c.Origin, &c.Agency, &c.Use, &c.Reason, &c.Status, &c.Conditions, &c.RequestedBy, &req, &c.DecidedBy, &dec); err != nil {
			return nil, err
		}
		c.RequestedAt = store.Time(req)
		if dec > 0 {
			c.DecidedAt = store.Time(dec)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- Feedback ----------------------------------------------------------

// SendFeedback reports to the originator what came of its disclosure.
func (s *Service) SendFeedback(ctx context.Context, u *auth.User, id string, f Feedback) (*Feedback, error) {
	d, err := s.received(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(FeedbackKinds, f.Kind) {
		return nil, fault.Field("kind", "invalid_feedback")
	}
	if f.Amount != "" && !amountRE.MatchString(f.Amount) {
		return nil, fault.Field("amount", "invalid_amount")
	}
	if f.Amount != "" && !currencyRE.MatchString(f.Currency) {
		return nil, fault.Field("currency", "invalid_currency")
	}
	if f.Kind == "accounts_frozen" && f.Amount == "" {
		return nil, fault.Field("amount", "required")
	}
	if f.Count < 0 || f.Count > 1_000_000 {
		return nil, fault.Field("count", "invalid_count")
	}
	if err := text("note", f.Note, MaxText, false); err != nil {
		return nil, err
	}
	fb := &Feedback{ID: link.NewID(), DisclosureID: id, Origin: s.self, Kind: f.Kind, Amount: f.Amount, Currency: f.Currency, Count: f.Count, Note: f.Note,
		Author: u.DisplayName, AuthorAgency: u.Agency, At: s.Now()}
	if fb.Amount == "" {
		fb.Currency = ""
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.insertFeedback(ctx, tx, fb); err != nil {
			return err
		}
		_, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindFeedback, Version: 1, Stream: discStream(id), Caveats: d.Caveats, Body: fb})
		if err != nil {
			return fmt.Errorf("sending feedback: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fb, nil
}

func (s *Service) insertFeedback(ctx context.Context, tx *store.Tx, f *Feedback) error {
	_, err := tx.Exec(ctx, `INSERT INTO feedback (id, disclosure_id, origin, kind, amount, currency, count, note, author, author_agency, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.DisclosureID, f.Origin, f.Kind, f.Amount, f.Currency, f.Count, f.Note, f.Author, f.AuthorAgency, f.At.UnixMilli())
	if err != nil {
		return fmt.Errorf("writing feedback: %w", err)
	}
	return nil
}

func (s *Service) feedbackOf(ctx context.Context, q store.Querier, id string) ([]Feedback, error) {
	rows, err := q.Query(ctx, `SELECT id, disclosure_id, origin, kind, amount, currency, count, note, author, author_agency, at FROM feedback WHERE disclosure_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading feedback: %w", err)
	}
	defer rows.Close()
	var out []Feedback
	for rows.Next() {
		var f Feedback
		var at int64
		if err := rows.Scan(&f.ID, &f.DisclosureID, &f.Origin, &f.Kind, &f.Amount, &f.Currency, &f.Count, &f.Note, &f.Author, &f.AuthorAgency, &at); err != nil {
			return nil, err
		}
		f.At = store.Time(at)
		out = append(out, f)
	}
	return out, rows.Err()
}
