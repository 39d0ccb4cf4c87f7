package api

import (
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
