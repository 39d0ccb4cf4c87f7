package extradition

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/identity"
)

// RecordFormat names the case record's format.
const RecordFormat = "puente-case-record/1"

// recordKind is the signature's domain (identity.SignRecord).
const recordKind = "case-record"

// Record is a case as one node signs it: the case, its stages, its
// documents (described by their SHA-256) and its clocks as of IssuedAt,
// each part with its SHA-256 in Digests, and the node's Ed25519
// signature over the header and the digests. Anyone with the agreement
// verifies it offline (VerifyRecord), and a changed part is named.
type Record struct {
	Format     string            `json:"format"`
	Agreement  string            `json:"agreement"` // the agreement's hex SHA-256
	Signer     string            `json:"signer"`    // the party whose node signed
	IssuedAt   time.Time         `json:"issued_at"`
	Case       RecordCase        `json:"case"`
	Stages     []Stage           `json:"stages"`
	Documents  []RecordDocument  `json:"documents"`
	Clocks     []RecordClock     `json:"clocks"`
	Assurances []Assurance       `json:"assurances"`
	Digests    map[string]string `json:"digests"`
	Signature  string            `json:"signature"` // base64
}

// RecordCase is the case's own part.
type RecordCase struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Requesting  string    `json:"requesting"`
	Requested   string    `json:"requested"`
	OpenedBy    string    `json:"opened_by"`
	Agency      string    `json:"agency"`
	Person      Person    `json:"person"`
	Target      string    `json:"target,omitempty"`
	Group       string    `json:"group,omitempty"`
	Destination string    `json:"destination,omitempty"`
	Charges     string    `json:"charges,omitempty"`
	Opened      time.Time `json:"opened_at"`
}

// RecordDocument is a document as the record names it.
type RecordDocument struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	Language    string `json:"language"`
	Certified   bool   `json:"certified"`
	Translation string `json:"translation_sha256,omitempty"`
	Side        string `json:"side"`
	At          string `json:"at"`
}

// RecordClock is a clock as of the record's issue.
type RecordClock struct {
	Term    string `json:"term"`
	Party   string `json:"party"`
	Started string `json:"started"`
	Due     string `json:"due"`
	Stopped string `json:"stopped,omitempty"`
	Met     bool   `json:"met,omitempty"`
	Overdue bool   `json:"overdue,omitempty"`
	Source  string `json:"source"`
}

func digest(v any) string {
	b, _ := json.Marshal(v)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// digests are the parts' SHA-256, by name: "case", "stages[0]"… and the
// counts of the lists, so a removed or added item is named too.
func (r *Record) digests() map[string]string {
	out := map[string]string{"case": digest(r.Case), "count.stages": fmt.Sprint(len(r.Stages)), "count.documents": fmt.Sprint(len(r.Documents)),
		"count.clocks": fmt.Sprint(len(r.Clocks)), "count.assurances": fmt.Sprint(len(r.Assurances))}
	for i, a := range r.Assurances {
		out[fmt.Sprintf("assurances[%d]", i)] = digest(a)
	}
	for i, s := range r.Stages {
		out[fmt.Sprintf("stages[%d]", i)] = digest(s)
	}
	for i, d := range r.Documents {
		out[fmt.Sprintf("documents[%d]", i)] = digest(d)
	}
	for i, k := range r.Clocks {
		out[fmt.Sprintf("clocks[%d]", i)] = digest(k)
	}
	return out
}

// signed is what the signature covers: the header and the digests.
func (r *Record) signed() []byte {
	b, _ := json.Marshal(struct {
		Format    string            `json:"format"`
		Agreement string            `json:"agreement"`
		Signer    string            `json:"signer"`
		IssuedAt  time.Time         `json:"issued_at"`
		Digests   map[string]string `json:"digests"`
	}{r.Format, r.Agreement, r.Signer, r.IssuedAt, r.Digests})
	return b
}

// CaseRecord issues the signed record of a case as this node holds it.
func (s *Service) CaseRecord(ctx context.Context, u *auth.User, id string) (*Record, error) {
	if s.cfg.Identity == nil {
		return nil, fmt.Errorf("this node has no signing key for records")
	}
	c, err := s.GetCase(ctx, u, id)
	if err != nil {
		return nil, err
	}
	docs, err := s.Documents(ctx, u, id)
	if err != nil {
		return nil, err
	}
	r := &Record{Format: RecordFormat, Agreement: s.cfg.AgreementHash, Signer: s.self, IssuedAt: s.Now(),
		Case: RecordCase{ID: c.ID, Kind: c.Kind, Requesting: c.Requesting, Requested: c.Requested, OpenedBy: c.OpenedBy, Agency: c.Agency, Person: c.Person,
			Target: c.Target, Group: c.Group, Destination: c.Destination, Charges: c.Charges, Opened: c.Opened},
		Stages: c.Stages, Documents: []RecordDocument{}, Clocks: []RecordClock{}, Assurances: c.Assurances}
	if r.Assurances == nil {
		r.Assurances = []Assurance{}
	}
	if r.Stages == nil {
		r.Stages = []Stage{}
	}
	for _, d := range docs {
		rd := RecordDocument{ID: d.ID, Kind: d.Kind, Name: d.Name, SHA256: d.SHA256, Size: d.Size, Language: d.Language, Certified: d.Certified, Side: d.Side,
			At: d.At.UTC().Format(time.RFC3339)}
		if d.Translation != nil {
			rd.Translation = d.Translation.SHA256
		}
		r.Documents = append(r.Documents, rd)
	}
	for _, k := range c.Clocks {
		rc := RecordClock{Term: k.Term, Party: k.Party, Started: k.Started.Format(time.DateOnly), Due: k.Due.Format(time.DateOnly), Met: k.Met, Overdue: k.Overdue, Source: k.Source}
		if !k.Open() {
			rc.Stopped = k.Stopped.Format(time.DateOnly)
		}
		r.Clocks = append(r.Clocks, rc)
	}
	r.Digests = r.digests()
	r.Signature = base64.StdEncoding.EncodeToString(s.cfg.Identity.SignRecord(recordKind, r.signed()))
	return r, nil
}

// VerifyRecord checks a case record offline against the signed agreement:
// the format, that it was issued under this agreement, the signer's
// signature over its digests, and every part against its digest. It
// returns what does not hold, naming the part ("stages[2] changed"); none
// means the record is what the signer's node issued.
func VerifyRecord(raw []byte, ag *agreement.File) (*Record, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, nil, fmt.Errorf("the file is not a case record: %w", err)
	}
	var problems []string
	if r.Format != RecordFormat {
		problems = append(problems, fmt.Sprintf("format %q is not %s", r.Format, RecordFormat))
	}
	if r.Agreement != ag.HashHex() {
		problems = append(problems, "it was issued under another agreement ("+r.Agreement+")")
	}
	p, ok := ag.Party(r.Signer)
	if !ok {
		return &r, append(problems, "its signer "+r.Signer+" is not a party to the agreement"), nil
	}
	pub, err := identity.ParsePublicKey(p.SigningKey)
	if err != nil {
		return &r, nil, fmt.Errorf("the agreement's key of %s: %w", r.Signer, err)
	}
	sig, err := base64.StdEncoding.DecodeString(r.Signature)
	if err != nil || !identity.VerifyRecord(pub, recordKind, r.signed(), sig) {
		problems = append(problems, "the signature of "+r.Signer+" does not verify over the header and the digests")
	}
	now := r.digests()
	names := map[string]bool{}
	for k := range now {
		names[k] = true
	}
	for k := range r.Digests {
		names[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		switch want, got := r.Digests[k], now[k]; {
		case want == got:
		case strings.HasPrefix(k, "count."):
			problems = append(problems, fmt.Sprintf("%s: the record holds %s, the signature covers %s", strings.TrimPrefix(k, "count."), got, want))
		case want == "":
			problems = append(problems, k+" was added")
		case got == "":
			problems = append(problems, k+" was removed")
		default:
			problems = append(problems, k+" changed")
		}
	}
	return &r, problems, nil
}
