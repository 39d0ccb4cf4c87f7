package api_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/testenv"
)

// TestMatchingRights: auditors read but neither change the index nor
// spend the partner's quota; a cross-match belongs to its creator's
// agency, through the API and the web pages alike.
func TestMatchingRights(t *testing.T) {
	p := testenv.StartPair(t)
	auditor := userClient(t, p, "US", "auditor", auth.Auditor, "DEA")
	fincen := &client{t: t, base: p.URL("US"), token: p.Tokens["US"]} // analyst, FinCEN
	dea := userClient(t, p, "US", "dea-analyst", auth.Analyst, "DEA")
	sub := []map[string]any{{"ref": "S-1", "name": "Prueba Uno", "dob": "1980-01-01"}}

	for _, c := range []struct {
		name         string
		method, path string
		body         any
	}{
		{"import subjects", "POST", "/api/v1/subjects", sub},
		{"start a cross-match", "POST", "/api/v1/match/jobs", map[string]any{"index": true}},
		{"list cross-matches", "GET", "/api/v1/match/jobs", nil},
		{"blind lookup", "POST", "/api/v1/match/lookup", map[string]any{"phone": "+52 55 1234 5678"}},
	} {
		if st, e := auditor.do(c.method, c.path, c.body, nil); st != http.StatusForbidden || e["code"] != "forbidden" {
			t.Errorf("auditor may not %s: %d %v", c.name, st, e)
		}
	}
	if st, e := auditor.do("GET", "/api/v1/match/usage", nil, nil); st != http.StatusOK {
		t.Errorf("an auditor reads the matching figures: %d %v", st, e)
	}

	var job struct {
		ID int64 `json:"id"`
	}
	if st, e := fincen.do("POST", "/api/v1/match/jobs", map[string]any{"subjects": sub}, &job); st != http.StatusCreated {
		t.Fatalf("FinCEN starts a cross-match: %d %v", st, e)
	}
	id := strconv.FormatInt(job.ID, 10)
	var list struct {
		Jobs []struct {
			ID int64 `json:"id"`
		} `json:"jobs"`
	}
	if st, _ := dea.do("GET", "/api/v1/match/jobs", nil, &list); st != http.StatusOK || len(list.Jobs) != 0 {
		t.Errorf("DEA sees FinCEN's cross-matches: %d %+v", st, list)
	}
	if st, _ := fincen.do("GET", "/api/v1/match/jobs", nil, &list); st != http.StatusOK || len(list.Jobs) != 1 || list.Jobs[0].ID != job.ID {
		t.Errorf("FinCEN's own cross-matches: %d %+v", st, list)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/match/jobs/" + id}, {"DELETE", "/api/v1/match/jobs/" + id}} {
		if st, e := dea.do(c.method, c.path, nil, nil); st != http.StatusNotFound {
			t.Errorf("DEA %s FinCEN's cross-match: %d %v", c.method, st, e)
		}
	}
	if st, _ := fincen.do("GET", "/api/v1/match/jobs/"+id, nil, nil); st != http.StatusOK {
		t.Errorf("FinCEN reads its own cross-match: %d", st)
	}

	// The web pages: an auditor gets no cross-match page and cannot
	// cancel; another agency's cancel changes nothing.
	web := func(username string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
		resp, err := c.PostForm(p.URL("US")+"/login", url.Values{"username": {username}, "password": {"a-long-test-password"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return c
	}
	aw := web("auditor")
	for _, c := range []struct{ method, path string }{{"GET", "/crossmatch"}, {"POST", "/crossmatch"}, {"POST", "/crossmatch/" + id + "/cancel"}, {"GET", "/match"}} {
		req, _ := http.NewRequest(c.method, p.URL("US")+c.path, nil)
		resp, err := aw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("auditor %s %s: %d, want 403", c.method, c.path, resp.StatusCode)
		}
	}
	dw := web("dea-analyst")
	resp, err := dw.PostForm(p.URL("US")+"/crossmatch/"+id+"/cancel", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var j struct {
		Job struct {
			State string `json:"state"`
		} `json:"job"`
	}
	fincen.do("GET", "/api/v1/match/jobs/"+id, nil, &j)
	if j.Job.State == "cancelled" {
		t.Error("DEA cancelled FinCEN's cross-match through the web page")
	}
}
