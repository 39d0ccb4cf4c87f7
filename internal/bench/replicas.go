package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/identity"
	"puente/internal/lb"
	"puente/internal/node"
	"puente/internal/replica"
	"puente/internal/store"
	"puente/internal/trustlog"
)

// ReplicaOptions configure "puente bench link --replicas N".
type ReplicaOptions struct {
	Postgres string
	Replicas int
	N        int
	Clients  int
	// Kills is how many times the leading replica is killed (SIGKILL) to
	// time the failover; none with a single replica.
	Kills int
	// Route is how the API clients reach the replicas: RouteSpread (each
	// request to the next replica, as a round-robin load balancer does) or
	// RouteLeader (every request to the replica whose /readyz/leader
	// answers 200, as a load balancer with that health check does).
	Route string
	Log   io.Writer
}

// The ways a load balancer may send the API clients to the replicas.
const (
	RouteSpread = "spread"
	RouteLeader = "leader"
)

// ReplicaResult is the replica benchmark's one JSON line.
type ReplicaResult struct {
	Store         string  `json:"store"`
	Replicas      int     `json:"replicas"`
	Route         string  `json:"route"`
	Clients       int     `json:"clients"`
	Envelopes     int     `json:"envelopes"`
	EnvelopesPerS float64 `json:"envelopes_per_s"`
	// WriterLockWaitersAvg is how many of the node's write transactions
	// were, on average, waiting for the writers' lock (store.WriterLock)
	// during the throughput run, sampled every 50 ms.
	WriterLockWaitersAvg float64 `json:"writer_lock_waiters_avg"`
	// LeaderCPUs and FollowerCPUs are the CPU seconds of the leading
	// replica and of the others together during the throughput run.
	LeaderCPUs   float64 `json:"leader_cpu_s"`
	FollowerCPUs float64 `json:"followers_cpu_s"`
	// USCPUs is the US node's process, DBCPUs the PostgreSQL server's
	// (when it runs on this machine), over the same run: with the two
	// above, where the machine's cores went.
	USCPUs float64 `json:"us_cpu_s"`
	DBCPUs float64 `json:"db_cpu_s,omitempty"`
	// FailoverS is the slowest, FailoverMedianS the median, of the times
	// from the SIGKILL of the leader to the first envelope whose receipt
	// the next leader stored; LeadS the slowest time until another
	// replica said it led.
	Kills           int     `json:"kills,omitempty"`
	FailoverS       float64 `json:"failover_s,omitempty"`
	FailoverMedianS float64 `json:"failover_median_s,omitempty"`
	LeadS           float64 `json:"lead_s,omitempty"`
	CPUs            int     `json:"cpus"`
	GoVersion       string  `json:"go"`
}

// Print writes the result as one JSON line.
func (r *ReplicaResult) Print(w io.Writer) error { return printJSON(w, r) }

// replicaRun is the MX node as replica processes of this binary behind a
// TCP balancer, and the US node as one process, each on its own schema.
type replicaRun struct {
	dir    string
	exe    string
	urls   []string
	env    [][]string
	cmds   []*exec.Cmd
	done   []chan struct{} // closed when cmds[i] has ended
	us     *exec.Cmd
	usDone chan struct{}
	front  *lb.Balancer
	db     *store.DB // the MX store, read by the harness
	token  string
	hc     *http.Client
	pg     string
	schema []string
	// route and leading: with RouteLeader, requests go to replica leading,
	// looked up again (as a load balancer's health check would) when it
	// does not answer.
	route   string
	leading atomic.Int64
}

// Replicas runs the link benchmark with the MX node as o.Replicas
// processes on one PostgreSQL store, then kills its leader o.Kills times.
func Replicas(ctx context.Context, o ReplicaOptions) (*ReplicaResult, error) {
	if o.Postgres == "" {
		return nil, errors.New("replicas share a PostgreSQL store: give --db postgres://…")
	}
	if o.Replicas < 1 {
		return nil, errors.New("--replicas must be at least 1")
	}
	switch o.Route {
	case "":
		o.Route = RouteSpread
	case RouteSpread, RouteLeader:
	default:
		return nil, fmt.Errorf("--route must be %s or %s, not %q", RouteSpread, RouteLeader, o.Route)
	}
	say := logger(o.Log)
	r, err := startReplicas(ctx, o.Postgres, o.Replicas)
	if err != nil {
		return nil, err
	}
	defer r.close()
	r.route = o.Route
	r.findLeader()
	res := &ReplicaResult{Store: "postgres", Replicas: o.Replicas, Route: o.Route, Clients: o.Clients, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	threads := make([]string, 32)
	for i := range threads {
		var t struct{ ID string }
		if err := r.post(ctx, i, "/api/v1/threads", map[string]any{"subject": fmt.Sprintf("replica bench %d", i), "to_agency": "FinCEN", "body": "opening"}, &t); err != nil {
			return nil, err
		}
		threads[i] = t.ID
	}
	if err := r.drained(ctx, time.Minute); err != nil {
		return nil, err
	}

	say("throughput: %d envelopes from MX to US through %d replicas (route: %s)…", o.N, o.Replicas, o.Route)
	leader, _, err := r.leader(ctx, -1, 10*time.Second)
	if err != nil {
		return nil, err
	}
	cpu0, us0 := r.cpu(), pidCPU(r.us.Process.Pid)
	dbCPU := dbCPUMeter(ctx, r.db)
	var base int
	_ = r.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&base)
	stopSampling := make(chan struct{})
	var samples, waiters atomic.Int64
	go func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
			var n int64
			if r.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n) == nil {
				samples.Add(1)
				waiters.Add(n)
			}
		}
	}()
	start := time.Now()
	err = fanOut(o.Clients, o.N, func(i int64) error {
		body := map[string]any{"body": "bench message " + strconv.FormatInt(i, 10)}
		return r.post(ctx, int(i), "/api/v1/threads/"+threads[int(i)%len(threads)]+"/messages", body, nil)
	})
	if err != nil {
		close(stopSampling)
		return nil, err
	}
	if err := r.drained(ctx, 5*time.Minute); err != nil {
		close(stopSampling)
		return nil, err
	}
	elapsed := time.Since(start)
	close(stopSampling)
	cpu1, us1 := r.cpu(), pidCPU(r.us.Process.Pid)
	if d, ok := dbCPU(); ok {
		res.DBCPUs = round(d.Seconds())
	}
	res.USCPUs = round((us1 - us0).Seconds())
	var total int
	_ = r.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&total)
	res.Envelopes = total - base
	res.EnvelopesPerS = round(float64(res.Envelopes) / elapsed.Seconds())
	if n := samples.Load(); n > 0 {
		res.WriterLockWaitersAvg = round2(float64(waiters.Load()) / float64(n))
	}
	for i := range cpu1 {
		d := (cpu1[i] - cpu0[i]).Seconds()
		if i == leader {
			res.LeaderCPUs = round(d)
		} else {
			res.FollowerCPUs += d
		}
	}
	res.FollowerCPUs = round(res.FollowerCPUs)
	say("throughput: %.0f envelopes/s", res.EnvelopesPerS)

	if o.Replicas < 2 || o.Kills <= 0 {
		return res, nil
	}
	// Failover: a steady trickle of messages through the replicas that
	// live, while the leader is killed.
	stop := make(chan struct{})
	var trickle sync.WaitGroup
	trickle.Add(1)
	go func() {
		defer trickle.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			_ = r.post(ctx, i, "/api/v1/threads/"+threads[i%len(threads)]+"/messages", map[string]any{"body": "failover " + strconv.Itoa(i)}, nil)
		}
	}()
	defer func() { close(stop); trickle.Wait() }()
	var failovers, leads []float64
	for k := range o.Kills {
		time.Sleep(2 * time.Second)
		old, st, err := r.leader(ctx, -1, 15*time.Second)
		if err != nil {
			return nil, err
		}
		say("failover %d: killing the leader, %s (term %d)…", k+1, r.name(old), st.Epoch)
		killed := time.Now()
		_ = r.cmds[old].Process.Kill()
		<-r.done[old]
		if _, _, err := r.leader(ctx, old, 30*time.Second); err != nil {
			return nil, err
		}
		leads = append(leads, time.Since(killed).Seconds())
		var done int64
		for time.Since(killed) < time.Minute && done == 0 {
			time.Sleep(10 * time.Millisecond)
			_ = r.db.Read().QueryRow(ctx, `SELECT COALESCE(MIN(done_at), 0) FROM outbox WHERE settled_epoch > ? AND done_at >= ?`, st.Epoch, killed.UnixMilli()).Scan(&done)
		}
		if done == 0 {
			return nil, fmt.Errorf("no envelope was delivered within a minute of killing the leader")
		}
		failovers = append(failovers, time.UnixMilli(done).Sub(killed).Seconds())
		say("failover %d: %.2f s to the first delivery by the next leader", k+1, failovers[len(failovers)-1])
		if err := r.start(old); err != nil {
			return nil, err
		}
	}
	slices.Sort(failovers)
	res.Kills = len(failovers)
	res.FailoverS = round2(failovers[len(failovers)-1])
	res.FailoverMedianS = round2(failovers[len(failovers)/2])
	res.LeadS = round2(slices.Max(leads))
	return res, nil
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func startReplicas(ctx context.Context, pg string, n int) (*replicaRun, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "puente-bench-replicas-")
	if err != nil {
		return nil, err
	}
	r := &replicaRun{dir: dir, exe: exe, hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}, pg: pg}
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	specs := map[string]demo.NodeSpec{}
	for _, code := range []string{"MX", "US"} {
		name := "bench_" + strings.ToLower(code) + "_" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
		dsn, err := demo.Schema(ctx, pg, name)
		if err != nil {
			return nil, err
		}
		r.schema = append(r.schema, name)
		h, f, err := freeAddrs()
		if err != nil {
			return nil, err
		}
		specs[code] = demo.NodeSpec{HTTPAddr: h, FederationAddr: f, Database: dsn}
	}
	if err := demo.CreatePair(filepath.Join(dir, "pair"), specs); err != nil {
		return nil, err
	}
	mxDir := filepath.Join(dir, "pair", "MX")
	if r.db, r.token, err = benchUser(ctx, mxDir); err != nil {
		return nil, err
	}
	r.us = exec.Command(exe, "serve", "--dir", filepath.Join(dir, "pair", "US"))
	r.us.Env = append(os.Environ(), "PUENTE_LOG_LEVEL=warn")
	if err := r.us.Start(); err != nil {
		return nil, err
	}
	r.usDone = make(chan struct{})
	go func() { _ = r.us.Wait(); close(r.usDone) }()
	var feds []string
	for i := range n {
		h, f, err := freeAddrs()
		if err != nil {
			return nil, err
		}
		feds = append(feds, f)
		r.urls = append(r.urls, "http://"+h)
		r.env = append(r.env, []string{"PUENTE_HTTP_ADDR=" + h, "PUENTE_FEDERATION_ADDR=" + f, "PUENTE_REPLICA_NAME=" + r.name(i), "PUENTE_LOG_LEVEL=warn"})
		r.cmds, r.done = append(r.cmds, nil), append(r.done, nil)
	}
	if r.front, err = lb.Listen(specs["MX"].FederationAddr, feds...); err != nil {
		return nil, err
	}
	for i := range n {
		if err := r.start(i); err != nil {
			return nil, err
		}
	}
	if _, _, err := r.leader(ctx, -1, 30*time.Second); err != nil {
		return nil, err
	}
	ok = true
	return r, nil
}

// benchUser makes the analyst whose token the benchmark posts with.
func benchUser(ctx context.Context, dir string) (*store.DB, string, error) {
	cfg, err := node.LoadConfig(dir)
	if err != nil {
		return nil, "", err
	}
	db, err := cfg.OpenStore(ctx, dir)
	if err != nil {
		return nil, "", err
	}
	id, err := identity.Load(dir)
	if err != nil {
		db.Close()
		return nil, "", err
	}
	tl, err := trustlog.New(db, "MX", id.Signing)
	if err != nil {
		db.Close()
		return nil, "", err
	}
	svc := auth.NewService(db, "MX", tl)
	u, err := svc.Create(ctx, auth.NewUser{Username: "analista", DisplayName: "Bench MX", Role: auth.Analyst, Agency: "UIF", Password: "bench-password-123"})
	if err != nil {
		db.Close()
		return nil, "", err
	}
	_, tok, err := svc.NewToken(ctx, u.ID, "bench")
	if err != nil {
		db.Close()
		return nil, "", err
	}
	return db, tok, nil
}

func freeAddrs() (string, string, error) {
	var out [2]string
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		out[i] = l.Addr().String()
		l.Close()
	}
	return out[0], out[1], nil
}

func (r *replicaRun) name(i int) string { return "mx-" + string(rune('a'+i)) }

// start starts replica i and waits until it serves.
func (r *replicaRun) start(i int) error {
	logf, err := os.OpenFile(filepath.Join(r.dir, r.name(i)+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(r.exe, "serve", "--dir", filepath.Join(r.dir, "pair", "MX"))
	cmd.Env = append(os.Environ(), r.env[i]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	r.cmds[i], r.done[i] = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := r.status(i); ok {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("replica %s did not start (see %s)", r.name(i), logf.Name())
}

func (r *replicaRun) status(i int) (replica.Status, bool) {
	var out struct{ Replica replica.Status }
	resp, err := r.hc.Get(r.urls[i] + "/healthz")
	if err != nil {
		return out.Replica, false
	}
	defer resp.Body.Close()
	return out.Replica, resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&out) == nil
}

// leader waits until a replica other than not leads.
func (r *replicaRun) leader(ctx context.Context, not int, limit time.Duration) (int, replica.Status, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for i := range r.urls {
			if st, ok := r.status(i); ok && st.Leading && i != not {
				return i, st, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1, replica.Status{}, fmt.Errorf("no replica led within %s", limit)
}

// post sends a JSON body to replica i (mod their number), passing to the
// next when one does not answer.
func (r *replicaRun) post(ctx context.Context, i int, path string, in, out any) error {
	body, _ := json.Marshal(in)
	if r.route == RouteLeader {
		i = int(r.leading.Load())
	}
	var last error
	for k := range len(r.urls) {
		var v struct{}
		dst := out
		if dst == nil {
			dst = &v
		}
		err := call(ctx, r.hc, r.urls[(i+k)%len(r.urls)]+path, r.token, body, dst)
		if err == nil {
			return nil
		}
		var ne net.Error
		if !errors.As(err, &ne) && !errors.Is(err, syscall.ECONNREFUSED) && !strings.Contains(err.Error(), "connection reset") && !strings.Contains(err.Error(), "EOF") {
			return err
		}
		last = err
		if r.route == RouteLeader && k == 0 {
			r.findLeader()
		}
	}
	return last
}

// findLeader asks every replica's /readyz/leader which one leads, as a
// load balancer's health check does; it keeps the last known leader if
// none says so.
func (r *replicaRun) findLeader() {
	for i, u := range r.urls {
		resp, err := r.hc.Get(u + "/readyz/leader")
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			r.leading.Store(int64(i))
			return
		}
	}
}

// drained waits until the MX outbox is empty.
func (r *replicaRun) drained(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var n int
		if err := r.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE state = 'pending'`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("envelopes still pending after %s", limit)
}

// cpu is each replica's CPU time so far.
func (r *replicaRun) cpu() []time.Duration {
	out := make([]time.Duration, len(r.cmds))
	for i, c := range r.cmds {
		if c != nil && c.Process != nil {
			out[i] = pidCPU(c.Process.Pid)
		}
	}
	return out
}

func (r *replicaRun) close() {
	cmds, dones := append([]*exec.Cmd{r.us}, r.cmds...), append([]chan struct{}{r.usDone}, r.done...)
	for _, c := range cmds {
		if c != nil && c.Process != nil {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
	}
	for i, d := range dones {
		if d == nil {
			continue
		}
		select {
		case <-d:
		case <-time.After(10 * time.Second):
			_ = cmds[i].Process.Kill()
			<-d
		}
	}
	if r.front != nil {
		r.front.Close()
	}
	if r.db != nil {
		r.db.Close()
	}
	if db, err := sql.Open("pgx", r.pg); err == nil {
		for _, s := range r.schema {
			_, _ = db.Exec(`DROP SCHEMA IF EXISTS ` + s + ` CASCADE`)
		}
		db.Close()
	}
	os.RemoveAll(r.dir)
}
