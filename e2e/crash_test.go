package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"puente/internal/agreement"
	"puente/internal/audit"
	"puente/internal/auth"
	"puente/internal/store"
	"puente/internal/testenv"
	"puente/internal/trustlog"
)

// Ports for the nodes' processes come from below the kernel's ephemeral
// range (where ":0" and every outgoing connection take theirs) and from
// another stretch than the CLI scenarios' (20000–32000), never twice in a
// run: a port found free and then taken by another test's connection
// before the node bound it failed runs with "address already in use".
var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
	nextPort  = 10000 + os.Getpid()%5000
)

func freePort(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for tries := 0; tries < 10000; tries++ {
		nextPort++
		if nextPort >= 20000 {
			nextPort = 10000
		}
		if portsUsed[nextPort] {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", nextPort)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue // taken by something else
		}
		l.Close()
		portsUsed[nextPort] = true
		return addr
	}
	t.Fatal("no free port between 10000 and 20000")
	return ""
}

// buildPuente builds the puente binary once for the package's tests (a
// link takes seconds; eight tests use it) and returns its path.
func buildPuente(t *testing.T) string {
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "puente-e2e-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "puente")
		if out, err := exec.Command("go", "build", "-o", built.bin, "puente/cmd/puente").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatalf("building puente: %v", built.err)
	}
	return built.bin
}

var built struct {
	once sync.Once
	bin  string
	err  error
}

// TestMain removes the binary buildPuente built once the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

// proc is one "puente serve" process that can be killed and restarted.
type proc struct {
	t    *testing.T
	bin  string
	dir  string
	env  []string // added to the test's environment
	log  *os.File
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, "serve", "--dir", p.dir)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if p.env != nil {
		cmd.Env = append(os.Environ(), p.env...)
	}
	if err := cmd.Start(); err != nil {
		p.t.Errorf("starting %s: %v", p.dir, err)
		return
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() { _ = cmd.Wait(); close(done) }()
}

// pause stops the process with SIGSTOP (true) or lets it go on with
// SIGCONT (false), without waiting for anything.
func (p *proc) pause(stop bool) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	if cmd != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// signal sends sig and waits for the process to end (killing it after 15 s).
func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

type apiClient struct {
	base, token string
	http        *http.Client
}

func (c *apiClient) post(path string, in, out any) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s: %s", resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

// retry repeats a call while the node is down. A call that fails after its
// transaction committed is sent again, so the application may hold the same
// text twice; the link must still carry every stored message exactly once.
func (c *apiClient) retry(path string, in, out any) {
	for {
		if err := c.post(path, in, out); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCrashAndOutage sends thousands of liaison messages both ways between
// two real nodes while killing either process at random moments and taking
// the receiver down for a stretch. At the end every stored message has
// crossed exactly once, every thread is in order on both sides, and the two
// sides agree on the counts.
func TestCrashAndOutage(t *testing.T) {
	crashAndOutage(t, nil)
}

// TestCrashAndOutagePostgres is the same with both nodes on PostgreSQL,
// each in its own schema.
func TestCrashAndOutagePostgres(t *testing.T) {
	testenv.PostgresSchema(t) // skip or fail before anything starts
	crashAndOutage(t, func() string { return testenv.PostgresSchema(t) })
}

func crashAndOutage(t *testing.T, database func() string) {
	if testing.Short() {
		t.Skip("the crash test runs real processes for a while")
	}
	testenv.FastPasswords(t)
	bin := buildPuente(t)
	dir, specs := newPairOn(t, database)
	ctx := context.Background()
	tokens := map[string]string{}
	for party, agency := range map[string]string{"MX": "UIF", "US": "FinCEN"} {
		tokens[party] = addUser(t, dir, party, auth.NewUser{Username: "sender", DisplayName: "Sender " + party, Role: auth.Analyst, Agency: agency, Password: "crash-test-password"})
	}
	procs := startProcs(t, bin, dir)
	hc := &http.Client{Timeout: 10 * time.Second}
	clients := map[string]*apiClient{
		"MX": {base: "http://" + specs["MX"].HTTPAddr, token: tokens["MX"], http: hc},
		"US": {base: "http://" + specs["US"].HTTPAddr, token: tokens["US"], http: hc},
	}

	// Chaos: kill -9 either node at random moments and restart it; once,
	// keep the receiver down for a stretch.
	stop := make(chan struct{})
	var chaos sync.WaitGroup
	var kills atomic.Int32
	chaos.Add(1)
	go func() {
		defer chaos.Done()
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(150+rand.IntN(400)) * time.Millisecond):
			}
			victim := []string{"MX", "US"}[rand.IntN(2)]
			down := time.Duration(100+rand.IntN(400)) * time.Millisecond
			if round == 2 {
				victim, down = "US", 4*time.Second
			}
			procs[victim].signal(syscall.SIGKILL)
			kills.Add(1)
			time.Sleep(down)
			procs[victim].start()
		}
	}()

	const threadsPerSide, perThread = 25, 45 // 2 × 25 × (1 + 45) = 2,300 messages
	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, from := range []string{"MX", "US"} {
		to := map[string]string{"MX": "FinCEN", "US": "UIF"}[from]
		for th := range threadsPerSide {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := clients[from]
				var thread struct{ ID string }
				c.retry("/api/v1/threads", map[string]any{"subject": fmt.Sprintf("%s thread %d", from, th), "to_agency": to, "body": "0"}, &thread)
				sent.Add(1)
				for j := 1; j <= perThread; j++ {
					var m struct{ ID string }
					c.retry("/api/v1/threads/"+thread.ID+"/messages", map[string]any{"body": strconv.Itoa(j)}, &m)
					sent.Add(1)
					time.Sleep(time.Duration(rand.IntN(160)) * time.Millisecond) // spread the load over the chaos
				}
			}()
		}
	}
	wg.Wait()
	close(stop)
	chaos.Wait()
	t.Logf("%d messages acknowledged through the API, %d kills", sent.Load(), kills.Load())
	if sent.Load() < 2000 || kills.Load() < 3 {
		t.Fatalf("the test did not exercise enough: %d messages, %d kills", sent.Load(), kills.Load())
	}

	// Let both outboxes drain, then stop cleanly and compare the stores.
	for _, p := range procs {
		p.mu.Lock()
		running := p.cmd != nil && p.cmd.ProcessState == nil
		p.mu.Unlock()
		if !running {
			p.start()
		}
	}
	testenv.Eventually(t, 2*time.Minute, "both outboxes draining", func() bool {
		for _, c := range clients {
			req, _ := http.NewRequest("GET", c.base+"/api/v1/status", nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := hc.Do(req)
			if err != nil {
				return false
			}
			var st struct{ Pending int }
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Pending != 0 {
				return false
			}
		}
		return true
	})
	for _, p := range procs {
		p.signal(syscall.SIGTERM)
	}
	dbs := map[string]*store.DB{}
	for _, party := range []string{"MX", "US"} {
		db := openStore(t, dir, party)
		defer db.Close()
		dbs[party] = db
	}
	for _, pair := range [][2]string{{"MX", "US"}, {"US", "MX"}} {
		from, to := pair[0], pair[1]
		sentIDs := messageIDs(t, dbs[from], from, "origin = ?")
		gotIDs := messageIDs(t, dbs[to], from, "origin = ?")
		if len(sentIDs) < threadsPerSide*(perThread+1) {
			t.Fatalf("%s holds %d messages, fewer than the %d acknowledged", from, len(sentIDs), threadsPerSide*(perThread+1))
		}
		if len(gotIDs) != len(sentIDs) {
			t.Fatalf("%s stored %d messages, %s received %d", from, len(sentIDs), to, len(gotIDs))
		}
		for id := range sentIDs {
			if !gotIDs[id] {
				t.Fatalf("message %s from %s never reached %s", id, from, to)
			}
		}
		var undelivered, dupInbox int
		q := dbs[from].Read()
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'`).Scan(&undelivered); err != nil || undelivered != 0 {
			t.Fatalf("%s has %d envelopes without a receipt (%v)", from, undelivered, err)
		}
		if err := dbs[to].Read().QueryRow(ctx, `SELECT COUNT(*) - COUNT(DISTINCT envelope_id) FROM inbox`).Scan(&dupInbox); err != nil || dupInbox != 0 {
			t.Fatalf("%s applied %d envelopes twice (%v)", to, dupInbox, err)
		}
		checkOrder(t, dbs[from], dbs[to], from)
	}
	var mxSent, usRecv int
	dbs["MX"].Read().QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&mxSent)
	dbs["US"].Read().QueryRow(ctx, `SELECT COUNT(*) FROM inbox`).Scan(&usRecv)
	if mxSent != usRecv {
		t.Fatalf("MX sent %d envelopes, US received %d", mxSent, usRecv)
	}
	checkLogs(t, dir, dbs)
}

// checkLogs checks both transparency logs after the chaos: every envelope
// sent, received and receipted is logged exactly once; each log verifies
// offline against its signed checkpoints; every checkpoint one side
// witnessed matches the other side's tree; and every delivered envelope has
// a receipt whose inclusion proof verifies.
func checkLogs(t *testing.T, dir string, dbs map[string]*store.DB) {
	ctx := context.Background()
	ag, err := agreement.Load(filepath.Join(dir, "MX", "agreement.json"))
	if err != nil {
		t.Fatal(err)
	}
	count := func(db *store.DB, q string) int {
		var n int
		if err := db.Read().QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for _, pair := range [][2]string{{"MX", "US"}, {"US", "MX"}} {
		self, partner := pair[0], pair[1]
		db := dbs[self]
		for _, c := range []struct{ what, log, table string }{
			{"sent", `SELECT COUNT(DISTINCT object) FROM log_entries WHERE kind = 'envelope.sent'`, `SELECT COUNT(*) FROM outbox`},
			{"receipt", `SELECT COUNT(DISTINCT object) FROM log_entries WHERE kind = 'receipt.received'`, `SELECT COUNT(*) FROM outbox WHERE state <> 'pending'`},
			{"received", `SELECT COUNT(DISTINCT object) FROM log_entries WHERE kind = 'envelope.received'`, `SELECT COUNT(*) FROM inbox`},
		} {
			logged, rows := count(db, c.log), count(db, c.table)
			total := count(db, strings.Replace(c.log, "COUNT(DISTINCT object)", "COUNT(*)", 1))
			if logged != rows || total != rows {
				t.Errorf("%s: %d envelopes %s, %d logged (%d entries)", self, rows, c.what, logged, total)
			}
		}
		b, err := audit.Export(ctx, db, self, partner, ag.HashHex(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := audit.Verify(b, ag, audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if v.Problem != nil {
			t.Fatalf("%s's log does not verify: %v", self, v.Problem)
		}
		if want := count(db, `SELECT COUNT(*) FROM outbox WHERE state = 'delivered'`) + count(db, `SELECT COUNT(*) FROM inbox`); v.Envelopes != want {
			t.Errorf("%s: %d receipts verified, want %d (delivered plus received)", self, v.Envelopes, want)
		}
		if v.Checkpoints == 0 || v.Cosigned == 0 {
			t.Errorf("%s: %d checkpoints, %d cosigned", self, v.Checkpoints, v.Cosigned)
		}
		t.Logf("%s log: %d entries, %d checkpoints (%d cosigned), %d receipts verified, %d entries after the last checkpoint",
			self, v.Entries, v.Checkpoints, v.Cosigned, v.Envelopes, v.Unsealed)

		// Crashes and outages are not attacks: no alarm may fire.
		if as, err := trustlog.Alarms(ctx, db.Read(), false, 10); err != nil || len(as) > 0 {
			t.Errorf("%s raised alarms during the chaos: %+v (%v)", self, as, err)
		}

		// What the partner witnessed of our log is our log.
		rows, err := dbs[partner].Read().Query(ctx, `SELECT size, root FROM log_witnessed ORDER BY size`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var size int64
			var root []byte
			if err := rows.Scan(&size, &root); err != nil {
				t.Fatal(err)
			}
			h, err := tlog.TreeHash(size, auditReader(b))
			if err != nil || !bytes.Equal(h[:], root) {
				t.Errorf("%s witnessed %s's log at %d entries with a root %s's own entries do not give (%v)", partner, self, size, self, err)
			}
			n++
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s witnessed nothing of %s's log", partner, self)
		}
	}
}

// auditReader serves the stored hashes of a whole-log bundle.
func auditReader(b *audit.Bundle) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			level, n := tlog.SplitStoredHashIndex(x)
			rec := (n+1)<<level - 1
			if rec >= int64(len(b.Entries)) {
				return nil, fmt.Errorf("entry %d is not in the bundle", rec)
			}
			copy(out[i][:], b.Entries[rec].Hashes[level*tlog.HashSize:])
		}
		return out, nil
	})
}

func messageIDs(t *testing.T, db *store.DB, origin, cond string) map[string]bool {
	rows, err := db.Read().Query(context.Background(), `SELECT id FROM messages WHERE `+cond, origin)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		if out[id] {
			t.Fatalf("message %s stored twice", id)
		}
		out[id] = true
	}
	return out
}

// checkOrder compares, thread by thread, the order in which the sender
// stored its messages with the order in which the receiver applied them.
func checkOrder(t *testing.T, sender, receiver *store.DB, origin string) {
	ctx := context.Background()
	order := func(db *store.DB, q string) map[string][]string {
		rows, err := db.Read().Query(ctx, q, origin)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][]string{}
		for rows.Next() {
			var th, id string
			rows.Scan(&th, &id)
			out[th] = append(out[th], id)
		}
		return out
	}
	sent := order(sender, `SELECT m.thread_id, m.id FROM messages m JOIN outbox o ON o.envelope_id = m.envelope_id WHERE m.origin = ? ORDER BY o.seq`)
	got := order(receiver, `SELECT m.thread_id, m.id FROM messages m JOIN inbox i ON i.envelope_id = m.envelope_id WHERE m.origin = ? ORDER BY i.id`)
	for th, ids := range sent {
		if strings.Join(ids, ",") != strings.Join(got[th], ",") {
			t.Fatalf("thread %s arrived out of order", th)
		}
	}
}
