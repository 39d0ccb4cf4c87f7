package extradition

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/store"
)

// Open builds the extradition area of a node.
func Open(d area.Deps) (area.Area, error) {
	return New(Config{DB: d.DB, Link: d.Link, Hub: d.Hub, Agreement: d.Agreement, Lists: d.Lists, Trust: d.Trust, Logger: d.Logger,
		Identity: d.Identity, AgreementHash: d.AgreementHash}), nil
}

// Of returns the extradition area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Kinds are the kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{
		{Kind: KindTarget, Version: 1, Handler: link.HandlerFunc(s.applyTarget)},
		{Kind: KindAck, Version: 1, Handler: link.HandlerFunc(s.applyAck)},
		{Kind: KindAddition, Version: 1, Handler: link.HandlerFunc(s.applyAddition)},
		{Kind: KindTargetPhoto, Version: 1, Handler: link.HandlerFunc(s.applyTargetPhoto)},
		{Kind: KindCase, Version: 1, Handler: link.HandlerFunc(s.applyCase)},
		{Kind: KindCaseStage, Version: 1, Handler: link.HandlerFunc(s.applyStage)},
		{Kind: KindCaseFile, Version: 1, Handler: link.HandlerFunc(s.applyCaseFile)},
		{Kind: KindCaseDocument, Version: 1, Handler: link.HandlerFunc(s.applyCaseDocument)},
		{Kind: KindCaseAssurance, Version: 1, Handler: link.HandlerFunc(s.applyAssurance)},
	}
}

// Event: a change to a target refreshes its page ("extradition:t:ID") and
// the lists ("extradition:*"), for users who may see it.
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	if e.Topic != Name || !u.Can(auth.ExtRead) {
		return "", "", false
	}
	if id, ok := strings.CutPrefix(e.Key, "t:"); ok {
		if _, err := s.Get(ctx, u, id); err != nil {
			return "", "", false
		}
	}
	if strings.HasPrefix(e.Key, "c:") && !s.CaseVisible(u) {
		return "", "", false
	}
	return Name, e.Key, true
}

// RunLocal keeps this replica's targets' screening list current: built
// at start and rebuilt after each change, whichever replica made it (the
// live hub carries the area's events between replicas).
func (s *Service) RunLocal(ctx context.Context) error {
	events, _, stop := s.cfg.Hub.Subscribe()
	defer stop()
	for {
		if err := s.Rescreen(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("extradition: building the targets' screening list", "err", err)
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil
			case e := <-events:
				if e.Topic == Name || e.Topic == live.TopicResync {
					break wait
				}
			}
		}
	}
}

// Run sweeps the cases' clocks every SweepInterval: on the one replica
// that leads the node.
func (s *Service) Run(ctx context.Context) error {
	every := s.cfg.SweepInterval
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("extradition: sweeping the clocks", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Rescreen rebuilds the targets' screening list now.
func (s *Service) Rescreen(ctx context.Context) error {
	if s.cfg.Lists == nil {
		return nil
	}
	es, err := s.screenEntries(ctx)
	if err != nil {
		return err
	}
	// Only a change of what is screened replaces the list (an
	// acknowledgement or an addition does not), so what was screened
	// against it is screened again only then.
	sum := sha256.New()
	for _, e := range es {
		fmt.Fprintf(sum, "%s|%s|%q|%v|%v\n", e.ID, e.Type, e.Names, e.Years, e.Agencies)
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	s.mu.Lock()
	same := digest == s.screened
	s.screened = digest
	s.mu.Unlock()
	if !same {
		s.cfg.Lists.SetOwn(es)
	}
	return nil
}

// Work is what waits for u: our nominations submitted for release (for a
// reviewer who did not write them), our drafts returned to their author,
// the partner's nominations not yet acknowledged.
func (s *Service) Work(ctx context.Context, u *auth.User) (string, []area.WorkItem, error) {
	if !s.MayWrite(u) {
		return Name, nil, nil
	}
	rows, err := s.db.Read().Query(ctx, `SELECT doc FROM targets WHERE stage IN (?, ?, ?) ORDER BY updated_at LIMIT 500`, StageDraft, StageSubmitted, StageReceived)
	if err != nil {
		return Name, nil, fmt.Errorf("reading targets: %w", err)
	}
	list, err := store.Collect(rows, scanTarget)
	if err != nil {
		return Name, nil, err
	}
	out, err := s.clockWork(ctx, u)
	if err != nil {
		return Name, nil, err
	}
	for _, t := range list {
		if !t.Visible(u, s.self) {
			continue
		}
		link := "/extradition/targets/t/" + t.ID
		switch {
		case t.Stage == StageSubmitted && u.Can(auth.ExtRelease) && t.CreatedBy != u.Username:
			out = append(out, area.WorkItem{Key: "ext.work.release", Title: t.Title(), Link: link})
		case t.Stage == StageDraft && t.Reason != "" && t.CreatedBy == u.Username:
			out = append(out, area.WorkItem{Key: "ext.work.correct", Title: t.Title(), Link: link})
		case t.Stage == StageReceived && t.Ack == nil:
			out = append(out, area.WorkItem{Key: "ext.work.ack", Title: t.Title(), Link: link})
		}
	}
	return Name, out, nil
}

// TargetFigures are the figures of the targets one side nominated: the
// same on both nodes, from the released nominations both hold.
type TargetFigures struct {
	Party        string         `json:"party"`
	Nominated    int            `json:"nominated"`
	Acknowledged int            `json:"acknowledged"`
	ByStatus     map[string]int `json:"by_status"`
	// MedianAckHours is from the release to the partner's acknowledgement.
	MedianAckHours float64 `json:"median_ack_hours"`
}

// Figures computes them per nominating side.
func (s *Service) Figures(ctx context.Context) ([]TargetFigures, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT doc FROM targets WHERE stage IN (?, ?) ORDER BY id`, StageReleased, StageReceived)
	if err != nil {
		return nil, fmt.Errorf("reading targets: %w", err)
	}
	all, err := store.Collect(rows, scanTarget)
	if err != nil {
		return nil, err
	}
	parties := []string{s.self, s.partner}
	slices.Sort(parties)
	var out []TargetFigures
	for _, p := range parties {
		f := TargetFigures{Party: p, ByStatus: map[string]int{}}
		var hours []float64
		for _, t := range all {
			if t.Origin != p {
				continue
			}
			f.Nominated++
			f.ByStatus[t.Status]++
			if t.Ack != nil {
				f.Acknowledged++
				hours = append(hours, t.Ack.At.Sub(t.ReleasedAt).Hours())
			}
		}
		f.MedianAckHours = median(hours)
		out = append(out, f)
	}
	return out, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return float64(int(m*10+0.5)) / 10
}

// Reciprocity is the area's table on the Reciprocity page.
func (s *Service) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	if !u.Can(auth.ExtRead) {
		return nil, ErrForbidden
	}
	fs, err := s.Figures(ctx)
	if err != nil {
		return nil, err
	}
	t := &area.Table{Area: Name, Title: "area.extradition", Live: Name}
	for _, f := range fs {
		t.Sides = append(t.Sides, f.Party)
	}
	row := func(label string, cell func(TargetFigures) area.Cell) {
		r := area.Row{Label: label}
		for _, f := range fs {
			r.Cells = append(r.Cells, cell(f))
		}
		t.Rows = append(t.Rows, r)
	}
	count := func(n int) area.Cell { return area.Cell{Value: strconv.Itoa(n)} }
	row("ext.recip.nominated", func(f TargetFigures) area.Cell { return count(f.Nominated) })
	row("ext.recip.acknowledged", func(f TargetFigures) area.Cell { return count(f.Acknowledged) })
	for _, st := range []string{AtLarge, Located, Detained, InProceedings, TargetSurrendered} {
		row("ext.status."+st, func(f TargetFigures) area.Cell { return count(f.ByStatus[st]) })
	}
	row("ext.recip.median_ack", func(f TargetFigures) area.Cell {
		if f.Acknowledged == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: strconv.FormatFloat(f.MedianAckHours, 'f', 1, 64), Key: "ext.recip.hours"}
	})
	// The cases each side requested, in the same columns.
	cfs, err := s.CaseFigures(ctx, u)
	if err != nil || len(cfs) != len(fs) {
		return t, err
	}
	crow := func(label string, cell func(CaseFigures) area.Cell) {
		r := area.Row{Label: label}
		for _, f := range cfs {
			r.Cells = append(r.Cells, cell(f))
		}
		t.Rows = append(t.Rows, r)
	}
	crow("ext.recip.cases", func(f CaseFigures) area.Cell { return count(f.Cases + f.Transfers) })
	crow("ext.recip.handed_over", func(f CaseFigures) area.Cell { return count(f.Surrendered + f.Transferred) })
	crow("ext.recip.arrest_to_request", func(f CaseFigures) area.Cell {
		if f.MedianArrestToRequest == 0 && f.ClocksMet+f.ClocksMissed == 0 {
			return area.Cell{Value: "—"}
		}
		return area.Cell{Value: strconv.FormatFloat(f.MedianArrestToRequest, 'f', 1, 64), Key: "ext.recip.days", Bad: f.Commitment > 0 && f.MedianArrestToRequest > float64(f.Commitment)}
	})
	crow("ext.recip.clocks_met", func(f CaseFigures) area.Cell { return count(f.ClocksMet) })
	crow("ext.recip.clocks_missed", func(f CaseFigures) area.Cell {
		return area.Cell{Value: strconv.Itoa(f.ClocksMissed), Bad: f.ClocksMissed > 0}
	})
	crow("ext.recip.assurances_open", func(f CaseFigures) area.Cell { return count(f.AssurancesOpen) })
	crow("ext.recip.assurances_breached", func(f CaseFigures) area.Cell {
		return area.Cell{Value: strconv.Itoa(f.AssurancesBreached), Bad: f.AssurancesBreached > 0}
	})
	return t, nil
}
