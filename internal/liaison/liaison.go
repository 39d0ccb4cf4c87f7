// Package liaison is the secure message channel between the two sides, the
// base that the Egmont Secure Web gives FIUs: threads with a subject, a
// priority and caveats, replies, attachments identified by SHA-256,
// delivery and read receipts, and search.
//
// A thread belongs to one agency on each side: the agency that opened it
// and the agency it is addressed to. On each node only users of the local
// agency (and the agencies the caveats release it to) and auditors see it.
package liaison

import (
	"log/slog"
	"puente/internal/blob"
	"puente/internal/caveats"
	"puente/internal/input"

	"puente/internal/fault"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"puente/internal/auth"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Priorities, lowest first.
var Priorities = []string{"routine", "urgent", "immediate"}

// Limits on what a user or the partner may send.
const (
	MaxSubject     = 200
	MaxBody        = 100_000
	MaxAttachment  = 20 << 20
	MaxAttachments = 10
)

// Thread is a conversation between one agency on each side.
type Thread struct {
	ID           string          `json:"id"`
	Subject      string          `json:"subject"`
	Priority     string          `json:"priority"`
	Origin       string          `json:"origin"`
	FromAgency   string          `json:"from_agency"`
	ToAgency     string          `json:"to_agency"`
	Caveats      caveats.Caveats `json:"caveats"`
	CreatedAt    time.Time       `json:"created_at"`
	LastActivity time.Time       `json:"last_activity"`
	Unread       int             `json:"unread"`
	Messages     []Message       `json:"messages,omitempty"`
}

// Message is one entry of a thread.
type Message struct {
	ID           string       `json:"id"`
	Origin       string       `json:"origin"`
	Author       string       `json:"author"`
	AuthorAgency string       `json:"author_agency"`
	Body         string       `json:"body"`
	CreatedAt    time.Time    `json:"created_at"`
	EnvelopeID   string       `json:"envelope_id"`
	Delivery     string       `json:"delivery"` // pending, delivered, rejected, received
	DeliveredAt  time.Time    `json:"delivered_at,omitzero"`
	ReadAt       time.Time    `json:"read_at,omitzero"`
	ReadBy       string       `json:"read_by,omitempty"`
	Attachments  []Attachment `json:"attachments,omitempty"`
	// Access is, on our own messages, what the partner reported about
	// its users' reads, downloads and onward passing.
	Access []trust.Report `json:"access,omitempty"`
}

// Attachment is a file attached to a message.
type Attachment struct {
	SHA256      string `json:"sha256"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// NewAttachment is a file a user attaches.
type NewAttachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message kinds on the link.
const (
	KindMessage    = "liaison.message"
	KindAttachment = "liaison.attachment"
	KindRead       = "liaison.read"
)

// Errors with a contract: the web and API layers map them.
var (
	ErrNotFound  = fmt.Errorf("no such thread: %w", fault.ErrNotFound)
	ErrForbidden = fmt.Errorf("liaison: %w", fault.ErrForbidden)
)

// Service runs liaison threads on one node.
type Service struct {
	db             *store.DB
	link           *link.Link
	hub            *live.Hub
	self           string
	partner        string
	classification string
	trust          *trust.Service
	logger         *slog.Logger
	// known are threads that exist (threads are never deleted), so that
	// a partner's message to one reads nothing before its writes, and a
	// reply nothing before its write.
	known threadSet
}

// threadSet remembers the ids of threads known to exist, up to
// maxKnownThreads, and what never changes about those read here
// (fixedThread), up to maxFixedThreads (past either bound, that part
// starts again from empty). A thread enters it only once the transaction
// that read or wrote it has committed.
type threadSet struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	fixed map[string]*fixedThread
}

// fixedThread is what never changes about a thread: all but its last
// activity and unread count, and the local agencies that see it.
type fixedThread struct {
	t     Thread
	local string // threads.local_agencies
}

const (
	maxKnownThreads = 100_000
	maxFixedThreads = 10_000 // a subject may take hundreds of bytes
)

func (k *threadSet) has(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.ids[id]
	return ok
}

// fixedOf returns what never changes about thread id, if remembered.
func (k *threadSet) fixedOf(id string) *fixedThread {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fixed[id]
}

// add remembers that thread id exists.
func (k *threadSet) add(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.addLocked(id)
}

func (k *threadSet) addLocked(id string) {
	if k.ids == nil || len(k.ids) >= maxKnownThreads {
		k.ids = map[string]struct{}{}
	}
	k.ids[id] = struct{}{}
}

// remember keeps what never changes about thread id, which exists.
func (k *threadSet) remember(id string, f *fixedThread) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.addLocked(id)
	if k.fixed == nil || len(k.fixed) >= maxFixedThreads {
		k.fixed = map[string]*fixedThread{}
	}
	k.fixed[id] = f
}

// SetTrust makes the service log and report every use of the partner's
// messages (reads and attachment downloads) through t.
func (s *Service) SetTrust(t *trust.Service) { s.trust = t }

// recordAccess logs u's access to the partner's envelopes ids.
func (s *Service) recordAccess(ctx context.Context, u *auth.User, action string, once bool, ids []string) error {
	if s.trust == nil || len(ids) == 0 {
		return nil
	}
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.trust.RecordAccess(ctx, tx, trust.Access{Action: action, User: u.Username, Name: u.DisplayName, Agency: u.Agency, EnvelopeIDs: ids, Once: once})
	})
}

// NewService returns the liaison service; the node registers its Kinds.
func NewService(db *store.DB, l *link.Link, hub *live.Hub, defaultClassification string) *Service {
	return &Service{db: db, link: l, hub: hub, self: l.Self(), partner: l.Partner(), classification: defaultClassification, logger: slog.Default()}
}

func stream(threadID string) string { return "liaison:" + threadID }

// ThreadOfStream returns the thread id of a liaison stream, for live
// updates.
func ThreadOfStream(s string) (string, bool) { return strings.CutPrefix(s, "liaison:") }

// NewThread is what a user fills in to start a thread.
type NewThread struct {
	Subject      string
	Priority     string
	ToAgency     string
	Body         string
	ReleasableTo []string
	Attachments  []NewAttachment
}

// messageBody is the body of a liaison.message envelope.
type messageBody struct {
	ThreadID     string       `json:"thread_id"`
	Subject      string       `json:"subject"`
	Priority     string       `json:"priority"`
	FromAgency   string       `json:"from_agency"`
	ToAgency     string       `json:"to_agency"`
	MessageID    string       `json:"message_id"`
	Author       string       `json:"author"`
	AuthorAgency string       `json:"author_agency"`
	Body         string       `json:"body"`
	Created      time.Time    `json:"created"`
	Attachments  []Attachment `json:"attachments"`
}

type readBody struct {
	ThreadID   string    `json:"thread_id"`
	MessageIDs []string  `json:"message_ids"`
	ReadAt     time.Time `json:"read_at"`
	Reader     string    `json:"reader_agency"`
}

// checkText: the subject and author are one line, a body any number.
func checkText(field, v string, max int) error {
	r := input.Required
	if field == "body" {
		r |= input.Multiline
	}
	return input.Text(field, v, max, r)
}

func checkAttachments(atts []NewAttachment) error {
	if len(atts) > MaxAttachments {
		return fault.Field("attachments", "too_many_attachments")
	}
	for _, a := range atts {
		if len(a.Data) > MaxAttachment {
			return fault.Field("attachments", "attachment_too_large")
		}
		if err := input.FileName("attachments", a.Name); err != nil {
			return err
		}
	}
	return nil
}

// Start opens a thread with its first message and sends it to the partner.
func (s *Service) Start(ctx context.Context, u *auth.User, nt NewThread) (*Thread, error) {
	if !u.Can(auth.LiaisonWrite) {
		return nil, ErrForbidden
	}
	if err := checkText("subject", nt.Subject, MaxSubject); err != nil {
		return nil, err
	}
	if !slices.Contains(Priorities, nt.Priority) {
		return nil, fault.Field("priority", "invalid_priority")
	}
	if !slices.Contains(auth.Agencies[s.partner], nt.ToAgency) {
		return nil, fault.Field("to_agency", "unknown_agency")
	}
	for _, a := range nt.ReleasableTo {
		if !slices.Contains(auth.Agencies[s.partner], a) {
			return nil, fault.Field("releasable_to", "unknown_agency")
		}
	}
	if err := checkText("body", nt.Body, MaxBody); err != nil {
		return nil, err
	}
	if err := checkAttachments(nt.Attachments); err != nil {
		return nil, err
	}
	t := &Thread{
		ID: link.NewID(), Subject: strings.TrimSpace(nt.Subject), Priority: nt.Priority, Origin: s.self,
		FromAgency: u.Agency, ToAgency: nt.ToAgency,
		Caveats: caveats.Caveats{Classification: s.classification, ReleasableTo: slices.Compact(slices.Sorted(slices.Values(nt.ReleasableTo)))},
	}
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := time.Now()
		t.CreatedAt, t.LastActivity = now, now
		if err := s.insertThread(ctx, tx, t, []string{u.Agency}); err != nil {
			return err
		}
		_, err := s.send(ctx, tx, t, u, nt.Body, nt.Attachments, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Reply adds a message to a thread and sends it to the partner.
func (s *Service) Reply(ctx context.Context, u *auth.User, threadID, body string, atts []NewAttachment) (*Message, error) {
	if !u.Can(auth.LiaisonWrite) {
		return nil, ErrForbidden
	}
	if err := checkText("body", body, MaxBody); err != nil {
		return nil, err
	}
	if err := checkAttachments(atts); err != nil {
		return nil, err
	}
	// Who may see a thread never changes, so the check can run before the
	// write transaction, off the single writer's path.
	t, err := s.replyThread(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	var m *Message
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		m, err = s.send(ctx, tx, t, u, body, atts, time.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// send writes one message, its attachments and their envelopes in tx.
func (s *Service) send(ctx context.Context, tx *store.Tx, t *Thread, u *auth.User, body string, atts []NewAttachment, now time.Time) (*Message, error) {
	m := &Message{ID: link.NewID(), Origin: s.self, Author: u.DisplayName, AuthorAgency: u.Agency, Body: body, CreatedAt: now}
	for _, a := range atts {
		sum := sha256.Sum256(a.Data)
		ct := a.ContentType
		if ct == "" {
			ct = http.DetectContentType(a.Data)
		}
		att := Attachment{SHA256: hex.EncodeToString(sum[:]), Name: a.Name, ContentType: ct, Size: int64(len(a.Data))}
		m.Attachments = append(m.Attachments, att)
		if _, err := blob.Put(ctx, tx, a.Data); err != nil {
			return nil, err
		}
		// Attachments go ahead of the message in the same stream, so the
		// partner has every file before the message that names it.
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindAttachment, Version: 1, Stream: stream(t.ID), Caveats: t.Caveats, RawBody: a.Data}); err != nil {
			return nil, fmt.Errorf("sending attachment %s: %w", a.Name, err)
		}
		if err := blob.Crossed(ctx, tx, att.SHA256, stream(t.ID)); err != nil {
			return nil, err
		}
	}
	env, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindMessage, Version: 1, Stream: stream(t.ID), Caveats: t.Caveats, Body: messageBody{
		ThreadID: t.ID, Subject: t.Subject, Priority: t.Priority, FromAgency: t.FromAgency, ToAgency: t.ToAgency,
		MessageID: m.ID, Author: m.Author, AuthorAgency: m.AuthorAgency, Body: m.Body, Created: now.UTC(), Attachments: m.Attachments,
	}})
	if err != nil {
		return nil, fmt.Errorf("sending message: %w", err)
	}
	m.EnvelopeID, m.Delivery = env.ID, "pending"
	if err := s.insertMessage(ctx, tx, t.ID, m); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) insertThread(ctx context.Context, tx *store.Tx, t *Thread, local []string) error {
	cav, _ := json.Marshal(t.Caveats)
	_, err := tx.Exec(ctx, `INSERT INTO threads (id, subject, priority, origin, from_agency, to_agency, caveats, local_agencies, created_at, last_activity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Subject, t.Priority, t.Origin, t.FromAgency, t.ToAgency, string(cav), " "+strings.Join(local, " ")+" ", t.CreatedAt.UnixMilli(), t.LastActivity.UnixMilli())
	if err != nil {
		return fmt.Errorf("writing thread: %w", err)
	}
	s.changed(tx, t.ID)
	return nil
}

func (s *Service) insertMessage(ctx context.Context, tx *store.Tx, threadID string, m *Message) error {
	// Deferred (one round trip with the transaction's next statement on
	// PostgreSQL): nothing here reads these rows back.
	if err := tx.ExecDeferred(ctx, `INSERT INTO messages (id, thread_id, origin, author, author_agency, body, created_at, envelope_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, threadID, m.Origin, m.Author, m.AuthorAgency, m.Body, m.CreatedAt.UnixMilli(), m.EnvelopeID); err != nil {
		return fmt.Errorf("writing message: %w", err)
	}
	for _, a := range m.Attachments {
		if err := tx.ExecDeferred(ctx, `INSERT INTO message_attachments (message_id, sha256, name, content_type) VALUES (?, ?, ?, ?)`, m.ID, a.SHA256, a.Name, a.ContentType); err != nil {
			return fmt.Errorf("writing attachment record: %w", err)
		}
	}
	if err := tx.ExecDeferred(ctx, `UPDATE threads SET last_activity = ? WHERE id = ? AND last_activity < ?`, m.CreatedAt.UnixMilli(), threadID, m.CreatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("updating thread: %w", err)
	}
	s.changed(tx, threadID)
	return nil
}

// storeBlob keeps a file once, by its SHA-256.
func (s *Service) changed(tx *store.Tx, threadID string) {
	tx.AfterCommit(func() { s.hub.Publish(live.Event{Topic: "thread", Key: threadID}) })
}

// visible is the SQL condition under which user u sees a thread t.
func (s *Service) visible(u *auth.User) (string, []any) {
	if u.Can(auth.ReadAll) {
		return "1 = 1", nil
	}
	if !u.Can(auth.LiaisonRead) {
		return "1 = 0", nil
	}
	return store.HasWord("t.local_agencies"), []any{u.Agency}
}

// ThreadOfEnvelope returns the thread that an envelope this node sent
// belongs to (a message or an attachment of it).
func (s *Service) ThreadOfEnvelope(ctx context.Context, envelopeID string) (string, bool) {
	stream, ok := s.link.StreamOf(ctx, envelopeID)
	if !ok {
		return "", false
	}
	return ThreadOfStream(stream)
}

// CanSee reports whether u may see thread id (for live updates).
func (s *Service) CanSee(ctx context.Context, u *auth.User, id string) bool {
	_, err := s.thread(ctx, s.db.Read(), u, id)
	return err == nil
}

const threadCols = `t.id, t.subject, t.priority, t.origin, t.from_agency, t.to_agency, t.caveats, t.created_at, t.last_activity`

// replyThread returns thread id for u to reply to: what never changes
// about it, from memory once read (a reply then reads nothing before its
// write), and ErrNotFound unless u may see it.
func (s *Service) replyThread(ctx context.Context, u *auth.User, id string) (*Thread, error) {
	f := s.known.fixedOf(id)
	if f == nil {
		f = &fixedThread{}
		t, err := scanThread(store.Prefixed(s.db.Read().QueryRow(ctx, `SELECT t.local_agencies, `+threadCols+`, 0 FROM threads t WHERE t.id = ?`, id), &f.local))
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("reading thread %s: %w", id, err)
		}
		t.LastActivity = time.Time{}
		f.t = *t
		s.known.remember(id, f)
	}
	if !s.sees(u, f.local) {
		return nil, ErrNotFound
	}
	t := f.t
	return &t, nil
}

// sees is visible for one thread whose local agencies are local: the
// same rule, for a thread already in memory.
func (s *Service) sees(u *auth.User, local string) bool {
	switch {
	case u.Can(auth.ReadAll):
		return true
	case !u.Can(auth.LiaisonRead):
		return false
	}
	return strings.Contains(local, " "+u.Agency+" ")
}

func (s *Service) thread(ctx context.Context, q store.Querier, u *auth.User, id string) (*Thread, error) {
	cond, args := s.visible(u)
	t, err := scanThread(q.QueryRow(ctx, `SELECT `+threadCols+`, 0 FROM threads t WHERE t.id = ? AND `+cond, append([]any{id}, args...)...))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading thread %s: %w", id, err)
	}
	return t, nil
}

func scanThread(r store.Scanner) (*Thread, error) {
	var t Thread
	var cav string
	var c, l int64
	if err := r.Scan(&t.ID, &t.Subject, &t.Priority, &t.Origin, &t.FromAgency, &t.ToAgency, &cav, &c, &l, &t.Unread); err != nil {
		return nil, err
	}
	var err error
	if t.Caveats, err = caveats.Decode(cav); err != nil {
		return nil, fmt.Errorf("thread %s: %w", t.ID, err)
	}
	t.CreatedAt, t.LastActivity = store.Time(c), store.Time(l)
	return &t, nil
}

// List returns the threads u may see, newest activity first. A non-empty
// query keeps threads whose subject or any message contains it.
func (s *Service) List(ctx context.Context, u *auth.User, query string, limit int) ([]*Thread, error) {
	if !u.Can(auth.LiaisonRead) {
		return nil, ErrForbidden
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	cond, args := s.visible(u)
	q := `SELECT ` + threadCols + `, (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id AND m.origin <> ? AND m.read_at = 0)
		FROM threads t WHERE ` + cond
	args = append([]any{s.self}, args...)
	if query = strings.TrimSpace(query); query != "" {
		if len(query) > 200 {
			return nil, fault.Field("q", "too_long")
		}
		like := store.Contains(query)
		q += ` AND (LOWER(t.subject) LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND LOWER(m.body) LIKE ? ESCAPE '\')
			OR EXISTS (SELECT 1 FROM messages m JOIN message_attachments a ON a.message_id = m.id WHERE m.thread_id = t.id AND LOWER(a.name) LIKE ? ESCAPE '\'))`
		args = append(args, like, like, like)
	}
	q += ` ORDER BY t.last_activity DESC, t.id LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing threads: %w", err)
	}
	out, err := store.Collect(rows, scanThread)
	if err != nil {
		return nil, fmt.Errorf("listing threads: %w", err)
	}
	return out, nil
}

// Get returns a thread with its messages.
func (s *Service) Get(ctx context.Context, u *auth.User, id string) (*Thread, error) {
	q := s.db.Read()
	t, err := s.thread(ctx, q, u, id)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT m.id, m.origin, m.author, m.author_agency, m.body, m.created_at, m.envelope_id, m.read_at, m.read_by,
			COALESCE(o.state, ''), COALESCE(o.done_at, 0)
		FROM messages m LEFT JOIN outbox o ON o.envelope_id = m.envelope_id
		WHERE m.thread_id = ? ORDER BY m.created_at, m.id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading messages: %w", err)
	}
	defer rows.Close()
	byID := map[string]int{}
	for rows.Next() {
		var m Message
		var c, r, done int64
		var state string
		if err := rows.Scan(&m.ID, &m.Origin, &m.Author, &m.AuthorAgency, &m.Body, &c, &m.EnvelopeID, &r, &m.ReadBy, &state, &done); err != nil {
			return nil, fmt.Errorf("reading messages: %w", err)
		}
		m.CreatedAt, m.ReadAt = store.Time(c), store.Time(r)
		switch {
		case m.Origin != s.self:
			m.Delivery = "received"
		case state == "delivered":
			m.Delivery, m.DeliveredAt = "delivered", store.Time(done)
		case state == "rejected":
			m.Delivery = "rejected"
		default:
			m.Delivery = "pending"
		}
		byID[m.ID] = len(t.Messages)
		t.Messages = append(t.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading messages: %w", err)
	}
	rows.Close()
	arows, err := q.Query(ctx, `SELECT a.message_id, a.sha256, a.name, a.content_type, b.size FROM message_attachments a
		JOIN messages m ON m.id = a.message_id JOIN attachments b ON b.sha256 = a.sha256 WHERE m.thread_id = ? ORDER BY a.name`, id)
	if err != nil {
		return nil, fmt.Errorf("reading attachments: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var mid string
		var a Attachment
		if err := arows.Scan(&mid, &a.SHA256, &a.Name, &a.ContentType, &a.Size); err != nil {
			return nil, fmt.Errorf("reading attachments: %w", err)
		}
		if i, ok := byID[mid]; ok {
			t.Messages[i].Attachments = append(t.Messages[i].Attachments, a)
		}
	}
	if err := arows.Err(); err != nil {
		return nil, fmt.Errorf("reading attachments: %w", err)
	}
	var partnerEnvs, ownEnvs []string
	for _, m := range t.Messages {
		if m.Origin == s.self {
			ownEnvs = append(ownEnvs, m.EnvelopeID)
		} else {
			partnerEnvs = append(partnerEnvs, m.EnvelopeID)
			if m.ReadAt.IsZero() {
				t.Unread++
			}
		}
	}
	if len(ownEnvs) > 0 {
		reports, err := trust.Reports(ctx, q, ownEnvs, 1000)
		if err != nil {
			return nil, err
		}
		byEnv := map[string]int{}
		for i, m := range t.Messages {
			byEnv[m.EnvelopeID] = i
		}
		for _, r := range reports {
			if i, ok := byEnv[r.EnvelopeID]; ok {
				t.Messages[i].Access = append(t.Messages[i].Access, r)
			}
		}
	}
	// Seeing the partner's messages is a read of its data: logged once per
	// user and message, and reported back to the partner.
	if err := s.recordAccess(ctx, u, trustlog.KindDataRead, true, partnerEnvs); err != nil {
		return nil, fmt.Errorf("logging the read: %w", err)
	}
	return t, nil
}

// MarkRead records that u has read the partner's messages in a thread and
// sends the partner a read receipt. Only the thread's own agency counts as
// a reader; an auditor's look is not a read receipt.
func (s *Service) MarkRead(ctx context.Context, u *auth.User, threadID string) (int, error) {
	if !u.Can(auth.LiaisonWrite) {
		return 0, nil
	}
	var n int
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		n = 0
		t, err := s.thread(ctx, tx, u, threadID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM messages WHERE thread_id = ? AND origin <> ? AND read_at = 0 ORDER BY created_at, id`, threadID, s.self)
		if err != nil {
			return fmt.Errorf("reading unread messages: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			return nil
		}
		now := time.Now()
		reader := u.DisplayName + " (" + u.Agency + ")"
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `UPDATE messages SET read_at = ?, read_by = ? WHERE id = ?`, now.UnixMilli(), reader, id); err != nil {
				return fmt.Errorf("marking read: %w", err)
			}
		}
		if _, err := s.link.Enqueue(ctx, tx, link.Outgoing{Kind: KindRead, Version: 1, Stream: stream(threadID), Caveats: t.Caveats,
			Body: readBody{ThreadID: threadID, MessageIDs: ids, ReadAt: now.UTC(), Reader: u.Agency}}); err != nil {
			return fmt.Errorf("sending read receipt: %w", err)
		}
		n = len(ids)
		s.changed(tx, threadID)
		return nil
	})
	return n, err
}

// AttachmentData returns a file u may see through some thread.
func (s *Service) AttachmentData(ctx context.Context, u *auth.User, sha string) (*Attachment, []byte, error) {
	if !u.Can(auth.LiaisonRead) {
		return nil, nil, ErrForbidden
	}
	cond, args := s.visible(u)
	var a Attachment
	var data []byte
	var origin, env string
	err := s.db.Read().QueryRow(ctx, `SELECT a.sha256, a.name, a.content_type, b.size, b.data, m.origin, m.envelope_id FROM message_attachments a
		JOIN attachments b ON b.sha256 = a.sha256 JOIN messages m ON m.id = a.message_id JOIN threads t ON t.id = m.thread_id
		WHERE a.sha256 = ? AND `+cond+` ORDER BY CASE WHEN m.origin = ? THEN 0 ELSE 1 END LIMIT 1`, append(append([]any{sha}, args...), s.self)...).Scan(&a.SHA256, &a.Name, &a.ContentType, &a.Size, &data, &origin, &env)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading attachment: %w", err)
	}
	// Downloading the partner's file takes its data out of puente: an
	// export, logged and reported every time.
	if origin != s.self {
		if !u.Can(auth.ExportPartnerData) {
			return nil, nil, ErrForbidden
		}
		if err := s.recordAccess(ctx, u, trustlog.KindDataExported, false, []string{env}); err != nil {
			return nil, nil, fmt.Errorf("logging the download: %w", err)
		}
	}
	return &a, data, nil
}

// applyMessage applies a partner's message, creating its thread on first
// sight.
func (s *Service) applyMessage(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b messageBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	var cav caveats.Caveats
	if err := link.DecodeCaveats(env, &cav); err != nil {
		return err
	}
	switch {
	case !link.ValidID(b.ThreadID) || !link.ValidID(b.MessageID):
		return link.Reject("thread or message id is invalid")
	case env.Stream != stream(b.ThreadID):
		return link.Reject("message for thread %s came on stream %s", b.ThreadID, env.Stream)
	case checkText("subject", b.Subject, MaxSubject) != nil, checkText("body", b.Body, MaxBody) != nil,
		checkText("author", b.Author, 200) != nil:
		return link.Reject("subject, body or author is empty, too long or not UTF-8")
	case !slices.Contains(Priorities, b.Priority):
		return link.Reject("priority %q is unknown", b.Priority)
	case len(b.Attachments) > MaxAttachments:
		return link.Reject("too many attachments")
	case b.Created.IsZero():
		return link.Reject("message has no creation time")
	}
	// A thread seen before exists (threads are never deleted): nothing
	// to read, so a batch's writes all ride one pipeline on PostgreSQL.
	if !s.known.has(b.ThreadID) {
		if err := s.ensureThread(ctx, tx, &b, cav); err != nil {
			return err
		}
	}
	if !slices.Contains(auth.Agencies[s.partner], b.AuthorAgency) {
		return link.Reject("author agency %q is not a %s agency", b.AuthorAgency, s.partner)
	}
	for _, a := range b.Attachments {
		if input.FileName("name", a.Name) != nil || input.Text("content_type", a.ContentType, 200, 0) != nil {
			return link.Reject("attachment %s is described wrongly", a.SHA256)
		}
		if err := blob.CheckReference(ctx, tx, a.SHA256, a.Size, env.Stream); err != nil {
			return err
		}
	}
	m := &Message{ID: b.MessageID, Origin: s.partner, Author: b.Author, AuthorAgency: b.AuthorAgency, Body: b.Body,
		CreatedAt: b.Created, EnvelopeID: env.ID, Attachments: b.Attachments}
	if err := s.insertMessage(ctx, tx, b.ThreadID, m); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return link.Reject("message %s already exists", b.MessageID)
		}
		return err
	}
	return nil
}

// ensureThread makes sure the thread of a partner's message exists,
// creating it on first sight (a new thread must come from a partner
// agency to one of ours), and remembers it once tx commits.
func (s *Service) ensureThread(ctx context.Context, tx *store.Tx, b *messageBody, cav caveats.Caveats) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM threads WHERE id = ?`, b.ThreadID).Scan(&one)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !slices.Contains(auth.Agencies[s.partner], b.FromAgency) || !slices.Contains(auth.Agencies[s.self], b.ToAgency) {
			return link.Reject("agencies %s → %s are not a %s → %s pair", b.FromAgency, b.ToAgency, s.partner, s.self)
		}
		local := []string{b.ToAgency}
		for _, a := range cav.ReleasableTo {
			if !slices.Contains(auth.Agencies[s.self], a) {
				return link.Reject("caveats release to unknown agency %q", a)
			}
			local = append(local, a)
		}
		t := &Thread{ID: b.ThreadID, Subject: b.Subject, Priority: b.Priority, Origin: s.partner, FromAgency: b.FromAgency,
			ToAgency: b.ToAgency, Caveats: cav, CreatedAt: b.Created, LastActivity: b.Created}
		if err := s.insertThread(ctx, tx, t, slices.Compact(local)); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("reading thread %s: %w", b.ThreadID, err)
	}
	id := b.ThreadID
	tx.AfterCommit(func() { s.known.add(id) })
	return nil
}

// applyAttachment stores a partner's file, named by its own SHA-256.
func (s *Service) applyAttachment(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	if _, ok := ThreadOfStream(env.Stream); !ok {
		return link.Reject("attachment came on stream %s", env.Stream)
	}
	if len(env.Body) > MaxAttachment {
		return link.Reject("attachment is larger than %d bytes", MaxAttachment)
	}
	return blob.Received(ctx, tx, env.Body, env.Stream)
}

// applyRead records the partner's read receipt on our messages.
func (s *Service) applyRead(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
	var b readBody
	if err := link.DecodeBody(env, &b); err != nil {
		return err
	}
	if env.Stream != stream(b.ThreadID) || len(b.MessageIDs) == 0 || len(b.MessageIDs) > 10_000 || b.ReadAt.IsZero() {
		return link.Reject("read receipt is incomplete")
	}
	if !slices.Contains(auth.Agencies[s.partner], b.Reader) {
		return link.Reject("reader agency %q is not a %s agency", b.Reader, s.partner)
	}
	for _, id := range b.MessageIDs {
		// Only our own messages in that thread can be read by the partner.
		if _, err := tx.Exec(ctx, `UPDATE messages SET read_at = ?, read_by = ? WHERE id = ? AND thread_id = ? AND origin = ? AND read_at = 0`,
			b.ReadAt.UnixMilli(), b.Reader, id, b.ThreadID, s.self); err != nil {
			return fmt.Errorf("recording read receipt: %w", err)
		}
	}
	s.changed(tx, b.ThreadID)
	return nil
}
