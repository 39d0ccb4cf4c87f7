package match

import (
	"net/http"

	"context"
	"strconv"

	"puente/internal/agreement"
	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/trustlog"
)

// Name is the area's name.
const Name = "match"

// Open builds the blind-matching area for a node. The quota of
// evaluations it answers is the agreement's commitment, lowered by the
// operator's cap.
func Open(d area.Deps) (area.Area, error) {
	quota := d.Agreement.Commitments[d.Self].MatchEvaluationsPerDay
	if d.MatchQuota > 0 && (quota == 0 || d.MatchQuota < quota) {
		quota = d.MatchQuota
	}
	c := d.Agreement.Commitments[d.Self]
	bulk, share := c.MatchBulkEvaluationsPerDay, c.MatchBulkAlarmPercent
	if bulk <= 0 {
		bulk = agreement.DefaultBulkEvaluations
	}
	if d.MatchBulkQuota > 0 && d.MatchBulkQuota < bulk {
		bulk = d.MatchBulkQuota
	}
	if share <= 0 {
		share = agreement.DefaultBulkAlarmPercent
	}
	cfg := Config{DB: d.DB, Link: d.Link, Hub: d.Hub, Agreement: d.Agreement, Logger: d.Logger, Quota: quota, BulkQuota: bulk, BulkAlarmPercent: share,
		ProbeQuota: c.DeconflictEvaluationsPerDay}
	if d.Trust != nil {
		cfg.Alarm = func(ctx context.Context, kind, detail string) {
			d.Trust.Raise(ctx, &trustlog.Alarm{Kind: kind, Detail: detail, Evidence: []byte(detail)}, true)
		}
	}
	return New(cfg), nil
}

// Of returns the blind-matching area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Kinds are the matching kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{{Kind: KindFilter, Version: 1, Handler: link.HandlerFunc(s.applyFilter)}}
}

// FederationRoutes answer the partner's blind evaluations, one lookup at a
// time and in bulk.
func (s *Service) FederationRoutes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST " + PathEvaluate: http.HandlerFunc(s.serveEvaluate),
		"POST " + PathBulk:     http.HandlerFunc(s.serveBulk),
		"POST " + PathProbe:    http.HandlerFunc(s.serveProbe),
	}
}

// Event: cross-match progress, for users who run cross-matches.
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	if e.Topic != "match" || e.Key == FilterEvent {
		return "", "", false
	}
	return "match", "", u.Can(auth.CrossMatch) || u.Can(auth.MatchLookup)
}

// Reciprocity counts the blind evaluations each side asked of the other,
// and the quota each side answers.
func (s *Service) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	if !u.Can(auth.MatchLookup) && !u.Can(auth.AuditLog) && !u.Can(auth.FinIntelRead) {
		return nil, ErrForbidden
	}
	asked, served, err := s.TotalUsage(ctx)
	if err != nil {
		return nil, err
	}
	self, partner := s.link.Self(), s.link.Partner()
	sides := []string{self, partner}
	if partner < self {
		sides = []string{partner, self}
	}
	of := func(p string) Totals {
		if p == self {
			return asked
		}
		return served
	}
	t := &area.Table{Area: Name, Title: "recip.matching", Live: "match", Sides: sides}
	row := func(label string, v func(p string) int64) {
		r := area.Row{Label: label}
		for _, p := range sides {
			r.Cells = append(r.Cells, area.Cell{Value: strconv.FormatInt(v(p), 10)})
		}
		t.Rows = append(t.Rows, r)
	}
	row("recip.lookups_asked", func(p string) int64 { return of(p).Lookups })
	row("recip.evaluations_asked", func(p string) int64 { return of(p).Evaluations })
	row("recip.bulk_asked", func(p string) int64 { return of(p).BulkEvaluations })
	row("recip.quota", func(p string) int64 { return int64(s.committedQuota(p)) })
	row("recip.bulk_quota", func(p string) int64 { return int64(s.committedBulkQuota(p)) })
	return t, nil
}

// committedQuota is the evaluations per day side p committed to answer.
func (s *Service) committedQuota(p string) int {
	if s.cfg.Agreement == nil {
		return 0
	}
	return s.cfg.Agreement.Commitments[p].MatchEvaluationsPerDay
}

// committedBulkQuota is the cross-match evaluations per day side p
// committed to answer.
func (s *Service) committedBulkQuota(p string) int {
	if s.cfg.Agreement == nil {
		return 0
	}
	if n := s.cfg.Agreement.Commitments[p].MatchBulkEvaluationsPerDay; n > 0 {
		return n
	}
	return agreement.DefaultBulkEvaluations
}
