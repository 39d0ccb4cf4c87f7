package finintel

import (
	"puente/internal/caveats"

	"puente/internal/fault"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/match"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// MayDraft says whether u may draft a disclosure (an FIU's analyst or
// supervisor), so a large import can be refused before it is read.
func (s *Service) MayDraft(u *auth.User) error {
	if !u.Can(auth.FinIntelWrite) || !s.isFIU(u) {
		return ErrForbidden
	}
	return nil
}

// CreateDraft stores a new draft disclosure from u to the partner's FIU.
func (s *Service) CreateDraft(ctx context.Context, u *auth.User, d Draft) (*Disclosure, error) {
	if err := s.MayDraft(u); err != nil {
		return nil, err
	}
	if err := checkDraft(&d, s.partner); err != nil {
		return nil, err
	}
	id := link.NewID()
	raw, err := json.Marshal(d.Content)
	if err != nil {
		return nil, fmt.Errorf("encoding draft: %w", err)
	}
	cav, _ := json.Marshal(d.Caveats)
	now := s.Now().UnixMilli()
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO disclosures (id, origin, from_agency, to_agency, status, title, criminal_group, narrative, caveats, content,
			n_subjects, n_accounts, n_transactions, rfi_id, created_by, created_at, updated_at, local_agencies)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, s.self, u.Agency, auth.FIU[s.partner], StatusDraft, d.Title, d.CriminalGroup, d.Narrative, string(cav), string(raw),
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
	raw, err := json.Marshal(d.Content)
	if err != nil {
		return nil, fmt.Errorf("encoding draft: %w", err)
	}
	cav, _ := json.Marshal(d.Caveats)
	err = s.onOwn(ctx, u, auth.FinIntelWrite, id, StatusDraft, func(ctx context.Context, tx *store.Tx, _ *Disclosure) error {
		_, err := tx.Exec(ctx, `UPDATE disclosures SET title = ?, criminal_group = ?, narrative = ?, caveats = ?, content = ?, n_subjects = ?, n_accounts = ?,
			n_transactions = ?, rfi_id = ?, updated_at = ? WHERE id = ?`,
			d.Title, d.CriminalGroup, d.Narrative, string(cav), string(raw), len(d.Subjects), len(d.Accounts), len(d.Transactions), d.RFIID, s.Now().UnixMilli(), id)
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
	return s.onOwn(ctx, u, auth.FinIntelWrite, id, StatusDraft, func(ctx context.Context, tx *store.Tx, _ *Disclosure) error {
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
	if err := text("note", note, MaxShort*5, true); err != nil {
		return err
	}
	return s.onOwn(ctx, u, auth.FinIntelRelease, id, StatusSubmitted, func(ctx context.Context, tx *store.Tx, _ *Disclosure) error {
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
	Attachments   []Attachment    `json:"attachments,omitempty"`
}

// Release is the second pair of eyes: a supervisor other than the author
// and the submitter sends the disclosure to the partner. In one
// transaction it marks the disclosure released, indexes its subjects,
// logs the release and enqueues the envelope.
func (s *Service) Release(ctx context.Context, u *auth.User, id string) error {
	return s.onOwn(ctx, u, auth.FinIntelRelease, id, StatusSubmitted, func(ctx context.Context, tx *store.Tx, d *Disclosure) error {
		if d.CreatedBy == who(u) || d.SubmittedBy == who(u) {
			return ErrFourEyes
		}
		raw, c, err := content(ctx, tx, id)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(raw))
		digest := hex.EncodeToString(sum[:])
		now := s.Now()
		atts, err := s.sendAttachments(ctx, tx, id, d.Caveats)
		if err != nil {
			return err
		}
		env, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindDisclosure, Version: 1, Stream: discStream(id), Caveats: d.Caveats, Body: disclosureBody{
			ID: id, FromAgency: d.FromAgency, ToAgency: d.ToAgency, Title: d.Title, CriminalGroup: d.CriminalGroup, Narrative: d.Narrative,
			RFIID: d.RFIID, CreatedBy: d.CreatedBy, ReleasedBy: who(u), ReleasedAt: now, Content: json.RawMessage(raw), ContentSHA256: digest, Attachments: atts,
		}})
		if errors.Is(err, link.ErrTooLarge) {
			return fault.Field("transactions", "disclosure_too_large")
		} else if err != nil {
			return fmt.Errorf("sending disclosure: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET status = ?, released_by = ?, released_at = ?, envelope_id = ?, content_sha256 = ?, updated_at = ? WHERE id = ?`,
			StatusReleased, who(u), now.UnixMilli(), env.ID, digest, now.UnixMilli(), id); err != nil {
			return fmt.Errorf("releasing: %w", err)
		}
		if err := s.storeKeys(ctx, tx, id, c); err != nil {
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

// onOwn runs f in a write transaction on our own disclosure id, once u
// holds perm, works for the FIU and the disclosure is in status.
func (s *Service) onOwn(ctx context.Context, u *auth.User, perm auth.Permission, id, status string, f func(ctx context.Context, tx *store.Tx, d *Disclosure) error) error {
	if !u.Can(perm) || !s.isFIU(u) {
		return ErrForbidden
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		d, err := s.disclosure(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if d.Origin != s.self || d.Status != status {
			return ErrState
		}
		return f(ctx, tx, d)
	})
}

// content reads a disclosure's content, as stored (its SHA-256 is what
// the partner checks) and decoded.
func content(ctx context.Context, q store.Querier, id string) (string, *Content, error) {
	var raw string
	if err := q.QueryRow(ctx, `SELECT content FROM disclosures WHERE id = ?`, id).Scan(&raw); err != nil {
		return "", nil, fmt.Errorf("reading content: %w", err)
	}
	var c Content
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return "", nil, fmt.Errorf("reading content: %w", err)
	}
	return raw, &c, nil
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
			// Subjects the index took from our disclosures are found
			// through disclosure_keys, under the disclosure's title.
			rows, err := tx.Query(ctx, `SELECT s.source, s.ref, s.label FROM subject_keys k JOIN subjects s ON s.id = k.subject_id
				WHERE k.key = ? AND s.source <> 'disclosure'
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

func scanDisclosure(r store.Scanner) (*Disclosure, error) {
	var d Disclosure
	var cav, screening, hits, state string
	var created, updated, submitted, released, received, evid, retain, recalled, sealed, attested int64
	if err := r.Scan(&d.ID, &d.Origin, &d.FromAgency, &d.ToAgency, &d.Status, &d.Title, &d.CriminalGroup, &d.Narrative, &cav, &d.NSubjects, &d.NAccounts,
		&d.NTransactions, &d.ContentSHA256, &d.RFIID, &d.CreatedBy, &created, &updated, &d.SubmittedBy, &submitted, &d.ReturnNote, &d.ReleasedBy,
		&released, &received, &d.EnvelopeID, &evid, &d.EvidentialBy, &retain, &recalled, &sealed, &d.SealReason,
		&attested, &d.SealEnvelope, &screening, &hits, &state); err != nil {
		return nil, err
	}
	var err error
	if d.Caveats, err = caveats.Decode(cav); err != nil {
		return nil, fmt.Errorf("disclosure %s: %w", d.ID, err)
	}
	if screening != "" {
		if err := json.Unmarshal([]byte(screening), &d.Screening); err != nil {
			return nil, fmt.Errorf("disclosure %s: the stored screening is corrupt: %w", d.ID, err)
		}
	}
	if hits != "" {
		if err := json.Unmarshal([]byte(hits), &d.Known); err != nil {
			return nil, fmt.Errorf("disclosure %s: the stored known-to-us hits are corrupt: %w", d.ID, err)
		}
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
	d.flagsFor(u)
	return d, nil
}

// flagsFor leaves out the screening hits on list entries u may not see (a
// priority target not released to u's agency).
func (d *Disclosure) flagsFor(u *auth.User) {
	flags := d.Screening[:0:0]
	for _, f := range d.Screening {
		if len(f.Agencies) == 0 || u.Can(auth.ReadAll) || slices.Contains(f.Agencies, u.Agency) {
			flags = append(flags, f)
		}
	}
	d.Screening = flags
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
		return nil, fault.Field("direction", "invalid_filter")
	}
	if f.Status != "" {
		q += ` AND d.status = ?`
		args = append(args, f.Status)
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		if len(qs) > 200 {
			return nil, fault.Field("q", "too_long")
		}
		like := store.Contains(qs)
		q += ` AND (LOWER(d.title) LIKE ? ESCAPE '\' OR LOWER(d.criminal_group) LIKE ? ESCAPE '\' OR LOWER(d.narrative) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	q += ` ORDER BY d.updated_at DESC, d.id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing disclosures: %w", err)
	}
	out, err := store.Collect(rows, scanDisclosure)
	if err != nil {
		return nil, fmt.Errorf("listing disclosures: %w", err)
	}
	pending := map[string]int{}
	crows, err := s.db.Read().Query(ctx, `SELECT disclosure_id, COUNT(*) FROM consents WHERE status = ? GROUP BY disclosure_id`, ConsentPending)
	if err != nil {
		return nil, fmt.Errorf("counting pending consents: %w", err)
	}
	if _, err := store.Collect(crows, func(sc store.Scanner) (int, error) {
		var id string
		var n int
		err := sc.Scan(&id, &n)
		pending[id] = n
		return n, err
	}); err != nil {
		return nil, err
	}
	for _, d := range out {
		d.flagsFor(u)
		d.PendingConsents = pending[d.ID]
	}
	return out, nil
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
		if _, d.Content, err = content(ctx, q, id); err != nil {
			return nil, err
		}
		if d.Attachments, err = attachmentsOf(ctx, q, id); err != nil {
			return nil, err
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
			d.Access = append(d.Access, AccessReport{At: r.At, Action: r.Action, Actor: r.Actor, Name: r.Name, Agency: r.Agency, ToAgency: r.ToAgency})
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
	return s.cfg.Trust.RecordAccess(ctx, tx, trust.Access{Action: action, User: u.Username, Name: u.DisplayName, Agency: u.Agency, EnvelopeIDs: []string{d.EnvelopeID}, ToAgency: to, Once: once})
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
		return fault.Field("agency", "unknown_agency")
	}
	if d.Sealed() {
		return ErrSealed
	}
	cid, err := s.granted(ctx, s.db.Read(), id, UseDisseminate, agency)
	if err != nil {
		return fmt.Errorf("reading consents: %w", err)
	}
	if cid == "" && !d.Caveats.Permits(caveats.Disseminate, agency) {
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
	if cid == "" && !d.Caveats.Permits(caveats.Evidential, "") {
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
	if !u.Can(auth.FinIntelRead) || !u.Can(auth.ExportPartnerData) {
		return nil, ErrForbidden
	}
	d, err := s.disclosure(ctx, s.db.Read(), u, id)
	if err != nil {
		return nil, err
	}
	if d.Sealed() {
		return nil, ErrSealed
	}
	if d.Origin != s.self && !d.Caveats.Permits(caveats.Export, "") {
		return nil, s.refuse(ctx, u, d, "export", ErrExportForbidden)
	}
	_, c, err := content(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	out, err := FTM(d, c)
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
