package finintel

import (
	"puente/internal/fault"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/store"
)

// MaxRFISubjects bounds the subjects of one request.
const MaxRFISubjects = 200

type rfiBody struct {
	ID         string    `json:"id"`
	FromAgency string    `json:"from_agency"`
	ToAgency   string    `json:"to_agency"`
	Urgency    string    `json:"urgency"`
	Title      string    `json:"title"`
	Questions  string    `json:"questions"`
	Subjects   []Subject `json:"subjects"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	DeadlineAt time.Time `json:"deadline_at"`
}

type responseBody struct {
	RFIID string `json:"rfi_id"`
	Response
}

// deadline is when side must have answered a request made at t: its own
// commitment in the agreement (differentiated responsibility).
func (s *Service) deadline(side string, t time.Time) time.Time {
	return t.Add(time.Duration(s.ResponseDays(side)) * 24 * time.Hour)
}

func checkRFI(in *NewRFI) error {
	in.Title = strings.TrimSpace(in.Title)
	if err := text("title", in.Title, MaxTitle, true); err != nil {
		return err
	}
	if !slices.Contains(Urgencies, in.Urgency) {
		return fault.Field("urgency", "invalid_urgency")
	}
	if err := text("questions", in.Questions, MaxText, true); err != nil {
		return err
	}
	if len(in.Subjects) > MaxRFISubjects {
		return fault.Field("subjects", "too_many")
	}
	refs := map[string]bool{}
	for i := range in.Subjects {
		f := fmt.Sprintf("subjects[%d]", i)
		if err := checkSubject(f, &in.Subjects[i]); err != nil {
			return err
		}
		if refs[in.Subjects[i].Ref] {
			return fault.Field(f+".ref", "duplicate_ref")
		}
		refs[in.Subjects[i].Ref] = true
	}
	return nil
}

// CreateRFI asks the partner's FIU about subjects. The deadline is the
// partner's commitment for this work area.
func (s *Service) CreateRFI(ctx context.Context, u *auth.User, in NewRFI) (*RFI, error) {
	if !u.Can(auth.FinIntelWrite) || !s.isFIU(u) {
		return nil, ErrForbidden
	}
	if in.Urgency == "" {
		in.Urgency = "routine"
	}
	if err := checkRFI(&in); err != nil {
		return nil, err
	}
	now := s.Now()
	r := &RFI{ID: link.NewID(), Origin: s.self, FromAgency: u.Agency, ToAgency: auth.FIU[s.partner], Urgency: in.Urgency, Title: in.Title,
		Questions: in.Questions, Subjects: in.Subjects, CreatedBy: u.DisplayName, CreatedAt: now, DeadlineAt: s.deadline(s.partner, now), Status: RFIOpen}
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		env, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindRFI, Version: 1, Stream: rfiStream(r.ID), Caveats: s.DefaultCaveats(), Body: rfiBody{
			ID: r.ID, FromAgency: r.FromAgency, ToAgency: r.ToAgency, Urgency: r.Urgency, Title: r.Title, Questions: r.Questions, Subjects: r.Subjects,
			CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, DeadlineAt: r.DeadlineAt}})
		if err != nil {
			return fmt.Errorf("sending request: %w", err)
		}
		r.EnvelopeID = env.ID
		return s.insertRFI(ctx, tx, r, u.Agency)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Service) insertRFI(ctx context.Context, tx *store.Tx, r *RFI, local string) error {
	if r.Subjects == nil {
		r.Subjects = []Subject{}
	}
	subs, _ := json.Marshal(r.Subjects)
	_, err := tx.Exec(ctx, `INSERT INTO rfis (id, origin, from_agency, to_agency, urgency, title, questions, subjects, created_by, created_at, deadline_at, status,
		updated_at, local_agencies, envelope_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Origin, r.FromAgency, r.ToAgency, r.Urgency, r.Title, r.Questions, string(subs), r.CreatedBy, r.CreatedAt.UnixMilli(), r.DeadlineAt.UnixMilli(),
		r.Status, r.CreatedAt.UnixMilli(), agencies(local), r.EnvelopeID)
	if err != nil {
		return fmt.Errorf("writing request: %w", err)
	}
	s.changed(tx, "r:"+r.ID)
	return nil
}

// Respond answers a partner's request: partially (it stays open), fully,
// or by declining with a reason. A response may attach one of our released
// disclosures.
func (s *Service) Respond(ctx context.Context, u *auth.User, rfiID, kind, body, disclosureID string) (*Response, error) {
	if !u.Can(auth.FinIntelWrite) || !s.isFIU(u) {
		return nil, ErrForbidden
	}
	if kind != RespondPartial && kind != RespondFull && kind != RespondDecline {
		return nil, fault.Field("kind", "invalid_response")
	}
	if err := text("body", body, MaxText, true); err != nil {
		return nil, err
	}
	var resp *Response
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		r, err := s.rfi(ctx, tx, u, rfiID)
		if err != nil {
			return err
		}
		if r.Origin == s.self || (r.Status != RFIOpen && r.Status != RFIPartial) {
			return ErrState
		}
		if disclosureID != "" {
			var origin, status string
			err := tx.QueryRow(ctx, `SELECT origin, status FROM disclosures WHERE id = ?`, disclosureID).Scan(&origin, &status)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (origin != s.self || status != StatusReleased)) {
				return fault.Field("disclosure_id", "not_released")
			} else if err != nil {
				return fmt.Errorf("reading disclosure: %w", err)
			}
		}
		resp = &Response{ID: link.NewID(), Kind: kind, Body: body, DisclosureID: disclosureID, Author: u.DisplayName, AuthorAgency: u.Agency, At: s.Now()}
		if err := s.applyResponse(ctx, tx, rfiID, resp); err != nil {
			return err
		}
		_, err = s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindRFIResponse, Version: 1, Stream: rfiStream(rfiID), Caveats: s.DefaultCaveats(),
			Body: responseBody{RFIID: rfiID, Response: *resp}})
		if err != nil {
			return fmt.Errorf("sending response: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// applyResponse stores a response and moves the request's status, on
// either side.
func (s *Service) applyResponse(ctx context.Context, tx *store.Tx, rfiID string, resp *Response) error {
	if _, err := tx.Exec(ctx, `INSERT INTO rfi_responses (id, rfi_id, kind, body, disclosure_id, author, author_agency, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		resp.ID, rfiID, resp.Kind, resp.Body, resp.DisclosureID, resp.Author, resp.AuthorAgency, resp.At.UnixMilli()); err != nil {
		return fmt.Errorf("writing response: %w", err)
	}
	at := resp.At.UnixMilli()
	var q string
	switch resp.Kind {
	case RespondPartial:
		q = `UPDATE rfis SET status = 'partial', updated_at = ? WHERE id = ? AND final_at = 0`
	case RespondFull:
		q = `UPDATE rfis SET status = 'answered', final_at = ?, updated_at = ? WHERE id = ? AND final_at = 0`
	default:
		q = `UPDATE rfis SET status = 'declined', final_at = ?, updated_at = ? WHERE id = ? AND final_at = 0`
	}
	args := []any{at, at, rfiID}
	if resp.Kind == RespondPartial {
		args = args[1:]
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("updating request: %w", err)
	}
	s.changed(tx, "r:"+rfiID)
	return nil
}

const rfiCols = `r.id, r.origin, r.from_agency, r.to_agency, r.urgency, r.title, r.questions, r.subjects, r.created_by, r.created_at, r.deadline_at,
	r.status, r.final_at, r.reminded_at, r.envelope_id`

func (s *Service) scanRFI(row store.Scanner) (*RFI, error) {
	var r RFI
	var subs string
	var created, deadline, final, reminded int64
	if err := row.Scan(&r.ID, &r.Origin, &r.FromAgency, &r.ToAgency, &r.Urgency, &r.Title, &r.Questions, &subs, &r.CreatedBy, &created, &deadline,
		&r.Status, &final, &reminded, &r.EnvelopeID); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(subs), &r.Subjects); err != nil {
		return nil, fmt.Errorf("request %s: the stored subjects are corrupt: %w", r.ID, err)
	}
	r.CreatedAt, r.DeadlineAt = store.Time(created), store.Time(deadline)
	if final > 0 {
		r.FinalAt = store.Time(final)
	}
	if reminded > 0 {
		r.RemindedAt = store.Time(reminded)
	}
	s.clocks(&r, s.Now())
	return &r, nil
}

// clocks sets the deadline flags: overdue when still open past the
// deadline or answered after it.
func (s *Service) clocks(r *RFI, now time.Time) {
	r.Late = !r.FinalAt.IsZero() && r.FinalAt.After(r.DeadlineAt)
	r.Overdue = r.Late || (r.FinalAt.IsZero() && now.After(r.DeadlineAt))
	r.DueSoon = r.FinalAt.IsZero() && !r.Overdue && !now.Before(reminderAt(r.CreatedAt, r.DeadlineAt))
}

// reminderAt is when a reminder goes out: three days before the deadline,
// or at three quarters of a shorter period.
func reminderAt(created, deadline time.Time) time.Time {
	period := deadline.Sub(created)
	lead := 72 * time.Hour
	if period/4 < lead {
		lead = period / 4
	}
	return deadline.Add(-lead)
}

func (s *Service) rfi(ctx context.Context, q store.Querier, u *auth.User, id string) (*RFI, error) {
	cond, args := visible(u, "r")
	r, err := s.scanRFI(q.QueryRow(ctx, `SELECT `+rfiCols+` FROM rfis r WHERE r.id = ? AND `+cond, append([]any{id}, args...)...))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading request %s: %w", id, err)
	}
	return r, nil
}

// GetRFI returns a request with its responses.
func (s *Service) GetRFI(ctx context.Context, u *auth.User, id string) (*RFI, error) {
	q := s.db.Read()
	r, err := s.rfi(ctx, q, u, id)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, kind, body, disclosure_id, author, author_agency, at FROM rfi_responses WHERE rfi_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading responses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x Response
		var at int64
		if err := rows.Scan(&x.ID, &x.Kind, &x.Body, &x.DisclosureID, &x.Author, &x.AuthorAgency, &at); err != nil {
			return nil, err
		}
		x.At = store.Time(at)
		r.Responses = append(r.Responses, x)
	}
	return r, rows.Err()
}

// ListRFIs returns the requests u may see, open ones with the nearest
// deadline first.
func (s *Service) ListRFIs(ctx context.Context, u *auth.User, direction string) ([]*RFI, error) {
	if !u.Can(auth.FinIntelRead) {
		return nil, ErrForbidden
	}
	cond, args := visible(u, "r")
	q := `SELECT ` + rfiCols + ` FROM rfis r WHERE ` + cond
	switch direction {
	case "sent":
		q += ` AND r.origin = ?`
		args = append(args, s.self)
	case "received":
		q += ` AND r.origin <> ?`
		args = append(args, s.self)
	case "":
	default:
		return nil, fault.Field("direction", "invalid_filter")
	}
	q += ` ORDER BY CASE WHEN r.final_at = 0 THEN 0 ELSE 1 END, r.deadline_at, r.id LIMIT 500`
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing requests: %w", err)
	}
	return store.Collect(rows, s.scanRFI)
}

// Remind marks, on the requested side, the open requests whose reminder
// time has come, logs each reminder and tells open pages; it returns how
// many went out.
func (s *Service) Remind(ctx context.Context) (int, error) {
	now := s.Now()
	rows, err := s.db.Read().Query(ctx, `SELECT id, created_at, deadline_at FROM rfis WHERE origin = ? AND final_at = 0 AND reminded_at = 0 AND deadline_at > 0 LIMIT 1000`, s.partner)
	if err != nil {
		return 0, fmt.Errorf("finding requests to remind: %w", err)
	}
	var due []string
	for rows.Next() {
		var id string
		var c, d int64
		if err := rows.Scan(&id, &c, &d); err != nil {
			rows.Close()
			return 0, err
		}
		if !now.Before(reminderAt(store.Time(c), store.Time(d))) {
			due = append(due, id)
		}
	}
	rows.Close()
	for _, id := range due {
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE rfis SET reminded_at = ? WHERE id = ? AND reminded_at = 0`, now.UnixMilli(), id); err != nil {
				return fmt.Errorf("reminding: %w", err)
			}
			s.cfg.Logger.Info("request for information due soon", "rfi", id)
			s.changed(tx, "r:"+id)
			return s.entry(ctx, tx, KindLogReminder, "rfi:"+id, "", "")
		})
		if err != nil {
			return 0, err
		}
	}
	return len(due), nil
}
