package operations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/store"
)

// KindReport is the envelope of a shared unit's status report.
const KindReport = "operations.report"

// NewReport is what a unit reports.
type NewReport struct {
	Unit   string    `json:"unit"`
	Lat    float64   `json:"lat"`
	Lon    float64   `json:"lon"`
	Status string    `json:"status"`
	Note   string    `json:"note"`
	At     time.Time `json:"at,omitzero"` // when the position was taken (default: now)
}

// Report records a unit's status on an active operation of ours; a
// shared unit's report on a joint operation crosses to the partner's
// board in the same transaction.
func (s *Service) Report(ctx context.Context, u *auth.User, opID string, in NewReport) (*Report, error) {
	if !u.Can(auth.OpsReport) {
		return nil, ErrForbidden
	}
	now := s.nowMs()
	if in.At.IsZero() {
		in.At = now
	}
	in.At = in.At.UTC().Truncate(time.Millisecond)
	if err := checkReport(&in, s.self, now); err != nil {
		return nil, err
	}
	r := &Report{ID: link.NewID(), OperationID: opID, Side: s.self, Unit: in.Unit, Lat: in.Lat, Lon: in.Lon, Status: in.Status,
		Note: strings.TrimSpace(in.Note), At: in.At, ReceivedAt: now, By: u.Username}
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		op, err := load(ctx, tx, opID)
		if err != nil {
			return err
		}
		if !op.Visible(u, s.self) || u.Can(auth.ReadAll) {
			return ErrNotFound
		}
		if op.Status != StatusActive {
			return ErrNotActive
		}
		unit, ok := op.Unit(s.self, in.Unit)
		if !ok {
			return ErrNoUnit
		}
		if unit.Agency != u.Agency && !u.Can(auth.OpsWrite) {
			return ErrForbidden // a field unit reports for its own agency's units
		}
		if err := insertReport(ctx, tx, r); err != nil {
			return err
		}
		if err := s.log.Record(ctx, tx, KindLogReport, "operation:"+opID, "unit="+r.Unit+" status="+r.Status); err != nil {
			return err
		}
		if op.Kind == Mirror && unit.Shared {
			if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindReport, Version: 1, Stream: stream(opID), Caveats: op.Caveats, Body: r}); err != nil {
				return fmt.Errorf("sending the report: %w", err)
			}
		}
		s.changed(tx, "board")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func checkReport(in *NewReport, party string, now time.Time) error {
	if err := text("unit", in.Unit, 60, true); err != nil {
		return err
	}
	if err := checkPoint("position", in.Lat, in.Lon, party); err != nil {
		return err
	}
	if !slices.Contains(UnitStatuses, in.Status) {
		return fault.Field("status", "unknown_status")
	}
	if err := text("note", in.Note, 500, false); err != nil {
		return err
	}
	if in.At.After(now.Add(reportMaxFuture)) || in.At.Before(now.Add(-24*time.Hour)) {
		return fault.Field("at", "report_time_out_of_range")
	}
	return nil
}

func insertReport(ctx context.Context, tx *store.Tx, r *Report) error {
	_, err := tx.Exec(ctx, `INSERT INTO op_reports (id, operation_id, side, unit, lat, lon, status, note, at, received_at, by_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OperationID, r.Side, r.Unit, r.Lat, r.Lon, r.Status, r.Note, r.At.UnixMilli(), r.ReceivedAt.UnixMilli(), r.By)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("storing the report: %w", err)
	}
	return err
}

// applyReport stores the partner's shared unit report.
func (s *Service) applyReport(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var r Report
	if err := link.DecodeBody(env, &r); err != nil {
		return err
	}
	if !link.ValidID(r.ID) || env.Stream != stream(r.OperationID) || r.Side != s.partner || text("by", r.By, MaxShort, false) != nil {
		return link.Reject("unit report does not fit stream %s", env.Stream)
	}
	in := NewReport{Unit: r.Unit, Lat: r.Lat, Lon: r.Lon, Status: r.Status, Note: r.Note, At: r.At.UTC()}
	if err := checkReport(&in, s.partner, r.ReceivedAt.UTC()); err != nil {
		return link.Reject("unit report does not check: %v", err)
	}
	op, err := load(ctx, tx, r.OperationID)
	if errors.Is(err, ErrNotFound) {
		return link.Reject("report on operation %s, which we do not know", r.OperationID)
	} else if err != nil {
		return err
	}
	if op.Status != StatusActive {
		return link.Reject("report on operation %s, which is %s here", r.OperationID, op.Status)
	}
	if u, ok := op.Unit(s.partner, r.Unit); !ok || !u.Shared {
		return link.Reject("report from unit %q, which the partner did not share on %s", r.Unit, r.OperationID)
	}
	r.At, r.ReceivedAt = r.At.UTC().Truncate(time.Millisecond), s.nowMs()
	if err := insertReport(ctx, tx, &r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return link.Reject("report %s already exists", r.ID)
		}
		return err
	}
	s.changed(tx, "board")
	return nil
}

// Latest returns each unit's newest report on the active operations u
// may see, for the board and the CoT feed.
func (s *Service) Latest(ctx context.Context, u *auth.User) ([]*Report, error) {
	ops, err := s.List(ctx, u, ListFilter{Status: StatusActive})
	if err != nil {
		return nil, err
	}
	var out []*Report
	for _, op := range ops {
		rows, err := s.db.Read().Query(ctx, `SELECT r.id, r.operation_id, r.side, r.unit, r.lat, r.lon, r.status, r.note, r.at, r.received_at, r.by_user
			FROM op_reports r WHERE r.operation_id = ? AND r.at = (SELECT MAX(at) FROM op_reports x WHERE x.operation_id = r.operation_id AND x.side = r.side AND x.unit = r.unit)
			ORDER BY r.side, r.unit`, op.ID)
		if err != nil {
			return nil, fmt.Errorf("reading reports: %w", err)
		}
		rs, err := store.Collect(rows, scanReport)
		if err != nil {
			return nil, err
		}
		// Two reports of one unit in the same second: keep one.
		rs = slices.CompactFunc(rs, func(a, b *Report) bool { return a.Side == b.Side && a.Unit == b.Unit })
		out = append(out, rs...)
	}
	return out, nil
}

// Reports returns an operation's reports, newest first.
func (s *Service) Reports(ctx context.Context, u *auth.User, opID string, limit int) ([]*Report, error) {
	if _, err := s.Get(ctx, u, opID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id, operation_id, side, unit, lat, lon, status, note, at, received_at, by_user
		FROM op_reports WHERE operation_id = ? ORDER BY at DESC, id LIMIT ?`, opID, limit)
	if err != nil {
		return nil, fmt.Errorf("reading reports: %w", err)
	}
	return store.Collect(rows, scanReport)
}

func scanReport(r store.Scanner) (*Report, error) {
	var x Report
	var at, recv int64
	if err := r.Scan(&x.ID, &x.OperationID, &x.Side, &x.Unit, &x.Lat, &x.Lon, &x.Status, &x.Note, &at, &recv, &x.By); err != nil {
		return nil, err
	}
	x.At, x.ReceivedAt = store.Time(at).UTC(), store.Time(recv).UTC()
	return &x, nil
}
