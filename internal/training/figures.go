package training

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/store"
)

// SideFigures are the figures of the offers one side published, and of
// the nominations it made to the other's: the same on both nodes,
// computed from the offers and steps both hold.
type SideFigures struct {
	Party       string         `json:"party"`
	Offers      int            `json:"offers"`
	ByType      map[string]int `json:"offers_by_type"`
	Cancelled   int            `json:"cancelled"`
	Hours       int            `json:"hours_delivered"`
	SeatsOffer  int            `json:"seats_offered"`
	SeatsFilled int            `json:"seats_filled"`
	// Trained are the participants of the other side who passed or
	// attended this side's offers, by their agency.
	Trained        int            `json:"participants_trained"`
	TrainedAgency  map[string]int `json:"trained_by_agency"`
	Nominated      int            `json:"nominations_made"` // to the other side's offers
	Vetted         int            `json:"vetting_decisions"`
	VetOnTime      int            `json:"vetting_on_time"`
	VetLate        int            `json:"vetting_late"`
	VetOverdue     int            `json:"vetting_overdue"`
	Denied         int            `json:"vetting_denied"`
	MedianVetDays  float64        `json:"median_vetting_days"`
	CommitmentDays int            `json:"commitment_days"`
	Certificates   int            `json:"certificates_issued"`
	Revoked        int            `json:"certificates_revoked"`
	ByMonth        map[string]int `json:"offers_by_month"`
	HoursByMonth   map[string]int `json:"hours_by_month"`
	Exercises      int            `json:"exercises"`
	Resources      map[string]int `json:"exercise_resources"` // this side's, over all exercises
}

// LaterUse is what became of a subject taught: for the tracing course,
// the trace success of the agencies whose staff took it against the
// other agencies of that side.
type LaterUse struct {
	Subject         string   `json:"subject"`
	Side            string   `json:"side"` // the side whose agencies were trained
	Agencies        []string `json:"trained_agencies"`
	TrainedAnswered int      `json:"trained_answered"`
	TrainedRate     float64  `json:"trained_success_rate"`
	OtherAnswered   int      `json:"other_answered"`
	OtherRate       float64  `json:"other_success_rate"`
}

// Figures are the training figures per offering side.
type Figures struct {
	Sides    []SideFigures `json:"sides"`
	LaterUse []LaterUse    `json:"later_use"`
	// Months are the last twelve months, oldest first: the trend's axis.
	Months []string `json:"months"`
}

// Figures computes them from the published offers.
func (s *Service) Figures(ctx context.Context) (*Figures, error) {
	// Each offer decoded once per change (the figures only read them).
	all, err := s.figures.Load(ctx, s.db.Read(), `published_at > 0`)
	if err != nil {
		return nil, err
	}
	revoked := map[string]int{}
	crows, err := s.db.Read().Query(ctx, `SELECT issuer, COUNT(*) FROM training_certificates WHERE revoked_at > 0 GROUP BY issuer`)
	if err != nil {
		return nil, fmt.Errorf("counting revocations: %w", err)
	}
	if _, err := store.Collect(crows, func(sc store.Scanner) (int, error) {
		var who string
		var n int
		err := sc.Scan(&who, &n)
		revoked[who] = n
		return n, err
	}); err != nil {
		return nil, err
	}
	parties := []string{s.self, s.partner}
	slices.Sort(parties)
	now := s.Now()
	f := &Figures{Months: area.Months(now, area.TrendMonths)}
	trainedBy := map[string]map[string]bool{} // nominee side → agencies that passed the tracing course
	for _, p := range parties {
		sf := SideFigures{Party: p, ByType: map[string]int{}, TrainedAgency: map[string]int{}, ByMonth: map[string]int{}, HoursByMonth: map[string]int{},
			Resources: map[string]int{}, CommitmentDays: s.VettingDays(p), Revoked: revoked[p]}
		var days []float64
		for _, o := range all {
			if o.Nominee == p && o.Status != StatusCancelled {
				sf.Nominated += len(o.Nominations) - o.Count(NomSubstituted)
			}
			if o.Type == TypeExercise && o.Commitments[p] != nil {
				for k, v := range o.Commitments[p].Resources {
					sf.Resources[k] += v
				}
			}
			if o.Origin != p {
				continue
			}
			if o.Status == StatusCancelled {
				sf.Cancelled++
				continue
			}
			sf.Offers++
			sf.ByType[o.Type]++
			sf.ByMonth[o.Start[:7]]++
			sf.SeatsOffer += o.Seats
			if o.Type == TypeExercise {
				sf.Exercises++
			}
			for _, n := range o.Nominations {
				if n.Status == NomConfirmed {
					sf.SeatsFilled++
				}
				if n.Result == ResultPassed || n.Result == ResultAttended {
					sf.Trained++
					sf.TrainedAgency[n.Participant.Agency]++
					if o.Subject == SubjectTracing && n.Result == ResultPassed {
						if trainedBy[o.Nominee] == nil {
							trainedBy[o.Nominee] = map[string]bool{}
						}
						trainedBy[o.Nominee][n.Participant.Agency] = true
					}
				}
				if n.Result != "" {
					sf.Hours += n.Hours
					sf.HoursByMonth[o.End[:7]] += n.Hours
				}
				if n.Certificate != "" {
					sf.Certificates++
				}
				if v := n.Vetting; v != nil && v.Status != VetPending && !v.At.IsZero() {
					sf.Vetted++
					days = append(days, v.At.Sub(n.NominatedAt).Hours()/24)
					if v.At.After(n.VettingDue) {
						sf.VetLate++
					} else {
						sf.VetOnTime++
					}
					if v.Status == VetDenied {
						sf.Denied++
					}
				} else if v != nil && n.Active() && now.After(n.VettingDue) {
					sf.VetOverdue++
				}
			}
		}
		if len(days) > 0 {
			slices.Sort(days)
			m := days[len(days)/2]
			if len(days)%2 == 0 {
				m = (days[len(days)/2-1] + days[len(days)/2]) / 2
			}
			sf.MedianVetDays = math.Round(m*10) / 10
		}
		f.Sides = append(f.Sides, sf)
	}
	if s.cfg.Traces != nil {
		answered, err := s.cfg.Traces.Answered(ctx)
		if err != nil {
			return nil, err
		}
		for _, side := range parties {
			trained := trainedBy[side]
			if len(trained) == 0 {
				continue
			}
			lu := LaterUse{Subject: SubjectTracing, Side: side}
			var tDone, oDone int
			for ag, c := range answered[side] {
				if trained[ag] {
					lu.TrainedAnswered += c[0]
					tDone += c[1]
				} else {
					lu.OtherAnswered += c[0]
					oDone += c[1]
				}
			}
			for ag := range trained {
				lu.Agencies = append(lu.Agencies, ag)
			}
			slices.Sort(lu.Agencies)
			lu.TrainedRate, lu.OtherRate = rate(tDone, lu.TrainedAnswered), rate(oDone, lu.OtherAnswered)
			f.LaterUse = append(f.LaterUse, lu)
		}
	}
	if f.LaterUse == nil {
		f.LaterUse = []LaterUse{}
	}
	return f, nil
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*1000) / 1000
}

// FiguresFor is Figures for a user who reads training.
func (s *Service) FiguresFor(ctx context.Context, u *auth.User) (*Figures, error) {
	if !u.Can(auth.TrainRead) {
		return nil, ErrForbidden
	}
	return s.Figures(ctx)
}

// Reciprocity is the area's table on the scorecard.
func (s *Service) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	if !u.Can(auth.TrainRead) {
		return nil, ErrForbidden
	}
	f, err := s.Figures(ctx)
	if err != nil {
		return nil, err
	}
	t := &area.Table{Area: Name, Title: "area.training", Live: Name}
	for _, sd := range f.Sides {
		t.Sides = append(t.Sides, sd.Party)
	}
	row := func(label string, evidence []string, cell func(SideFigures) area.Cell) {
		r := area.Row{Label: label, Evidence: evidence}
		for _, sd := range f.Sides {
			r.Cells = append(r.Cells, cell(sd))
		}
		t.Rows = append(t.Rows, r)
	}
	count := func(label string, evidence []string, n func(SideFigures) int, bad func(SideFigures) bool, tr func(SideFigures) map[string]int) {
		row(label, evidence, func(sd SideFigures) area.Cell {
			c := area.Cell{Value: strconv.Itoa(n(sd)), Bad: bad != nil && bad(sd)}
			if tr != nil {
				c.Trend = area.Trend(f.Months, tr(sd))
			}
			return c
		})
	}
	pub, step := []string{KindLogPublished, KindLogReceived}, []string{KindLogStep}
	count("trn.recip.offers", pub, func(sd SideFigures) int { return sd.Offers }, nil, func(sd SideFigures) map[string]int { return sd.ByMonth })
	count("trn.recip.hours", step, func(sd SideFigures) int { return sd.Hours }, nil, func(sd SideFigures) map[string]int { return sd.HoursByMonth })
	count("trn.recip.seats", pub, func(sd SideFigures) int { return sd.SeatsOffer }, nil, nil)
	count("trn.recip.filled", step, func(sd SideFigures) int { return sd.SeatsFilled }, nil, nil)
	count("trn.recip.trained", step, func(sd SideFigures) int { return sd.Trained }, nil, nil)
	count("trn.recip.nominated", step, func(sd SideFigures) int { return sd.Nominated }, nil, nil)
	count("trn.recip.vet_on_time", step, func(sd SideFigures) int { return sd.VetOnTime }, nil, nil)
	count("trn.recip.vet_late", step, func(sd SideFigures) int { return sd.VetLate }, func(sd SideFigures) bool { return sd.VetLate > 0 }, nil)
	count("trn.recip.vet_overdue", step, func(sd SideFigures) int { return sd.VetOverdue }, func(sd SideFigures) bool { return sd.VetOverdue > 0 }, nil)
	count("trn.recip.denied", step, func(sd SideFigures) int { return sd.Denied }, nil, nil)
	row("trn.recip.vet_median", step, func(sd SideFigures) area.Cell {
		if sd.Vetted == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: fmt.Sprintf("%.1f", sd.MedianVetDays), Key: "tr.recip.days", Bad: sd.MedianVetDays > float64(sd.CommitmentDays)}
	})
	count("trn.recip.certificates", []string{KindLogIssued}, func(sd SideFigures) int { return sd.Certificates }, nil, nil)
	count("trn.recip.revoked", []string{KindLogRevoked}, func(sd SideFigures) int { return sd.Revoked }, nil, nil)
	return t, nil
}
