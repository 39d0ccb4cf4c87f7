package web_test

import (
	"errors"
	"log/slog"
	"path/filepath"
	"puente/internal/fault"
	"sync"

	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"puente/internal/api"
	"puente/internal/area"
	"puente/internal/auth"
	"puente/internal/caveats"
	"puente/internal/demo"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/node"
	"puente/internal/store"
	"puente/internal/testenv"
	"puente/internal/web"
)

// pingArea is a throw-away work area: it exists only in this file, and
// plugs into the node through the area contract alone.
type pingArea struct {
	d      area.Deps
	pings  atomic.Int32
	worker atomic.Bool
}

const pingKind = "pingtest.ping"

func (a *pingArea) Name() string { return "pingtest" }

func (a *pingArea) Kinds() []area.Kind {
	return []area.Kind{{Kind: pingKind, Version: 1, Handler: link.HandlerFunc(func(ctx context.Context, tx *store.Tx, env *link.Envelope) error {
		var b struct {
			N int `json:"n"`
		}
		if err := link.DecodeBody(env, &b); err != nil {
			return err
		}
		tx.AfterCommit(func() { a.pings.Add(int32(b.N)) })
		return nil
	})}}
}

func (a *pingArea) Run(ctx context.Context) error {
	a.worker.Store(true)
	<-ctx.Done()
	return nil
}

func (a *pingArea) Event(ctx context.Context, u *auth.User, e live.Event) (string, string, bool) {
	return "pingtest", e.Key, e.Topic == "pingtest"
}

func (a *pingArea) Reciprocity(ctx context.Context, u *auth.User) (*area.Table, error) {
	return &area.Table{Area: "pingtest", Title: "recip.title", Sides: []string{"MX", "US"},
		Rows: []area.Row{{Label: "recip.hint", Cells: []area.Cell{{Value: "7"}, {Value: "9", Bad: true}}}}}, nil
}

// SeedDemo sends the partner one ping over the link.
func (a *pingArea) SeedDemo(ctx context.Context, s area.Seed) error {
	return a.d.DB.ReadWrite(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := a.d.Link.Enqueue(ctx, tx, link.Outgoing{Kind: pingKind, Version: 1, Stream: "pingtest:seed",
			Caveats: caveats.Caveats{Classification: "RESTRICTED"}, Body: map[string]int{"n": 1}})
		return err
	})
}

// TestAThrowAwayAreaPlugsIn: an area defined in a test file gets link
// kinds, a worker, API routes, a web page and menu entry, live events,
// reciprocity figures and a demo seed, without any shared file naming it.
func TestAThrowAwayAreaPlugsIn(t *testing.T) {
	saved := node.Areas
	node.Areas = append(slices.Clone(node.Areas), func(d area.Deps) (area.Area, error) { return &pingArea{d: d}, nil })
	t.Cleanup(func() { node.Areas = saved })
	api.Register("pingtest", func(e *api.Env) []api.Route {
		return []api.Route{{Pattern: "GET /api/v1/pingtest", Handle: func(w http.ResponseWriter, r *http.Request, u *auth.User) {
			api.WriteJSON(w, http.StatusOK, map[string]int32{"pings": area.Find[*pingArea](e.Node()).pings.Load()})
		}}}
	})
	web.Register("pingtest", func(s *web.Server) web.Face {
		return web.Face{
			Pages: []web.Page{{Pattern: "GET /pingtest", Permission: auth.LiaisonRead, Handle: func(w http.ResponseWriter, r *http.Request, u *auth.User) {
				io.WriteString(w, "the ping page for "+u.Username)
			}}},
			Nav: []web.NavItem{{Path: "/pingtest", ID: "nav-pingtest", Label: "nav.home", Permission: auth.LiaisonRead}},
		}
	})

	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	for _, n := range []*node.Node{mx, us} {
		if !slices.Contains(n.Link.Kinds(), pingKind+"/1") {
			t.Fatalf("%s: the area's kind is not registered: %v", n.Config.Party, n.Link.Kinds())
		}
		testenv.Eventually(t, 10*time.Second, "the area's worker to run", area.Find[*pingArea](n).worker.Load)
		// The demo users the other areas' seeds act as (the pair already
		// has its analyst).
		for _, du := range demo.Users[n.Config.Party] {
			_, err := n.Auth.Create(ctx, auth.NewUser{Username: du.Username, DisplayName: du.Name, Role: du.Role, Agency: du.Agency, Password: demo.Password})
			if err != nil && !errors.Is(err, fault.ErrConflict) {
				t.Fatal(err)
			}
		}
	}

	// The demo seed runs the area's SeedDemo, whose ping crosses the link.
	if err := demo.SeedAreas(ctx, mx, us); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the seeded ping to reach US", func() bool { return area.Find[*pingArea](us).pings.Load() == 1 })

	// The API route, behind a token.
	req, _ := http.NewRequest("GET", p.URL("US")+"/api/v1/pingtest", nil)
	req.Header.Set("Authorization", "Bearer "+p.Tokens["US"])
	if body, st := fetch(t, http.DefaultClient, req); st != http.StatusOK || !strings.Contains(body, `"pings": 1`) {
		t.Fatalf("GET /api/v1/pingtest: %d %s", st, body)
	}
	req, _ = http.NewRequest("GET", p.URL("US")+"/api/v1/pingtest", nil)
	if _, st := fetch(t, http.DefaultClient, req); st != http.StatusUnauthorized {
		t.Fatalf("GET /api/v1/pingtest without a token: %d", st)
	}

	// The page, its menu entry and its reciprocity table, for a signed-in user.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := c.PostForm(p.URL("MX")+"/login", url.Values{"username": {"supervisora"}, "password": {demo.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for path, want := range map[string]string{"/pingtest": "the ping page for supervisora", "/": `id="nav-pingtest"`, "/reciprocity": `id="recip-pingtest"`} {
		req, _ := http.NewRequest("GET", p.URL("MX")+path, nil)
		if body, st := fetch(t, c, req); st != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want %q in the page", path, st, want)
		}
	}

	// Its live events reach the signed-in user's event stream.
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, _ = http.NewRequestWithContext(sctx, "GET", p.URL("MX")+"/events", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go func() {
		for sctx.Err() == nil {
			mx.Hub.Publish(live.Event{Topic: "pingtest", Key: "k1"})
			time.Sleep(100 * time.Millisecond)
		}
	}()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"name":"pingtest"`) && strings.Contains(sc.Text(), `"key":"k1"`) {
			return
		}
	}
	t.Fatalf("the area's live event never reached the page's stream: %v", sc.Err())
}

func fetch(t *testing.T, c *http.Client, req *http.Request) (string, int) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

// failingArea's worker fails once the node runs.
type failingArea struct{}

func (failingArea) Name() string { return "failtest" }

func (failingArea) Run(ctx context.Context) error {
	select {
	case <-time.After(200 * time.Millisecond):
		return errors.New("the failtest index is corrupt")
	case <-ctx.Done():
		return nil
	}
}

// TestAFailingWorkerStopsTheNode: an area worker's error is not dropped:
// it is logged and stops the whole node, servers included, and Run
// returns it.
func TestAFailingWorkerStopsTheNode(t *testing.T) {
	saved := node.Areas
	node.Areas = append(slices.Clone(node.Areas), func(area.Deps) (area.Area, error) { return failingArea{}, nil })
	t.Cleanup(func() { node.Areas = saved })
	testenv.FastPasswords(t)
	dir := t.TempDir()
	if err := demo.CreatePair(dir, map[string]demo.NodeSpec{"MX": {HTTPAddr: "127.0.0.1:0", FederationAddr: "127.0.0.1:0"},
		"US": {HTTPAddr: "127.0.0.1:0", FederationAddr: "127.0.0.1:0"}}); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	n, err := web.OpenNode(context.Background(), filepath.Join(dir, "MX"), nil, slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	done := make(chan error, 1)
	go func() { done <- n.Run(context.Background(), nil) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "failtest worker: the failtest index is corrupt") {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the node kept running after its worker failed")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "node stopped on a failure") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
