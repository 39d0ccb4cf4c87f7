package match

import (
	"context"
	"fmt"
	"strings"

	"puente/internal/auth"
	"puente/internal/fault"
)

// The user-facing methods: each checks the acting user's permission and,
// for cross-matches, its agency, before the work. The web pages and the
// API call these; the actor-string methods they wrap are for the node
// itself (the operator's CLI import, the demo, benchmarks).

// ErrForbidden: the user's role does not allow the matching action.
var ErrForbidden = fmt.Errorf("matching: %w", fault.ErrForbidden)

func actor(u *auth.User) string { return "user:" + u.Username + "@" + u.Agency }

// LookupAs runs a blind lookup for u.
func (s *Service) LookupAs(ctx context.Context, u *auth.User, sub Subject) (*Result, error) {
	if !u.Can(auth.MatchLookup) {
		return nil, ErrForbidden
	}
	return s.Lookup(ctx, actor(u), sub)
}

// ImportAs adds subjects to the index for u.
func (s *Service) ImportAs(ctx context.Context, u *auth.User, subjects []Subject) (int, error) {
	if !u.Can(auth.MatchIndex) {
		return 0, ErrForbidden
	}
	return s.Import(ctx, subjects)
}

// StartJobAs starts a cross-match for u's agency (nil subjects: the whole
// index).
func (s *Service) StartJobAs(ctx context.Context, u *auth.User, subjects []Subject) (*Job, error) {
	if !u.Can(auth.CrossMatch) {
		return nil, ErrForbidden
	}
	return s.StartJob(ctx, actor(u), subjects)
}

// ownJob reports whether a job was started by a user of agency.
func ownJob(j *Job, agency string) bool { return strings.HasSuffix(j.CreatedBy, "@"+agency) }

// JobsAs lists the cross-matches of u's agency, newest first.
func (s *Service) JobsAs(ctx context.Context, u *auth.User, limit int) ([]Job, error) {
	if !u.Can(auth.CrossMatch) {
		return nil, ErrForbidden
	}
	return s.jobsOf(ctx, u.Agency, limit)
}

// JobAs returns one cross-match of u's agency; another agency's is not
// found.
func (s *Service) JobAs(ctx context.Context, u *auth.User, id int64) (*Job, error) {
	if !u.Can(auth.CrossMatch) {
		return nil, ErrForbidden
	}
	j, err := s.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ownJob(j, u.Agency) {
		return nil, ErrNoJob
	}
	return j, nil
}

// JobHitsAs returns the hits of a cross-match of u's agency.
func (s *Service) JobHitsAs(ctx context.Context, u *auth.User, id int64) ([]JobHit, error) {
	if _, err := s.JobAs(ctx, u, id); err != nil {
		return nil, err
	}
	return s.JobHits(ctx, id)
}

// CancelJobAs cancels a cross-match of u's agency.
func (s *Service) CancelJobAs(ctx context.Context, u *auth.User, id int64) error {
	if _, err := s.JobAs(ctx, u, id); err != nil {
		return err
	}
	return s.CancelJob(ctx, id, actor(u))
}

// UsageAs is today's matching figures, for users who look up or audit.
func (s *Service) UsageAs(ctx context.Context, u *auth.User) (*Usage, error) {
	if !u.Can(auth.MatchLookup) && !u.Can(auth.AuditLog) {
		return nil, ErrForbidden
	}
	return s.TodayUsage(ctx)
}
