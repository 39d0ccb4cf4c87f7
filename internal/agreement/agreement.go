// Package agreement is the signed bilateral agreement that both nodes run
// under: the parties and how to reach and recognise them, the work areas,
// each side's own commitments, the default caveats and the retention
// periods.
//
// The file is JSON a person can read and review. Its hash is the SHA-256 of
// the canonical encoding of the "agreement" member (see Canonical), and each
// party signs that hash with its Ed25519 key. The two nodes compare the hash
// at every handshake and refuse the link when they differ.
package agreement

import (
	"puente/internal/caveats"

	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"puente/internal/identity"
)

// Work areas named in the agreement.
const (
	AreaFinIntel    = "finintel"
	AreaSeizures    = "seizures"
	AreaOperations  = "operations"
	AreaTraining    = "training"
	AreaExtradition = "extradition"
	AreaLiaison     = "liaison"
	// AreaTraces is firearm tracing, part of the seizures work area: its
	// response days are the tracing side's for a routine trace.
	AreaTraces = "traces"
)

// Areas lists every work area puente knows, in display order.
var Areas = []string{AreaLiaison, AreaFinIntel, AreaSeizures, AreaOperations, AreaTraining, AreaExtradition}

// Agreement is the body that both parties sign.
type Agreement struct {
	Version     int                    `json:"version"`
	Title       string                 `json:"title"`
	Reference   string                 `json:"reference"`
	Effective   string                 `json:"effective"`
	Parties     []Party                `json:"parties"`
	WorkAreas   map[string]bool        `json:"work_areas"`
	Commitments map[string]Commitments `json:"commitments"`
	Caveats     caveats.Caveats        `json:"default_caveats"`
	Retention   map[string]int         `json:"retention_days"`
	Limits      Limits                 `json:"limits"`
	// Deconfliction are the shared rules of blind operation deconfliction
	// (zero values: the defaults, see Deconfliction).
	Deconfliction Deconfliction `json:"deconfliction,omitzero"`
	// Extradition are the legal terms whose clocks the extradition cases
	// run (zero: the defaults, see DefaultTerms).
	Extradition Extradition `json:"extradition,omitzero"`
}

// Deconfliction says when two operations, one per side, conflict: when
// their areas come within DistanceMeters of each other and their windows
// within WindowHours. Each side turns its operations into S2 cells of
// CellLevel and hour buckets, widened by half of each, and the cells are
// compared blind (docs/operations.md).
type Deconfliction struct {
	DistanceMeters int `json:"distance_meters,omitempty"`
	WindowHours    int `json:"window_hours,omitempty"`
	CellLevel      int `json:"cell_level,omitempty"`
}

// The defaults of deconfliction: 2 km, ±2 h, S2 level 13 (cells about
// 1 km across).
const (
	DefaultDeconflictMeters     = 2000
	DefaultDeconflictHours      = 2
	DefaultDeconflictCellLevel  = 13
	DefaultDeconflictPerDay     = 50_000
	DefaultUrgentOperationHours = 6
)

// WithDefaults fills the zero parameters with the defaults.
func (d Deconfliction) WithDefaults() Deconfliction {
	if d.DistanceMeters <= 0 {
		d.DistanceMeters = DefaultDeconflictMeters
	}
	if d.WindowHours <= 0 {
		d.WindowHours = DefaultDeconflictHours
	}
	if d.CellLevel <= 0 {
		d.CellLevel = DefaultDeconflictCellLevel
	}
	return d
}

// Party is one signatory state and its node.
type Party struct {
	Code           string   `json:"code"`
	Name           string   `json:"name"`
	Endpoint       string   `json:"federation_endpoint"`
	SigningKey     string   `json:"signing_key"`
	TLSFingerprint string   `json:"tls_fingerprint"`
	Agencies       []string `json:"agencies"`
}

// Commitments are one side's own obligations: asymmetry is normal.
type Commitments struct {
	// ResponseDays is how many days this side has to answer a request, per
	// work area.
	ResponseDays map[string]int `json:"response_days"`
	// TracesFirearms says whether this side runs firearm traces for the
	// partner.
	TracesFirearms bool `json:"traces_firearms"`
	// FormalRequestDays is how many days after a provisional arrest this
	// side's formal extradition request is due.
	FormalRequestDays int `json:"formal_request_days"`
	// MatchEvaluationsPerDay caps the blind identifier evaluations this
	// side answers for the partner per UTC day (0: the default, 5,000).
	MatchEvaluationsPerDay int `json:"match_evaluations_per_day,omitempty"`
	// MatchBulkEvaluationsPerDay caps the evaluations of the partner's
	// cross-matches this side answers per UTC day (0: the default,
	// DefaultBulkEvaluations). Low on purpose: bulk evaluation is how a
	// partner could enumerate low-entropy keys against our index.
	MatchBulkEvaluationsPerDay int `json:"match_bulk_evaluations_per_day,omitempty"`
	// MatchBulkAlarmPercent: when the partner uses more than this share of
	// the daily bulk quota within one hour, both sides raise an alarm
	// (0: the default, DefaultBulkAlarmPercent).
	MatchBulkAlarmPercent int `json:"match_bulk_alarm_percent,omitempty"`
	// DeconflictEvaluationsPerDay caps the blind evaluations of the
	// partner's operation cells and targets this side answers per UTC day
	// (0: the default, DefaultDeconflictPerDay).
	DeconflictEvaluationsPerDay int `json:"deconflict_evaluations_per_day,omitempty"`
	// UrgentOperationHours is how many hours this side has to answer an
	// urgent mirror operation (0: the default, DefaultUrgentOperationHours);
	// ordinary ones take ResponseDays["operations"].
	UrgentOperationHours int `json:"urgent_operation_hours,omitempty"`
}

// The defaults of the bulk matching commitments.
const (
	DefaultBulkEvaluations  = 20_000
	DefaultBulkAlarmPercent = 25
)

// Limits bound what the link accepts.
type Limits struct {
	MaxBodyBytes int `json:"max_body_bytes"`
	// SeizureMaxKg, SeizureMaxUnits and SeizureMaxCashUSD are the sanity
	// bounds of one seizure: drugs in kilograms, counted units (pills,
	// rounds, firearms…), cash in US dollars. A larger entry is refused as
	// a typing error (0: the defaults).
	SeizureMaxKg      int   `json:"seizure_max_kg,omitempty"`
	SeizureMaxUnits   int64 `json:"seizure_max_units,omitempty"`
	SeizureMaxCashUSD int64 `json:"seizure_max_cash_usd,omitempty"`
}

// The defaults of the seizure sanity bounds: 50 t of drugs, 20 million
// units, 500 million dollars, above the largest seizures on record on
// either side.
const (
	DefaultSeizureMaxKg      = 50_000
	DefaultSeizureMaxUnits   = 20_000_000
	DefaultSeizureMaxCashUSD = 500_000_000
)

// WithDefaults fills the zero limits with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.SeizureMaxKg <= 0 {
		l.SeizureMaxKg = DefaultSeizureMaxKg
	}
	if l.SeizureMaxUnits <= 0 {
		l.SeizureMaxUnits = DefaultSeizureMaxUnits
	}
	if l.SeizureMaxCashUSD <= 0 {
		l.SeizureMaxCashUSD = DefaultSeizureMaxCashUSD
	}
	return l
}

// Signature is one party's signature over the agreement hash.
type Signature struct {
	Party     string `json:"party"`
	Key       string `json:"key"`
	Signature string `json:"signature"`
}

// File is the agreement as stored: the body and the signatures over it.
type File struct {
	Agreement  json.RawMessage `json:"agreement"`
	Signatures []Signature     `json:"signatures"`

	parsed Agreement
	hash   [32]byte
}

// Sentinel errors, so callers can tell a bad file from a missing signature.
var (
	ErrMalformed    = errors.New("agreement is malformed")
	ErrUnsigned     = errors.New("agreement is not signed by both parties")
	ErrBadSignature = errors.New("agreement signature does not verify")
)

// DefaultMaxBodyBytes bounds an envelope body: a 20 MiB attachment plus its
// framing.
const DefaultMaxBodyBytes = 21 << 20

// Draft returns a new agreement between two parties, with the defaults of
// the reference MX–US agreement.
func Draft(a, b Party) *Agreement {
	areas := map[string]bool{}
	for _, x := range Areas {
		areas[x] = true
	}
	return &Agreement{
		Version:   1,
		Title:     "Security cooperation agreement between " + a.Name + " and " + b.Name,
		Reference: "Bilateral security cooperation, September 2025",
		Effective: "2025-09-03",
		Parties:   []Party{a, b},
		WorkAreas: areas,
		Commitments: map[string]Commitments{
			a.Code: {ResponseDays: map[string]int{AreaLiaison: 5, AreaFinIntel: 30, AreaSeizures: 15, AreaOperations: 2, AreaTraining: 30, AreaExtradition: 60, AreaTraces: 10}, TracesFirearms: false, FormalRequestDays: 60, MatchEvaluationsPerDay: 5000,
				MatchBulkEvaluationsPerDay: DefaultBulkEvaluations, MatchBulkAlarmPercent: DefaultBulkAlarmPercent,
				DeconflictEvaluationsPerDay: DefaultDeconflictPerDay, UrgentOperationHours: DefaultUrgentOperationHours},
			b.Code: {ResponseDays: map[string]int{AreaLiaison: 5, AreaFinIntel: 20, AreaSeizures: 10, AreaOperations: 2, AreaTraining: 30, AreaExtradition: 60, AreaTraces: 10}, TracesFirearms: true, FormalRequestDays: 60, MatchEvaluationsPerDay: 5000,
				MatchBulkEvaluationsPerDay: DefaultBulkEvaluations, MatchBulkAlarmPercent: DefaultBulkAlarmPercent,
				DeconflictEvaluationsPerDay: DefaultDeconflictPerDay, UrgentOperationHours: DefaultUrgentOperationHours},
		},
		Caveats:       caveats.Caveats{Classification: "RESTRICTED", Purpose: "intelligence-only", ThirdPartyRule: true},
		Retention:     map[string]int{AreaLiaison: 1825, AreaFinIntel: 1825, AreaSeizures: 3650, AreaOperations: 1825, AreaTraining: 3650, AreaExtradition: 3650},
		Limits:        Limits{MaxBodyBytes: DefaultMaxBodyBytes},
		Deconfliction: Deconfliction{DistanceMeters: DefaultDeconflictMeters, WindowHours: DefaultDeconflictHours, CellLevel: DefaultDeconflictCellLevel},
		Extradition:   Extradition{Terms: DefaultTerms(), WarnDays: DefaultWarnDays},
	}
}

// Encode writes an unsigned agreement as a File ready to be signed.
func (a *Agreement) Encode() ([]byte, error) {
	body, err := json.MarshalIndent(a, "  ", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding agreement: %w", err)
	}
	f := &File{Agreement: body, Signatures: []Signature{}}
	return f.Marshal()
}

// Marshal writes the file in its stored, indented form.
func (f *File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(struct {
		Agreement  json.RawMessage `json:"agreement"`
		Signatures []Signature     `json:"signatures"`
	}{f.Agreement, f.Signatures}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding agreement file: %w", err)
	}
	return append(b, '\n'), nil
}

// Parse reads and checks the shape of an agreement file. It does not check
// signatures; call Verify for that.
func Parse(data []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(f.Agreement) == 0 {
		return nil, fmt.Errorf("%w: no \"agreement\" member", ErrMalformed)
	}
	dec = json.NewDecoder(bytes.NewReader(f.Agreement))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.parsed); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	canon, err := Canonical(f.Agreement)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	f.hash = sha256.Sum256(canon)
	if err := f.parsed.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &f, nil
}

// Load reads and fully verifies the agreement at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading agreement: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("reading agreement %s: %w", path, err)
	}
	if err := f.Verify(); err != nil {
		return nil, fmt.Errorf("reading agreement %s: %w", path, err)
	}
	return f, nil
}

var (
	codeRE = regexp.MustCompile(`^[A-Z]{2}$`)
	fpRE   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

func (a *Agreement) check() error {
	if a.Version != 1 {
		return fmt.Errorf("version %d is not supported", a.Version)
	}
	if len(a.Parties) != 2 {
		return fmt.Errorf("an agreement has exactly two parties, this one has %d", len(a.Parties))
	}
	if a.Parties[0].Code == a.Parties[1].Code {
		return fmt.Errorf("both parties have the code %s", a.Parties[0].Code)
	}
	for _, p := range a.Parties {
		if !codeRE.MatchString(p.Code) {
			return fmt.Errorf("party code %q is not two capital letters", p.Code)
		}
		u, err := url.Parse(p.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("party %s: federation endpoint %q is not an https URL", p.Code, p.Endpoint)
		}
		if _, err := identity.ParsePublicKey(p.SigningKey); err != nil {
			return fmt.Errorf("party %s: %w", p.Code, err)
		}
		if !fpRE.MatchString(p.TLSFingerprint) {
			return fmt.Errorf("party %s: TLS fingerprint %q is not sha256:<64 hex digits>", p.Code, p.TLSFingerprint)
		}
		if _, ok := a.Commitments[p.Code]; !ok {
			return fmt.Errorf("party %s has no commitments", p.Code)
		}
	}
	for area := range a.WorkAreas {
		if !slices.Contains(Areas, area) {
			return fmt.Errorf("unknown work area %q", area)
		}
	}
	if d := a.Deconfliction; d.DistanceMeters < 0 || d.DistanceMeters > 50_000 || d.WindowHours < 0 || d.WindowHours > 48 || d.CellLevel < 0 || (d.CellLevel != 0 && (d.CellLevel < 10 || d.CellLevel > 16)) {
		return fmt.Errorf("deconfliction: distance_meters is 0 to 50,000, window_hours 0 to 48 and cell_level 10 to 16")
	}
	if a.Limits.MaxBodyBytes <= 0 {
		return fmt.Errorf("limits.max_body_bytes must be positive")
	}
	return a.Extradition.check(a)
}

// Hash is the SHA-256 of the canonical agreement body.
func (f *File) Hash() [32]byte { return f.hash }

// HashHex is Hash in lower-case hex, as it appears in envelopes.
func (f *File) HashHex() string { return hex.EncodeToString(f.hash[:]) }

// Body is the parsed agreement.
func (f *File) Body() *Agreement { return &f.parsed }

// Party returns the party with the given code.
func (f *File) Party(code string) (Party, bool) {
	for _, p := range f.parsed.Parties {
		if p.Code == code {
			return p, true
		}
	}
	return Party{}, false
}

// Partner returns the party that is not code.
func (f *File) Partner(code string) (Party, bool) {
	for _, p := range f.parsed.Parties {
		if p.Code != code {
			return p, true
		}
	}
	return Party{}, false
}

// signedMessage is what a party signs: a domain tag and the hash.
func (f *File) signedMessage() []byte {
	return []byte("puente/agreement/v1\n" + f.HashHex() + "\n")
}

// Sign adds (or replaces) the signature of the party whose key is sk.
func (f *File) Sign(sk ed25519.PrivateKey) error {
	key := identity.EncodePublicKey(sk.Public().(ed25519.PublicKey))
	var party string
	for _, p := range f.parsed.Parties {
		if p.SigningKey == key {
			party = p.Code
		}
	}
	if party == "" {
		return fmt.Errorf("this node's key %s is not a party's signing key in the agreement", key)
	}
	f.Signatures = slices.DeleteFunc(f.Signatures, func(s Signature) bool { return s.Party == party })
	f.Signatures = append(f.Signatures, Signature{
		Party:     party,
		Key:       key,
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(sk, f.signedMessage())),
	})
	slices.SortFunc(f.Signatures, func(a, b Signature) int { return strings.Compare(a.Party, b.Party) })
	return nil
}

// Verify checks that both parties have signed this exact agreement with the
// keys it names.
func (f *File) Verify() error {
	var missing []string
	for _, p := range f.parsed.Parties {
		ok, err := f.signedBy(p)
		if err != nil {
			return err
		}
		if !ok {
			missing = append(missing, p.Code)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no signature from %s", ErrUnsigned, strings.Join(missing, ", "))
	}
	return nil
}

// SignedBy reports whether party code has a valid signature on the file.
func (f *File) SignedBy(code string) bool {
	p, ok := f.Party(code)
	if !ok {
		return false
	}
	ok, err := f.signedBy(p)
	return ok && err == nil
}

func (f *File) signedBy(p Party) (bool, error) {
	pk, err := identity.ParsePublicKey(p.SigningKey)
	if err != nil {
		return false, err
	}
	for _, s := range f.Signatures {
		if s.Party != p.Code {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Signature)
		if err != nil || s.Key != p.SigningKey || !ed25519.Verify(pk, f.signedMessage(), sig) {
			return false, fmt.Errorf("%w: the signature of %s", ErrBadSignature, p.Code)
		}
		return true, nil
	}
	return false, nil
}

// Canonical re-encodes a JSON value canonically: object members sorted by
// key (byte order), no insignificant white space, numbers as written, and
// strings escaped as RFC 8785 does for the characters an agreement uses
// (HTML characters are not escaped).
func Canonical(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
