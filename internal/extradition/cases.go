package extradition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Link kinds of cases, on the stream "extradition:c:ID": the case as it
// was opened, from the side that opened it; each stage from the side it
// belongs to.
const (
	KindCase      = "extradition.case"
	KindCaseStage = "extradition.case.stage"
)

// Log entry kinds of cases.
const (
	KindLogCaseOpened   = "extradition.case.opened"
	KindLogCaseStage    = "extradition.case.stage"
	KindLogCaseReceived = "extradition.case.received"
	KindLogClockWarned  = "extradition.clock.warned"
	KindLogClockOverdue = "extradition.clock.overdue"
)

// ErrCaseNotFound is a case that does not exist or u may not see.
var ErrCaseNotFound = fmt.Errorf("case: %w", fault.ErrNotFound)

func caseStream(id string) string { return "extradition:c:" + id }

// CaseVisible reports whether u may see cases at all: the roles that need
// them (legal, coordinator, supervisor) of our extradition agencies, and
// auditors.
func (s *Service) CaseVisible(u *auth.User) bool {
	return u.Can(auth.ReadAll) || (u.Can(auth.ExtRead) && slices.Contains(Agencies[s.self], u.Agency))
}

func parties(s *Service) []string { return []string{s.self, s.partner} }

func loadCase(ctx context.Context, q store.Querier, id string) (*Case, error) {
	var doc, envs string
	err := q.QueryRow(ctx, `SELECT doc, envelopes FROM cases WHERE id = ?`, id).Scan(&doc, &envs)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrCaseNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading case %s: %w", id, err)
	}
	c, err := decodeCase(doc)
	if err != nil {
		return nil, err
	}
	if envs != "" {
		c.Envelopes = strings.Split(envs, ",")
	}
	return c, nil
}

func decodeCase(doc string) (*Case, error) {
	var c Case
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return nil, fmt.Errorf("reading a case: %w", err)
	}
	return &c, nil
}

// saveCase stores c and its clocks: each clock's due date is computed
// from the stages and the agreement's terms, here, once per change.
func (s *Service) saveCase(ctx context.Context, tx *store.Tx, c *Case, insert bool) error {
	c.Clocks = nil
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding case: %w", err)
	}
	closed := 0
	if c.Closed() {
		closed = 1
	}
	envs := strings.Join(c.Envelopes, ",")
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO cases (id, kind, requesting, requested, current, closed, target, grp, updated_at, envelopes, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Kind, c.Requesting, c.Requested, c.Current(), closed, c.Target, c.Group, store.Now(), envs, string(doc))
	} else {
		_, err = tx.Exec(ctx, `UPDATE cases SET current = ?, closed = ?, updated_at = ?, envelopes = ?, doc = ? WHERE id = ?`,
			c.Current(), closed, store.Now(), envs, string(doc), c.ID)
	}
	if err != nil {
		return fmt.Errorf("storing case: %w", err)
	}
	// A stage only ever starts or stops clocks: the warnings given so far
	// stay with each.
	for _, k := range s.cals.clocks(c, s.Now()) {
		stopped := ""
		if !k.Open() {
			stopped = k.Stopped.Format(time.DateOnly)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_clocks (case_id, term, party, due, stopped) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (case_id, term) DO UPDATE SET party = excluded.party, due = excluded.due, stopped = excluded.stopped`,
			c.ID, k.Term, k.Party, k.Due.Format(time.DateOnly), stopped); err != nil {
			return fmt.Errorf("storing clocks: %w", err)
		}
	}
	s.changed(tx, "c:"+c.ID)
	return nil
}

// OpenCase opens a case by u's side, which is either side of it: the
// requesting side (a provisional arrest request on its way) or the
// requested one (a transfer it offers).
func (s *Service) OpenCase(ctx context.Context, u *auth.User, in Case) (*Case, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	c := in
	c.Clocks = nil // computed, never given
	if c.Requested == "" || (c.Requested != s.self && c.Requested != s.partner) {
		return nil, fault.Field("requested", "invalid_side")
	}
	c.Requesting = s.partner
	if c.Requested == s.partner {
		c.Requesting = s.self
	}
	if err := checkCase(&c, parties(s)); err != nil {
		return nil, err
	}
	c.ID, c.OpenedBy, c.Agency, c.Opened, c.Stages, c.Envelopes, c.Assurances = link.NewID(), s.self, u.Agency, s.Now(), nil, nil, nil
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if c.Target != "" {
			t, err := loadTarget(ctx, tx, c.Target)
			if err != nil || !t.Visible(u, s.self) || (t.Stage != StageReleased && t.Stage != StageReceived) {
				return fault.Field("target", "unknown_target")
			}
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindCase, Version: 1, Stream: caseStream(c.ID), Caveats: s.DefaultCaveats(), Body: c}); err != nil {
			return fmt.Errorf("sending the case: %w", err)
		}
		if err := s.saveCase(ctx, tx, &c, true); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, KindLogCaseOpened, "case:"+c.ID, fmt.Sprintf("kind=%s requesting=%s requested=%s", c.Kind, c.Requesting, c.Requested))
	})
	if err != nil {
		return nil, err
	}
	c.Clocks = s.cals.clocks(&c, s.Now())
	return &c, nil
}

// Record records a stage our side owns.
func (s *Service) Record(ctx context.Context, u *auth.User, id string, in Stage) (*Case, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	var out *Case
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := loadCase(ctx, tx, id)
		if err != nil {
			return err
		}
		st := Stage{Case: id, Stage: in.Stage, Date: strings.TrimSpace(in.Date), Place: strings.TrimSpace(in.Place), Outcome: in.Outcome,
			Escort: strings.TrimSpace(in.Escort), Note: strings.TrimSpace(in.Note), Side: s.self, Agency: u.Agency, By: u.Username, At: s.Now()}
		if err := apply(c, s.self, &st, s.Now()); err != nil {
			return err
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindCaseStage, Version: 1, Stream: caseStream(id), Caveats: s.DefaultCaveats(), Body: st}); err != nil {
			return fmt.Errorf("sending the stage: %w", err)
		}
		if err := s.saveCase(ctx, tx, c, false); err != nil {
			return err
		}
		out = c
		return s.log.Record(ctx, tx, KindLogCaseStage, "case:"+id, "stage="+st.Stage+" date="+st.Date)
	})
	if err != nil {
		return nil, err
	}
	out.Clocks = s.cals.clocks(out, s.Now())
	return out, nil
}

// applyCase stores a case the partner opened.
func (s *Service) applyCase(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var c Case
	if err := link.DecodeBody(env, &c); err != nil {
		return err
	}
	if !link.ValidID(c.ID) || env.Stream != caseStream(c.ID) || c.OpenedBy != s.partner || len(c.Stages) > 0 || len(c.Clocks) > 0 || len(c.Assurances) > 0 || c.Opened.IsZero() ||
		!slices.Contains(Agencies[s.partner], c.Agency) {
		return link.Reject("case does not fit stream %s", env.Stream)
	}
	if err := checkCase(&c, parties(s)); err != nil {
		return link.Reject("case %s does not check: %v", c.ID, err)
	}
	if c.Target != "" {
		if _, err := loadTarget(ctx, tx, c.Target); err != nil {
			return link.Reject("case %s names target %s, which we do not hold", c.ID, c.Target)
		}
	}
	if _, err := loadCase(ctx, tx, c.ID); err == nil {
		return link.Reject("case %s arrived twice", c.ID)
	}
	c.Opened = c.Opened.UTC()
	c.Envelopes = []string{env.ID}
	if err := s.saveCase(ctx, tx, &c, true); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogCaseReceived, "case:"+c.ID, "from="+s.partner)
}

// applyStage applies a stage the partner recorded, by the rule our own
// users' stages follow.
func (s *Service) applyStage(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var st Stage
	if err := link.DecodeBody(env, &st); err != nil {
		return err
	}
	if !link.ValidID(st.Case) || env.Stream != caseStream(st.Case) || st.Side != s.partner || st.At.IsZero() ||
		text("by", st.By, MaxShort, true) != nil || !slices.Contains(Agencies[s.partner], st.Agency) {
		return link.Reject("case stage does not fit stream %s", env.Stream)
	}
	c, err := loadCase(ctx, tx, st.Case)
	if errors.Is(err, ErrCaseNotFound) {
		return link.Reject("stage of case %s, which we do not know", st.Case)
	} else if err != nil {
		return err
	}
	st.At = st.At.UTC()
	// The partner's clock may run ahead of ours by a little.
	if err := apply(c, s.partner, &st, time.Now().Add(24*time.Hour)); err != nil {
		return link.Reject("case %s: stage %s does not fit: %v", st.Case, st.Stage, err)
	}
	c.Envelopes = append(c.Envelopes, env.ID)
	if err := s.saveCase(ctx, tx, c, false); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogCaseStage, "case:"+c.ID, "stage="+st.Stage+" date="+st.Date+" by="+s.partner)
}

// GetCase returns a case with its clocks as of today. Each read is logged,
// and a read of what the partner sent is reported to it, as for
// disclosures.
func (s *Service) GetCase(ctx context.Context, u *auth.User, id string) (*Case, error) {
	if !s.CaseVisible(u) {
		return nil, ErrCaseNotFound
	}
	c, err := loadCase(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if s.cfg.Trust != nil && len(c.Envelopes) > 0 {
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			return s.cfg.Trust.RecordAccess(ctx, tx, trust.Access{Action: trustlog.KindDataRead, User: u.Username, Name: u.DisplayName, Agency: u.Agency, EnvelopeIDs: c.Envelopes, Once: true})
		})
		if err != nil {
			return nil, fmt.Errorf("logging the read: %w", err)
		}
	}
	c.Clocks = s.cals.clocks(c, s.Now())
	return c, nil
}

// CaseFilter narrows a list of cases.
type CaseFilter struct {
	Kind      string
	Requested string
	Open      bool
	Group     string
	Limit     int
}

// ListCases returns the cases u may see, most recently changed first,
// with their clocks.
func (s *Service) ListCases(ctx context.Context, u *auth.User, f CaseFilter) ([]*Case, error) {
	if !s.CaseVisible(u) {
		return nil, ErrForbidden
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q, args := `SELECT doc, envelopes FROM cases WHERE 1 = 1`, []any{}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Requested != "" {
		q += ` AND requested = ?`
		args = append(args, f.Requested)
	}
	if f.Open {
		q += ` AND closed = 0`
	}
	if f.Group != "" {
		q += ` AND grp = ?`
		args = append(args, f.Group)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY updated_at DESC, id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing cases: %w", err)
	}
	out, err := store.Collect(rows, func(sc store.Scanner) (*Case, error) {
		var doc, envs string
		if err := sc.Scan(&doc, &envs); err != nil {
			return nil, err
		}
		return decodeCase(doc)
	})
	if err != nil {
		return nil, err
	}
	today := s.Now()
	for _, c := range out {
		c.Clocks = s.cals.clocks(c, today)
	}
	return out, nil
}

// CaseFigures are the figures of the cases one side requested: the same
// on both nodes, from the stages both hold.
type CaseFigures struct {
	Requesting  string         `json:"requesting"`
	Cases       int            `json:"cases"`
	Transfers   int            `json:"transfers"`
	Open        int            `json:"open"`
	ByStage     map[string]int `json:"by_stage"`
	Surrendered int            `json:"surrendered"`
	Transferred int            `json:"transferred"`
	Refused     int            `json:"refused"`
	// MedianArrestToRequest is in days, against the requesting side's
	// commitment formal_request_days.
	MedianArrestToRequest float64        `json:"median_arrest_to_formal_request_days"`
	Commitment            int            `json:"formal_request_days"`
	ClocksMet             int            `json:"clocks_met"`
	ClocksMissed          int            `json:"clocks_missed"`
	AssurancesOpen        int            `json:"assurances_open"`
	AssurancesHonoured    int            `json:"assurances_honoured"`
	AssurancesBreached    int            `json:"assurances_breached"`
	HandedOverByMonth     map[string]int `json:"handed_over_by_month"` // surrenders and transfers
}

// CaseFigures computes them per requesting side, as of today.
func (s *Service) CaseFigures(ctx context.Context, u *auth.User) ([]CaseFigures, error) {
	if !s.CaseVisible(u) {
		return nil, nil
	}
	rows, err := s.db.Read().Query(ctx, `SELECT doc FROM cases ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	all, err := store.Collect(rows, func(sc store.Scanner) (*Case, error) {
		var doc string
		if err := sc.Scan(&doc); err != nil {
			return nil, err
		}
		return decodeCase(doc)
	})
	if err != nil {
		return nil, err
	}
	ps := parties(s)
	slices.Sort(ps)
	today := s.Now()
	var out []CaseFigures
	for _, p := range ps {
		f := CaseFigures{Requesting: p, ByStage: map[string]int{}, HandedOverByMonth: map[string]int{}, Commitment: s.cfg.Agreement.Commitments[p].FormalRequestDays}
		var days []float64
		for _, c := range all {
			if c.Requesting != p {
				continue
			}
			if c.Kind == KindTransfer {
				f.Transfers++
			} else {
				f.Cases++
			}
			if !c.Closed() {
				f.Open++
			}
			f.ByStage[c.Current()]++
			switch c.Current() {
			case Surrendered, Transferred:
				if c.Current() == Surrendered {
					f.Surrendered++
				} else {
					f.Transferred++
				}
				d, _ := c.reached(c.Current())
				f.HandedOverByMonth[d.Format("2006-01")]++
			case Refused:
				f.Refused++
			}
			a, okA := c.reached(Arrested)
			r, okR := c.reached(FormalRequest)
			if okA && okR && !r.Before(a) {
				days = append(days, r.Sub(a).Hours()/24)
			}
			for _, a := range c.Assurances {
				switch a.Status {
				case AssuranceGiven:
					f.AssurancesOpen++
				case AssuranceHonoured:
					f.AssurancesHonoured++
				case AssuranceBreached:
					f.AssurancesBreached++
				}
			}
			for _, k := range s.cals.clocks(c, today) {
				switch {
				case !k.Open() && k.Met:
					f.ClocksMet++
				case !k.Open() || k.Overdue:
					f.ClocksMissed++
				}
			}
		}
		f.MedianArrestToRequest = median(days)
		out = append(out, f)
	}
	return out, nil
}

// NextStages are the stages our side may record now in c.
func (s *Service) NextStages(c *Case) []string { return NextStages(c, s.self, s.Now()) }
