package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"net/http"
	"strings"
	"sync"
	"unicode"

	"puente/internal/auth"
	"puente/internal/idempotency"
)

// PathOpenAPI is the one route served without a token.
const PathOpenAPI = "GET /api/v1/openapi.json"

// Route is one API route as data: its method pattern and its handler for
// an authenticated user. Its OpenAPI operation is the one at the same
// method and path in openapi.json, whose operationId is
// OperationID(Pattern); a test holds the two together.
type Route struct {
	Pattern string
	Handle  func(w http.ResponseWriter, r *http.Request, u *auth.User)
	// Permission, if set, is checked before anything of the body is read.
	Permission auth.Permission
	// MaxBody bounds the request body (DefaultMaxBody when 0): a larger
	// one is refused with 413 before the handler runs.
	MaxBody int64
}

// DefaultMaxBody bounds the body of a route that declares no MaxBody.
const DefaultMaxBody = 1 << 20

// limit wraps h with the route's permission and body limit, in that order
// and before h reads anything.
func (a *Env) limit(rt Route) func(http.ResponseWriter, *http.Request, *auth.User) {
	max := rt.MaxBody
	if max == 0 {
		max = DefaultMaxBody
	}
	return func(w http.ResponseWriter, r *http.Request, u *auth.User) {
		if rt.Permission != "" && !u.Can(rt.Permission) {
			writeErr(w, Error{Code: CodeForbidden, Message: "your role does not allow this"})
			return
		}
		if r.ContentLength > max {
			writeErr(w, Error{Code: CodeTooLarge, Message: fmt.Sprintf("this route takes at most %d bytes", max)})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		if key := r.Header.Get(HeaderIdempotencyKey); key != "" && r.Method == http.MethodPost {
			a.idempotent(w, r, u, key, rt.Handle)
			return
		}
		rt.Handle(w, r, u)
	}
}

// HeaderIdempotencyKey makes a POST safe to retry (package idempotency).
const HeaderIdempotencyKey = "Idempotency-Key"

// idempotent handles a POST that carries a key: the first answer of an
// identical request is replayed, a key reused with another request is a
// conflict, and only a successful answer is kept (a refused request
// created nothing and may be sent again).
func (a *Env) idempotent(w http.ResponseWriter, r *http.Request, u *auth.User, key string, h func(http.ResponseWriter, *http.Request, *auth.User)) {
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeErr(w, Error{Code: CodeTooLarge, Message: fmt.Sprintf("the request is larger than the %d bytes this route takes", mbe.Limit)})
		return
	} else if err != nil {
		writeErr(w, Error{Code: CodeBadRequest, Message: "the request body could not be read"})
		return
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s %s?%s\n", r.Method, r.URL.Path, r.URL.RawQuery)
	sum.Write(body)
	ctx := r.Context()
	stored, err := idempotency.Begin(ctx, a.n.DB, u.ID, key, hex.EncodeToString(sum.Sum(nil)))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	if stored != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(stored.Status)
		_, _ = w.Write(stored.Body)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	h(rec, r, u)
	// The answer is kept even if the client has gone: that is the case
	// the key is for. context.WithoutCancel keeps the store writes going.
	ctx = context.WithoutCancel(ctx)
	if rec.status >= 200 && rec.status < 300 {
		err = idempotency.Finish(ctx, a.n.DB, u.ID, key, idempotency.Answer{Status: rec.status, Body: rec.body.Bytes()})
	} else {
		err = idempotency.Abandon(ctx, a.n.DB, u.ID, key)
	}
	if err != nil {
		a.log.Error("keeping an idempotent answer", "path", r.URL.Path, "err", err)
	}
}

// recorder passes an answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// OperationID is the operationId of the route with pattern, derived from
// it so that it cannot drift: "GET /api/v1/finintel/rfis/{id}" is
// "getFinintelRfisById".
func OperationID(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		if p, ok := strings.CutPrefix(seg, "{"); ok {
			b.WriteString("By")
			seg = strings.TrimSuffix(p, "}")
		}
		up := true
		for _, c := range seg {
			if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
				up = true
				continue
			}
			if up {
				c = unicode.ToUpper(c)
				up = false
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

var (
	regMu    sync.Mutex
	registry = map[string]func(*Env) []Route{}
)

// Register makes routes the API of the work area named name: each area's
// file in this package calls it from init. Only areas the node runs
// (node.Areas) are served. Registering a name twice panics.
func Register(name string, routes func(*Env) []Route) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("api: area " + name + " registered twice")
	}
	registry[name] = routes
}
