package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"syscall"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/ident"
	"puente/internal/match"
	"puente/internal/testenv"
)

// TestCrossMatchSurvivesKills runs a blind cross-match between two real
// "puente serve" processes and kill -9s the asking node twice and the
// owner once while it runs. After the restarts the job finishes on its
// own, every key is counted once, and the result is exactly the plaintext
// intersection.
func TestCrossMatchSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	testenv.FastPasswords(t)
	bin := buildPuente(t)
	dir, specs := newPair(t)
	ctx := context.Background()
	const n = 30000
	phone := func(j int) string { return fmt.Sprintf("+52 1%02d %03d %04d", j/10000000%100, j/10000%1000, j%10000) }
	rng := rand.New(rand.NewPCG(1, 9))
	mxPhones := map[string]bool{}
	subjects := map[string][]match.Subject{}
	for i := range n {
		j := rng.IntN(4 * n)
		norm, _ := ident.Normalize(ident.Phone, phone(j), ident.Context{})
		mxPhones[norm] = true
		subjects["MX"] = append(subjects["MX"], match.Subject{Ref: fmt.Sprint("mx", i), Phone: phone(j)})
	}
	want := map[string]bool{}
	for i := range n {
		j := rng.IntN(4 * n)
		norm, _ := ident.Normalize(ident.Phone, phone(j), ident.Context{})
		ref := fmt.Sprint("us", i)
		if mxPhones[norm] {
			want[ref] = true
		}
		subjects["US"] = append(subjects["US"], match.Subject{Ref: ref, Phone: phone(j)})
	}
	for _, party := range []string{"MX", "US"} {
		db, tl := openNodeStore(t, dir, party)
		if _, err := match.Import(ctx, db, tl, subjects[party]); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	token := addUser(t, dir, "US", auth.NewUser{Username: "analyst", DisplayName: "Analyst", Role: auth.Analyst, Agency: "FinCEN", Password: "crossmatch-password"})
	procs := startProcs(t, bin, dir)
	hc := &http.Client{Timeout: 10 * time.Second}
	us := &apiClient{base: "http://" + specs["US"].HTTPAddr, token: token, http: hc}
	get := func(path string, out any) error {
		req, _ := http.NewRequest(http.MethodGet, us.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s", resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}
	testenv.Eventually(t, 3*time.Minute, "the US holding MX's whole filter", func() bool {
		var u match.Usage
		return get("/api/v1/match/usage", &u) == nil && u.PartnerKeys >= int64(len(mxPhones))
	})

	var job match.Job
	us.retry("/api/v1/match/jobs", map[string]any{"index": true}, &job)
	status := func() match.Job {
		var got struct{ Job match.Job }
		for get(fmt.Sprintf("/api/v1/match/jobs/%d", job.ID), &got) != nil {
			time.Sleep(50 * time.Millisecond)
		}
		return got.Job
	}
	kills := []struct {
		party string
		after time.Duration
	}{{"US", 400 * time.Millisecond}, {"MX", 1500 * time.Millisecond}, {"US", 2500 * time.Millisecond}}
	start := time.Now()
	interrupted := 0
	for _, k := range kills {
		time.Sleep(time.Until(start.Add(k.after)))
		before := status()
		if before.State == match.JobRunning {
			interrupted++
		}
		procs[k.party].signal(syscall.SIGKILL)
		time.Sleep(300 * time.Millisecond)
		procs[k.party].start()
		t.Logf("killed %s at %d/%d keys", k.party, before.Done, before.Total)
	}
	if interrupted == 0 {
		t.Fatal("the cross-match finished before the first kill: the test did not exercise a restart")
	}
	var final match.Job
	testenv.Eventually(t, 3*time.Minute, "the cross-match finishing after the restarts", func() bool {
		final = status()
		return final.State == match.JobDone
	})
	if final.Done != final.Total || final.Total != n {
		t.Fatalf("done %d of %d keys (want %d)", final.Done, final.Total, n)
	}
	var got struct {
		Hits []match.JobHit
	}
	if err := get(fmt.Sprintf("/api/v1/match/jobs/%d", job.ID), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Hits) != len(want) || final.Hits != int64(len(want)) {
		t.Fatalf("%d subjects hit (%d keys counted), plaintext intersection %d", len(got.Hits), final.Hits, len(want))
	}
	for _, h := range got.Hits {
		if !want[h.Ref] {
			t.Fatalf("%s hit but is not in the intersection", h.Ref)
		}
	}
	t.Logf("%d of %d subjects in common, found across %d kills", len(want), n, len(kills))
}
