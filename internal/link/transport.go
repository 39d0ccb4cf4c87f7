package link

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"puente/internal/identity"
	"puente/internal/store"
)

// Federation HTTP paths, served on the mutual-TLS listener only.
const (
	PathHello     = "/fed/v1/hello"
	PathEnvelopes = "/fed/v1/envelopes"
	// HeaderAgreement carries the sender's agreement hash on every request.
	HeaderAgreement = "Puente-Agreement"
	// maxRequest bounds one delivery request: a batch never holds more
	// than one maximal envelope beyond the batch byte budget.
	maxRequest = 96 << 20
	batchBytes = 32 << 20
)

// pin returns a VerifyPeerCertificate callback that accepts exactly the
// certificate whose fingerprint is fp. No certificate authority is trusted.
func pin(fp string) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("the peer presented no certificate")
		}
		if got := identity.CertFingerprint(raw[0]); got != fp {
			return fmt.Errorf("the peer's certificate %s is not the partner's pinned certificate %s", short(got), short(fp))
		}
		return nil
	}
}

// ServerTLS is the federation listener's TLS configuration: TLS 1.3, a
// client certificate required and pinned to the partner's.
func (l *Link) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{l.cfg.Identity.TLS},
		ClientAuth:            tls.RequireAnyClientCert,
		VerifyPeerCertificate: pin(l.partner.TLSFingerprint),
		NextProtos:            []string{"h2", "http/1.1"},
	}
}

func (l *Link) clientTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{l.cfg.Identity.TLS},
		// Chain verification is replaced by pinning: VerifyPeerCertificate
		// still runs and accepts only the partner's certificate.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: pin(l.partner.TLSFingerprint),
	}
}

// hello is the signed handshake answer.
type hello struct {
	Party     string `json:"party"`
	Agreement string `json:"agreement"`
	Time      string `json:"time"`
	Sig       []byte `json:"sig"`
}

func (h *hello) signingInput() []byte {
	b := appendField(nil, []byte("puente/hello/v1"))
	for _, f := range []string{h.Party, h.Agreement, h.Time} {
		b = appendField(b, []byte(f))
	}
	return b
}

// FederationHandler serves the partner. Mount it on a listener that uses
// ServerTLS.
func (l *Link) FederationHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathHello, l.serveHello)
	mux.HandleFunc("POST "+PathEnvelopes, l.serveEnvelopes)
	return mux
}

func (l *Link) serveHello(w http.ResponseWriter, r *http.Request) {
	if !l.checkAgreementHeader(w, r) {
		return
	}
	h := &hello{Party: l.self.Code, Agreement: l.cfg.Agreement.HashHex(), Time: timestamp(time.Now())}
	h.Sig = signBytes(l, h.signingInput())
	writeJSON(w, http.StatusOK, h)
}

// checkAgreementHeader refuses a request made under another agreement, and
// remembers it so both sides show the error.
func (l *Link) checkAgreementHeader(w http.ResponseWriter, r *http.Request) bool {
	theirs := r.Header.Get(HeaderAgreement)
	if theirs == l.cfg.Agreement.HashHex() {
		return true
	}
	mm := &MismatchError{Ours: l.cfg.Agreement.HashHex(), Theirs: theirs}
	l.mu.Lock()
	first := l.state.mismatch == ""
	l.state.mismatch = mm.Error()
	l.mu.Unlock()
	if first {
		l.log.Error("partner connected under another agreement", "theirs", theirs, "ours", l.cfg.Agreement.HashHex())
	}
	h := &hello{Party: l.self.Code, Agreement: l.cfg.Agreement.HashHex(), Time: timestamp(time.Now())}
	h.Sig = signBytes(l, h.signingInput())
	writeJSON(w, http.StatusConflict, map[string]any{"error": "agreement_mismatch", "message": mm.Error(), "hello": h})
	return false
}

type envelopeBatch struct {
	Envelopes []json.RawMessage `json:"envelopes"`
}

type receiptBatch struct {
	Receipts []*Receipt `json:"receipts"`
}

func (l *Link) serveEnvelopes(w http.ResponseWriter, r *http.Request) {
	if !l.checkAgreementHeader(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		l.rejectWhole(w, r.Context(), body, CodeTooLarge, "the request is larger than "+fmt.Sprint(maxRequest)+" bytes")
		return
	}
	var b envelopeBatch
	if err := json.Unmarshal(body, &b); err != nil || b.Envelopes == nil {
		l.rejectWhole(w, r.Context(), body, CodeMalformed, "the request is not a JSON object with an \"envelopes\" array")
		return
	}
	receipts, err := l.Receive(r.Context(), b.Envelopes)
	if err != nil {
		l.log.Error("receiving a batch", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporary", "message": "the node could not apply the batch; send it again"})
		return
	}
	writeJSON(w, http.StatusOK, receiptBatch{Receipts: receipts})
}

// rejectWhole quarantines a request that is not a batch at all and answers
// with one signed rejection.
func (l *Link) rejectWhole(w http.ResponseWriter, ctx context.Context, body []byte, code, reason string) {
	it := &incoming{raw: body}
	rej := &RejectError{Code: code, Reason: reason}
	err := l.cfg.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error { return l.quarantine(ctx, tx, it, rej) })
	if err != nil {
		l.log.Error("quarantining a request", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporary"})
		return
	}
	l.metrics.received.WithLabelValues(StatusRejected).Inc()
	l.log.Warn("request rejected", "code", code, "reason", reason)
	writeJSON(w, http.StatusBadRequest, receiptBatch{Receipts: []*Receipt{it.receipt}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Hello performs the handshake: it checks that the partner answers, proves
// its key and runs the same agreement.
func (l *Link) Hello(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.partner.Endpoint+PathHello, nil)
	if err != nil {
		return fmt.Errorf("building hello: %w", err)
	}
	req.Header.Set(HeaderAgreement, l.cfg.Agreement.HashHex())
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("reaching %s: %w", l.partner.Endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading hello: %w", err)
	}
	if resp.StatusCode == http.StatusConflict {
		return l.mismatchFrom(body)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("partner answered hello with %s", resp.Status)
	}
	var h hello
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("reading hello: %w", err)
	}
	if h.Party != l.partner.Code || !verifyBytes(l, h.signingInput(), h.Sig) {
		return errors.New("the partner's hello is not signed by the partner's key")
	}
	if h.Agreement != l.cfg.Agreement.HashHex() {
		return &MismatchError{Ours: l.cfg.Agreement.HashHex(), Theirs: h.Agreement}
	}
	return nil
}

func (l *Link) mismatchFrom(body []byte) error {
	var m struct {
		Hello hello `json:"hello"`
	}
	if json.Unmarshal(body, &m) == nil && m.Hello.Party == l.partner.Code && verifyBytes(l, m.Hello.signingInput(), m.Hello.Sig) {
		return &MismatchError{Ours: l.cfg.Agreement.HashHex(), Theirs: m.Hello.Agreement}
	}
	return &MismatchError{Ours: l.cfg.Agreement.HashHex(), Theirs: "(unsigned answer)"}
}

// post sends one batch and returns the partner's receipts.
func (l *Link) post(ctx context.Context, raws []json.RawMessage) ([]*Receipt, error) {
	body, err := json.Marshal(envelopeBatch{Envelopes: raws})
	if err != nil {
		return nil, fmt.Errorf("encoding batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.partner.Endpoint+PathEnvelopes, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building delivery: %w", err)
	}
	req.Header.Set(HeaderAgreement, l.cfg.Agreement.HashHex())
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("delivering to %s: %w", l.partner.Endpoint, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading receipts: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusConflict:
		return nil, l.mismatchFrom(rb)
	default:
		return nil, fmt.Errorf("partner answered the delivery with %s", resp.Status)
	}
	var out receiptBatch
	if err := json.Unmarshal(rb, &out); err != nil {
		return nil, fmt.Errorf("reading receipts: %w", err)
	}
	if len(out.Receipts) != len(raws) {
		return nil, fmt.Errorf("partner answered %d envelopes with %d receipts", len(raws), len(out.Receipts))
	}
	return out.Receipts, nil
}

func signBytes(l *Link, msg []byte) []byte { return ed25519.Sign(l.cfg.Identity.Signing, msg) }

func verifyBytes(l *Link, msg, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(l.partnerKey, msg, sig)
}
