package finintel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/match"
	"puente/internal/screen"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Log entry kinds of this work area (besides the link's and trust's).
const (
	KindLogReleased = "finintel.released"
	KindLogSealed   = "finintel.sealed"
	KindLogConsent  = "finintel.consent_decided"
	KindLogReminder = "finintel.rfi_reminder"
)

// Config assembles a Service.
type Config struct {
	DB        *store.DB
	Link      *link.Link
	Hub       *live.Hub
	Trust     *trust.Service
	Agreement *agreement.Agreement
	Lists     *screen.Lists // for screening incoming subjects; may be nil
	Logger    *slog.Logger
	// Interval is how often the worker checks retention, reminders and
	// screening (default 30 s).
	Interval time.Duration
}

// Service runs financial intelligence on one node.
type Service struct {
	cfg     Config
	db      *store.DB
	link    *link.Link
	log     *trustlog.Log
	self    string
	partner string
	wake    chan struct{}

	mu  sync.Mutex
	now func() time.Time
}

// New returns the service and registers its message kinds on the link.
func New(cfg Config) *Service {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, db: cfg.DB, link: cfg.Link, log: cfg.Link.TrustLog(), self: cfg.Link.Self(), partner: cfg.Link.Partner(),
		wake: make(chan struct{}, 1), now: time.Now}
	s.register()
	return s
}

// SetClock replaces the service's clock: a test hook, so a test can
// answer a request after its deadline or let a retention period run out.
func (s *Service) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetLists replaces the sanctions lists that incoming subjects are
// screened against (tests use small fixtures).
func (s *Service) SetLists(l *screen.Lists) {
	s.mu.Lock()
	s.cfg.Lists = l
	s.mu.Unlock()
	s.kick()
}

func (s *Service) lists() *screen.Lists {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Lists
}

// Now is the service's clock, to the millisecond (what the store keeps).
func (s *Service) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().UTC().Truncate(time.Millisecond)
}

func discStream(id string) string { return "finintel:d:" + id }
func rfiStream(id string) string  { return "finintel:r:" + id }

// DefaultCaveats are the caveats a new draft starts with, from the
// agreement.
func (s *Service) DefaultCaveats() Caveats {
	ag := s.cfg.Agreement
	days := ag.Retention[agreement.AreaFinIntel]
	if days <= 0 {
		days = 1825
	}
	purpose := PurposeIntelligence
	if ag.Caveats.Purpose == PurposeEvidential {
		purpose = PurposeEvidential
	}
	class := ag.Caveats.Classification
	if !slices.Contains(Classifications, class) {
		class = "RESTRICTED"
	}
	return Caveats{Classification: class, Purpose: purpose, RetentionDays: days, ThirdPartyRule: ag.Caveats.ThirdPartyRule}
}

// ResponseDays is side's commitment for answering a request in this work
// area.
func (s *Service) ResponseDays(side string) int {
	return s.cfg.Agreement.Commitments[side].ResponseDays[agreement.AreaFinIntel]
}

// Self and Partner are the party codes.
func (s *Service) Self() string    { return s.self }
func (s *Service) Partner() string { return s.partner }

// isFIU reports whether u works for this node's FIU: only the FIU sends
// and receives disclosures and requests.
func (s *Service) isFIU(u *auth.User) bool { return u.Agency == auth.FIU[s.self] }

func (s *Service) changed(tx *store.Tx, key string) {
	tx.AfterCommit(func() { s.cfg.Hub.Publish(live.Event{Topic: "finintel", Key: key}) })
}

func (s *Service) entry(ctx context.Context, tx *store.Tx, kind, object, digest, detail string) error {
	_, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: kind, Actor: trustlog.ActorOf(ctx), Object: object, Digest: digest, Detail: detail})
	return err
}

func who(u *auth.User) string { return u.Username }

func agencies(list ...string) string {
	return " " + strings.Join(slices.Compact(slices.Sorted(slices.Values(list))), " ") + " "
}

// visible is the SQL condition under which u sees a row of alias t.
func visible(u *auth.User, t string) (string, []any) {
	if u.Can(auth.ReadAll) {
		return "1 = 1", nil
	}
	if !u.Can(auth.FinIntelRead) {
		return "1 = 0", nil
	}
	return t + ".local_agencies LIKE ?", []any{"% " + u.Agency + " %"}
}

// ---- Disclosures -------------------------------------------------------

// CreateDraft stores a new draft disclosure from u to the partner's FIU.
func (s *Service) CreateDraft(ctx context.Context, u *auth.User, d Draft) (*Disclosure, error) {
	if !u.Can(auth.FinIntelWrite) || !s.isFIU(u) {
		return nil, ErrForbidden
	}
	if err := checkDraft(&d, s.partner); err != nil {
		return nil, err
	}
	id := link.NewID()
	content, err := json.Marshal(d.Content)
	if err != nil {
		return nil, fmt.Errorf("encoding draft: %w", err)
	}
	cav, _ := json.Marshal(d.Caveats)
	now := s.Now().UnixMilli()
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO disclosures (id, origin, from_agency, to_agency, status, title, criminal_group, narrative, caveats, content,
			n_subjects, n_accounts, n_transactions, rfi_id, created_by, created_at, updated_at, local_agencies)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, s.self, u.Agency, auth.FIU[s.partner], StatusDraft, d.Title, d.CriminalGroup, d.Narrative, string(cav), string(content),
			len(d.Subjects), len(d.Accounts), len(d.Transactions), d.RFIID, who(u), now, now, agencies(u.Agency))
		if err != nil {
			return fmt.Errorf("writing draft: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, u, id)
}

// UpdateDraft replaces a draft's whole text and content.
func (s *Service) UpdateDraft(ctx context.Context, u *auth.User, id string, d Draft) (*Disclosure, error) {
	if !u.Can(auth.FinIntelWrite) || !s.isFIU(u) {
		return nil, ErrForbidden
	}
	if err := checkDraft(&d, s.partner); err != nil {
		return nil, err
	}
	content, err := json.Marshal(d.Content)
	if err != nil {
		return nil, fmt.Errorf("encoding draft: %w", err)
	}
	cav, _ := json.Marshal(d.Caveats)
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		cur, err := s.disclosure(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if cur.Origin != s.self || cur.Status != StatusDraft {
			return ErrState
		}
		_, err = tx.Exec(ctx, `UPDATE disclosures SET title = ?, criminal_group = ?, narrative = ?, caveats = ?, content = ?, n_subjects = ?, n_accounts = ?,
			n_transactions = ?, rfi_id = ?, updated_at = ? WHERE id = ?`,
			d.Title, d.CriminalGroup, d.Narrative, string(cav), string(content), len(d.Subjects), len(d.Accounts), len(d.Transactions), d.RFIID, s.Now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("updating draft: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, u, id)
}

// DraftOf returns a disclosure's editable part.
func DraftOf(d *Disclosure) Draft {
	out := Draft{Title: d.Title, CriminalGroup: d.CriminalGroup, Narrative: d.Narrative, Caveats: d.Caveats, RFIID: d.RFIID}
	if d.Content != nil {
		out.Content = *d.Content
	}
	return out
}

// Submit hands a draft to the supervisors for release.
func (s *Service) Submit(ctx context.Context, u *auth.User, id string) error {
	if !u.Can(auth.FinIntelWrite) || !s.isFIU(u) {
		return ErrForbidden
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		d, err := s.disclosure(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if d.Origin != s.self || d.Status != StatusDraft {
			return ErrState
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, submitted_by = ?, submitted_at = ?, return_note = '', updated_at = ? WHERE id = ?`,
			StatusSubmitted, who(u), s.Now().UnixMilli(), s.Now().UnixMilli(), id); err != nil {
			return fmt.Errorf("submitting: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
}

// Return sends a submitted draft back to its author with a note.
func (s *Service) Return(ctx context.Context, u *auth.User, id, note string) error {
	if !u.Can(auth.FinIntelRelease) || !s.isFIU(u) {
		return ErrForbidden
	}
	if err := text("note", note, MaxShort*5, true); err != nil {
		return err
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		d, err := s.disclosure(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if d.Origin != s.self || d.Status != StatusSubmitted {
			return ErrState
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, return_note = ?, updated_at = ? WHERE id = ?`, StatusDraft, note, s.Now().UnixMilli(), id); err != nil {
			return fmt.Errorf("returning: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
}

// disclosureBody is a finintel.disclosure envelope; the caveats travel in
// the envelope's caveats.
type disclosureBody struct {
	ID            string          `json:"id"`
	FromAgency    string          `json:"from_agency"`
	ToAgency      string          `json:"to_agency"`
	Title         string          `json:"title"`
	CriminalGroup string          `json:"criminal_group"`
	Narrative     string          `json:"narrative"`
	RFIID         string          `json:"rfi_id,omitempty"`
	CreatedBy     string          `json:"created_by"`
	ReleasedBy    string          `json:"released_by"`
	ReleasedAt    time.Time       `json:"released_at"`
	Content       json.RawMessage `json:"content"`
	ContentSHA256 string          `json:"content_sha256"`
}

// Release is the second pair of eyes: a supervisor other than the author
// and the submitter sends the disclosure to the partner. In one
// transaction it marks the disclosure released, indexes its subjects,
// logs the release and enqueues the envelope.
func (s *Service) Release(ctx context.Context, u *auth.User, id string) error {
	if !u.Can(auth.FinIntelRelease) || !s.isFIU(u) {
		return ErrForbidden
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		d, err := s.disclosure(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if d.Origin != s.self || d.Status != StatusSubmitted {
			return ErrState
		}
		if d.CreatedBy == who(u) || d.SubmittedBy == who(u) {
			return ErrFourEyes
		}
		var raw string
		if err := tx.QueryRow(ctx, `SELECT content FROM disclosures WHERE id = ?`, id).Scan(&raw); err != nil {
			return fmt.Errorf("reading content: %w", err)
		}
		var c Content
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return fmt.Errorf("reading content: %w", err)
		}
		sum := sha256.Sum256([]byte(raw))
		digest := hex.EncodeToString(sum[:])
		now := s.Now()
		env, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindDisclosure, Version: 1, Stream: discStream(id), Caveats: d.Caveats, Body: disclosureBody{
			ID: id, FromAgency: d.FromAgency, ToAgency: d.ToAgency, Title: d.Title, CriminalGroup: d.CriminalGroup, Narrative: d.Narrative,
			RFIID: d.RFIID, CreatedBy: d.CreatedBy, ReleasedBy: who(u), ReleasedAt: now, Content: json.RawMessage(raw), ContentSHA256: digest,
		}})
		if errors.Is(err, link.ErrTooLarge) {
			return &FieldError{"transactions", "disclosure_too_large"}
		} else if err != nil {
			return fmt.Errorf("sending disclosure: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, released_by = ?, released_at = ?, envelope_id = ?, content_sha256 = ?, updated_at = ? WHERE id = ?`,
			StatusReleased, who(u), now.UnixMilli(), env.ID, digest, now.UnixMilli(), id); err != nil {
			return fmt.Errorf("releasing: %w", err)
		}
		if err := s.storeKeys(ctx, tx, id, &c); err != nil {
			return err
		}
		// Our own subjects join the blind-matching index.
		var subs []match.Subject
		for _, sub := range c.Subjects {
			ms := matchSubject(sub)
			ms.Ref, ms.Source = "disclosure:"+id+":"+sub.Ref, "disclosure"
			subs = append(subs, ms)
		}
		if len(subs) > 0 {
			if err := match.ImportTx(ctx, tx, s.log, subs); err != nil {
				return fmt.Errorf("indexing subjects: %w", err)
			}
		}
		if err := s.entry(ctx, tx, KindLogReleased, "disclosure:"+id, digest, "author="+d.CreatedBy); err != nil {
			return err
		}
		s.changed(tx, "d:"+id)
		return nil
	})
}

// matchSubject is a subject as the matching index sees it.
func matchSubject(s Subject) match.Subject {
	return match.Subject{Name: s.FullName(), DOB: s.DOB, CURP: s.CURP, RFC: s.RFC, SSN: s.SSN, EIN: s.EIN, Passport: s.Passport,
		PassportCountry: s.PassportCtry, Phone: s.Phone}
}

// exactKeys are the identifier keys of a disclosure's subjects and
// accounts, by ref: names are left out, since "known to us" means the same
// identifier.
func exactKeys(c *Content) map[string][]string {
	out := map[string][]string{}
	add := func(ref string, ms match.Subject) {
		keys, err := ms.Keys()
		if err != nil {
			return
		}
		for _, k := range keys {
			if match.KeyType(k) != "name_year" {
				out[ref] = append(out[ref], k)
			}
		}
	}
	for _, sub := range c.Subjects {
		add(sub.Ref, matchSubject(sub))
	}
	for _, a := range c.Accounts {
		add(a.Ref, match.Subject{Name: "x", Account: a.Number, Bank: a.Bank, CLABE: a.CLABE, IBAN: a.IBAN, Wallet: a.Wallet})
	}
	return out
}

func (s *Service) storeKeys(ctx context.Context, tx *store.Tx, id string, c *Content) error {
	for _, keys := range exactKeys(c) {
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO disclosure_keys (disclosure_id, key) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, k); err != nil {
				return fmt.Errorf("storing identifier keys: %w", err)
			}
		}
	}
	return nil
}

// known matches a received disclosure's exact identifiers against this
// node's own records: the subject index and earlier disclosures.
func (s *Service) known(ctx context.Context, tx *store.Tx, id string, c *Content) ([]Known, error) {
	var out []Known
	seen := map[string]bool{}
	for ref, keys := range exactKeys(c) {
		for _, k := range keys {
			rows, err := tx.Query(ctx, `SELECT s.source, s.ref, s.label FROM subject_keys k JOIN subjects s ON s.id = k.subject_id WHERE k.key = ?
				UNION ALL SELECT 'disclosure', d.id, d.title FROM disclosure_keys dk JOIN disclosures d ON d.id = dk.disclosure_id
				WHERE dk.key = ? AND dk.disclosure_id <> ? AND d.sealed_at = 0`, k, k, id)
			if err != nil {
				return nil, fmt.Errorf("matching known identifiers: %w", err)
			}
			for rows.Next() {
				var kn Known
				if err := rows.Scan(&kn.Source, &kn.Link, &kn.Label); err != nil {
					rows.Close()
					return nil, err
				}
				// Subjects indexed from a disclosure are filed as
				// "disclosure:ID:REF": point at the disclosure.
				if rest, ok := strings.CutPrefix(kn.Link, "disclosure:"); ok {
					kn.Source = "disclosure"
					kn.Link, _, _ = strings.Cut(rest, ":")
				}
				kn.Ref, kn.Key = ref, match.KeyType(k)
				sig := kn.Ref + "|" + kn.Key + "|" + kn.Source + "|" + kn.Link
				if !seen[sig] && kn.Link != id {
					seen[sig] = true
					out = append(out, kn)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(out, func(a, b Known) int { return strings.Compare(a.Ref+a.Key+a.Link, b.Ref+b.Key+b.Link) })
	return out, nil
}

const discCols = `d.id, d.origin, d.from_agency, d.to_agency, d.status, d.title, d.criminal_group, d.narrative, d.caveats, d.n_subjects, d.n_accounts,
	d.n_transactions, d.content_sha256, d.rfi_id, d.created_by, d.created_at, d.updated_at, d.submitted_by, d.submitted_at, d.return_note, d.released_by,
	d.released_at, d.received_at, d.envelope_id, d.evidential_at, d.evidential_by, d.retention_until, d.recalled_at, d.sealed_at, d.seal_reason,
	d.seal_attested_at, d.seal_envelope, d.screening, d.hits, COALESCE(o.state, '')`

const discFrom = ` FROM disclosures d LEFT JOIN outbox o ON o.envelope_id = d.envelope_id AND d.envelope_id <> ''`

func scanDisclosure(r interface{ Scan(...any) error }) (*Disclosure, error) {
	var d Disclosure
	var cav, screening, hits, state string
	var created, updated, submitted, released, received, evid, retain, recalled, sealed, attested int64
	if err := r.Scan(&d.ID, &d.Origin, &d.FromAgency, &d.ToAgency, &d.Status, &d.Title, &d.CriminalGroup, &d.Narrative, &cav, &d.NSubjects, &d.NAccounts,
		&d.NTransactions, &d.ContentSHA256, &d.RFIID, &d.CreatedBy, &created, &updated, &d.SubmittedBy, &submitted, &d.ReturnNote, &d.ReleasedBy,
		&released, &received, &d.EnvelopeID, &evid, &d.EvidentialBy, &retain, &recalled, &sealed, &d.SealReason,
		&attested, &d.SealEnvelope, &screening, &hits, &state); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(cav), &d.Caveats)
	if screening != "" {
		_ = json.Unmarshal([]byte(screening), &d.Screening)
	}
	if hits != "" {
		_ = json.Unmarshal([]byte(hits), &d.Known)
	}
	ms := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return store.Time(v)
	}
	d.CreatedAt, d.UpdatedAt, d.SubmittedAt, d.ReleasedAt, d.ReceivedAt = ms(created), ms(updated), ms(submitted), ms(released), ms(received)
	d.EvidentialAt, d.RetainUntil, d.RecalledAt, d.SealedAt, d.SealAttested = ms(evid), ms(retain), ms(recalled), ms(sealed), ms(attested)
	if d.EnvelopeID != "" && d.ReceivedAt.IsZero() {
		switch state {
		case "delivered", "rejected":
			d.Delivery = state
		default:
			d.Delivery = "pending"
		}
	}
	return &d, nil
}

// disclosure reads one disclosure u may see, without its content.
func (s *Service) disclosure(ctx context.Context, q store.Querier, u *auth.User, id string) (*Disclosure, error) {
	cond, args := visible(u, "d")
	d, err := scanDisclosure(q.QueryRow(ctx, `SELECT `+discCols+discFrom+` WHERE d.id = ? AND `+cond, append([]any{id}, args...)...))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading disclosure %s: %w", id, err)
	}
	// Drafts are the drafting agency's business until released; auditors
	// see them too.
	return d, nil
}

// CanSee reports whether u may see the record behind a live-update key
// ("d:ID" or "r:ID").
func (s *Service) CanSee(ctx context.Context, u *auth.User, key string) bool {
	if id, ok := strings.CutPrefix(key, "d:"); ok {
		_, err := s.disclosure(ctx, s.db.Read(), u, id)
		return err == nil
	}
	if id, ok := strings.CutPrefix(key, "r:"); ok {
		_, err := s.rfi(ctx, s.db.Read(), u, id)
		return err == nil
	}
	return false
}

// DisclosureOfEnvelope returns the disclosure released in an envelope of
// ours, for live updates of access reports.
func (s *Service) DisclosureOfEnvelope(ctx context.Context, envelopeID string) (string, bool) {
	var id string
	err := s.db.Read().QueryRow(ctx, `SELECT id FROM disclosures WHERE envelope_id = ?`, envelopeID).Scan(&id)
	return id, err == nil
}

// ListFilter narrows List.
type ListFilter struct {
	Direction string // "sent", "received" or "" for both
	Status    string
	Query     string
	Limit     int
}

// List returns the disclosures u may see, newest activity first, without
// content.
func (s *Service) List(ctx context.Context, u *auth.User, f ListFilter) ([]*Disclosure, error) {
	if !u.Can(auth.FinIntelRead) {
		return nil, ErrForbidden
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	cond, args := visible(u, "d")
	q := `SELECT ` + discCols + discFrom + ` WHERE ` + cond
	switch f.Direction {
	case "sent":
		q += ` AND d.origin = ?`
		args = append(args, s.self)
	case "received":
		q += ` AND d.origin <> ?`
		args = append(args, s.self)
	case "":
	default:
		return nil, &FieldError{"direction", "invalid_filter"}
	}
	if f.Status != "" {
		q += ` AND d.status = ?`
		args = append(args, f.Status)
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		if len(qs) > 200 {
			return nil, &FieldError{"q", "too_long"}
		}
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(qs)) + "%"
		q += ` AND (LOWER(d.title) LIKE ? ESCAPE '\' OR LOWER(d.criminal_group) LIKE ? ESCAPE '\' OR LOWER(d.narrative) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	q += ` ORDER BY d.updated_at DESC, d.id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing disclosures: %w", err)
	}
	defer rows.Close()
	var out []*Disclosure
	for rows.Next() {
		d, err := scanDisclosure(rows)
		if err != nil {
			return nil, fmt.Errorf("listing disclosures: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Get returns a disclosure with its content (unless sealed), consents,
// disseminations, feedback and, on our own, what the partner reported of
// its use. Reading the partner's disclosure is logged once per user and
// reported to the originator.
func (s *Service) Get(ctx context.Context, u *auth.User, id string) (*Disclosure, error) {
	q := s.db.Read()
	d, err := s.disclosure(ctx, q, u, id)
	if err != nil {
		return nil, err
	}
	if !d.Sealed() {
		var raw string
		if err := q.QueryRow(ctx, `SELECT content FROM disclosures WHERE id = ?`, id).Scan(&raw); err != nil {
			return nil, fmt.Errorf("reading content: %w", err)
		}
		d.Content = &Content{}
		if err := json.Unmarshal([]byte(raw), d.Content); err != nil {
			return nil, fmt.Errorf("reading content: %w", err)
		}
	}
	if d.Consents, err = s.consents(ctx, q, id); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT agency, consent_id, by_user, at FROM disseminations WHERE disclosure_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading disseminations: %w", err)
	}
	for rows.Next() {
		var x Dissemination
		var at int64
		if err := rows.Scan(&x.Agency, &x.ConsentID, &x.By, &at); err != nil {
			rows.Close()
			return nil, err
		}
		x.At = store.Time(at)
		d.Disseminations = append(d.Disseminations, x)
	}
	rows.Close()
	if d.Feedback, err = s.feedbackOf(ctx, q, id); err != nil {
		return nil, err
	}
	if d.Origin == s.self && d.EnvelopeID != "" {
		reports, err := trust.Reports(ctx, q, []string{d.EnvelopeID}, 1000)
		if err != nil {
			return nil, err
		}
		for _, r := range reports {
			d.Access = append(d.Access, AccessReport{At: r.At, Action: r.Action, Actor: r.Actor, Agency: r.Agency, ToAgency: r.ToAgency})
		}
	}
	if d.Origin != s.self && !d.Sealed() {
		if err := s.access(ctx, u, trustlog.KindDataRead, "", true, d); err != nil {
			return nil, fmt.Errorf("logging the read: %w", err)
		}
	}
	return d, nil
}

// access logs u's use of a partner's disclosure and reports it back, in
// its own transaction.
func (s *Service) access(ctx context.Context, u *auth.User, action, to string, once bool, d *Disclosure) error {
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.accessTx(ctx, tx, u, action, to, once, d)
	})
}

func (s *Service) accessTx(ctx context.Context, tx *store.Tx, u *auth.User, action, to string, once bool, d *Disclosure) error {
	if s.cfg.Trust == nil || d.EnvelopeID == "" {
		return nil
	}
	return s.cfg.Trust.RecordAccess(ctx, tx, trust.Access{Action: action, User: u.Username, Agency: u.Agency, EnvelopeIDs: []string{d.EnvelopeID}, ToAgency: to, Once: once})
}

// refuse logs and reports a refused use, then returns err.
func (s *Service) refuse(ctx context.Context, u *auth.User, d *Disclosure, what string, err error) error {
	if lerr := s.access(ctx, u, trustlog.KindDataRefused, what, false, d); lerr != nil {
		return fmt.Errorf("logging a refusal: %w", lerr)
	}
	return err
}

// received reads a partner's disclosure that u may act on as its
// recipient FIU.
func (s *Service) received(ctx context.Context, u *auth.User, id string) (*Disclosure, error) {
	if !u.Can(auth.FinIntelWrite) || !s.isFIU(u) {
		return nil, ErrForbidden
	}
	d, err := s.disclosure(ctx, s.db.Read(), u, id)
	if err != nil {
		return nil, err
	}
	if d.Origin == s.self {
		return nil, ErrState
	}
	return d, nil
}

// granted returns the id of a granted consent for use (and agency).
func (s *Service) granted(ctx context.Context, q store.Querier, id, use, agency string) (string, error) {
	var cid string
	err := q.QueryRow(ctx, `SELECT id FROM consents WHERE disclosure_id = ? AND use_kind = ? AND agency = ? AND status = ? ORDER BY decided_at DESC LIMIT 1`,
		id, use, agency, ConsentGranted).Scan(&cid)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return cid, err
}

// PassOn disseminates a partner's disclosure to a domestic agency. It is
// allowed when the caveats release it to that agency or the originator
// has granted consent; otherwise the refusal is logged, reported to the
// originator, and ErrConsentRequired returned.
func (s *Service) PassOn(ctx context.Context, u *auth.User, id, agency string) error {
	d, err := s.received(ctx, u, id)
	if err != nil {
		return err
	}
	if !slices.Contains(auth.Agencies[s.self], agency) || agency == d.ToAgency {
		return &FieldError{"agency", "unknown_agency"}
	}
	if d.Sealed() {
		return ErrSealed
	}
	cid, err := s.granted(ctx, s.db.Read(), id, UseDisseminate, agency)
	if err != nil {
		return fmt.Errorf("reading consents: %w", err)
	}
	if cid == "" && !slices.Contains(d.Caveats.ReleasableTo, agency) {
		return s.refuse(ctx, u, d, agency, ErrConsentRequired)
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.Now().UnixMilli()
		if _, err := tx.Exec(ctx, `INSERT INTO disseminations (disclosure_id, agency, consent_id, by_user, at) VALUES (?, ?, ?, ?, ?)`, id, agency, cid, who(u), now); err != nil {
			return fmt.Errorf("recording dissemination: %w", err)
		}
		var local string
		if err := tx.QueryRow(ctx, `SELECT local_agencies FROM disclosures WHERE id = ?`, id).Scan(&local); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET local_agencies = ?, updated_at = ? WHERE id = ?`,
			agencies(append(strings.Fields(local), agency)...), now, id); err != nil {
			return fmt.Errorf("recording dissemination: %w", err)
		}
		s.changed(tx, "d:"+id)
		return s.accessTx(ctx, tx, u, trustlog.KindDataPassedOn, agency, false, d)
	})
}

// MarkEvidential records that a partner's disclosure will be used as
// evidence: allowed by an evidential purpose or a granted consent.
func (s *Service) MarkEvidential(ctx context.Context, u *auth.User, id string) error {
	d, err := s.received(ctx, u, id)
	if err != nil {
		return err
	}
	if d.Sealed() {
		return ErrSealed
	}
	if !d.EvidentialAt.IsZero() {
		return ErrState
	}
	cid, err := s.granted(ctx, s.db.Read(), id, UseEvidential, "")
	if err != nil {
		return fmt.Errorf("reading consents: %w", err)
	}
	if cid == "" && d.Caveats.Purpose != PurposeEvidential {
		return s.refuse(ctx, u, d, "evidential", ErrConsentRequired)
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.Now().UnixMilli()
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET evidential_at = ?, evidential_by = ?, updated_at = ? WHERE id = ?`, now, who(u), now, id); err != nil {
			return fmt.Errorf("marking evidential: %w", err)
		}
		s.changed(tx, "d:"+id)
		return s.accessTx(ctx, tx, u, trustlog.KindDataEvidential, "", false, d)
	})
}

// Export returns a disclosure's entities as FollowTheMoney JSON lines.
// Our own may always be exported; the partner's only where the caveats
// permit, and every export is logged and reported.
func (s *Service) Export(ctx context.Context, u *auth.User, id string) ([]byte, error) {
	if !u.Can(auth.FinIntelRead) || u.Can(auth.ReadAll) && !u.Can(auth.FinIntelWrite) {
		return nil, ErrForbidden
	}
	d, err := s.disclosure(ctx, s.db.Read(), u, id)
	if err != nil {
		return nil, err
	}
	if d.Sealed() {
		return nil, ErrSealed
	}
	if d.Origin != s.self && d.Caveats.NoExport {
		return nil, s.refuse(ctx, u, d, "export", ErrExportForbidden)
	}
	var raw string
	if err := s.db.Read().QueryRow(ctx, `SELECT content FROM disclosures WHERE id = ?`, id).Scan(&raw); err != nil {
		return nil, fmt.Errorf("reading content: %w", err)
	}
	var c Content
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, fmt.Errorf("reading content: %w", err)
	}
	out, err := FTM(d, &c)
	if err != nil {
		return nil, err
	}
	if d.Origin != s.self {
		if err := s.access(ctx, u, trustlog.KindDataExported, "", false, d); err != nil {
			return nil, fmt.Errorf("logging the export: %w", err)
		}
	} else if err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.entry(ctx, tx, trustlog.KindDataExported, "disclosure:"+id, "", "format=ftm")
	}); err != nil {
		return nil, fmt.Errorf("logging the export: %w", err)
	}
	return out, nil
}

// ---- Consent -----------------------------------------------------------

type consentRequestBody struct {
	ID           string    `json:"id"`
	DisclosureID string    `json:"disclosure_id"`
	Agency       string    `json:"agency,omitempty"`
	Use          string    `json:"use"`
	Reason       string    `json:"reason"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
}

type consentDecisionBody struct {
	ID           string    `json:"id"`
	DisclosureID string    `json:"disclosure_id"`
	Status       string    `json:"status"`
	Conditions   string    `json:"conditions,omitempty"`
	DecidedBy    string    `json:"decided_by"`
	DecidedAt    time.Time `json:"decided_at"`
}

// RequestConsent asks the originator for consent to pass a disclosure to
// agency (use UseDisseminate) or to use it as evidence (UseEvidential).
func (s *Service) RequestConsent(ctx context.Context, u *auth.User, id, use, agency, reason string) (*Consent, error) {
	d, err := s.received(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if d.Sealed() {
		return nil, ErrSealed
	}
	switch use {
	case UseDisseminate:
		if !slices.Contains(auth.Agencies[s.self], agency) || agency == d.ToAgency {
			return nil, &FieldError{"agency", "unknown_agency"}
		}
	case UseEvidential:
		agency = ""
	default:
		return nil, &FieldError{"use", "invalid_use"}
	}
	if err := text("reason", reason, MaxText, true); err != nil {
		return nil, err
	}
	c := &Consent{ID: link.NewID(), DisclosureID: id, Origin: s.self, Agency: agency, Use: use, Reason: reason, Status: ConsentPending,
		RequestedBy: u.DisplayName + " (" + u.Agency + ")", RequestedAt: s.Now()}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.insertConsent(ctx, tx, c); err != nil {
			return err
		}
		_, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindConsentRequest, Version: 1, Stream: discStream(id), Caveats: d.Caveats, Body: consentRequestBody{
			ID: c.ID, DisclosureID: id, Agency: agency, Use: use, Reason: reason, RequestedBy: c.RequestedBy, RequestedAt: c.RequestedAt}})
		if err != nil {
			return fmt.Errorf("sending consent request: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Service) insertConsent(ctx context.Context, tx *store.Tx, c *Consent) error {
	_, err := tx.Exec(ctx, `INSERT INTO consents (id, disclosure_id, origin, agency, use_kind, reason, status, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.DisclosureID, c.Origin, c.Agency, c.Use, c.Reason, c.Status, c.RequestedBy, c.RequestedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("writing consent request: %w", err)
	}
	return nil
}

// DecideConsent grants (with optional conditions) or denies a partner's
// request for consent about one of our disclosures.
func (s *Service) DecideConsent(ctx context.Context, u *auth.User, consentID string, grant bool, conditions string) error {
	if !u.Can(auth.FinIntelConsent) || !s.isFIU(u) {
		return ErrForbidden
	}
	if err := text("conditions", conditions, MaxText, false); err != nil {
		return err
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		var did, status, origin string
		err := tx.QueryRow(ctx, `SELECT disclosure_id, status, origin FROM consents WHERE id = ?`, consentID).Scan(&did, &status, &origin)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("reading consent: %w", err)
		}
		d, err := s.disclosure(ctx, tx, u, did)
		if err != nil {
			return err
		}
		if d.Origin != s.self || origin == s.self || status != ConsentPending {
			return ErrState
		}
		st := ConsentDenied
		if grant {
			st = ConsentGranted
		}
		now := s.Now()
		by := u.DisplayName + " (" + u.Agency + ")"
		if _, err := tx.Exec(ctx, `UPDATE consents SET status = ?, conditions = ?, decided_by = ?, decided_at = ? WHERE id = ?`, st, conditions, by, now.UnixMilli(), consentID); err != nil {
			return fmt.Errorf("deciding consent: %w", err)
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindConsentDecision, Version: 1, Stream: discStream(did), Caveats: d.Caveats, Body: consentDecisionBody{
			ID: consentID, DisclosureID: did, Status: st, Conditions: conditions, DecidedBy: by, DecidedAt: now}}); err != nil {
			return fmt.Errorf("sending consent decision: %w", err)
		}
		if err := s.entry(ctx, tx, KindLogConsent, "consent:"+consentID, "", "status="+st); err != nil {
			return err
		}
		s.changed(tx, "d:"+did)
		return nil
	})
}

func (s *Service) consents(ctx context.Context, q store.Querier, id string) ([]Consent, error) {
	rows, err := q.Query(ctx, `SELECT id, disclosure_id, origin, agency, use_kind, reason, status, conditions, requested_by, requested_at, decided_by, decided_at
		FROM consents WHERE disclosure_id = ? ORDER BY requested_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading consents: %w", err)
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		var c Consent
		var req, dec int64
		if err := rows.Scan(&c.ID, &c.DisclosureID, &c.Origin, &c.Agency, &c.Use, &c.Reason, &c.Status, &c.Conditions, &c.RequestedBy, &req, &c.DecidedBy, &dec); err != nil {
			return nil, err
		}
		c.RequestedAt = store.Time(req)
		if dec > 0 {
			c.DecidedAt = store.Time(dec)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- Feedback ----------------------------------------------------------

// SendFeedback reports to the originator what came of its disclosure.
func (s *Service) SendFeedback(ctx context.Context, u *auth.User, id string, f Feedback) (*Feedback, error) {
	d, err := s.received(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(FeedbackKinds, f.Kind) {
		return nil, &FieldError{"kind", "invalid_feedback"}
	}
	if f.Amount != "" && !amountRE.MatchString(f.Amount) {
		return nil, &FieldError{"amount", "invalid_amount"}
	}
	if f.Amount != "" && !currencyRE.MatchString(f.Currency) {
		return nil, &FieldError{"currency", "invalid_currency"}
	}
	if f.Kind == "accounts_frozen" && f.Amount == "" {
		return nil, &FieldError{"amount", "required"}
	}
	if f.Count < 0 || f.Count > 1_000_000 {
		return nil, &FieldError{"count", "invalid_count"}
	}
	if err := text("note", f.Note, MaxText, false); err != nil {
		return nil, err
	}
	fb := &Feedback{ID: link.NewID(), DisclosureID: id, Origin: s.self, Kind: f.Kind, Amount: f.Amount, Currency: f.Currency, Count: f.Count, Note: f.Note,
		Author: u.DisplayName, AuthorAgency: u.Agency, At: s.Now()}
	if fb.Amount == "" {
		fb.Currency = ""
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.insertFeedback(ctx, tx, fb); err != nil {
			return err
		}
		_, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindFeedback, Version: 1, Stream: discStream(id), Caveats: d.Caveats, Body: fb})
		if err != nil {
			return fmt.Errorf("sending feedback: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fb, nil
}

func (s *Service) insertFeedback(ctx context.Context, tx *store.Tx, f *Feedback) error {
	_, err := tx.Exec(ctx, `INSERT INTO feedback (id, disclosure_id, origin, kind, amount, currency, count, note, author, author_agency, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.DisclosureID, f.Origin, f.Kind, f.Amount, f.Currency, f.Count, f.Note, f.Author, f.AuthorAgency, f.At.UnixMilli())
	if err != nil {
		return fmt.Errorf("writing feedback: %w", err)
	}
	return nil
}

func (s *Service) feedbackOf(ctx context.Context, q store.Querier, id string) ([]Feedback, error) {
	rows, err := q.Query(ctx, `SELECT id, disclosure_id, origin, kind, amount, currency, count, note, author, author_agency, at FROM feedback WHERE disclosure_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading feedback: %w", err)
	}
	defer rows.Close()
	var out []Feedback
	for rows.Next() {
		var f Feedback
		var at int64
		if err := rows.Scan(&f.ID, &f.DisclosureID, &f.Origin, &f.Kind, &f.Amount, &f.Currency, &f.Count, &f.Note, &f.Author, &f.AuthorAgency, &at); err != nil {
			return nil, err
		}
		f.At = store.Time(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// ---- Recall, retention and seals ----------------------------------------

type recallBody struct {
	DisclosureID string    `json:"disclosure_id"`
	RecalledBy   string    `json:"recalled_by"`
	RecalledAt   time.Time `json:"recalled_at"`
}

type sealedBody struct {
	DisclosureID  string    `json:"disclosure_id"`
	Reason        string    `json:"reason"` // recall or retention
	SealedAt      time.Time `json:"sealed_at"`
	ContentSHA256 string    `json:"content_sha256"`
	LogIndex      int64     `json:"log_index"`
}

// Recall asks the partner to seal its copy of one of our disclosures; the
// partner answers with a signed attestation.
func (s *Service) Recall(ctx context.Context, u *auth.User, id string) error {
	if !u.Can(auth.FinIntelRelease) || !s.isFIU(u) {
		return ErrForbidden
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		d, err := s.disclosure(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if d.Origin != s.self || d.Status != StatusReleased || !d.SealAttested.IsZero() {
			return ErrState
		}
		now := s.Now()
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, recalled_at = ?, updated_at = ? WHERE id = ?`, StatusRecalled, now.UnixMilli(), now.UnixMilli(), id); err != nil {
			return fmt.Errorf("recalling: %w", err)
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindRecall, Version: 1, Stream: discStream(id), Caveats: d.Caveats,
			Body: recallBody{DisclosureID: id, RecalledBy: u.DisplayName + " (" + u.Agency + ")", RecalledAt: now}}); err != nil {
			return fmt.Errorf("sending recall: %w", err)
		}
		s.changed(tx, "d:"+id)
		return nil
	})
}

// seal removes a received disclosure's content, keeping the metadata the
// audit needs (ids, agencies, times, counts, the content's SHA-256), logs
// the seal and sends the originator the attestation.
func (s *Service) seal(ctx context.Context, tx *store.Tx, id, reason string, now time.Time) error {
	var digest, cav string
	var sealed int64
	err := tx.QueryRow(ctx, `SELECT content_sha256, caveats, sealed_at FROM disclosures WHERE id = ? AND origin = ?`, id, s.partner).Scan(&digest, &cav, &sealed)
	if err != nil {
		return fmt.Errorf("reading disclosure to seal: %w", err)
	}
	if sealed != 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, title = '', criminal_group = '', narrative = '', content = '', screening = '', hits = '',
		sealed_at = ?, seal_reason = ?, updated_at = ? WHERE id = ?`, StatusSealed, now.UnixMilli(), reason, now.UnixMilli(), id); err != nil {
		return fmt.Errorf("sealing: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM disclosure_keys WHERE disclosure_id = ?`, id); err != nil {
		return fmt.Errorf("sealing: %w", err)
	}
	idx, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: KindLogSealed, Actor: "node:" + s.self, Object: "disclosure:" + id, Digest: digest, Detail: "reason=" + reason})
	if err != nil {
		return err
	}
	var c Caveats
	_ = json.Unmarshal([]byte(cav), &c)
	if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindSealed, Version: 1, Stream: discStream(id), Caveats: c,
		Body: sealedBody{DisclosureID: id, Reason: reason, SealedAt: now, ContentSHA256: digest, LogIndex: idx[0]}}); err != nil {
		return fmt.Errorf("sending seal attestation: %w", err)
	}
	s.changed(tx, "d:"+id)
	return nil
}

// SealExpired seals every received disclosure whose retention period has
// run out by now; it returns how many.
func (s *Service) SealExpired(ctx context.Context) (int, error) {
	now := s.Now()
	rows, err := s.db.Read().Query(ctx, `SELECT id FROM disclosures WHERE origin = ? AND sealed_at = 0 AND retention_until > 0 AND retention_until <= ? LIMIT 500`, s.partner, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("finding expired disclosures: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return s.seal(ctx, tx, id, "retention", now) }); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ---- Worker ------------------------------------------------------------

// Run seals expired disclosures, sends reminders and screens incoming
// subjects until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.tick(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("finintel worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Service) tick(ctx context.Context) error {
	if _, err := s.SealExpired(ctx); err != nil {
		return err
	}
	if _, err := s.Remind(ctx); err != nil {
		return err
	}
	return s.ScreenPending(ctx)
}

// yearFits: a known birth year must agree (within a year) with one the
// list gives, when it gives any.
func yearFits(year int, years []int) bool {
	if year == 0 || len(years) == 0 {
		return true
	}
	for _, y := range years {
		if y >= year-1 && y <= year+1 {
			return true
		}
	}
	return false
}

func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ScreenPending screens the subjects of received disclosures against this
// node's sanctions lists and stores the strong matches as flags.
func (s *Service) ScreenPending(ctx context.Context) error {
	lists := s.lists()
	if lists == nil || lists.Dir() == "" {
		return nil
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id, content FROM disclosures WHERE origin = ? AND screened_at = 0 AND sealed_at = 0 LIMIT 50`, s.partner)
	if err != nil {
		return fmt.Errorf("finding disclosures to screen: %w", err)
	}
	type item struct{ id, content string }
	var items []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.id, &it.content); err != nil {
			rows.Close()
			return err
		}
		items = append(items, it)
	}
	rows.Close()
	if len(items) == 0 {
		return nil
	}
	sc, err := lists.Screener()
	if err != nil {
		return fmt.Errorf("loading sanctions lists: %w", err)
	}
	for _, it := range items {
		var c Content
		_ = json.Unmarshal([]byte(it.content), &c)
		flags := []Flag{}
		for _, sub := range c.Subjects {
			year := 0
			if len(sub.DOB) >= 4 {
				fmt.Sscanf(sub.DOB[:4], "%d", &year)
			}
			for _, n := range append([]string{sub.FullName()}, sub.Aliases...) {
				// A one-word nickname alone is no strong evidence.
				if len(strings.Fields(n)) < 2 {
					continue
				}
				for _, cand := range sc.Screen(screen.Query{Name: n, Year: year, Limit: 3}) {
					if cand.Match && yearFits(year, cand.BirthYears) {
						flags = append(flags, Flag{Subject: sub.Ref, Name: n, List: cand.List, ListID: cand.ID, Matched: cand.MatchedName, Score: cand.Score})
					}
				}
			}
		}
		raw, _ := json.Marshal(flags)
		id := it.id
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE disclosures SET screened_at = ?, screening = ? WHERE id = ? AND sealed_at = 0`, s.Now().UnixMilli(), string(raw), id); err != nil {
				return fmt.Errorf("storing screening: %w", err)
			}
			s.changed(tx, "d:"+id)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
