package extradition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"net/http"

	"puente/internal/auth"
	"puente/internal/blob"
	"puente/internal/caveats"
	"puente/internal/fault"
	"puente/internal/input"
	"puente/internal/link"
	"puente/internal/match"
	"puente/internal/store"
)

// ErrDuplicate names the nomination of ours that already holds one of the
// identifiers: the cause of the field error "identifiers: duplicate".
type ErrDuplicate struct {
	Key, Target string
}

func (e *ErrDuplicate) Error() string {
	return fmt.Sprintf("the same person is already nominated (%s, target %s)", match.KeyType(e.Key), e.Target)
}

// MayWrite reports whether u works the area on this side: a user of one of
// our extradition agencies who writes (not an auditor). Pages offer the
// actions by it; every action checks it.
func (s *Service) MayWrite(u *auth.User) bool {
	return u.Can(auth.ExtWrite) && !u.Can(auth.ReadAll) && slices.Contains(Agencies[s.self], u.Agency)
}

// holdKeys files t's identifiers as ours, refusing one another nomination
// of ours already holds.
func (s *Service) holdKeys(ctx context.Context, tx *store.Tx, t *Target) error {
	if _, err := tx.Exec(ctx, `DELETE FROM target_keys WHERE target_id = ?`, t.ID); err != nil {
		return fmt.Errorf("filing identifiers: %w", err)
	}
	if t.Status == Withdrawn {
		return nil
	}
	for _, k := range t.IdentifierKeys() {
		var other string
		err := tx.QueryRow(ctx, `SELECT target_id FROM target_keys WHERE origin = ? AND key = ?`, s.self, k).Scan(&other)
		if err == nil {
			return &fault.FieldError{Field: "identifiers", Code: "duplicate", Err: &ErrDuplicate{Key: k, Target: other}}
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("filing identifiers: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO target_keys (origin, key, target_id) VALUES (?, ?, ?)`, s.self, k, t.ID); err != nil {
			return fmt.Errorf("filing identifiers: %w", err)
		}
	}
	return nil
}

// index puts an active released target of ours in the blind-matching
// index, so the partner's lookups find it, and takes an inactive one out.
func (s *Service) index(ctx context.Context, tx *store.Tx, t *Target) error {
	if t.Origin != s.self {
		return nil
	}
	if !t.Active() {
		return match.RemoveTx(ctx, tx, "target:"+t.ID)
	}
	if err := match.RemoveTx(ctx, tx, "target:"+t.ID); err != nil {
		return err
	}
	return match.ImportTx(ctx, tx, s.log, []match.Subject{t.Subject()})
}

// Nominate stores a draft nomination by u.
func (s *Service) Nominate(ctx context.Context, u *auth.User, in Target) (*Target, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	now := s.Now()
	t := in
	t.Status = AtLarge
	if err := check(&t, now); err != nil {
		return nil, err
	}
	t.ID, t.Origin, t.Agency, t.Stage, t.Version, t.Caveats = link.NewID(), s.self, u.Agency, StageDraft, 0, caveats.Caveats{}
	t.CreatedBy, t.CreatedAt, t.ReleasedBy, t.ReleasedAt, t.Reason, t.Ack, t.Additions = u.Username, now, "", time.Time{}, "", nil, nil
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.holdKeys(ctx, tx, &t); err != nil {
			return err
		}
		if err := s.saveTarget(ctx, tx, &t, true); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, KindLogNominated, "target:"+t.ID, "agency="+u.Agency)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// onOwn runs f on our target id in a write transaction, for a user of our
// extradition agencies who may see it, and stores what f leaves.
func (s *Service) onOwn(ctx context.Context, u *auth.User, id string, f func(ctx context.Context, tx *store.Tx, t *Target) error) (*Target, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	var out *Target
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		t, err := loadTarget(ctx, tx, id)
		if err != nil {
			return err
		}
		if !t.Visible(u, s.self) {
			return ErrNotFound
		}
		if t.Origin != s.self {
			return ErrState
		}
		if err := f(ctx, tx, t); err != nil {
			return err
		}
		out = t
		return s.saveTarget(ctx, tx, t, false)
	})
	return out, err
}

// Edit changes the person's particulars: of a draft by its agency, or of a
// released nomination (which sends the partner the next version). The
// status changes with SetStatus.
func (s *Service) Edit(ctx context.Context, u *auth.User, id string, in Target) (*Target, error) {
	return s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Status == Withdrawn {
			return ErrFinal
		}
		if t.Stage == StageSubmitted || (t.Stage == StageDraft && u.Agency != t.Agency) {
			return ErrState
		}
		n := *t
		n.Name, n.Aliases, n.DOB, n.Nationalities, n.CURP, n.RFC, n.Passport, n.PassportCountry, n.SSN, n.Organisation, n.Charges, n.Summary =
			in.Name, in.Aliases, in.DOB, in.Nationalities, in.CURP, in.RFC, in.Passport, in.PassportCountry, in.SSN, in.Organisation, in.Charges, in.Summary
		if err := check(&n, s.Now()); err != nil {
			return err
		}
		*t = n
		if err := s.holdKeys(ctx, tx, t); err != nil {
			return err
		}
		if t.Stage == StageReleased {
			return s.send(ctx, tx, t, "edited")
		}
		return s.log.Record(ctx, tx, KindLogChanged, "target:"+t.ID, "by="+u.Agency)
	})
}

// Submit puts a draft before a reviewer.
func (s *Service) Submit(ctx context.Context, u *auth.User, id string) (*Target, error) {
	return s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Stage != StageDraft || u.Agency != t.Agency {
			return ErrState
		}
		t.Stage, t.Reason = StageSubmitted, ""
		return s.log.Record(ctx, tx, KindLogSubmitted, "target:"+t.ID, "by="+u.Username)
	})
}

// Return sends a submitted nomination back to its author with a reason.
func (s *Service) Return(ctx context.Context, u *auth.User, id, reason string) (*Target, error) {
	if !u.Can(auth.ExtRelease) {
		return nil, ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	if err := text("reason", reason, MaxText, true); err != nil {
		return nil, err
	}
	return s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Stage != StageSubmitted {
			return ErrState
		}
		t.Stage, t.Reason = StageDraft, reason
		return s.log.Record(ctx, tx, KindLogReturned, "target:"+t.ID, "by="+u.Username)
	})
}

// Release is the second pair of eyes: a reviewer who did not write the
// nomination sends it to the partner under caveats (nil: the default),
// and our blind-matching index takes the person.
func (s *Service) Release(ctx context.Context, u *auth.User, id string, cav *caveats.Caveats) (*Target, error) {
	if !u.Can(auth.ExtRelease) {
		return nil, ErrForbidden
	}
	c := s.DefaultCaveats()
	if cav != nil {
		var err error
		if c, err = cav.Check(auth.Agencies[s.partner]); err != nil {
			return nil, err
		}
		if len(c.ReleasableTo) == 0 {
			return nil, fault.Field("caveats.releasable_to", "required")
		}
	}
	return s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Stage != StageSubmitted {
			return ErrState
		}
		if t.CreatedBy == u.Username {
			return ErrFourEyes
		}
		t.Stage, t.ReleasedBy, t.ReleasedAt, t.Caveats = StageReleased, u.Username, s.Now(), c
		return s.send(ctx, tx, t, "released")
	})
}

// SetStatus records where the person stands now (located, detained…):
// the nominating side's fact, sent to the partner. Withdrawn is final and
// takes the person out of the index and the screening.
func (s *Service) SetStatus(ctx context.Context, u *auth.User, id, status string) (*Target, error) {
	if !slices.Contains(Statuses, status) {
		return nil, fault.Field("status", "invalid_status")
	}
	return s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Stage != StageReleased {
			return ErrState
		}
		if t.Status == Withdrawn {
			return ErrFinal
		}
		if t.Status == status {
			return nil
		}
		t.Status = status
		if err := s.holdKeys(ctx, tx, t); err != nil {
			return err
		}
		return s.send(ctx, tx, t, "status="+status)
	})
}

// send sends the next version of our released nomination, files it in
// the index and logs it.
func (s *Service) send(ctx context.Context, tx *store.Tx, t *Target, what string) error {
	t.Version++
	// The photos' bytes go first, each once on the target's stream.
	for _, p := range t.Photos {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM blob_streams WHERE sha256 = ? AND stream = ?`, p.SHA256, targetStream(t.ID)).Scan(&n); err != nil {
			return fmt.Errorf("sending photos: %w", err)
		}
		if n > 0 {
			continue
		}
		var data []byte
		if err := tx.QueryRow(ctx, `SELECT data FROM attachments WHERE sha256 = ?`, p.SHA256).Scan(&data); err != nil {
			return fmt.Errorf("reading photo %s: %w", p.Name, err)
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindTargetPhoto, Version: 1, Stream: targetStream(t.ID), Caveats: t.Caveats, RawBody: data}); err != nil {
			return fmt.Errorf("sending photo %s: %w", p.Name, err)
		}
		if err := blob.Crossed(ctx, tx, p.SHA256, targetStream(t.ID)); err != nil {
			return err
		}
	}
	if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindTarget, Version: 1, Stream: targetStream(t.ID), Caveats: t.Caveats, Body: t.shared()}); err != nil {
		return fmt.Errorf("sending target: %w", err)
	}
	if err := s.index(ctx, tx, t); err != nil {
		return err
	}
	kind := KindLogUpdated
	if t.Version == 1 {
		kind = KindLogReleased
	}
	return s.log.Record(ctx, tx, kind, "target:"+t.ID, fmt.Sprintf("version=%d %s", t.Version, what))
}

// Acknowledge is the receiving side's acknowledgement of the partner's
// nomination, once.
func (s *Service) Acknowledge(ctx context.Context, u *auth.User, id string) (*Target, error) {
	return s.onTheirs(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Ack != nil {
			return ErrState
		}
		t.Ack = &Ack{ID: t.ID, By: u.Username, Agency: u.Agency, At: s.Now()}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindAck, Version: 1, Stream: targetStream(t.ID), Caveats: s.DefaultCaveats(), Body: t.Ack}); err != nil {
			return fmt.Errorf("sending the acknowledgement: %w", err)
		}
		return s.log.Record(ctx, tx, KindLogAcked, "target:"+t.ID, "by="+u.Agency)
	})
}

// onTheirs runs f on the partner's target id for a user of ours who may
// see it and writes.
func (s *Service) onTheirs(ctx context.Context, u *auth.User, id string, f func(ctx context.Context, tx *store.Tx, t *Target) error) (*Target, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	var out *Target
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		t, err := loadTarget(ctx, tx, id)
		if err != nil {
			return err
		}
		if !t.Visible(u, s.self) {
			return ErrNotFound
		}
		if t.Origin == s.self {
			return ErrState
		}
		if err := f(ctx, tx, t); err != nil {
			return err
		}
		out = t
		return s.saveTarget(ctx, tx, t, false)
	})
	return out, err
}

// Add records what u's side knows about a released target, ours or the
// partner's (where the person was seen, an identifier, a warrant of its
// own), and sends it to the other side.
func (s *Service) Add(ctx context.Context, u *auth.User, id, body string) (*Target, error) {
	if !s.MayWrite(u) {
		return nil, ErrForbidden
	}
	body = strings.TrimSpace(body)
	if err := input.Text("text", body, MaxAddition, input.Required|input.Multiline); err != nil {
		return nil, err
	}
	var out *Target
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		t, err := loadTarget(ctx, tx, id)
		if err != nil {
			return err
		}
		if !t.Visible(u, s.self) {
			return ErrNotFound
		}
		if t.Stage != StageReleased && t.Stage != StageReceived {
			return ErrState
		}
		a := Addition{ID: link.NewID(), Target: t.ID, Side: s.self, By: u.Username, Agency: u.Agency, At: s.Now(), Text: body}
		t.Additions = append(t.Additions, a)
		cav := t.Caveats
		if t.Origin == s.self {
			cav = s.DefaultCaveats()
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindAddition, Version: 1, Stream: targetStream(t.ID), Caveats: cav, Body: a}); err != nil {
			return fmt.Errorf("sending the addition: %w", err)
		}
		if err := s.log.Record(ctx, tx, KindLogAdded, "target:"+t.ID, "by="+u.Agency); err != nil {
			return err
		}
		out = t
		return s.saveTarget(ctx, tx, t, false)
	})
	return out, err
}

// Get returns a target u may see.
func (s *Service) Get(ctx context.Context, u *auth.User, id string) (*Target, error) {
	t, err := loadTarget(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if !t.Visible(u, s.self) {
		return nil, ErrNotFound
	}
	return t, nil
}

// Filter narrows a list of targets.
type Filter struct {
	Side   string // "MX", "US" or "" for both
	Status string
	Stage  string
	Query  string // a part of a name or alias
	Limit  int
}

// List returns the targets u may see, most recently changed first.
func (s *Service) List(ctx context.Context, u *auth.User, f Filter) ([]*Target, error) {
	if !u.Can(auth.ExtRead) {
		return nil, ErrForbidden
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q, args := `SELECT doc FROM targets WHERE 1 = 1`, []any{}
	if f.Side != "" {
		q += ` AND origin = ?`
		args = append(args, f.Side)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Stage != "" {
		q += ` AND stage = ?`
		args = append(args, f.Stage)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY updated_at DESC, id LIMIT 5000`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing targets: %w", err)
	}
	all, err := store.Collect(rows, scanTarget)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(strings.TrimSpace(f.Query))
	out := []*Target{}
	for _, t := range all {
		if len(out) == f.Limit {
			break
		}
		if !t.Visible(u, s.self) {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(t.Name+" "+strings.Join(t.Aliases, " ")+" "+t.Organisation), needle) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// AddNotice records a Red Notice or diffusion (in NoticeJSON) on our
// nomination: a draft keeps it, a released one sends the partner the next
// version with it. The same reference twice is refused.
func (s *Service) AddNotice(ctx context.Context, u *auth.User, id string, raw []byte) (*Target, error) {
	n, err := ParseNotice(raw, s.Now())
	if err != nil {
		return nil, err
	}
	return s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Status == Withdrawn {
			return ErrFinal
		}
		if t.Stage == StageSubmitted || (t.Stage == StageDraft && u.Agency != t.Agency) {
			return ErrState
		}
		if slices.ContainsFunc(t.Notices, func(o Notice) bool { return o.Reference == n.Reference }) {
			return fault.Field("notice.entity_id", "duplicate_notice")
		}
		if len(t.Notices) >= MaxNotices {
			return fault.Field("notices", "too_many")
		}
		t.Notices = append(t.Notices, *n)
		if t.Stage == StageReleased {
			return s.send(ctx, tx, t, "notice="+n.Reference)
		}
		return s.log.Record(ctx, tx, KindLogChanged, "target:"+t.ID, "notice="+n.Reference)
	})
}

// Notices are a target's notices in the exchange format.
func (s *Service) Notices(ctx context.Context, u *auth.User, id string) ([]NoticeJSON, error) {
	t, err := s.Get(ctx, u, id)
	if err != nil {
		return nil, err
	}
	out := []NoticeJSON{}
	for _, n := range t.Notices {
		out = append(out, n.JSON())
	}
	return out, nil
}

// AddPhoto adds a photograph (JPEG or PNG, at most 5 MiB) to our
// nomination: a draft keeps it, a released one sends the partner the
// photo and the next version.
func (s *Service) AddPhoto(ctx context.Context, u *auth.User, id, name string, data []byte) (*Target, error) {
	if err := input.FileName("photo", name); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fault.Field("photo", "required")
	}
	if len(data) > MaxPhoto {
		return nil, fault.Field("photo", "photo_too_large")
	}
	ct := http.DetectContentType(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return nil, fault.Field("photo", "not_a_photo")
	}
	p := Photo{SHA256: blob.Sum(data), Name: name, ContentType: ct, Size: int64(len(data))}
	return s.onOwn(ctx, u, id, func(ctx context.Context, tx *store.Tx, t *Target) error {
		if t.Status == Withdrawn {
			return ErrFinal
		}
		if t.Stage == StageSubmitted || (t.Stage == StageDraft && u.Agency != t.Agency) {
			return ErrState
		}
		if slices.ContainsFunc(t.Photos, func(o Photo) bool { return o.SHA256 == p.SHA256 }) {
			return fault.Field("photo", "duplicate_photo")
		}
		if len(t.Photos) >= MaxPhotos {
			return fault.Field("photos", "too_many")
		}
		if _, err := blob.Put(ctx, tx, data); err != nil {
			return err
		}
		t.Photos = append(t.Photos, p)
		if t.Stage == StageReleased {
			return s.send(ctx, tx, t, "photo="+p.SHA256)
		}
		return s.log.Record(ctx, tx, KindLogChanged, "target:"+t.ID, "photo="+p.SHA256)
	})
}

// PhotoData returns a photo of a target u may see.
func (s *Service) PhotoData(ctx context.Context, u *auth.User, id, sha string) (*Photo, []byte, error) {
	t, err := s.Get(ctx, u, id)
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(t.Photos, func(p Photo) bool { return p.SHA256 == sha })
	if i < 0 {
		return nil, nil, ErrNotFound
	}
	var data []byte
	if err := s.db.Read().QueryRow(ctx, `SELECT data FROM attachments WHERE sha256 = ?`, sha).Scan(&data); err != nil {
		return nil, nil, fmt.Errorf("reading a photo: %w", err)
	}
	return &t.Photos[i], data, nil
}
