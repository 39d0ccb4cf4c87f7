package match_test

import (
	"puente/internal/node"

	"puente/internal/fault"

	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"puente/internal/demo"
	"puente/internal/ident"
	"puente/internal/match"
	"puente/internal/testenv"
	"puente/internal/trustlog"
)

// phoneOf makes a valid Mexican mobile number from n.
func phoneOf(n int) string { return fmt.Sprintf("+52 55 %04d %04d", n/10000%10000, n%10000) }

// waitFilter waits until node code holds the partner's filter with at
// least epoch and count keys.
func waitFilter(t *testing.T, p *demo.Pair, code string, epoch int64, keys int64) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, code+" receiving the partner's filter", func() bool {
		u, err := match.Of(p.Nodes[code]).TodayUsage(context.Background())
		return err == nil && u.PartnerEpoch >= epoch && u.PartnerKeys >= keys
	})
}

// TestBlindLookupGivesThePlaintextIntersection imports random subjects on
// both sides with some overlap, looks every US subject up in MX blind, and
// compares the hits with the plaintext intersection; then MX rotates its
// key and the answers must not change.
func TestBlindLookupGivesThePlaintextIntersection(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	rng := rand.New(rand.NewPCG(7, 11))
	mxPhones := map[string]bool{}
	var mxSubjects []match.Subject
	for i := range 300 {
		n := rng.IntN(2000)
		ph := phoneOf(n)
		norm, _ := ident.Normalize(ident.Phone, ph, ident.Context{})
		mxPhones[norm] = true
		mxSubjects = append(mxSubjects, match.Subject{Ref: fmt.Sprint("mx-", i), Name: fmt.Sprint("Sujeto ", i), Phone: ph})
	}
	if _, err := match.Of(mx).Import(ctx, mxSubjects); err != nil {
		t.Fatal(err)
	}
	waitFilter(t, p, "US", 1, int64(len(mxPhones)))

	check := func(round string) {
		hits := 0
		for i := range 60 {
			ph := phoneOf(rng.IntN(2000))
			norm, _ := ident.Normalize(ident.Phone, ph, ident.Context{})
			res, err := match.Of(us).Lookup(ctx, "user:test@FinCEN", match.Subject{Ref: fmt.Sprint("q", i), Phone: ph})
			if err != nil {
				t.Fatalf("%s: lookup %d: %v", round, i, err)
			}
			if res.Hit != mxPhones[norm] {
				t.Fatalf("%s: lookup of %s said hit=%v, plaintext says %v", round, norm, res.Hit, mxPhones[norm])
			}
			if res.Hit {
				hits++
				if res.Strength != "strong" || len(res.Hits) != 1 || res.Hits[0] != "phone" {
					t.Fatalf("%s: hit report %+v", round, res)
				}
			}
		}
		if hits == 0 || hits == 60 {
			t.Fatalf("%s: %d hits of 60: the sets do not test both answers", round, hits)
		}
		t.Logf("%s: %d of 60 lookups hit", round, hits)
	}
	check("first key")
	if err := match.Of(mx).Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	waitFilter(t, p, "US", 2, int64(len(mxPhones)))
	check("after rotation")

	// Name and year alone is a possible hit, reported as such.
	if _, err := match.Of(mx).Import(ctx, []match.Subject{{Ref: "mx-zambada", Name: "ZAMBADA GARCIA, Ismael", DOB: "1948"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the new filter", func() bool {
		res, err := match.Of(us).Lookup(ctx, "user:test@FinCEN", match.Subject{Name: "Ismael Sambada", DOB: "1948"})
		return err == nil && res.Hit && res.Strength == "possible"
	})
}

// TestNothingLeaksAndEverythingIsLogged looks up a subject with five
// identifiers and inspects what crossed: the request and answer bodies of
// the evaluation and every envelope either node stored. No identifier and
// no plain SHA-256 of one appears anywhere. Both logs hold the lookup.
func TestNothingLeaksAndEverythingIsLogged(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	sub := match.Subject{Ref: "target-1", Name: "ZAMBADA NIEBLA, Modesta", DOB: "1982-11-22", CURP: "ZANM821122MSLMBD07",
		RFC: "ZANM821122H87", Passport: "95040018273", PassportCountry: "MEX", Phone: "+52 667 123 4567"}
	if _, err := match.Of(mx).Import(ctx, []match.Subject{sub}); err != nil {
		t.Fatal(err)
	}
	keys, _ := sub.Keys()
	waitFilter(t, p, "US", 1, int64(len(keys)))

	var crossed [][]byte
	usm := match.New(match.Config{DB: us.DB, Link: us.Link, Hub: us.Hub, Inspect: func(_ string, b []byte) { crossed = append(crossed, b) }})
	res, err := usm.Lookup(ctx, "user:analyst@FinCEN", sub)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, k := range keys {
		types[match.KeyType(k)] = true
	}
	if !res.Hit || res.Strength != "strong" || len(res.Hits) != len(types) || res.Keys != len(keys) {
		t.Fatalf("lookup of an indexed subject: %+v", res)
	}
	for _, db := range []string{"MX", "US"} {
		for _, q := range []string{`SELECT raw FROM outbox`, `SELECT raw FROM inbox`, `SELECT data FROM log_entries`} {
			rows, err := p.Nodes[db].DB.Read().Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var b []byte
				_ = rows.Scan(&b)
				crossed = append(crossed, b)
			}
			rows.Close()
		}
	}
	var secrets []string
	for _, k := range keys {
		_, v, _ := strings.Cut(k, ":")
		sum := sha256.Sum256([]byte(k))
		sumV := sha256.Sum256([]byte(v))
		secrets = append(secrets, v, hex.EncodeToString(sum[:]), hex.EncodeToString(sumV[:]),
			base64.StdEncoding.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sumV[:]))
	}
	secrets = append(secrets, "ZANM821122", "95040018273", "6671234567")
	for _, b := range crossed {
		for _, sec := range secrets {
			if strings.Contains(string(b), sec) {
				t.Fatalf("%q crossed or was stored: %.200s", sec, b)
			}
		}
	}
	// Logged on both sides: who asked, how many keys, never which.
	asked, _ := trustlog.Rows(ctx, us.DB.Read(), trustlog.Filter{Kind: match.KindLookup})
	served, _ := trustlog.Rows(ctx, mx.DB.Read(), trustlog.Filter{Kind: match.KindEvaluated})
	if len(asked) != 1 || asked[0].Actor != "user:analyst@FinCEN" || len(served) != 1 || served[0].Actor != "node:US" {
		t.Fatalf("logs: US %+v, MX %+v", asked, served)
	}
	if !strings.Contains(string(served[0].Data), fmt.Sprintf("keys=%d", len(keys))) {
		t.Fatalf("MX's entry: %s", served[0].Data)
	}
}

// TestQuotaAndBadInput: a malformed identifier is refused before anything
// is sent; the partner's daily quota stops lookups, and the refusal is
// logged where it happens.
func TestQuotaAndBadInput(t *testing.T) {
	p := testenv.StartPair(t, func(_ string, c *node.Config) { c.MatchQuota = 10 })
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	if _, err := match.Of(mx).Import(ctx, []match.Subject{{Ref: "a", Phone: "+52 55 1234 5678"}}); err != nil {
		t.Fatal(err)
	}
	waitFilter(t, p, "US", 1, 1)

	var fe *fault.FieldError
	_, err := match.Of(us).Lookup(ctx, "user:x@FinCEN", match.Subject{CURP: "ZANM821122MSLMBD08"})
	if !errors.As(err, &fe) || fe.Field != "curp" {
		t.Fatalf("a bad CURP: %v", err)
	}
	var ie *ident.Error
	if !errors.As(err, &ie) || ie.Code != ident.CodeCheckDigit {
		t.Fatalf("the error does not say which rule: %v", err)
	}
	if _, err := match.Of(us).Lookup(ctx, "user:x@FinCEN", match.Subject{Name: "Solo Nombre"}); !errors.Is(err, match.ErrNoKeys) {
		t.Fatalf("nothing to look up: %v", err)
	}
	if u, _ := match.Of(mx).TodayUsage(ctx); u.ServedKeys != 0 {
		t.Fatalf("bad input reached MX: %+v", u)
	}
	// 10 evaluations a day: four lookups of two keys pass, the fifth of
	// three does not.
	for i := range 4 {
		if _, err := match.Of(us).Lookup(ctx, "user:x@FinCEN", match.Subject{Phone: phoneOf(i), SSN: fmt.Sprintf("123-45-%04d", 1000+i)}); err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
	}
	_, err = match.Of(us).Lookup(ctx, "user:x@FinCEN", match.Subject{Phone: phoneOf(9), SSN: "123-45-9999", CURP: "ZANM821122MSLMBD07"})
	if !errors.Is(err, match.ErrQuota) {
		t.Fatalf("over the quota: %v", err)
	}
	u, _ := match.Of(mx).TodayUsage(ctx)
	if u.ServedKeys != 8 || u.ServedLookups != 4 || u.Quota != 10 {
		t.Fatalf("MX usage %+v", u)
	}
	refused, _ := trustlog.Rows(ctx, mx.DB.Read(), trustlog.Filter{Kind: match.KindEvaluated})
	if len(refused) != 5 || !strings.Contains(string(refused[len(refused)-1].Data), "refused=quota") {
		t.Fatalf("MX's log: %d entries", len(refused))
	}
}

func TestNameYearKeysMeetAcrossWritings(t *testing.T) {
	listed := match.NameYearKeys("ZAMBADA GARCIA, Ismael", "1948")
	if len(listed) != 2 {
		t.Fatalf("keys of the listed name: %q", listed)
	}
	shares := func(a, b []string) bool {
		for _, x := range a {
			for _, y := range b {
				if x == y {
					return true
				}
			}
		}
		return false
	}
	for _, q := range []string{"Ismael Zambada García", "Ismael Zambada", "Ismael García", "Zambada García Ismael", "ISMAEL SAMBADA", "Zambada, Ismael"} {
		if k := match.NameYearKeys(q, "1948"); !shares(k, listed) {
			t.Errorf("%q (%q) shares no key with the listed name (%q)", q, k, listed)
		}
	}
	for _, q := range []string{"Vicente Zambada Niebla", "Ismael Zambada García|1949"} {
		name, year, _ := strings.Cut(q, "|")
		if year == "" {
			year = "1948"
		}
		if k := match.NameYearKeys(name, year); shares(k, listed) {
			t.Errorf("%q born %s shares a key with Ismael Zambada García born 1948: %q", name, year, k)
		}
	}
	if k := match.NameYearKeys("Mayo", "1948"); k != nil {
		t.Errorf("a one-word name gave keys %q", k)
	}
}

// TestCrossMatch runs a bulk cross-match of the US's whole index against
// MX's: the US learns exactly its own subjects in the intersection; MX
// learns only how many keys were evaluated. A second worker on the same
// store (a restarted process) picks the job up from where it stands
// without counting anything twice. A cancelled job stops.
func TestCrossMatch(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	rng := rand.New(rand.NewPCG(3, 5))
	mxPhones := map[string]bool{}
	var mxs, uss []match.Subject
	for i := range 1500 {
		n := rng.IntN(6000)
		norm, _ := ident.Normalize(ident.Phone, phoneOf(n), ident.Context{})
		mxPhones[norm] = true
		mxs = append(mxs, match.Subject{Ref: fmt.Sprint("mx-", i), Phone: phoneOf(n)})
	}
	want := map[string]bool{}
	for i := range 1500 {
		n := rng.IntN(6000)
		norm, _ := ident.Normalize(ident.Phone, phoneOf(n), ident.Context{})
		ref := fmt.Sprint("us-", i)
		if mxPhones[norm] {
			want[ref] = true
		}
		uss = append(uss, match.Subject{Ref: ref, Name: "Sujeto " + ref, Phone: phoneOf(n)})
	}
	if _, err := match.Of(mx).Import(ctx, mxs); err != nil {
		t.Fatal(err)
	}
	if _, err := match.Of(us).Import(ctx, uss); err != nil {
		t.Fatal(err)
	}
	waitFilter(t, p, "US", 1, int64(len(mxPhones)))

	job, err := match.Of(us).StartJob(ctx, "user:analyst@FinCEN", nil)
	if err != nil {
		t.Fatal(err)
	}
	if job.Total != 1500 || job.Source != "index" {
		t.Fatalf("job %+v", job)
	}
	// A second worker, as after a restart, on the same store.
	var crossed [][]byte
	second := match.New(match.Config{DB: us.DB, Link: us.Link, Hub: us.Hub, Inspect: func(_ string, b []byte) { crossed = append(crossed, b) }})
	for {
		if _, err := second.JobStep(ctx); err != nil {
			t.Fatal(err)
		}
		j, _ := match.Of(us).Job(ctx, job.ID)
		if j.State == match.JobDone {
			job = j
			break
		}
	}
	if job.Done != job.Total {
		t.Fatalf("done %d of %d", job.Done, job.Total)
	}
	hits, err := match.Of(us).JobHits(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range hits {
		got[h.Ref] = true
		if h.Label != "Sujeto "+h.Ref || h.Sent() {
			t.Fatalf("hit %+v does not name our subject", h)
		}
	}
	if len(got) != len(want) || int64(len(want)) != job.Hits {
		t.Fatalf("%d subjects hit (job says %d keys), plaintext intersection has %d", len(got), job.Hits, len(want))
	}
	for ref := range want {
		if !got[ref] {
			t.Fatalf("%s is in the intersection but did not hit", ref)
		}
	}
	t.Logf("cross-match: %d of %d subjects in common", len(want), len(uss))
	for _, b := range crossed {
		for _, sub := range uss[:50] {
			norm, _ := ident.Normalize(ident.Phone, sub.Phone, ident.Context{})
			if strings.Contains(string(b), norm[1:]) {
				t.Fatalf("phone %s crossed in a batch", norm)
			}
		}
	}
	u, _ := match.Of(mx).TodayUsage(ctx)
	if u.ServedKeys != 0 {
		t.Fatalf("the cross-match used the single-lookup quota: %+v", u)
	}
	served, _ := trustlog.Rows(ctx, mx.DB.Read(), trustlog.Filter{Kind: match.KindBulkEvaluated})
	if len(served) < 3 {
		t.Fatalf("MX logged %d bulk batches", len(served))
	}

	// A cancelled job stops where it is.
	var many []match.Subject
	for range 6 {
		many = append(many, uss...)
	}
	big, err := match.Of(us).StartJob(ctx, "user:analyst@FinCEN", many)
	if err != nil {
		t.Fatal(err)
	}
	if err := match.Of(us).CancelJob(ctx, big.ID, "user:analyst@FinCEN"); err != nil {
		t.Fatal(err)
	}
	j1, _ := match.Of(us).Job(ctx, big.ID)
	time.Sleep(1500 * time.Millisecond)
	j2, _ := match.Of(us).Job(ctx, big.ID)
	if j2.State != match.JobCancelled || j2.Done != j1.Done || j2.Done == j2.Total {
		t.Fatalf("after cancelling: %+v then %+v", j1, j2)
	}
	if err := match.Of(us).CancelJob(ctx, big.ID, "x"); !errors.Is(err, match.ErrNoJob) {
		t.Fatalf("cancelling twice: %v", err)
	}
}

// TestBulkQuotaAndAlarm: the partner's cross-match evaluations beyond the
// daily commitment are refused and logged where they are refused, and
// using more than the agreed share of it within an hour raises an alarm
// that both sides show.
func TestBulkQuotaAndAlarm(t *testing.T) {
	// MX answers 600 bulk evaluations a day; the default alarm share (25%)
	// is then 150 in an hour. Batches carry up to 512 keys: the first is
	// answered (and passes the share), the second would pass the quota.
	p := testenv.StartPair(t, func(party string, c *node.Config) {
		if party == "MX" {
			c.MatchBulkQuota = 600
		}
	})
	ctx := context.Background()
	mx, us := p.Nodes["MX"], p.Nodes["US"]
	if _, err := match.Of(mx).Import(ctx, []match.Subject{{Ref: "m1", Phone: phoneOf(1)}}); err != nil {
		t.Fatal(err)
	}
	var uss []match.Subject
	for i := range 700 {
		uss = append(uss, match.Subject{Ref: fmt.Sprint("u", i), Phone: phoneOf(1000 + i)})
	}
	if _, err := match.Of(us).Import(ctx, uss); err != nil {
		t.Fatal(err)
	}
	waitFilter(t, p, "US", 1, 1)
	job, err := match.Of(us).StartJob(ctx, "user:analyst@FinCEN", nil)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the cross-match to stop on the quota", func() bool {
		j, _ := match.Of(us).Job(ctx, job.ID)
		return j != nil && j.Error != ""
	})
	_, served, err := match.Of(mx).TotalUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if served.BulkEvaluations > 600 || served.BulkEvaluations == 0 {
		t.Errorf("MX answered %d bulk evaluations; its quota is 600", served.BulkEvaluations)
	}
	rows, err := trustlog.Rows(ctx, mx.DB.Read(), trustlog.Filter{Kind: match.KindBulkEvaluated})
	if err != nil {
		t.Fatal(err)
	}
	refused := false
	for _, r := range rows {
		refused = refused || strings.Contains(string(r.Data), "refused=quota")
	}
	if !refused {
		t.Error("the refusal is not in MX's log")
	}
	for _, n := range []*node.Node{mx, us} {
		testenv.Eventually(t, 15*time.Second, n.Config.Party+" showing the bulk-share alarm", func() bool {
			as, err := trustlog.Alarms(ctx, n.DB.Read(), true, 10)
			if err != nil {
				return false
			}
			for _, a := range as {
				if a.Kind == trustlog.AlarmBulkShare {
					return true
				}
			}
			return false
		})
	}
}
