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
	"strconv"
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
	b := appendField(nil, "puente/hello/v1")
	for _, f := range []string{h.Party, h.Agreement, h.Time} {
		b = appendField(b, f)
	}
	return b
}

// FederationHandler serves the partner. Mount it on a listener that uses
// ServerTLS.
func (l *Link) FederationHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathHello, l.serveHello)
	mux.HandleFunc("POST "+PathEnvelopes, l.serveEnvelopes)
	for pattern, h := range l.fedRoutes {
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !l.checkAgreementHeader(w, r) {
				return
			}
			h.ServeHTTP(w, r)
		}))
	}
	return mux
}

// HandleFederation adds a route (a "METHOD /fed/v1/…" pattern) to the
// federation listener, behind the same pinned mutual TLS and agreement
// check as the envelope route. Call it before the node starts serving.
func (l *Link) HandleFederation(pattern string, h http.Handler) {
	l.fedRoutes[pattern] = h
}

// CallError is a partner's non-success answer to Call.
type CallError struct {
	Status int
	Body   []byte
}

func (e *CallError) Error() string {
	return fmt.Sprintf("partner answered with HTTP %d: %.200s", e.Status, e.Body)
}

// Call POSTs req as JSON to path on the partner's federation endpoint and
// decodes a 200 answer into resp. Any other answer is a *CallError (or a
// *MismatchError when the agreements differ).
func (l *Link) Call(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encoding a call to %s: %w", path, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, l.partner.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building a call to %s: %w", path, err)
	}
	hr.Header.Set(HeaderAgreement, l.cfg.Agreement.HashHex())
	hr.Header.Set("Content-Type", "application/json")
	r, err := l.client.Do(hr)
	if err != nil {
		return fmt.Errorf("calling %s%s: %w", l.partner.Endpoint, path, err)
	}
	defer r.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("reading the answer to %s: %w", path, err)
	}
	switch r.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(rb, resp); err != nil {
			return fmt.Errorf("reading the answer to %s: %w", path, err)
		}
		return nil
	case http.StatusConflict:
		var m struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(rb, &m) == nil && m.Error == "agreement_mismatch" {
			return l.mismatchFrom(rb)
		}
	}
	return &CallError{Status: r.StatusCode, Body: rb}
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
	first, changed := l.state.mismatch == "", l.state.mismatch != mm.Error()
	l.state.mismatch = mm.Error()
	l.mu.Unlock()
	if first {
		l.log.Error("partner connected under another agreement", "theirs", theirs, "ours", l.cfg.Agreement.HashHex())
	}
	if changed {
		// Stored, so that every replica of the node shows it.
		l.saveState(r.Context(), map[string]string{"mismatch": mm.Error()})
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
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxRequest), r.ContentLength)
	if err != nil {
		l.rejectWhole(w, r.Context(), body, CodeTooLarge, "the request is larger than "+fmt.Sprint(maxRequest)+" bytes")
		return
	}
	var b envelopeBatch
	if err := json.Unmarshal(body, &b); err != nil || b.Envelopes == nil {
		l.rejectWhole(w, r.Context(), body, CodeMalformed, "the request is not a JSON object with an \"envelopes\" array")
		return
	}
	items, err := l.receive(r.Context(), b.Envelopes)
	var answer []byte
	if err == nil {
		answer, err = receiptsJSON(items)
	}
	if err != nil {
		l.log.Error("receiving a batch", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporary", "message": "the node could not apply the batch; send it again"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

// readBody reads all of r, which a limit reader bounds, into a buffer sized
// from the announced length: delivery bodies run to megabytes, and growing
// a buffer by doubling copies them several times. The partner announces
// the length, so no more than preallocMax is set aside before the bytes
// actually arrive.
func readBody(r io.Reader, announced int64) ([]byte, error) {
	var buf bytes.Buffer
	if announced > 0 {
		buf.Grow(int(min(announced, preallocMax)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// preallocMax bounds what readBody reserves on the partner's word.
const preallocMax = 4 << 20

// joinJSON is prefix, the JSON values parts separated by commas, and
// suffix.
func joinJSON(prefix string, parts [][]byte, suffix string) []byte {
	n := len(prefix) + len(parts) + len(suffix)
	for _, p := range parts {
		n += len(p)
	}
	b := append(make([]byte, 0, n), prefix...)
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	return append(b, suffix...)
}

// rejectWhole quarantines a request that is not a batch at all and answers
// with one signed rejection.
func (l *Link) rejectWhole(w http.ResponseWriter, ctx context.Context, body []byte, code, reason string) {
	it := &incoming{raw: body}
	rej := &RejectError{Code: code, Reason: reason}
	err := l.cfg.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := l.quarantine(ctx, tx, it, rej); err != nil {
			return err
		}
		return l.prove(ctx, tx, []*incoming{it})
	})
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
func (l *Link) post(ctx context.Context, raws [][]byte) ([]*Receipt, error) {
	// The envelopes are the outbox's own JSON, written by Enqueue: join
	// them as they are rather than encoding each again.
	body := joinJSON(`{"envelopes":[`, raws, `]}`)
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
	rb, err := readBody(io.LimitReader(resp.Body, 64<<20), resp.ContentLength)
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
