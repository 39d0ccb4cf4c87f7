package finintel

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"puente/internal/area"
)

// Side is one side's figures in this work area. Both nodes compute them
// from the same signed facts (the times in the envelopes each side
// signed), so they agree once the link has delivered everything.
type Side struct {
	Party               string  `json:"party"`
	DisclosuresSent     int     `json:"disclosures_sent"`
	DisclosuresReceived int     `json:"disclosures_received"`
	RFIsSent            int     `json:"rfis_sent"`
	RFIsReceived        int     `json:"rfis_received"`
	RFIsAnswered        int     `json:"rfis_answered"` // requests this side answered fully
	RFIsDeclined        int     `json:"rfis_declined"` // requests this side declined
	RFIsOpen            int     `json:"rfis_open"`     // requests to this side still open
	RFIsOverdue         int     `json:"rfis_overdue"`  // open past the deadline, or answered after it
	MedianResponseDays  float64 `json:"median_response_days"`
	Responses           int     `json:"responses"` // final answers the median is taken over
	CommitmentDays      int     `json:"commitment_days"`
	ConsentsRequested   int     `json:"consents_requested"`
	ConsentsGranted     int     `json:"consents_granted"` // of this side's requests
	ConsentsDenied      int     `json:"consents_denied"`
	ConsentsPending     int     `json:"consents_pending"`
	FeedbackSent        int     `json:"feedback_sent"`
	// RecallsAsked are this side's recalls of its disclosures; Honoured,
	// the other side's recalls this side honoured with an attested seal.
	RecallsAsked    int `json:"recalls_asked"`
	RecallsHonoured int `json:"recalls_honoured"`
	// SentByMonth are the disclosures released per month ("2026-01").
	SentByMonth map[string]int `json:"disclosures_by_month"`
}

// Figures is the reciprocity ledger of financial intelligence.
type Figures struct {
	At    time.Time `json:"at"`
	Sides []Side    `json:"sides"`
}

// Figures counts the exchange per side. Drafts never count: only what
// crossed, or was released to cross.
func (s *Service) Figures(ctx context.Context) (*Figures, error) {
	q := s.db.Read()
	now := s.Now()
	sides := map[string]*Side{}
	for _, p := range []string{s.self, s.partner} {
		sides[p] = &Side{Party: p, CommitmentDays: s.ResponseDays(p), SentByMonth: map[string]int{}}
	}
	other := func(p string) string {
		if p == s.self {
			return s.partner
		}
		return s.self
	}
	count := func(sqlText string, f func(origin string, n int), args ...any) error {
		rows, err := q.Query(ctx, sqlText, args...)
		if err != nil {
			return fmt.Errorf("counting: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var origin string
			var n int
			if err := rows.Scan(&origin, &n); err != nil {
				return err
			}
			if sides[origin] != nil {
				f(origin, n)
			}
		}
		return rows.Err()
	}
	if err := count(`SELECT origin, COUNT(*) FROM disclosures WHERE released_at > 0 GROUP BY origin`, func(o string, n int) {
		sides[o].DisclosuresSent += n
		sides[other(o)].DisclosuresReceived += n
	}); err != nil {
		return nil, err
	}
	if err := count(`SELECT origin, COUNT(*) FROM feedback GROUP BY origin`, func(o string, n int) { sides[o].FeedbackSent += n }); err != nil {
		return nil, err
	}
	// A recall is honoured once the recalled side sealed its copy: the
	// originator knows by the attestation, the recalled side by its seal.
	if err := count(`SELECT origin, COUNT(*) FROM disclosures WHERE recalled_at > 0 GROUP BY origin`, func(o string, n int) { sides[o].RecallsAsked += n }); err != nil {
		return nil, err
	}
	if err := count(`SELECT origin, COUNT(*) FROM disclosures WHERE recalled_at > 0 AND seal_reason = 'recall' AND (seal_attested_at > 0 OR sealed_at > 0) GROUP BY origin`,
		func(o string, n int) { sides[other(o)].RecallsHonoured += n }); err != nil {
		return nil, err
	}
	months := area.Months(now, area.TrendMonths)
	first, _ := time.Parse("2006-01", months[0])
	mrows, err := q.Query(ctx, `SELECT origin, released_at FROM disclosures WHERE released_at >= ?`, first.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("counting disclosures by month: %w", err)
	}
	for mrows.Next() {
		var o string
		var at int64
		if err := mrows.Scan(&o, &at); err != nil {
			mrows.Close()
			return nil, err
		}
		if sd := sides[o]; sd != nil {
			sd.SentByMonth[time.UnixMilli(at).UTC().Format("2006-01")]++
		}
	}
	if err := mrows.Close(); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT origin, status, COUNT(*) FROM consents GROUP BY origin, status`)
	if err != nil {
		return nil, fmt.Errorf("counting consents: %w", err)
	}
	for rows.Next() {
		var o, st string
		var n int
		if err := rows.Scan(&o, &st, &n); err != nil {
			rows.Close()
			return nil, err
		}
		sd := sides[o]
		if sd == nil {
			continue
		}
		sd.ConsentsRequested += n
		switch st {
		case ConsentGranted:
			sd.ConsentsGranted += n
		case ConsentDenied:
			sd.ConsentsDenied += n
		default:
			sd.ConsentsPending += n
		}
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT origin, status, created_at, deadline_at, final_at FROM rfis`)
	if err != nil {
		return nil, fmt.Errorf("counting requests: %w", err)
	}
	times := map[string][]float64{}
	for rows.Next() {
		var o, st string
		var c, d, f int64
		if err := rows.Scan(&o, &st, &c, &d, &f); err != nil {
			rows.Close()
			return nil, err
		}
		if sides[o] == nil {
			continue
		}
		asked, answerer := sides[o], sides[other(o)]
		asked.RFIsSent++
		answerer.RFIsReceived++
		switch st {
		case RFIAnswered:
			answerer.RFIsAnswered++
		case RFIDeclined:
			answerer.RFIsDeclined++
		default:
			answerer.RFIsOpen++
		}
		if f > 0 {
			times[answerer.Party] = append(times[answerer.Party], float64(f-c)/float64(24*time.Hour/time.Millisecond))
			if f > d {
				answerer.RFIsOverdue++
			}
		} else if now.UnixMilli() > d {
			answerer.RFIsOverdue++
		}
	}
	rows.Close()
	for p, ts := range times {
		sides[p].Responses = len(ts)
		sides[p].MedianResponseDays = median(ts)
	}
	// The same order on both nodes: by party code.
	out := &Figures{At: now}
	for _, p := range slices.Sorted(maps.Keys(sides)) {
		out.Sides = append(out.Sides, *sides[p])
	}
	return out, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	v := xs[m]
	if len(xs)%2 == 0 {
		v = (xs[m-1] + xs[m]) / 2
	}
	return float64(int64(v*100+0.5)) / 100
}
