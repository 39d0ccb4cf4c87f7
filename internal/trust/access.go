package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// Access is one use by our users of data the partner sent us.
type Access struct {
	Action      string   // trustlog.KindDataRead, KindDataExported, KindDataPassedOn, KindDataRefused or KindDataEvidential
	User        string   // user name
	Name        string   // the user's display name, told to the partner
	Agency      string   // the user's agency
	EnvelopeIDs []string // the partner's envelopes concerned
	// ToAgency is, for KindDataPassedOn, the receiving agency; for
	// KindDataRefused, what was refused: an agency, "export" or
	// "evidential".
	ToAgency string
	// Once logs a read (KindDataRead) only the first time this user reads
	// an envelope.
	Once bool
}

// reportItem is one log entry in a trust.access envelope.
type reportItem struct {
	Index int64            `json:"index"`
	Entry []byte           `json:"entry"`
	Proof tlog.RecordProof `json:"proof"`
}

// accessBody is a trust.access envelope: the entries, each with an
// inclusion proof against Checkpoint, a note signed by the sender's log
// key. The originator accepts only entries proven in the sender's log.
type accessBody struct {
	Items      []reportItem `json:"items"`
	Checkpoint []byte       `json:"checkpoint"`
}

// RecordAccess logs an access in tx and reports it to the partner, the
// originator, in the same transaction.
func (s *Service) RecordAccess(ctx context.Context, tx *store.Tx, a Access) error {
	switch a.Action {
	case trustlog.KindDataRead, trustlog.KindDataExported, trustlog.KindDataPassedOn, trustlog.KindDataRefused, trustlog.KindDataEvidential:
	default:
		return fmt.Errorf("unknown access %q", a.Action)
	}
	actor := "user:" + a.User + "@" + a.Agency
	// The detail: "to=AGENCY" (passed on, refused) and the user's name,
	// escaped, so the originator's page says who.
	var fields []string
	if a.ToAgency != "" {
		fields = append(fields, "to="+a.ToAgency)
	}
	if a.Name != "" {
		fields = append(fields, "name="+url.QueryEscape(a.Name))
	}
	detail := strings.Join(fields, " ")
	now := time.Now()
	var entries []trustlog.Entry
	for _, id := range a.EnvelopeIDs {
		obj := "envelope:" + id
		if a.Once && a.Action == trustlog.KindDataRead {
			// The literal kind lets the partial index log_entries_reads serve this.
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM log_entries WHERE kind = 'data.read' AND object = ? AND actor = ?`, obj, actor).Scan(&n); err != nil {
				return fmt.Errorf("checking earlier reads: %w", err)
			}
			if n > 0 {
				continue
			}
		}
		entries = append(entries, trustlog.Entry{At: now, Kind: a.Action, Actor: actor, Object: obj, Detail: detail})
	}
	if len(entries) == 0 {
		return nil
	}
	idx, err := s.log.Append(ctx, tx, entries...)
	if err != nil {
		return err
	}
	// Prove each entry against a checkpoint of the log as this
	// transaction leaves it, so the originator can check they were logged.
	size, err := trustlog.SizeIn(ctx, tx)
	if err != nil {
		return err
	}
	prover := s.log.Prover(ctx, tx)
	root, err := prover.TreeHash(size)
	if err != nil {
		return err
	}
	cp, err := s.log.Sign(size, root)
	if err != nil {
		return err
	}
	body := accessBody{Checkpoint: cp.Note}
	for i, e := range entries {
		e.At = e.At.UTC().Truncate(time.Millisecond)
		proof, err := prover.ProveRecord(size, idx[i])
		if err != nil {
			return err
		}
		body.Items = append(body.Items, reportItem{Index: idx[i], Entry: e.Encode(), Proof: proof})
	}
	_, err = s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindAccess, Version: 1, Stream: stream, Caveats: s.cfg.Caveats, Body: body})
	if err != nil {
		return fmt.Errorf("reporting the access to the partner: %w", err)
	}
	return nil
}

// applyAccess stores the partner's report of how its users used our data.
// Every item must be a data.* entry about an envelope we sent.
func (s *Service) applyAccess(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b accessBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if len(b.Items) == 0 || len(b.Items) > 10000 {
		return link.Reject("the access report has %d items", len(b.Items))
	}
	if err := VerifyAccessReport(env.Body, s.partner); err != nil {
		return link.Reject("%v", err)
	}
	ids := map[string]bool{}
	for i, it := range b.Items {
		e, err := trustlog.ParseEntry(it.Entry)
		if err != nil {
			return link.Reject("access report item %d: %v", i, err)
		}
		if !strings.HasPrefix(e.Kind, "data.") || it.Index < 0 {
			return link.Reject("access report item %d is a %s entry, not a data access", i, e.Kind)
		}
		id, ok := strings.CutPrefix(e.Object, "envelope:")
		if !ok {
			return link.Reject("access report item %d concerns %s, not an envelope", i, e.Object)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE envelope_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("checking an access report: %w", err)
		}
		if n == 0 {
			return link.Reject("access report item %d concerns envelope %s, which this node never sent", i, id)
		}
		user, agency, _ := strings.Cut(strings.TrimPrefix(e.Actor, "user:"), "@")
		to, name := accessDetail(e.Detail)
		if _, err := tx.Exec(ctx, `INSERT INTO access_reports (envelope_id, log_index, at, action, actor, agency, to_agency, received_at, actor_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (log_index, envelope_id) DO NOTHING`,
			id, it.Index, e.At.UnixMilli(), e.Kind, user, agency, to, store.Now(), name); err != nil {
			return fmt.Errorf("storing an access report: %w", err)
		}
		ids[id] = true
	}
	tx.AfterCommit(func() {
		for id := range ids {
			s.cfg.Hub.Publish(live.Event{Topic: "access", Key: id})
		}
	})
	return nil
}

// accessDetail reads an access entry's detail: "to=AGENCY name=NAME"
// (either may be absent; the name escaped as in a URL query). A name that
// does not unescape, or is not plain text, is left out.
func accessDetail(detail string) (to, name string) {
	for _, f := range strings.Fields(detail) {
		switch k, v, _ := strings.Cut(f, "="); k {
		case "to":
			to = v
		case "name":
			if n, err := url.QueryUnescape(v); err == nil && len(n) <= 200 && utf8.ValidString(n) && !strings.ContainsFunc(n, unicode.IsControl) {
				name = n
			}
		}
	}
	return to, name
}

// Report is one reported use of our data by the partner's users.
type Report struct {
	EnvelopeID string    `json:"envelope_id"`
	LogIndex   int64     `json:"partner_log_index"`
	At         time.Time `json:"at"`
	Action     string    `json:"action"`
	Actor      string    `json:"actor"`
	// Name is the user's name as the partner reported it ("" from an
	// older partner).
	Name     string `json:"actor_name,omitempty"`
	Agency   string `json:"agency"`
	ToAgency string `json:"to_agency,omitempty"`
}

// Who is the user as the page names them: the name, else the username.
func (r Report) Who() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Actor
}

// Reports returns what the partner reported about the given envelopes, or
// about all of them when ids is empty (newest first, up to limit).
func Reports(ctx context.Context, q store.Querier, ids []string, limit int) ([]Report, error) {
	where, args := "1 = 1", []any{}
	if len(ids) > 0 {
		where = "envelope_id IN (" + store.Params(len(ids)) + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	args = append(args, limit)
	rows, err := q.Query(ctx, `SELECT envelope_id, log_index, at, action, actor, agency, to_agency, actor_name FROM access_reports WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading access reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var at int64
		if err := rows.Scan(&r.EnvelopeID, &r.LogIndex, &at, &r.Action, &r.Actor, &r.Agency, &r.ToAgency, &r.Name); err != nil {
			return nil, fmt.Errorf("reading access reports: %w", err)
		}
		r.At = store.Time(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Status is the log at a glance, for the audit page and the API.
type Status struct {
	Size          int64            `json:"size"`
	Latest        *trustlog.Stored `json:"-"`
	LatestSize    int64            `json:"latest_checkpoint_size"`
	LatestAt      time.Time        `json:"latest_checkpoint_at,omitzero"`
	WitnessedSize int64            `json:"witnessed_by_partner_size"`
	WitnessedAt   time.Time        `json:"witnessed_by_partner_at,omitzero"`
	Cosigned      string           `json:"cosigned_checkpoint,omitempty"`
	PartnerSize   int64            `json:"partner_checkpoint_size"`
	PartnerAt     time.Time        `json:"partner_checkpoint_at,omitzero"`
	PartnerNote   string           `json:"partner_checkpoint,omitempty"`
	OpenAlarms    []trustlog.Alarm `json:"open_alarms"`
	LastError     string           `json:"last_error,omitempty"`
	Origin        string           `json:"origin"`
	VerifierKey   string           `json:"verifier_key"`
	PartnerVKey   string           `json:"partner_verifier_key"`
}

// Status reads the log's state.
func (s *Service) Status(ctx context.Context) (*Status, error) {
	q := s.db.Read()
	st := &Status{Origin: s.self.Origin, VerifierKey: s.self.VKey, PartnerVKey: s.partner.VKey}
	var err error
	if st.Size, err = trustlog.Size(ctx, q); err != nil {
		return nil, err
	}
	l, err := trustlog.LatestCheckpoint(ctx, q)
	if err != nil {
		return nil, err
	}
	if l != nil {
		st.LatestSize, st.LatestAt = l.Size, l.CreatedAt
	}
	c, err := trustlog.LatestCosigned(ctx, q)
	if err != nil {
		return nil, err
	}
	if c != nil {
		st.WitnessedSize, st.WitnessedAt, st.Cosigned = c.Size, c.CosignedAt, string(c.Cosigned)
	}
	w, err := trustlog.LatestWitnessed(ctx, q)
	if err != nil {
		return nil, err
	}
	if w != nil {
		st.PartnerSize, st.PartnerAt, st.PartnerNote = w.Size, w.WitnessedAt, string(w.Note)
	}
	if st.OpenAlarms, err = trustlog.Alarms(ctx, q, true, 100); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st.LastError = s.lastError
	s.mu.Unlock()
	return st, nil
}

// OpenAlarms counts alarms not yet acknowledged, for the banner.
func (s *Service) OpenAlarms(ctx context.Context) (int, error) {
	var n int
	err := s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM log_alarms WHERE acked_at = 0`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting alarms: %w", err)
	}
	return n, nil
}

// Acknowledge marks an alarm seen by an auditor; the acknowledgement is
// itself logged. The evidence stays.
func (s *Service) Acknowledge(ctx context.Context, id int64, who string) error {
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := trustlog.AckAlarm(ctx, tx, id, who); err != nil {
			return err
		}
		_, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: trustlog.KindAlarmAcked, Actor: who, Object: fmt.Sprintf("alarm:%d", id)})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil {
		s.cfg.Hub.Publish(live.Event{Topic: "alarm"})
	}
	return err
}

// VerifyAccessReport checks that every entry of a trust.access body is
// included in the checkpoint it carries, signed with the sender's log
// keys.
func VerifyAccessReport(body []byte, sender *trustlog.Keys) error {
	var b accessBody
	if err := json.Unmarshal(body, &b); err != nil {
		return fmt.Errorf("the access report is not valid JSON: %w", err)
	}
	cp, err := trustlog.OpenCheckpoint(b.Checkpoint, sender)
	if err != nil {
		return fmt.Errorf("the access report's checkpoint: %w", err)
	}
	for i, it := range b.Items {
		if it.Index < 0 || it.Index >= cp.Size {
			return fmt.Errorf("access report item %d is outside the checkpoint", i)
		}
		if err := tlog.CheckRecord(it.Proof, cp.Size, cp.Root, it.Index, tlog.RecordHash(it.Entry)); err != nil {
			return fmt.Errorf("access report item %d is not proven in the sender's log: %w", i, err)
		}
	}
	return nil
}
