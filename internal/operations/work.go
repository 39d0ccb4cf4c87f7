package operations

import (
	"context"
	"slices"

	"puente/internal/area"
	"puente/internal/auth"
)

// Work is what waits for u in operations: drafts to release (a second
// supervisor), the partner's proposals and counters to answer (with the
// deadline of our commitment), open conflicts, active operations to
// report on, concluded ones without our after-action report.
func (s *Service) Work(ctx context.Context, u *auth.User) (string, []area.WorkItem, error) {
	if !u.Can(auth.OpsRead) || u.Can(auth.ReadAll) {
		return Name, nil, nil
	}
	ops, err := s.List(ctx, u, ListFilter{})
	if err != nil {
		return Name, nil, err
	}
	now := s.Now()
	var out []area.WorkItem
	add := func(key string, op *Operation, due bool) {
		it := area.WorkItem{Key: key, Title: op.Title, Link: "/operations/o/" + op.ID}
		if due {
			it.Due, it.Overdue = op.AnswerDue, !op.AnswerDue.IsZero() && now.After(op.AnswerDue)
		}
		out = append(out, it)
	}
	write := u.Can(auth.OpsWrite)
	for _, op := range ops {
		sd := op.Sides[s.self]
		switch {
		case op.Status == StatusDraft && op.Kind == Mirror && u.Can(auth.OpsRelease) && op.CreatedBy != u.Username:
			add("ops.work.release", op, false)
		case op.Status == StatusDraft && op.CreatedBy == u.Username:
			add("ops.work.draft", op, false)
		case op.Status == StatusProposed && op.Origin != s.self && write:
			add("ops.work.answer", op, true)
		case op.Status == StatusCountered && op.Counter != nil && op.Counter.Side != s.self && write:
			add("ops.work.counter", op, false)
		case op.Status == StatusActive && u.Can(auth.OpsReport) && !write && sd != nil && slices.ContainsFunc(sd.Units, func(x Unit) bool { return x.Agency == u.Agency }):
			// A unit's task: coordinators may report too, but it does not
			// wait for them.
			it := area.WorkItem{Key: "ops.work.report", Title: op.Title, Link: "/operations/o/" + op.ID + "/report"}
			out = append(out, it)
		case (op.Status == StatusConcluded || op.Status == StatusReported) && write && sd != nil && sd.ReportedAt.IsZero():
			add("ops.work.after_action", op, false)
		}
	}
	if !write {
		return Name, out, nil
	}
	cs, err := s.OpenConflicts(ctx, u)
	if err != nil {
		return Name, nil, err
	}
	for _, c := range cs {
		op, err := load(ctx, s.db.Read(), c.OperationID)
		if err != nil {
			continue
		}
		it := area.WorkItem{Key: "ops.work.conflict." + c.Kind, Title: op.Title, Link: "/operations/o/" + op.ID, Due: op.Start}
		if !c.EscalatedAt.IsZero() {
			it.Flag = "ops.escalated"
		}
		out = append(out, it)
	}
	return Name, out, nil
}
