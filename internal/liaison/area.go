package liaison

import (
	"context"
	"time"

	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/blob"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/store"
)

// Name is the area's name.
const Name = "liaison"

// Open builds the liaison area for a node.
func Open(d area.Deps) (area.Area, error) {
	s := NewService(d.DB, d.Link, d.Hub, d.Agreement.Caveats.Classification)
	s.SetTrust(d.Trust)
	if d.Logger != nil {
		s.logger = d.Logger
	}
	return s, nil
}

// Of returns the liaison area of a node.
func Of(h area.Holder) *Service { return area.Find[*Service](h) }

// Name is the area's name.
func (s *Service) Name() string { return Name }

// Kinds are the liaison kinds the partner sends.
func (s *Service) Kinds() []area.Kind {
	return []area.Kind{
		{Kind: KindMessage, Version: 1, Handler: link.HandlerFunc(s.applyMessage)},
		{Kind: KindAttachment, Version: 1, Handler: link.HandlerFunc(s.applyAttachment)},
		{Kind: KindRead, Version: 1, Handler: link.HandlerFunc(s.applyRead)},
	}
}

// Event says which thread an event is about, for users who may see it:
// a change to a thread, an envelope on its stream, or the partner's
// access report about one of its messages.
func (s *Service) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	id, ok := "", false
	switch e.Topic {
	case "thread":
		id, ok = e.Key, true
	case "stream":
		id, ok = ThreadOfStream(e.Key)
	case "access":
		id, ok = s.ThreadOfEnvelope(ctx, e.Key)
	}
	if !ok {
		return "", "", false
	}
	return "thread", id, u.Can(auth.LiaisonRead) && s.CanSee(ctx, u, id)
}

// Run drops, once an hour, the bytes of files that no message or
// disclosure names and that crossed the link more than blob.OrphanAge ago
// (a file whose message never came).
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		var n int64
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			n, err = blob.DropOrphans(ctx, tx, time.Now())
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("liaison: dropping files nothing names", "err", err)
		} else if n > 0 {
			s.logger.Info("liaison: dropped files nothing names", "files", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
