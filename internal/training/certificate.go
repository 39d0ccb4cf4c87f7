package training

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/ident"
	"puente/internal/identity"
	"puente/internal/link"
	"puente/internal/store"
)

// Certificate and revocation list formats, and the domains of their
// signatures (identity.SignRecord).
const (
	CertFormat       = "puente-certificate/1"
	RevocationFormat = "puente-revocations/1"
	certKind         = "training-certificate"
	revocationKind   = "training-revocations"
)

// Certificate is what a certificate says: signed as the exact bytes of
// File.Certificate by the offering node's Ed25519 key.
type Certificate struct {
	ID          string       `json:"id"`
	Agreement   string       `json:"agreement"` // the agreement's hex SHA-256
	Issuer      string       `json:"issuer"`    // the offering side
	IssuedAt    time.Time    `json:"issued_at"`
	Course      CertCourse   `json:"course"`
	Participant CertPerson   `json:"participant"`
	Result      string       `json:"result"`
	Hours       int          `json:"hours"`
	Instructors []Instructor `json:"instructors"`
}

// CertCourse is the course as the certificate names it.
type CertCourse struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	Subject string `json:"subject"`
	Agency  string `json:"agency"`
	Place   string `json:"place"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Hours   int    `json:"hours"`
}

// CertPerson is the participant: the name in clear, the identifier only
// as a digest (IDDigest) that whoever holds the identifier can check.
type CertPerson struct {
	Nomination string `json:"nomination"`
	Name       string `json:"name"`
	Rank       string `json:"rank,omitempty"`
	Unit       string `json:"unit"`
	Agency     string `json:"agency"`
	IDDigest   string `json:"id_digest"`
}

// File is a certificate as downloaded: the certificate's bytes and the
// signature over them.
type File struct {
	Format      string          `json:"format"`
	Certificate json.RawMessage `json:"certificate"`
	Signature   string          `json:"signature"` // base64
}

// IDDigest is the digest of a participant's identifier in certificate
// certID: SHA-256 over a domain tag, the certificate's id, the type and
// the normalised identifier, in hex. The id in it keeps one person's
// certificates from being linked by their digests.
func IDDigest(certID, idType, nationalID string) string {
	sum := sha256.Sum256([]byte("puente certificate participant v1\n" + certID + "\n" + idType + ":" + nationalID))
	return hex.EncodeToString(sum[:])
}

// ParseCertificate reads a certificate file without checking its
// signature.
func ParseCertificate(raw []byte) (*Certificate, error) {
	_, c, err := parse(raw)
	return c, err
}

func parse(raw []byte) (*File, *Certificate, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("the file is not a certificate: %w", err)
	}
	if f.Format != CertFormat {
		return nil, nil, fmt.Errorf("the file's format %q is not %s", f.Format, CertFormat)
	}
	var c Certificate
	dec = json.NewDecoder(bytes.NewReader(f.Certificate))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("the certificate is not readable: %w", err)
	}
	return &f, &c, nil
}

// Keys are what offline verification needs from the agreement: its hash
// and each party's signing key.
type Keys struct {
	Agreement string
	Parties   map[string]ed25519.PublicKey
}

// KeysOf reads them from a signed agreement file.
func KeysOf(f *agreement.File) (Keys, error) {
	return keysOf(f.Body(), f.HashHex())
}

func keysOf(a *agreement.Agreement, hash string) (Keys, error) {
	k := Keys{Agreement: hash, Parties: map[string]ed25519.PublicKey{}}
	for _, p := range a.Parties {
		pub, err := identity.ParsePublicKey(p.SigningKey)
		if err != nil {
			return k, fmt.Errorf("the agreement's key of %s: %w", p.Code, err)
		}
		k.Parties[p.Code] = pub
	}
	return k, nil
}

// Verified is a certificate and what does not hold about it: none means
// it is what the issuer's node signed, under this agreement, and not
// revoked in the lists given.
type Verified struct {
	*Certificate
	Problems []string
	// Revoked is set when a revocation list names the certificate.
	Revoked *Revocation
}

func (v *Verified) problems() []string {
	if v == nil {
		return nil
	}
	return v.Problems
}

// VerifyCertificate checks a certificate file offline: its format, the
// agreement it was issued under, the issuer's signature over its exact
// bytes (naming the key that did sign it, when another party's did), and
// that no revocation list of its issuer names it. It returns an error only
// for a file that is not a certificate.
func VerifyCertificate(raw []byte, k Keys, lists ...*RevocationList) (*Verified, error) {
	f, c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	v := &Verified{Certificate: c}
	if c.Agreement != k.Agreement {
		v.Problems = append(v.Problems, "it was issued under another agreement ("+c.Agreement+")")
	}
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	pub, ok := k.Parties[c.Issuer]
	switch {
	case !ok:
		v.Problems = append(v.Problems, "its issuer "+c.Issuer+" is not a party to the agreement")
	case err != nil || len(sig) != ed25519.SignatureSize:
		v.Problems = append(v.Problems, "its signature is not an Ed25519 signature")
	case !identity.VerifyRecord(pub, certKind, f.Certificate, sig):
		other := ""
		for code, p := range k.Parties {
			if code != c.Issuer && identity.VerifyRecord(p, certKind, f.Certificate, sig) {
				other = code
			}
		}
		if other != "" {
			v.Problems = append(v.Problems, fmt.Sprintf("it was signed with the key of %s, not of its issuer %s", other, c.Issuer))
		} else {
			v.Problems = append(v.Problems, "the signature of "+c.Issuer+" does not verify: the certificate was changed after it was signed, or signed with a key this agreement does not hold")
		}
	}
	for _, l := range lists {
		if l == nil || l.Issuer != c.Issuer {
			continue
		}
		for i := range l.Revoked {
			if l.Revoked[i].ID == c.ID {
				v.Revoked = &l.Revoked[i]
				v.Problems = append(v.Problems, fmt.Sprintf("%s revoked it on %s: %s", c.Issuer, l.Revoked[i].At.Format(time.DateOnly), l.Revoked[i].Reason))
			}
		}
	}
	return v, nil
}

// CheckID reports whether the certificate names the holder of the
// identifier.
func (c *Certificate) CheckID(idType, raw string) bool {
	country := map[string]string{"MX": "MEX", "US": "USA"}
	for _, side := range []string{"MX", "US"} {
		id, err := ident.Normalize(ident.Kind(idType), raw, ident.Context{Country: country[side]})
		if err == nil && IDDigest(c.ID, idType, id) == c.Participant.IDDigest {
			return true
		}
	}
	return false
}

// certify issues the certificate of nomination nid of our offer o, stores
// it, and returns the step that carries it to the partner.
func (s *Service) certify(ctx context.Context, tx *store.Tx, o *Offer, nid string, now time.Time, by string) (*Step, error) {
	if s.cfg.Identity == nil {
		return nil, fmt.Errorf("this node has no signing key for certificates")
	}
	n := o.Nomination(nid)
	if n == nil {
		return nil, ErrNoCert
	}
	if n.Result != ResultPassed {
		return nil, fieldNotPassed
	}
	c := Certificate{ID: link.NewID(), Agreement: s.cfg.AgreementHash, Issuer: s.self, IssuedAt: now,
		Course:      CertCourse{ID: o.ID, Title: o.Title, Type: o.Type, Subject: o.Subject, Agency: o.Agency, Place: o.Place, Start: o.Start, End: o.End, Hours: o.Hours},
		Participant: CertPerson{Nomination: n.ID, Name: n.Participant.Name, Rank: n.Participant.Rank, Unit: n.Participant.Unit, Agency: n.Participant.Agency},
		Result:      n.Result, Hours: n.Hours, Instructors: o.Instructors}
	c.Participant.IDDigest = IDDigest(c.ID, n.Participant.IDType, n.Participant.NationalID)
	if c.Instructors == nil {
		c.Instructors = []Instructor{}
	}
	raw, err := Sign(s.cfg.Identity, &c)
	if err != nil {
		return nil, err
	}
	st := &Step{Offer: o.ID, Step: StepCertify, At: now, By: by, NominationID: nid, Certificate: raw}
	if err := apply(o, s.self, st); err != nil {
		return nil, err
	}
	if err := s.storeCertificate(ctx, tx, o, &c, raw); err != nil {
		return nil, err
	}
	return st, nil
}

// Sign signs a certificate with a node's key and returns the file.
func Sign(id *identity.Identity, c *Certificate) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding the certificate: %w", err)
	}
	// Compact, not indented: the file holds the signed bytes as they were
	// signed, and stays byte for byte the same wherever it is embedded
	// (a step on the link compacts what it carries).
	raw, err := json.Marshal(File{Format: CertFormat, Certificate: body, Signature: base64.StdEncoding.EncodeToString(id.SignRecord(certKind, body))})
	if err != nil {
		return nil, fmt.Errorf("encoding the certificate: %w", err)
	}
	return raw, nil
}

func (s *Service) storeCertificate(ctx context.Context, tx *store.Tx, o *Offer, c *Certificate, raw []byte) error {
	if _, err := tx.Exec(ctx, `INSERT INTO training_certificates (id, offer_id, nomination_id, issuer, agency, issued_at, revoked_at, revoked_why, doc) VALUES (?, ?, ?, ?, ?, ?, 0, '', ?)`,
		c.ID, o.ID, c.Participant.Nomination, c.Issuer, c.Participant.Agency, c.IssuedAt.UnixMilli(), string(raw)); err != nil {
		return fmt.Errorf("storing certificate: %w", err)
	}
	s.changed(tx, "certificates")
	return s.log.Record(ctx, tx, KindLogIssued, "certificate:"+c.ID, "offer="+o.ID+" issuer="+c.Issuer+" agency="+c.Participant.Agency)
}

func (s *Service) revoke(ctx context.Context, tx *store.Tx, id string, st *Step) error {
	res, err := tx.Exec(ctx, `UPDATE training_certificates SET revoked_at = ?, revoked_why = ? WHERE id = ? AND revoked_at = 0`, st.At.UnixMilli(), st.Reason, id)
	if err != nil {
		return fmt.Errorf("revoking certificate: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return link.Reject("certificate %s is not one standing", id)
	}
	s.changed(tx, "certificates")
	return s.log.Record(ctx, tx, KindLogRevoked, "certificate:"+id, "by="+st.By)
}

// Issued is a certificate as a node lists it.
type Issued struct {
	ID         string    `json:"id"`
	Offer      string    `json:"offer"`
	Nomination string    `json:"nomination"`
	Issuer     string    `json:"issuer"`
	Agency     string    `json:"agency"`
	IssuedAt   time.Time `json:"issued_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	Revoked    string    `json:"revoked_reason,omitempty"`
	// Certificate is what it says.
	Certificate *Certificate `json:"certificate"`
	raw         []byte
}

// Raw is the certificate file, byte for byte as issued.
func (i *Issued) Raw() []byte { return i.raw }

func scanIssued(sc store.Scanner) (*Issued, error) {
	var i Issued
	var issued, revoked int64
	var doc string
	if err := sc.Scan(&i.ID, &i.Offer, &i.Nomination, &i.Issuer, &i.Agency, &issued, &revoked, &i.Revoked, &doc); err != nil {
		return nil, err
	}
	i.IssuedAt = time.UnixMilli(issued).UTC()
	if revoked > 0 {
		i.RevokedAt = time.UnixMilli(revoked).UTC()
	}
	i.raw = []byte(doc)
	c, err := ParseCertificate(i.raw)
	if err != nil {
		return nil, err
	}
	i.Certificate = c
	return &i, nil
}

const issuedCols = `id, offer_id, nomination_id, issuer, agency, issued_at, revoked_at, revoked_why, doc`

// Certificates lists the certificates issued by either side, newest
// first; offer, when set, narrows them to one offer.
func (s *Service) Certificates(ctx context.Context, u *auth.User, offer string) ([]*Issued, error) {
	if !u.Can(auth.TrainRead) {
		return nil, ErrForbidden
	}
	q, args := `SELECT `+issuedCols+` FROM training_certificates`, []any{}
	if offer != "" {
		q += ` WHERE offer_id = ?`
		args = append(args, offer)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY issued_at DESC, id LIMIT 2000`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing certificates: %w", err)
	}
	out, err := store.Collect(rows, scanIssued)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []*Issued{}
	}
	return out, nil
}

// Certificate returns one certificate.
func (s *Service) Certificate(ctx context.Context, u *auth.User, id string) (*Issued, error) {
	if !u.Can(auth.TrainRead) {
		return nil, ErrForbidden
	}
	i, err := scanIssued(s.db.Read().QueryRow(ctx, `SELECT `+issuedCols+` FROM training_certificates WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoCert
	}
	if err != nil {
		return nil, fmt.Errorf("reading certificate %s: %w", id, err)
	}
	return i, nil
}

// Check verifies a certificate file against this node's agreement and the
// revocations it knows of (its own and those the partner sent).
func (s *Service) Check(ctx context.Context, u *auth.User, raw []byte) (*Verified, error) {
	if !u.Can(auth.TrainRead) {
		return nil, ErrForbidden
	}
	k, err := keysOf(s.cfg.Agreement, s.cfg.AgreementHash)
	if err != nil {
		return nil, err
	}
	v, err := VerifyCertificate(raw, k)
	if err != nil {
		return nil, fieldNotCertificate
	}
	if i, err := s.Certificate(ctx, u, v.ID); err == nil && !i.RevokedAt.IsZero() && !slices.ContainsFunc(v.Problems, func(p string) bool { return strings.Contains(p, "revoked") }) {
		v.Revoked = &Revocation{ID: i.ID, At: i.RevokedAt, Reason: i.Revoked}
		v.Problems = append(v.Problems, fmt.Sprintf("%s revoked it on %s: %s", i.Issuer, i.RevokedAt.Format(time.DateOnly), i.Revoked))
	} else if errors.Is(err, ErrNoCert) {
		v.Problems = append(v.Problems, "this node has no record of it")
	}
	return v, nil
}

// Revocation is one revoked certificate.
type Revocation struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// RevocationList is the certificates one issuer revoked, as of IssuedAt.
type RevocationList struct {
	Issuer    string       `json:"issuer"`
	Agreement string       `json:"agreement"`
	IssuedAt  time.Time    `json:"issued_at"`
	Revoked   []Revocation `json:"revoked"`
}

// RevocationFile is a revocation list as downloaded, signed like a
// certificate.
type RevocationFile struct {
	Format    string          `json:"format"`
	List      json.RawMessage `json:"list"`
	Signature string          `json:"signature"`
}

// Revocations is this node's signed list of the certificates it revoked.
func (s *Service) Revocations(ctx context.Context) ([]byte, error) {
	if s.cfg.Identity == nil {
		return nil, fmt.Errorf("this node has no signing key")
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id, revoked_at, revoked_why FROM training_certificates WHERE issuer = ? AND revoked_at > 0 ORDER BY id`, s.self)
	if err != nil {
		return nil, fmt.Errorf("reading revocations: %w", err)
	}
	revoked, err := store.Collect(rows, func(sc store.Scanner) (Revocation, error) {
		var r Revocation
		var at int64
		err := sc.Scan(&r.ID, &at, &r.Reason)
		r.At = time.UnixMilli(at).UTC()
		return r, err
	})
	if err != nil {
		return nil, err
	}
	if revoked == nil {
		revoked = []Revocation{}
	}
	body, err := json.Marshal(RevocationList{Issuer: s.self, Agreement: s.cfg.AgreementHash, IssuedAt: s.Now(), Revoked: revoked})
	if err != nil {
		return nil, err
	}
	return json.Marshal(RevocationFile{Format: RevocationFormat, List: body, Signature: base64.StdEncoding.EncodeToString(s.cfg.Identity.SignRecord(revocationKind, body))})
}

// VerifyRevocations checks a revocation list file against the agreement's
// keys and returns the list.
func VerifyRevocations(raw []byte, k Keys) (*RevocationList, error) {
	var f RevocationFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.Format != RevocationFormat {
		return nil, fmt.Errorf("the file is not a %s revocation list", RevocationFormat)
	}
	var l RevocationList
	if err := json.Unmarshal(f.List, &l); err != nil {
		return nil, fmt.Errorf("the revocation list is not readable: %w", err)
	}
	if l.Agreement != k.Agreement {
		return nil, fmt.Errorf("the revocation list was issued under another agreement")
	}
	pub, ok := k.Parties[l.Issuer]
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	if !ok || err != nil || !identity.VerifyRecord(pub, revocationKind, f.List, sig) {
		return nil, fmt.Errorf("the revocation list's signature of %s does not verify", l.Issuer)
	}
	return &l, nil
}
