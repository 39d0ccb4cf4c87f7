package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/node"
	"puente/internal/testenv"
)

// hugeBody is n bytes of a multipart form that never ends, counting what
// the client's transport actually took from it.
type hugeBody struct {
	n, read int64
	taken   *atomic.Int64
}

func (b *hugeBody) Read(p []byte) (int, error) {
	if b.read >= b.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), b.n-b.read)
	for i := range p[:k] {
		p[i] = 'x'
	}
	b.read += k
	b.taken.Add(k)
	return int(k), nil
}

// TestBodiesAreBoundedBeforeReading: a 100 MiB post is refused (413) or,
// on a route the user may not use, forbidden (403) before the node reads
// it; slow clients are cut off.
func TestBodiesAreBoundedBeforeReading(t *testing.T) {
	p := testenv.StartPair(t, func(_ string, c *node.Config) { c.HeaderTimeout.Duration = 300 * time.Millisecond })
	ctx := context.Background()
	mx := p.Nodes["MX"]
	if _, err := mx.Auth.Create(ctx, auth.NewUser{Username: "auditora", DisplayName: "A", Role: auth.Auditor, Agency: "SRE", Password: "auditor-password-1"}); err != nil {
		t.Fatal(err)
	}
	u, _ := mx.Auth.List(ctx)
	var auditorID int64
	for _, x := range u {
		if x.Username == "auditora" {
			auditorID = x.ID
		}
	}
	_, token, err := mx.Auth.NewToken(ctx, auditorID, "t")
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(p.URL("MX")+"/login", url.Values{"username": {"auditora"}, "password": {"auditor-password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	const size = 100 << 20
	for _, c := range []struct {
		name, path string
		chunked    bool
		bearer     bool
		want       int
	}{
		{"language, no sign-in needed", "/lang", false, false, http.StatusRequestEntityTooLarge},
		{"language, sent without a length", "/lang", true, false, 0},
		{"goAML import by an auditor", "/finintel/goaml", false, false, http.StatusForbidden},
		{"a new thread by an auditor", "/threads", false, false, http.StatusForbidden},
		{"a cross-match list by an auditor", "/crossmatch", false, false, http.StatusRequestEntityTooLarge}, // over its 33 MiB before its role
		{"API goAML import by an auditor", "/api/v1/finintel/goaml", false, true, http.StatusForbidden},
		{"API subject import by an auditor", "/api/v1/subjects", false, true, http.StatusForbidden},
		{"API language", "PUT /api/v1/me/language", false, true, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			var taken atomic.Int64
			method, path, ok := strings.Cut(c.path, " ")
			if !ok {
				method, path = "POST", c.path
			}
			req, _ := http.NewRequest(method, p.URL("MX")+path, &hugeBody{n: size, taken: &taken})
			req.Header.Set("Content-Type", "multipart/form-data; boundary=zzz")
			if !c.chunked {
				req.ContentLength = size
			}
			if c.bearer {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := browser.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if c.want != 0 && resp.StatusCode != c.want {
					t.Errorf("status %d, want %d", resp.StatusCode, c.want)
				}
			} else if c.want != 0 {
				t.Fatalf("the node did not answer: %v", err)
			}
			// What the client managed to send: socket buffers at most.
			if n := taken.Load(); n > 16<<20 {
				t.Errorf("the node took %d MiB of a %d MiB body it refuses", n>>20, size>>20)
			}
		})
	}

	t.Run("slow headers are cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", mx.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // and never the blank line
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		buf := make([]byte, 512)
		for {
			if _, err := conn.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("a client that never finished its headers was still connected after 10 s")
				}
				break
			}
		}
		t.Logf("cut off after %v", time.Since(start).Round(time.Millisecond))
	})
}
