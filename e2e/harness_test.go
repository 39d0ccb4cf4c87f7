package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/identity"
	"puente/internal/node"
	"puente/internal/store"
	"puente/internal/testenv"
	"puente/internal/trustlog"
)

// newPair creates the folders of an MX and a US node in a temporary
// directory, each on free ports, under one signed agreement.
func newPair(t *testing.T) (string, map[string]demo.NodeSpec) {
	t.Helper()
	return newPairOn(t, nil)
}

// newPairOn is newPair with each node's store from database (a
// PostgreSQL URL, say); nil keeps the SQLite file in the node folder.
func newPairOn(t *testing.T, database func() string) (string, map[string]demo.NodeSpec) {
	t.Helper()
	dir := t.TempDir()
	specs := map[string]demo.NodeSpec{}
	for _, party := range []string{"MX", "US"} {
		// The cross-match test walks 30,000 keys: over the default daily
		// commitment, so these pairs commit to more.
		s := demo.NodeSpec{HTTPAddr: freePort(t), FederationAddr: freePort(t), BulkEvaluations: 100_000}
		if database != nil {
			s.Database = database()
		}
		specs[party] = s
	}
	if err := demo.CreatePair(dir, specs); err != nil {
		t.Fatal(err)
	}
	return dir, specs
}

// openStore opens a stopped node's store, wherever its configuration
// puts it.
func openStore(t *testing.T, dir, party string) *store.DB {
	t.Helper()
	c, err := node.LoadConfig(filepath.Join(dir, party))
	if err != nil {
		t.Fatal(err)
	}
	db, err := c.OpenStore(context.Background(), filepath.Join(dir, party))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// openNodeStore opens a stopped node's store with its log, as the
// command-line tools beside a node do.
func openNodeStore(t *testing.T, dir, party string) (*store.DB, *trustlog.Log) {
	t.Helper()
	db := openStore(t, dir, party)
	id, err := identity.Load(filepath.Join(dir, party))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := trustlog.New(db, party, id.Signing)
	if err != nil {
		t.Fatal(err)
	}
	return db, tl
}

// addUser creates a user on a stopped node and returns an API token.
func addUser(t *testing.T, dir, party string, nu auth.NewUser) string {
	t.Helper()
	ctx := context.Background()
	db, tl := openNodeStore(t, dir, party)
	defer db.Close()
	svc := auth.NewService(db, party, tl)
	u, err := svc.Create(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := svc.NewToken(ctx, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// startProcs runs "puente serve" for both nodes of dir, logging to
// dir/PARTY.log. When the test ends both are killed, and on failure the
// last lines of their logs are shown.
func startProcs(t *testing.T, bin, dir string) map[string]*proc {
	t.Helper()
	procs := map[string]*proc{}
	for _, party := range []string{"MX", "US"} {
		lf, err := os.Create(filepath.Join(dir, party+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lf.Close() })
		procs[party] = &proc{t: t, bin: bin, dir: filepath.Join(dir, party), log: lf}
		procs[party].start()
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.signal(syscall.SIGKILL)
		}
		if t.Failed() {
			for _, party := range []string{"MX", "US"} {
				b, _ := os.ReadFile(filepath.Join(dir, party+".log"))
				lines := strings.Split(string(b), "\n")
				t.Logf("%s log (last lines):\n%s", party, strings.Join(lines[max(0, len(lines)-30):], "\n"))
			}
		}
	})
	return procs
}

// newBrowser starts Debian's Chromium headless (with this machine's
// closed-network flags) and returns a tab that ends after timeout.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	chromium := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"), chromedp.WindowSize(1280, 900), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	tab, cancelTime := context.WithTimeout(tab, timeout)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Run(tab); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return tab
}

// screenshot saves the whole page of tab as a PNG artefact.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	var png []byte
	// A page in the middle of a navigation has no size yet: try again
	// for a moment. Headless Chromium paints only the tab in front, so a
	// second tab is brought to the front first; a capture that still waits
	// for a frame on a busy machine is given up after 30 s and tried again.
	var err error
	for try := 0; try < 20; try++ {
		shot, cancel := context.WithTimeout(tab, 30*time.Second)
		err = chromedp.Run(shot, page.BringToFront(), chromedp.FullScreenshot(&png, 100))
		cancel()
		if err == nil || tab.Err() != nil || !(strings.Contains(err.Error(), "0 width") || errors.Is(err, context.DeadlineExceeded)) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", path)
}

// cluster drives two running nodes through their API while killing them.
type cluster struct {
	t         *testing.T
	procs     map[string]*proc
	base      map[string]string
	hc        *http.Client
	restarted map[string]chan struct{}
}

// newCluster drives procs; at the end of the test it waits for every
// restart, so no restarted process escapes the test.
func newCluster(t *testing.T, procs map[string]*proc, specs map[string]demo.NodeSpec) *cluster {
	c := &cluster{t: t, procs: procs, hc: &http.Client{Timeout: 10 * time.Second}, restarted: map[string]chan struct{}{},
		base: map[string]string{"MX": "http://" + specs["MX"].HTTPAddr, "US": "http://" + specs["US"].HTTPAddr}}
	t.Cleanup(func() { c.settle("MX"); c.settle("US") })
	return c
}

// call retries while a node is down; a POST carries one idempotency key
// across its retries, so a reply lost to a kill creates nothing twice.
// It returns the status of the first answer that is not a 5xx.
func (c *cluster) call(party, token, method, path string, in, out any) int {
	t := c.t
	t.Helper()
	key := rand.Text()
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if in != nil {
			b, _ := json.Marshal(in)
			body = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, c.base[party]+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		if method == http.MethodPost {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := c.hc.Do(req)
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 300 && out != nil {
				if err := json.Unmarshal(raw, out); err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
			}
			if resp.StatusCode < 500 && !(resp.StatusCode == http.StatusConflict && bytes.Contains(raw, []byte("idempotency_in_progress"))) {
				if resp.StatusCode >= 300 {
					t.Logf("%s %s %s: %d %s", party, method, path, resp.StatusCode, raw)
				}
				return resp.StatusCode
			}
		}
		if attempt > 600 {
			t.Fatalf("%s %s never answered: %v", method, path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill SIGKILLs a node and restarts it after a pause, in the background;
// a node is never killed again, nor stopped, before its restart.
func (c *cluster) kill(party string, restartAfter time.Duration) {
	c.settle(party)
	c.procs[party].signal(syscall.SIGKILL)
	c.t.Logf("killed %s", party)
	ch := make(chan struct{})
	c.restarted[party] = ch
	go func(p *proc) { time.Sleep(restartAfter); p.start(); close(ch) }(c.procs[party])
}

// settle waits for the node's pending restart, if any.
func (c *cluster) settle(party string) {
	if ch := c.restarted[party]; ch != nil {
		<-ch
	}
}

// stop ends both nodes (SIGTERM, after their restarts) and opens their
// stores.
func (c *cluster) stop(dir string) map[string]*store.DB {
	dbs := map[string]*store.DB{}
	for _, party := range []string{"MX", "US"} {
		c.settle(party)
		c.procs[party].signal(syscall.SIGTERM)
		db, _ := openNodeStore(c.t, dir, party)
		c.t.Cleanup(func() { db.Close() })
		dbs[party] = db
	}
	return dbs
}
