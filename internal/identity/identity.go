// Package identity holds a node's keys: the Ed25519 key that signs
// envelopes, receipts and the agreement, and the TLS key and self-signed
// certificate that the partner pins. Keys never leave the node folder.
package identity

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside a node folder.
const (
	SigningKeyFile = "signing.key"
	TLSKeyFile     = "tls.key"
	TLSCertFile    = "tls.crt"
)

// ErrKeyExposed is returned when a key file can be read by users other than
// its owner. The node refuses to start until the mode is fixed (chmod 600).
var ErrKeyExposed = errors.New("key file is readable by other users")

// Identity is a node's loaded key material.
type Identity struct {
	Signing ed25519.PrivateKey
	TLS     tls.Certificate
}

// Generate writes a new signing key, TLS key and self-signed certificate for
// the party code into dir. hosts are the names and addresses the
// federation listener answers on. It refuses to overwrite existing keys.
func Generate(dir, code string, hosts []string) (*Identity, error) {
	for _, f := range []string{SigningKeyFile, TLSKeyFile, TLSCertFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil, fmt.Errorf("%s already exists in %s: refusing to overwrite a node's keys", f, dir)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating node folder: %w", err)
	}
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(sk)
	if err != nil {
		return nil, fmt.Errorf("encoding signing key: %w", err)
	}
	if err := writePEM(filepath.Join(dir, SigningKeyFile), "PRIVATE KEY", der, 0o600); err != nil {
		return nil, err
	}

	tk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "puente node " + code, Organization: []string{"puente " + code}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range append([]string{"localhost", "127.0.0.1"}, hosts...) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &tk.PublicKey, tk)
	if err != nil {
		return nil, fmt.Errorf("creating TLS certificate: %w", err)
	}
	tkDER, err := x509.MarshalPKCS8PrivateKey(tk)
	if err != nil {
		return nil, fmt.Errorf("encoding TLS key: %w", err)
	}
	if err := writePEM(filepath.Join(dir, TLSKeyFile), "PRIVATE KEY", tkDER, 0o600); err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, TLSCertFile), "CERTIFICATE", cert, 0o644); err != nil {
		return nil, err
	}
	return Load(dir)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// Load reads a node's keys from dir. It fails with ErrKeyExposed if a key
// file is readable or writable by group or others.
func Load(dir string) (*Identity, error) {
	for _, f := range []string{SigningKeyFile, TLSKeyFile} {
		p := filepath.Join(dir, f)
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading node keys: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("%s has mode %04o: %w (run chmod 600 %s)", p, st.Mode().Perm(), ErrKeyExposed, p)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, SigningKeyFile))
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		return nil, fmt.Errorf("reading signing key: %s is not PEM", SigningKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	sk, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("reading signing key: %s is not an Ed25519 key", SigningKeyFile)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, TLSCertFile), filepath.Join(dir, TLSKeyFile))
	if err != nil {
		return nil, fmt.Errorf("reading TLS key pair: %w", err)
	}
	return &Identity{Signing: sk, TLS: cert}, nil
}

// PublicKey is the signing key's public half.
func (id *Identity) PublicKey() ed25519.PublicKey { return id.Signing.Public().(ed25519.PublicKey) }

// SigningKeyString is the public signing key as it is written in the
// agreement: "ed25519:" followed by standard base64.
func (id *Identity) SigningKeyString() string { return EncodePublicKey(id.PublicKey()) }

// TLSFingerprint is the fingerprint the partner pins.
func (id *Identity) TLSFingerprint() string { return CertFingerprint(id.TLS.Certificate[0]) }

// EncodePublicKey writes an Ed25519 public key as "ed25519:<base64>".
func EncodePublicKey(pk ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pk)
}

// ParsePublicKey reads the form EncodePublicKey writes.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(s, "ed25519:")
	if !ok {
		return nil, fmt.Errorf("signing key %q lacks the ed25519: prefix", s)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("signing key %q is not a base64 Ed25519 public key", s)
	}
	return ed25519.PublicKey(raw), nil
}

// CertFingerprint is "sha256:" and the lower-case hex SHA-256 of a DER
// certificate.
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SignRecord signs a record of the given kind ("case-record") with the
// node's signing key, under a prefix that names the kind, so a record's
// signature can never pass for an envelope's or another kind's.
func (id *Identity) SignRecord(kind string, msg []byte) []byte {
	return ed25519.Sign(id.Signing, recordMessage(kind, msg))
}

// VerifyRecord checks a record's signature made by SignRecord.
func VerifyRecord(pub ed25519.PublicKey, kind string, msg, sig []byte) bool {
	return ed25519.Verify(pub, recordMessage(kind, msg), sig)
}

func recordMessage(kind string, msg []byte) []byte {
	return append([]byte("puente record "+kind+" v1\n"), msg...)
}
