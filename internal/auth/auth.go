// Package auth holds the people who use a node: users with one role and one
// agency, their passwords (argon2id), browser sessions and API tokens, and
// the rules that say which role may do what.
package auth

import (
	"puente/internal/fault"

	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"puente/internal/store"
	"puente/internal/trustlog"
)

// Role is what a user does. Each user has exactly one.
type Role string

const (
	Analyst     Role = "analyst"
	Supervisor  Role = "supervisor"
	Coordinator Role = "coordinator"
	Legal       Role = "legal"
	Training    Role = "training"
	Auditor     Role = "auditor"
	Admin       Role = "admin"
	// Field is a unit in the field: it sees its operations and reports
	// its status, nothing else.
	Field Role = "field"
)

// Roles lists every role in display order.
var Roles = []Role{Analyst, Supervisor, Coordinator, Legal, Training, Field, Auditor, Admin}

// Permission is one thing a role may do.
type Permission string

const (
	// LiaisonRead: read liaison threads of one's own agency.
	LiaisonRead Permission = "liaison.read"
	// LiaisonWrite: start threads, reply and attach files.
	LiaisonWrite Permission = "liaison.write"
	// ExportPartnerData: take the partner's data out of puente: download
	// its files, export a disclosure's entities. Auditors read in place
	// and never export.
	ExportPartnerData Permission = "data.export"
	// ReadAll: see every agency's threads, read-only (auditors).
	ReadAll Permission = "read.all"
	// ManageUsers: create users, change roles and agencies, reset passwords.
	ManageUsers Permission = "users.manage"
	// ViewAgreement: read the agreement.
	ViewAgreement Permission = "agreement.view"
	// ReviewQuarantine: see envelopes the node refused.
	ReviewQuarantine Permission = "quarantine.review"
	// AuditLog: browse the transparency log, its checkpoints, the
	// partner's access reports and alarms; acknowledge alarms.
	AuditLog Permission = "audit.log"
	// Screen: screen names against this node's sanctions lists.
	Screen Permission = "screen"
	// MatchLookup: a blind lookup in the partner's index (spends the
	// partner's daily quota).
	MatchLookup Permission = "match.lookup"
	// MatchIndex: import subjects into this node's blind-matching index.
	MatchIndex Permission = "match.index"
	// CrossMatch: start, follow and cancel cross-matches of one's own
	// agency, and see their hits (spends the partner's bulk quota).
	CrossMatch Permission = "match.crossmatch"
	// FinIntelRead: read disclosures and requests of one's own agency.
	FinIntelRead Permission = "finintel.read"
	// FinIntelWrite: draft disclosures, ask and answer requests, ask for
	// consent, pass on within the caveats, send feedback (FIU staff).
	FinIntelWrite Permission = "finintel.write"
	// FinIntelRelease: the second pair of eyes that releases a disclosure
	// to the partner, or recalls it.
	FinIntelRelease Permission = "finintel.release"
	// FinIntelConsent: grant or deny the partner's requests for consent.
	FinIntelConsent Permission = "finintel.consent"
	// OpsRead: see the operations of one's own agency and the board.
	OpsRead Permission = "operations.read"
	// OpsWrite: draft and register operations, answer the partner's
	// proposals, start, conclude and report on them, resolve conflicts.
	OpsWrite Permission = "operations.write"
	// OpsRelease: the second pair of eyes that sends a mirror operation
	// to the partner.
	OpsRelease Permission = "operations.release"
	// OpsReport: report a unit's status on an active operation.
	OpsReport Permission = "operations.report"
	// SeizRead: see one's own agency's seizures, the partner's released
	// to one's agency, and the seizure figures.
	SeizRead Permission = "seizures.read"
	// SeizWrite: record seizures, import them from CSV, submit them for
	// release.
	SeizWrite Permission = "seizures.write"
	// SeizRelease: the second pair of eyes that releases seizures to the
	// partner, or returns them to their author.
	SeizRelease Permission = "seizures.release"
	// TraceRead: see the firearm traces of one's own agency (requested,
	// sponsored or worked).
	TraceRead Permission = "traces.read"
	// TraceRequest: prepare trace requests.
	TraceRequest Permission = "traces.request"
	// TraceSponsor: review and submit trace requests to the partner (the
	// sponsoring agency's staff).
	TraceSponsor Permission = "traces.sponsor"
	// TraceWork: work the partner's traces on the side that traces.
	TraceWork Permission = "traces.work"
	// ExtRead: see the priority targets and extradition cases open to
	// one's agency.
	ExtRead Permission = "extradition.read"
	// ExtWrite: nominate targets, update their status, acknowledge and
	// add to the partner's, record the stages of cases.
	ExtWrite Permission = "extradition.write"
	// ExtRelease: the second pair of eyes that releases a nomination to
	// the partner.
	ExtRelease Permission = "extradition.release"
	// TrainRead: see the training offers and exercises of both sides,
	// their figures and the certificates issued.
	TrainRead Permission = "training.read"
	// TrainWrite: draft offers, nominate participants, record vetting,
	// confirmations, attendance and results, commit an exercise's units
	// and resources, write after-action reports (training coordinators).
	TrainWrite Permission = "training.write"
	// TrainRelease: the second pair of eyes that publishes an offer to
	// the partner; revoke a certificate.
	TrainRelease Permission = "training.release"
)

var rolePermissions = map[Role][]Permission{
	Analyst: {LiaisonRead, LiaisonWrite, ViewAgreement, ExportPartnerData, Screen, MatchLookup, MatchIndex, CrossMatch, FinIntelRead, FinIntelWrite,
		SeizRead, SeizWrite, TraceRead, TraceRequest},
	Supervisor: {LiaisonRead, LiaisonWrite, ViewAgreement, ExportPartnerData, Screen, MatchLookup, MatchIndex, CrossMatch, FinIntelRead, FinIntelWrite, FinIntelRelease, FinIntelConsent,
		OpsRead, OpsWrite, OpsRelease, OpsReport, SeizRead, SeizWrite, SeizRelease, TraceRead, TraceRequest, TraceSponsor, TraceWork, ExtRead, ExtWrite, ExtRelease,
		TrainRead},
	Coordinator: {LiaisonRead, LiaisonWrite, ViewAgreement, ExportPartnerData, Screen, MatchLookup, OpsRead, OpsWrite, OpsReport, SeizRead, SeizWrite, TraceRead, TraceRequest, TraceWork,
		ExtRead, ExtWrite, TrainRead},
	Field: {OpsRead, OpsReport},
	Legal: {LiaisonRead, LiaisonWrite, ViewAgreement, ExportPartnerData, Screen, MatchLookup, FinIntelRead, FinIntelConsent, TraceRead, TraceSponsor,
		ExtRead, ExtWrite, ExtRelease},
	Training: {LiaisonRead, LiaisonWrite, ViewAgreement, TrainRead, TrainWrite, TrainRelease},
	Auditor:  {LiaisonRead, ReadAll, ViewAgreement, ReviewQuarantine, AuditLog, Screen, FinIntelRead, OpsRead, SeizRead, TraceRead, ExtRead, TrainRead},
	// Administrators run the node; they do not read operational traffic.
	Admin: {ManageUsers, ViewAgreement, ReviewQuarantine},
}

// Agencies lists, per party code, the agencies a user may belong to.
var Agencies = map[string][]string{
	"MX": {"UIF", "FGR", "SSPC", "SEDENA", "SEMAR", "GN", "SRE", "SSP-SON"},
	"US": {"FinCEN", "DEA", "ATF", "CBP", "HSI", "FBI", "DOJ-OIA", "STATE"},
}

// FIU is each side's financial intelligence unit: the agency that sends
// and receives disclosures and requests.
var FIU = map[string]string{"MX": "UIF", "US": "FinCEN"}

// User is one person with access to the node.
type User struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        Role      `json:"role"`
	Agency      string    `json:"agency"`
	Lang        string    `json:"lang"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	// LockedUntil is set while too many failed sign-ins lock the account.
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// Can reports whether the user's role grants p.
func (u *User) Can(p Permission) bool {
	return u != nil && !u.Disabled && slices.Contains(rolePermissions[u.Role], p)
}

// Errors with a contract: the web and API layers map them to messages.
var (
	// ErrBadCredentials: an unknown user, a wrong password, a disabled or
	// a locked account all get this one answer, in the same time.
	ErrBadCredentials = errors.New("wrong username or password, or too many failed sign-ins")
	// ErrLocked: too many failures from one address, whatever the account.
	// (A wrong password answers a *SignInError, which is ErrBadCredentials.)
	ErrLocked    = errors.New("too many failed sign-ins from this address; try again later")
	ErrInvalid   = fault.ErrInvalid
	ErrNoSession = errors.New("no valid session")
)

// Service manages users, sessions and tokens.
type Service struct {
	db    *store.DB
	party string
	log   *trustlog.Log

	mu      sync.Mutex
	ipFails map[string][]time.Time
	ghosts  map[string]int // failed attempts on usernames no account has

	tokens tokenCache
}

// TokenCacheTTL is how long a replica may answer an API token from
// memory. Every API call presents its token; remembering the token's
// user for a moment spares the store a read per call. A change to a user
// or a token (a revocation, a new role or agency, a disabled account)
// empties the memory of the process that makes it at once, and reaches
// the other replicas of the node within this time.
const TokenCacheTTL = time.Second

// tokenCache remembers, by the token's hash, what TokenUser read.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]*cachedToken
	// gen counts the clears, so that a read that began before a change
	// is not remembered after it.
	gen uint64
}

type cachedToken struct {
	u        *User
	id       int64
	lastUsed int64
	expires  int64 // the token's own expiry
	read     time.Time
}

// maxCachedTokens bounds the memory; past it, it starts again.
const maxCachedTokens = 10_000

// get returns a copy of what is remembered of the token, if fresh; its
// user is never changed once remembered.
func (c *tokenCache) get(hash string, now time.Time) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[hash]
	if !ok || now.Sub(t.read) >= TokenCacheTTL || now.UnixMilli() >= t.expires {
		return cachedToken{}, false
	}
	return *t, true
}

// generation is what put must be given for what is read from now on.
func (c *tokenCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put remembers t, read since generation gen, unless a change came since.
func (c *tokenCache) put(hash string, t cachedToken, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = map[string]*cachedToken{}
	}
	c.m[hash] = &t
}

// used records that the token was marked used at ms.
func (c *tokenCache) used(hash string, ms int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[hash]; ok {
		t.lastUsed = ms
	}
}

func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.gen++
}

// NewService returns the auth service of the node of party code. Every
// change to users and tokens is appended to log, with the actor recorded
// in the request's context (trustlog.WithActor).
func NewService(db *store.DB, party string, log *trustlog.Log) *Service {
	return &Service{db: db, party: party, log: log, ipFails: map[string][]time.Time{}, ghosts: map[string]int{}}
}

// record appends one entry about a user or token change inside tx.
func (s *Service) record(ctx context.Context, tx *store.Tx, kind, object, detail string) error {
	if s.log == nil {
		return errors.New("the auth service has no transparency log")
	}
	_, err := s.log.Append(ctx, tx, trustlog.Entry{At: time.Now(), Kind: kind, Actor: trustlog.ActorOf(ctx), Object: object, Detail: detail})
	return err
}

// Party is the node's party code.
func (s *Service) Party() string { return s.party }

// NewUser is what it takes to create a user.
type NewUser struct {
	Username    string
	DisplayName string
	Role        Role
	Agency      string
	Password    string
	Lang        string
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 12

func (s *Service) validate(u *NewUser, withPassword bool) error {
	if !usernameRE.MatchString(u.Username) {
		return fault.Field("username", "invalid_username")
	}
	if strings.TrimSpace(u.DisplayName) == "" || len(u.DisplayName) > 100 {
		return fault.Field("display_name", "required")
	}
	if !slices.Contains(Roles, u.Role) {
		return fault.Field("role", "unknown_role")
	}
	if !slices.Contains(Agencies[s.party], u.Agency) {
		return fault.Field("agency", "unknown_agency")
	}
	if withPassword && len(u.Password) < MinPasswordLen {
		return fault.Field("password", "password_too_short")
	}
	if u.Lang != "" && u.Lang != "en" && u.Lang != "es" {
		return fault.Field("lang", "unknown_language")
	}
	return nil
}

// Create adds a user.
func (s *Service) Create(ctx context.Context, nu NewUser) (*User, error) {
	if err := s.validate(&nu, true); err != nil {
		return nil, err
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		id, err = tx.InsertID(ctx, `INSERT INTO users (username, display_name, role, agency, lang, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			nu.Username, strings.TrimSpace(nu.DisplayName), string(nu.Role), nu.Agency, nu.Lang, hash, store.Now())
		if err != nil {
			return err
		}
		return s.record(ctx, tx, trustlog.KindUserCreated, "user:"+nu.Username, "role="+string(nu.Role)+" agency="+nu.Agency)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, &fault.FieldError{Field: "username", Code: "username_taken", Err: fault.ErrConflict}
	}
	if err != nil {
		return nil, fmt.Errorf("creating user %s: %w", nu.Username, err)
	}
	return s.Get(ctx, id)
}

const userCols = `id, username, display_name, role, agency, lang, disabled, created_at, locked_until`

func scanUser(r store.Scanner) (*User, error) {
	var u User
	var disabled int
	var created, locked int64
	var role string
	if err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &role, &u.Agency, &u.Lang, &disabled, &created, &locked); err != nil {
		return nil, err
	}
	u.Role, u.Disabled, u.CreatedAt = Role(role), disabled != 0, store.Time(created)
	if locked > store.Now() {
		u.LockedUntil = store.Time(locked)
	}
	return &u, nil
}

// Get returns the user with id.
func (s *Service) Get(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(s.db.Read().QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("reading user %d: %w", id, err)
	}
	return u, nil
}

// List returns every user, by username.
func (s *Service) List(ctx context.Context) ([]*User, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Update is a change to a user; nil fields stay as they are.
type Update struct {
	DisplayName *string
	Role        *Role
	Agency      *string
	Disabled    *bool
	Password    *string
	Lang        *string
}

// Update changes a user.
func (s *Service) Update(ctx context.Context, id int64, up Update) (*User, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	nu := NewUser{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Agency: u.Agency, Lang: u.Lang}
	if up.DisplayName != nil {
		nu.DisplayName = *up.DisplayName
	}
	if up.Role != nil {
		nu.Role = *up.Role
	}
	if up.Agency != nil {
		nu.Agency = *up.Agency
	}
	if up.Lang != nil {
		nu.Lang = *up.Lang
	}
	if up.Password != nil {
		nu.Password = *up.Password
	}
	if err := s.validate(&nu, up.Password != nil); err != nil {
		return nil, err
	}
	disabled := u.Disabled
	if up.Disabled != nil {
		disabled = *up.Disabled
	}
	var hash string
	if up.Password != nil {
		if hash, err = HashPassword(nu.Password); err != nil {
			return nil, err
		}
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		tx.AfterCommit(s.tokens.clear)
		if _, err := tx.Exec(ctx, `UPDATE users SET display_name = ?, role = ?, agency = ?, lang = ?, disabled = ? WHERE id = ?`,
			strings.TrimSpace(nu.DisplayName), string(nu.Role), nu.Agency, nu.Lang, boolInt(disabled), id); err != nil {
			return err
		}
		if hash != "" {
			if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0 WHERE id = ?`, hash, id); err != nil {
				return err
			}
		}
		if disabled || hash != "" {
			// A disabled user or a new password ends every open session.
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		if hash != "" || nu.Role != u.Role || nu.Agency != u.Agency {
			// A reset password, a new role or a new agency revokes every
			// API token: a script keeps no rights the user no longer has.
			res, err := tx.Exec(ctx, `DELETE FROM api_tokens WHERE user_id = ?`, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				if err := s.record(ctx, tx, trustlog.KindTokenRevoked, fmt.Sprintf("user:%d", id), fmt.Sprintf("tokens=%d reason=account_changed", n)); err != nil {
					return err
				}
			}
		}
		var changed []string
		if nu.Role != u.Role {
			changed = append(changed, "role="+string(nu.Role))
		}
		if nu.Agency != u.Agency {
			changed = append(changed, "agency="+nu.Agency)
		}
		if disabled != u.Disabled {
			changed = append(changed, fmt.Sprintf("disabled=%t", disabled))
		}
		if hash != "" {
			changed = append(changed, "password=changed")
		}
		if strings.TrimSpace(nu.DisplayName) != u.DisplayName {
			changed = append(changed, "display_name=changed")
		}
		// The language is a preference, not an event for the log.
		if len(changed) == 0 {
			return nil
		}
		return s.record(ctx, tx, trustlog.KindUserChanged, "user:"+u.Username, strings.Join(changed, " "))
	})
	if err != nil {
		return nil, fmt.Errorf("updating user %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SignInError is a refused sign-in: ErrBadCredentials, with the attempts
// left before the account is locked (0: it is locked for a while). An
// unknown username counts its own attempts the same way, so the answer
// never says whether an account exists.
type SignInError struct {
	Remaining int
}

func (e *SignInError) Error() string {
	return fmt.Sprintf("%v (%d attempts left before a lockout)", ErrBadCredentials, e.Remaining)
}

// Unwrap makes it ErrBadCredentials.
func (e *SignInError) Unwrap() error { return ErrBadCredentials }

// Lockout policy: after lockAfter consecutive failures a user waits,
// doubling each time up to maxLock; one address may fail ipLimit times per
// ipWindow across all usernames.
const (
	lockAfter = 5
	baseLock  = 30 * time.Second
	maxLock   = 15 * time.Minute
	ipLimit   = 30
	ipWindow  = 10 * time.Minute
)

// Authenticate checks a username and password from address ip.
func (s *Service) Authenticate(ctx context.Context, username, password, ip string) (*User, error) {
	// Every attempt counts before any hashing: against the address now,
	// against the account in the store below.
	if !s.ipAttempt(ip) {
		return nil, ErrLocked
	}
	var id, lockedUntil int64
	var hash string
	var disabled int
	err := s.db.Read().QueryRow(ctx, `SELECT id, password_hash, locked_until, disabled FROM users WHERE username = ?`, username).
		Scan(&id, &hash, &lockedUntil, &disabled)
	if errors.Is(err, store.ErrNotFound) {
		// Unknown: the same answer after the same work as a wrong password.
		CheckPassword(dummyHash(), password)
		return nil, &SignInError{Remaining: s.ghostFailure(username)}
	}
	if err == nil && lockedUntil > store.Now() {
		CheckPassword(dummyHash(), password)
		return nil, &SignInError{Remaining: 0}
	}
	if err != nil {
		return nil, fmt.Errorf("signing in: %w", err)
	}
	fails, err := s.countFailure(ctx, id)
	if err != nil {
		return nil, err
	}
	if !CheckPassword(hash, password) || disabled != 0 {
		return nil, &SignInError{Remaining: max(0, lockAfter-fails)}
	}
	s.ipSucceeded(ip)
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("signing in: %w", err)
	}
	return s.Get(ctx, id)
}

// countFailure counts an attempt on account id as failed until it
// succeeds, atomically in the store (parallel guesses each count), and
// locks the account once the count reaches lockAfter.
func (s *Service) countFailure(ctx context.Context, id int64) (int, error) {
	var fails int
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?`, id); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT failed_logins FROM users WHERE id = ?`, id).Scan(&fails); err != nil {
			return err
		}
		if fails < lockAfter {
			return nil
		}
		until := time.Now().Add(min(baseLock<<min(fails-lockAfter, 10), maxLock)).UnixMilli()
		_, err := tx.Exec(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, until, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("counting a sign-in attempt: %w", err)
	}
	return fails, nil
}

// ghostFailure counts a failed attempt on a username no account has, as
// countFailure would on an account, and returns the attempts left.
func (s *Service) ghostFailure(username string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ghosts) > 10_000 {
		clear(s.ghosts)
	}
	s.ghosts[username]++
	return max(0, lockAfter-s.ghosts[username])
}

// Unlock lifts the sign-in lock of account id, and counts its failures
// from zero again (an administrator's act, logged).
func (s *Service) Unlock(ctx context.Context, id int64) (*User, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	err = s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?`, id); err != nil {
			return err
		}
		return s.record(ctx, tx, trustlog.KindUserChanged, "user:"+u.Username, "unlocked")
	})
	if err != nil {
		return nil, fmt.Errorf("unlocking user %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// ipAttempt counts an attempt from ip, unless the address already failed
// ipLimit times in ipWindow.
func (s *Service) ipAttempt(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := time.Now().Add(-ipWindow)
	s.ipFails[ip] = slices.DeleteFunc(s.ipFails[ip], func(t time.Time) bool { return t.Before(cut) })
	if len(s.ipFails[ip]) >= ipLimit {
		return false
	}
	s.ipFails[ip] = append(s.ipFails[ip], time.Now())
	return true
}

// ipSucceeded takes back the attempt a successful sign-in counted.
func (s *Service) ipSucceeded(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.ipFails[ip]); n > 0 {
		s.ipFails[ip] = s.ipFails[ip][:n-1]
	}
}

// SessionTTL is how long a browser session lasts.
const SessionTTL = 12 * time.Hour

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}

// NewSession starts a session for user id and returns its secret, which
// only the browser keeps; the store holds its hash.
func (s *Service) NewSession(ctx context.Context, userID int64) (string, error) {
	secret := newSecret()
	now := time.Now()
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, now.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			hashSecret(secret), userID, now.UnixMilli(), now.Add(SessionTTL).UnixMilli())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("starting a session: %w", err)
	}
	return secret, nil
}

// Session returns the user of a live session.
func (s *Service) Session(ctx context.Context, secret string) (*User, error) {
	var id int64
	err := s.db.Read().QueryRow(ctx, `SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?`, hashSecret(secret), store.Now()).Scan(&id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("reading session: %w", err)
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrNoSession
	}
	return u, nil
}

// EndSession signs a session out.
func (s *Service) EndSession(ctx context.Context, secret string) error {
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashSecret(secret))
		return err
	})
}

// Token is an API token's public record; the secret is shown once.
type Token struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

// Token lifetimes, in days: the default, and the longest allowed.
const (
	TokenDays    = 90
	MaxTokenDays = 365
)

// TokenPrefix starts every API token, so a leaked one is easy to spot.
const TokenPrefix = "pnt_"

// NewToken creates an API token for user id that expires after the
// default TokenDays, and returns its secret.
func (s *Service) NewToken(ctx context.Context, userID int64, name string) (*Token, string, error) {
	return s.NewTokenFor(ctx, userID, name, TokenDays)
}

// NewTokenFor creates an API token that expires after days (1 to
// MaxTokenDays), and returns its secret.
func (s *Service) NewTokenFor(ctx context.Context, userID int64, name string, days int) (*Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 80 {
		return nil, "", fault.Field("name", "required")
	}
	if days < 1 || days > MaxTokenDays {
		return nil, "", fault.Field("expires_in_days", "invalid_days")
	}
	secret := TokenPrefix + newSecret()
	var id int64
	now := store.Now()
	expires := now + int64(days)*24*3600*1000
	err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		id, err = tx.InsertID(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			userID, name, hashSecret(secret), now, expires)
		if err != nil {
			return err
		}
		return s.record(ctx, tx, trustlog.KindTokenCreated, fmt.Sprintf("token:%d", id), fmt.Sprintf("user_id=%d expires_in_days=%d", userID, days))
	})
	if err != nil {
		return nil, "", fmt.Errorf("creating token: %w", err)
	}
	return &Token{ID: id, Name: name, CreatedAt: store.Time(now), ExpiresAt: store.Time(expires)}, secret, nil
}

// Tokens lists a user's API tokens.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT id, name, created_at, expires_at, last_used FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var c, e, l int64
		if err := rows.Scan(&t.ID, &t.Name, &c, &e, &l); err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		t.CreatedAt, t.ExpiresAt, t.LastUsed = store.Time(c), store.Time(e), store.Time(l)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken deletes one of a user's tokens.
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	return s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		tx.AfterCommit(s.tokens.clear)
		res, err := tx.Exec(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, tokenID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("token %d: %w", tokenID, store.ErrNotFound)
		}
		return s.record(ctx, tx, trustlog.KindTokenRevoked, fmt.Sprintf("token:%d", tokenID), fmt.Sprintf("user_id=%d", userID))
	})
}

// TokenUser returns the user an API token belongs to. API tokens are
// random 256-bit secrets, so a SHA-256 is the right hash for them; slow
// password hashing would only slow every API call.
func (s *Service) TokenUser(ctx context.Context, secret string) (*User, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, ErrNoSession
	}
	hash, now := hashSecret(secret), time.Now()
	t, ok := s.tokens.get(hash, now)
	if !ok {
		// One statement for the token and its user.
		gen := s.tokens.generation()
		t = cachedToken{read: now}
		row := s.db.Read().QueryRow(ctx, `SELECT k.id, k.last_used, k.expires_at, u.`+strings.ReplaceAll(userCols, ", ", ", u.")+`
			FROM api_tokens k JOIN users u ON u.id = k.user_id WHERE k.token_hash = ? AND k.expires_at > ?`, hash, now.UnixMilli())
		var err error
		t.u, err = scanUser(store.Prefixed(row, &t.id, &t.lastUsed, &t.expires))
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNoSession
		}
		if err != nil {
			return nil, fmt.Errorf("reading token: %w", err)
		}
		s.tokens.put(hash, t, gen)
	}
	if ms := now.UnixMilli(); ms-t.lastUsed > 60_000 {
		// Record use at most once a minute: tokens drive bulk API traffic.
		tid := t.id
		err := s.db.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE api_tokens SET last_used = ? WHERE id = ?`, ms, tid)
			return err
		})
		if err == nil {
			s.tokens.used(hash, ms)
		}
	}
	if t.u.Disabled {
		return nil, ErrNoSession
	}
	u := *t.u
	return &u, nil
}

// Argon2Params are the argon2id cost parameters for new hashes.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// PasswordParams follow RFC 9106's second recommendation, scaled to two
// cores. Tests may lower them.
var PasswordParams = Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// HashPassword returns a PHC-format argon2id hash.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	p := PasswordParams
	key := idKey([]byte(pw), salt, p, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches a hash from HashPassword.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := idKey([]byte(pw), salt, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// MaxConcurrentHashes bounds the password hashes computed at once. Each
// takes PasswordParams.Memory (64 MiB): a flood of sign-in attempts waits
// for a slot instead of exhausting the node's memory.
const MaxConcurrentHashes = 4

var hashSlots = make(chan struct{}, MaxConcurrentHashes)

// idKey is argon2id, in one of the bounded slots.
func idKey(pw, salt []byte, p Argon2Params, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, keyLen)
}

// dummyHash makes a sign-in with an unknown username cost as much as one
// with a known username.
var dummyHash = sync.OnceValue(func() string { h, _ := HashPassword("puente-dummy-password"); return h })
