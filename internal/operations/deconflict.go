package operations

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang/geo/s2"

	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/link"
	"puente/internal/match"
	"puente/internal/store"
)

func indexRef(id string) string { return "operation:" + id }

// index puts our part of op (its cells and targets) in the blind-matching
// index, so the partner's checks meet it.
func (s *Service) index(ctx context.Context, tx *store.Tx, op *Operation) error {
	return match.IndexKeysTx(ctx, tx, indexRef(op.ID), "operation", op.Title, KeysOf(op, s.self, s.cfg.Agreement.Deconfliction))
}

// unindex takes op out of the index.
func (s *Service) unindex(ctx context.Context, tx *store.Tx, op *Operation) error {
	return match.RemoveTx(ctx, tx, indexRef(op.ID))
}

// checkSoon checks operation id against the partner's index in the
// background, right away.
func (s *Service) checkSoon(id string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.Check(ctx, id); err != nil {
			s.cfg.Logger.Warn("operations: deconfliction check", "operation", id, "err", err)
		}
	}()
}

// conflictBody is an operations.conflict envelope: the finder's claim
// that these keys of one of its operations hit our index, each with the
// OPRF output that proves we evaluated it, and its point of contact.
type conflictBody struct {
	ID      string           `json:"id"`
	Kind    string           `json:"kind"`
	Epoch   int64            `json:"epoch"`
	Hits    []match.ProbeHit `json:"hits"`
	Contact string           `json:"contact"`
	At      time.Time        `json:"at"`
}

// ackBody is an operations.conflict_ack envelope: the contacts of the
// operations of ours the claim confirmed.
type ackBody struct {
	ID       string   `json:"id"`
	Contacts []string `json:"contacts"`
}

// resolvedBody is an operations.conflict_resolved envelope.
type resolvedBody struct {
	ID         string    `json:"id"`
	Resolution string    `json:"resolution"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// Check probes the partner's index blind with op's keys and records a
// conflict for each kind of hit (space-time, target) that is new, telling
// the partner in the same transaction. It returns the conflicts found.
func (s *Service) Check(ctx context.Context, id string) ([]*Conflict, error) {
	op, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if !op.Open() || op.Sides[s.self] == nil {
		// Nothing of ours to check (the partner's proposal we have not
		// answered): mark it checked, so re-checks do not keep picking it.
		return nil, s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE operations SET checked_at = ? WHERE id = ?`, s.Now().UnixMilli(), id)
			return err
		})
	}
	keys := KeysOf(op, s.self, s.cfg.Agreement.Deconfliction)
	started := s.Now()
	var hits []match.ProbeHit
	var epoch int64
	for chunk := range slices.Chunk(keys, match.MaxProbeKeys) {
		res, err := s.cfg.Match.Probe(ctx, "node:"+s.self, indexRef(id), chunk)
		if err != nil {
			return nil, err
		}
		hits = append(hits, res.Hits...)
		epoch = res.Epoch
	}
	// A joint operation's partner side is in the partner's index too: it
	// meets ours by design, and is not a conflict.
	own := map[string]bool{}
	for _, k := range spaceTimeKeys(op, s.partner, s.cfg.Agreement.Deconfliction) {
		own[k] = true
	}
	byKind := map[string][]match.ProbeHit{}
	for _, h := range hits {
		if own[h.Key] {
			continue
		}
		k := "space_time"
		if strings.HasPrefix(h.Key, targetPrefix) {
			k = "target"
		}
		byKind[k] = append(byKind[k], h)
	}
	var found []*Conflict
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE operations SET checked_at = ? WHERE id = ?`, started.UnixMilli(), id); err != nil {
			return fmt.Errorf("recording the check: %w", err)
		}
		known, err := s.conflictsOf(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, kind := range []string{"space_time", "target"} {
			hs := byKind[kind]
			if len(hs) == 0 || covered(known, hs) {
				continue
			}
			c := overlap(hs)
			c.ID, c.OperationID, c.Kind, c.FoundBy, c.Status, c.FoundAt = conflictID(c.keys), id, kind, s.self, "open", s.Now()
			if err := s.saveConflict(ctx, tx, c, op.Start, true); err != nil {
				return err
			}
			if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindConflict, Version: 1, Stream: "operations:c:" + c.ID, Caveats: map[string]any{},
				Body: conflictBody{ID: c.ID, Kind: kind, Epoch: epoch, Hits: hs, Contact: op.Sides[s.self].Contact, At: c.FoundAt}}); err != nil {
				return fmt.Errorf("telling the partner of a conflict: %w", err)
			}
			if err := s.log.Record(ctx, tx, KindLogConflict, "operation:"+id, fmt.Sprintf("conflict=%s kind=%s keys=%d found_by=%s", c.ID, kind, len(hs), s.self)); err != nil {
				return err
			}
			s.changed(tx, id)
			tx.AfterCommit(s.kick)
			found = append(found, c)
		}
		return nil
	})
	return found, err
}

// conflictID names a conflict by the keys that met, so that when both
// sides find the same conflict at once (each re-checking against the
// other's new filter) it is one conflict, not two.
func conflictID(keys []string) string {
	k := slices.Clone(keys)
	slices.Sort(k)
	h := sha256.Sum256([]byte("puente/operations/conflict\n" + strings.Join(k, "\n")))
	return strings.ToUpper(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:16]))
}

// covered reports whether every hit is already in a known conflict.
func covered(known []*Conflict, hs []match.ProbeHit) bool {
	for _, h := range hs {
		in := false
		for _, c := range known {
			if slices.Contains(c.keys, h.Key) {
				in = true
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// overlap is what a conflict tells: the overlapping cells and window, or
// the kinds of targets that met.
func overlap(hs []match.ProbeHit) *Conflict {
	c := &Conflict{}
	var lat, lon float64
	n := 0
	for _, h := range hs {
		c.keys = append(c.keys, h.Key)
		if strings.HasPrefix(h.Key, targetPrefix) {
			kind, _, _ := strings.Cut(strings.TrimPrefix(h.Key, targetPrefix), ":")
			if !slices.Contains(c.TargetKinds, kind) {
				c.TargetKinds = append(c.TargetKinds, kind)
			}
			continue
		}
		cell, from, to, ok := parseCellKey(h.Key)
		if !ok {
			continue
		}
		if tok := cell.ToToken(); !slices.Contains(c.Cells, tok) {
			c.Cells = append(c.Cells, tok)
			ll := s2.CellFromCellID(cell).Center()
			lat += s2.LatLngFromPoint(ll).Lat.Degrees()
			lon += s2.LatLngFromPoint(ll).Lng.Degrees()
			n++
		}
		if c.From.IsZero() || from.Before(c.From) {
			c.From = from
		}
		if to.After(c.To) {
			c.To = to
		}
	}
	if n > 0 {
		c.Lat, c.Lon = lat/float64(n), lon/float64(n)
	}
	slices.Sort(c.Cells)
	slices.Sort(c.TargetKinds)
	return c
}

// conflictDoc is a conflict as stored, with the keys that made it (which
// never leave the node but in the claim to the partner).
type conflictDoc struct {
	Conflict
	Keys []string `json:"keys"`
}

func (s *Service) saveConflict(ctx context.Context, tx *store.Tx, c *Conflict, start time.Time, insert bool) error {
	doc, err := json.Marshal(conflictDoc{Conflict: *c, Keys: c.keys})
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO op_conflicts (id, operation_id, found_by, status, starts_at, found_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.OperationID, c.FoundBy, c.Status, start.UnixMilli(), c.FoundAt.UnixMilli(), string(doc))
	} else {
		_, err = tx.Exec(ctx, `UPDATE op_conflicts SET status = ?, doc = ? WHERE id = ? AND operation_id = ?`, c.Status, string(doc), c.ID, c.OperationID)
	}
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("storing conflict: %w", err)
	}
	return err
}

func scanConflict(r store.Scanner) (*Conflict, error) {
	var doc string
	if err := r.Scan(&doc); err != nil {
		return nil, err
	}
	var d conflictDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	c := d.Conflict
	c.keys = d.Keys
	return &c, nil
}

// conflictRows reads every row of conflict id (one per operation of ours
// it concerns).
func conflictRows(ctx context.Context, q store.Querier, id string) ([]*Conflict, error) {
	rows, err := q.Query(ctx, `SELECT doc FROM op_conflicts WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("reading conflict %s: %w", id, err)
	}
	return store.Collect(rows, scanConflict)
}

func (s *Service) conflictsOf(ctx context.Context, q store.Querier, opID string) ([]*Conflict, error) {
	rows, err := q.Query(ctx, `SELECT doc FROM op_conflicts WHERE operation_id = ? ORDER BY found_at, id`, opID)
	if err != nil {
		return nil, fmt.Errorf("reading conflicts: %w", err)
	}
	return store.Collect(rows, scanConflict)
}

// Conflicts returns the conflicts of an operation u may see.
func (s *Service) Conflicts(ctx context.Context, u *auth.User, opID string) ([]*Conflict, error) {
	if _, err := s.Get(ctx, u, opID); err != nil {
		return nil, err
	}
	return s.conflictsOf(ctx, s.db.Read(), opID)
}

// OpenConflicts returns the open conflicts on operations u may see.
func (s *Service) OpenConflicts(ctx context.Context, u *auth.User) ([]*Conflict, error) {
	if !u.Can(auth.OpsRead) {
		return nil, ErrForbidden
	}
	q := `SELECT c.doc FROM op_conflicts c JOIN operations o ON o.id = c.operation_id WHERE c.status = 'open'`
	var args []any
	if !u.Can(auth.ReadAll) {
		q += ` AND ` + store.HasWord("o.local_agencies")
		args = append(args, u.Agency)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY c.starts_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading conflicts: %w", err)
	}
	return store.Collect(rows, scanConflict)
}

// applyConflict checks the partner's claim against our own index and
// records the conflict on each operation of ours it confirms.
func (s *Service) applyConflict(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b conflictBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if !link.ValidID(b.ID) || env.Stream != "operations:c:"+b.ID || (b.Kind != "space_time" && b.Kind != "target") || len(b.Hits) == 0 ||
		len(b.Hits) > match.MaxProbeKeys || text("contact", b.Contact, MaxShort, true) != nil || b.At.IsZero() {
		return link.Reject("conflict claim does not check")
	}
	ops := map[string][]match.ProbeHit{}
	for _, h := range b.Hits {
		if b.Kind == "space_time" && !strings.HasPrefix(h.Key, cellPrefix) || b.Kind == "target" && !strings.HasPrefix(h.Key, targetPrefix) {
			return link.Reject("conflict claim mixes kinds of key")
		}
		refs, err := s.cfg.Match.Confirm(ctx, tx, b.Epoch, h.Key, h.Output)
		if err != nil {
			return link.Reject("conflict claim on key we did not evaluate: %v", err)
		}
		for _, r := range refs {
			if id, ok := strings.CutPrefix(r, "operation:"); ok {
				ops[id] = append(ops[id], h)
			}
		}
	}
	if len(ops) == 0 {
		return link.Reject("conflict claim confirms none of our operations")
	}
	var contacts []string
	for id, hs := range ops {
		op, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		c := overlap(hs)
		c.ID, c.OperationID, c.Kind, c.FoundBy, c.Status, c.FoundAt, c.PartnerContact = b.ID, id, b.Kind, s.partner, "open", s.Now(), b.Contact
		err = s.saveConflict(ctx, tx, c, op.Start, true)
		if errors.Is(err, store.ErrConflict) {
			// We found the same conflict ourselves meanwhile: it gains the
			// partner's contact.
			c, err = scanConflict(tx.QueryRow(ctx, `SELECT doc FROM op_conflicts WHERE id = ? AND operation_id = ?`, b.ID, id))
			if err == nil {
				c.PartnerContact = b.Contact
				err = s.saveConflict(ctx, tx, c, time.Time{}, false)
			}
		}
		if err != nil {
			return err
		}
		if sd := op.Sides[s.self]; sd != nil {
			contacts = append(contacts, sd.Contact)
		}
		if err := s.log.Record(ctx, tx, KindLogConflict, "operation:"+id, fmt.Sprintf("conflict=%s kind=%s keys=%d found_by=%s", b.ID, b.Kind, len(hs), s.partner)); err != nil {
			return err
		}
		s.changed(tx, id)
	}
	slices.Sort(contacts)
	tx.AfterCommit(s.kick) // escalate at once if it starts soon
	_, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindConflictAck, Version: 1, Stream: "operations:c:" + b.ID, Caveats: map[string]any{},
		Body: ackBody{ID: b.ID, Contacts: slices.Compact(contacts)}})
	return err
}

// applyConflictAck stores the partner's contacts on the conflict we found.
func (s *Service) applyConflictAck(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b ackBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if env.Stream != "operations:c:"+b.ID || len(b.Contacts) == 0 || len(b.Contacts) > 20 {
		return link.Reject("conflict acknowledgement does not check")
	}
	for _, c := range b.Contacts {
		if text("contact", c, MaxShort, true) != nil {
			return link.Reject("conflict acknowledgement does not check")
		}
	}
	cs, err := conflictRows(ctx, tx, b.ID)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return link.Reject("acknowledgement of conflict %s, which we did not find", b.ID)
	}
	for _, c := range cs {
		c.PartnerContact = strings.Join(b.Contacts, "; ")
		if err := s.saveConflict(ctx, tx, c, time.Time{}, false); err != nil {
			return err
		}
		s.changed(tx, c.OperationID)
	}
	return nil
}

// Resolve records how a conflict was resolved, on both sides.
func (s *Service) Resolve(ctx context.Context, u *auth.User, conflictID, resolution string) error {
	if !u.Can(auth.OpsWrite) {
		return ErrForbidden
	}
	if !slices.Contains(Resolutions, resolution) {
		return fault.Field("resolution", "unknown_resolution")
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		cs, err := conflictRows(ctx, tx, conflictID)
		if err != nil {
			return err
		}
		mine := 0
		for _, c := range cs {
			op, err := load(ctx, tx, c.OperationID)
			if err != nil {
				return err
			}
			if !op.Visible(u, s.self) || u.Can(auth.ReadAll) && !slices.Contains(op.localAgencies(s.self), u.Agency) {
				continue
			}
			mine++
			if c.Status != "open" {
				return ErrState
			}
			c.Status, c.Resolution, c.ResolvedBy, c.ResolvedAt = "resolved", resolution, u.Username, s.Now()
			if err := s.saveConflict(ctx, tx, c, op.Start, false); err != nil {
				return err
			}
			s.changed(tx, c.OperationID)
		}
		if mine == 0 {
			return fmt.Errorf("conflict: %w", fault.ErrNotFound)
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindConflictResolved, Version: 1, Stream: "operations:c:" + conflictID, Caveats: map[string]any{},
			Body: resolvedBody{ID: conflictID, Resolution: resolution, By: u.Username, At: s.Now()}}); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, KindLogResolved, "conflict:"+conflictID, "resolution="+resolution)
	})
}

// applyResolved records the partner's resolution of a conflict.
func (s *Service) applyResolved(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b resolvedBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if env.Stream != "operations:c:"+b.ID || !slices.Contains(Resolutions, b.Resolution) || text("by", b.By, MaxShort, true) != nil || b.At.IsZero() {
		return link.Reject("conflict resolution does not check")
	}
	cs, err := conflictRows(ctx, tx, b.ID)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return link.Reject("resolution of conflict %s, which we do not know", b.ID)
	}
	for _, c := range cs {
		if c.Status == "resolved" {
			continue // both sides resolved it: the first word stands
		}
		c.Status, c.Resolution, c.ResolvedBy, c.ResolvedAt = "resolved", b.Resolution, s.partner+":"+b.By, b.At.UTC()
		if err := s.saveConflict(ctx, tx, c, time.Time{}, false); err != nil {
			return err
		}
		s.changed(tx, c.OperationID)
	}
	return nil
}

// escalate marks open conflicts on operations that start within
// EscalateBefore, once, and logs it: the board and the home page show
// them first.
func (s *Service) escalate(ctx context.Context) error {
	horizon := s.Now().Add(s.cfg.EscalateBefore).UnixMilli()
	rows, err := s.db.Read().Query(ctx, `SELECT doc FROM op_conflicts WHERE status = 'open' AND starts_at <= ?`, horizon)
	if err != nil {
		return err
	}
	cs, err := store.Collect(rows, scanConflict)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if !c.EscalatedAt.IsZero() {
			continue
		}
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			c.EscalatedAt = s.Now()
			if err := s.saveConflict(ctx, tx, c, time.Time{}, false); err != nil {
				return err
			}
			s.changed(tx, c.OperationID)
			return s.log.Record(ctx, tx, KindLogEscalated, "conflict:"+c.ID, "operation="+c.OperationID)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// recheck probes again the open operations checked before the partner's
// newest filter arrived: the partner may have registered one since.
func (s *Service) recheck(ctx context.Context) error {
	var received int64
	err := s.db.Read().QueryRow(ctx, `SELECT COALESCE(MAX(received_at), 0) FROM match_filters`).Scan(&received)
	if err != nil || received == 0 {
		return err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id FROM operations WHERE checked_at < ? AND ends_at > ? AND status IN (?, ?, ?, ?, ?) ORDER BY starts_at LIMIT 20`,
		received, s.Now().UnixMilli(), StatusProposed, StatusCountered, StatusJoint, StatusPlanned, StatusActive)
	if err != nil {
		return err
	}
	ids, err := store.Collect(rows, func(r store.Scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.Check(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
