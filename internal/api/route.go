package api

import (
	"fmt"

	"net/http"
	"strings"
	"sync"
	"unicode"

	"puente/internal/auth"
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
		rt.Handle(w, r, u)
	}
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
