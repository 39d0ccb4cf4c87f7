package extradition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/blob"
	"puente/internal/caveats"
	"puente/internal/link"
	"puente/internal/screen"
	"puente/internal/store"
)

// applyTarget stores the partner's nomination, or its next version, after
// checking it as we check our own: the caveats it came under are the ones
// it is shown by.
func (s *Service) applyTarget(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var t Target
	if err := link.DecodeBody(env, &t); err != nil {
		return err
	}
	if !link.ValidID(t.ID) || env.Stream != targetStream(t.ID) || t.Origin != s.partner || t.Stage != StageReleased || t.Version < 1 {
		return link.Reject("target does not fit stream %s", env.Stream)
	}
	if t.CreatedBy != "" || t.ReleasedBy != "" || t.Ack != nil || len(t.Additions) > 0 {
		return link.Reject("target %s carries what stays with its side", t.ID)
	}
	if !slices.Contains(Agencies[s.partner], t.Agency) {
		return link.Reject("target %s: %s does not nominate targets", t.ID, t.Agency)
	}
	// The partner's clock may run ahead of ours by a little.
	if err := check(&t, time.Now().Add(24*time.Hour)); err != nil {
		return link.Reject("target %s does not check: %v", t.ID, err)
	}
	cav, err := caveats.Decode(string(env.Caveats))
	if err != nil {
		return link.Reject("target %s: %v", t.ID, err)
	}
	if _, err := cav.Check(auth.Agencies[s.self]); err != nil || len(cav.ReleasableTo) == 0 {
		return link.Reject("target %s: its caveats do not name our extradition agencies", t.ID)
	}
	// Its photos' bytes crossed on its stream first.
	for _, p := range t.Photos {
		if err := blob.CheckReference(ctx, tx, p.SHA256, p.Size, env.Stream); err != nil {
			return err
		}
	}
	t.Caveats, t.Stage = cav, StageReceived
	old, err := loadTarget(ctx, tx, t.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		if t.Version != 1 {
			return link.Reject("target %s: version %d of a nomination we never had", t.ID, t.Version)
		}
		if err := s.saveTarget(ctx, tx, &t, true); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if old.Origin != s.partner || t.Version != old.Version+1 {
			return link.Reject("target %s: version %d after %d", t.ID, t.Version, old.Version)
		}
		if old.Status == Withdrawn {
			return link.Reject("target %s changed after it was withdrawn", t.ID)
		}
		t.Ack, t.Additions = old.Ack, old.Additions
		if err := s.saveTarget(ctx, tx, &t, false); err != nil {
			return err
		}
	}
	return s.log.Record(ctx, tx, KindLogReceived, "target:"+t.ID, fmt.Sprintf("from=%s version=%d status=%s", s.partner, t.Version, t.Status))
}

// applyAck records the partner's acknowledgement of our nomination.
func (s *Service) applyAck(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var a Ack
	if err := link.DecodeBody(env, &a); err != nil {
		return err
	}
	if !link.ValidID(a.ID) || env.Stream != targetStream(a.ID) || a.At.IsZero() || text("by", a.By, MaxShort, true) != nil || !slices.Contains(Agencies[s.partner], a.Agency) {
		return link.Reject("acknowledgement does not fit stream %s", env.Stream)
	}
	t, err := loadTarget(ctx, tx, a.ID)
	if errors.Is(err, ErrNotFound) {
		return link.Reject("acknowledgement of target %s, which we do not know", a.ID)
	} else if err != nil {
		return err
	}
	if t.Origin != s.self || t.Stage != StageReleased || t.Ack != nil {
		return link.Reject("acknowledgement of target %s, which is not ours to acknowledge", a.ID)
	}
	a.At = a.At.UTC()
	t.Ack = &a
	if err := s.saveTarget(ctx, tx, t, false); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogAcked, "target:"+t.ID, "by="+s.partner+"/"+a.Agency)
}

// applyAddition records what the partner added to a target, ours or its
// own.
func (s *Service) applyAddition(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var a Addition
	if err := link.DecodeBody(env, &a); err != nil {
		return err
	}
	if !link.ValidID(a.ID) || !link.ValidID(a.Target) || env.Stream != targetStream(a.Target) || a.Side != s.partner || a.At.IsZero() ||
		text("by", a.By, MaxShort, true) != nil || !slices.Contains(Agencies[s.partner], a.Agency) || text("text", a.Text, MaxAddition+2, true) != nil {
		return link.Reject("addition does not fit stream %s", env.Stream)
	}
	t, err := loadTarget(ctx, tx, a.Target)
	if errors.Is(err, ErrNotFound) {
		return link.Reject("addition to target %s, which we do not know", a.Target)
	} else if err != nil {
		return err
	}
	if t.Stage != StageReleased && t.Stage != StageReceived {
		return link.Reject("addition to target %s, which was not released", a.Target)
	}
	if t.Origin == s.partner {
		// An addition of the partner to its own nomination comes under
		// the nomination's caveats; its readers are the nomination's.
		if _, err := caveats.Decode(string(env.Caveats)); err != nil {
			return link.Reject("addition to target %s: %v", a.Target, err)
		}
	}
	a.At = a.At.UTC()
	t.Additions = append(t.Additions, a)
	if err := s.saveTarget(ctx, tx, t, false); err != nil {
		return err
	}
	return s.log.Record(ctx, tx, KindLogAdded, "target:"+t.ID, "by="+s.partner+"/"+a.Agency)
}

// screenEntries are the active targets, ours and the partner's, as a
// screening list: each entry seen only by the agencies that see the
// target (ours: our extradition agencies; the partner's: its caveats).
func (s *Service) screenEntries(ctx context.Context) ([]screen.Entry, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT doc FROM targets WHERE stage IN (?, ?) AND status NOT IN (?, ?) ORDER BY id`, StageReleased, StageReceived, Withdrawn, Deceased)
	if err != nil {
		return nil, fmt.Errorf("reading targets: %w", err)
	}
	all, err := store.Collect(rows, scanTarget)
	if err != nil {
		return nil, err
	}
	out := make([]screen.Entry, 0, len(all))
	for _, t := range all {
		e := screen.Entry{List: screen.ListTargets, ID: t.ID, Type: "individual", Name: t.Name, Names: append([]string{t.Name}, t.Aliases...),
			Info: t.Origin + " · " + t.Agency, Agencies: slices.Clone(Agencies[s.self])}
		if t.Origin != s.self {
			e.Agencies = slices.Clone(t.Caveats.ReleasableTo)
		}
		if len(t.DOB) >= 4 {
			if y, err := strconv.Atoi(t.DOB[:4]); err == nil {
				e.Years = []int{y}
			}
		}
		if t.Organisation != "" {
			e.Info += " · " + t.Organisation
		}
		out = append(out, e)
	}
	return out, nil
}

// applyTargetPhoto stores a photo's bytes from the partner.
func (s *Service) applyTargetPhoto(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	if !strings.HasPrefix(env.Stream, "extradition:t:") {
		return link.Reject("a target photo came on stream %s", env.Stream)
	}
	if len(env.Body) > MaxPhoto {
		return link.Reject("a target photo is larger than %d bytes", MaxPhoto)
	}
	return blob.Received(ctx, tx, env.Body, env.Stream)
}
